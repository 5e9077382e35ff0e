// Package release holds the facts of an enigate release that the binary, the schema and the
// image build share: the release version (the default tag every environment deploys) and the
// numeric user the image runs as. The image builder (test/tools/image) reads these constants
// from this file, so each lives here only.
package release

import (
	"runtime"
	"runtime/debug"
)

// Version is the release this source tree is: `enigate version` prints it, the schema's
// versions.enigate defaults to it, and `make image` tags the image with it. It is a constant,
// never injected at link time, so the three cannot disagree.
const Version = "v0.1.0"

// Repository is where the release image is published; enigate.image.repository defaults to it.
const Repository = "ghcr.io/enigate/enigate"

// UID and GID are the numeric non-root user and group the image's config runs as; the rendered
// webhook pod declares the same.
const (
	UID = 65532
	GID = 65532
)

// commit is set at link time: -ldflags "-X github.com/enigate/enigate/schema/release.commit=SHA".
var commit string

// Build describes the running binary.
type Build struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Current is this binary's Build: the commit injected at link time, else the VCS revision the
// go command stamped (with "-dirty" for modified trees), else "unknown".
func Current() Build {
	b := Build{Version: Version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if b.Commit != "" {
		return b
	}
	b.Commit = "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		b.Commit = fromBuildInfo(bi.Settings, b.Commit)
	}
	return b
}

func fromBuildInfo(settings []debug.BuildSetting, fallback string) string {
	var rev string
	var modified bool
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return fallback
	}
	if modified {
		rev += "-dirty"
	}
	return rev
}
