// Package schema holds enigate's CUE schema (the source of truth for environments), the loader
// that evaluates a declaration against it and decodes the Go model.
package schema

import _ "embed"

// Source is the embedded CUE schema (enigate.cue).
//
//go:embed enigate.cue
var Source []byte
