// Package generators turns a model.Environment into the files of its overlay. Each output family
// lives in its own subpackage as a pure function of the environment; only the writer subpackage
// touches disk.
package generators

import "github.com/enigate/enigate/generators/manifest"

// File is one rendered file (defined in manifest, which the writer and the environment
// repositories share without depending on the render pipeline).
type File = manifest.File
