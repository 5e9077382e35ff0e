// Package generators turns a model.Environment into the files of its overlay. Each output family
// lives in its own subpackage as a pure function of the environment; only the writer subpackage
// touches disk.
package generators

// File is one rendered file, its path relative to the overlay directory (slash-separated).
type File struct {
	Path string
	Data []byte
}
