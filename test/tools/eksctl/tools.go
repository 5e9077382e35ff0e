//go:build tools

// Package tools pins github.com/weaveworks/eksctl/cmd/eksctl so that
// `go build -o OUT github.com/weaveworks/eksctl/cmd/eksctl` works in this module.
package tools

import _ "github.com/weaveworks/eksctl/cmd/eksctl"
