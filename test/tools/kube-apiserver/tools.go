//go:build tools

// Package tools pins k8s.io/kubernetes/cmd/kube-apiserver so that
// `go build -o OUT k8s.io/kubernetes/cmd/kube-apiserver` works in this module.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
