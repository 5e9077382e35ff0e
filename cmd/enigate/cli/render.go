package cli

import (
	"errors"

	"github.com/enigate/enigate/generators"
)

// renderOverlay evaluates OVERLAY_DIR/environment.cue and returns the files its overlay must
// contain, and the paths on disk that differ from them (stale, missing or no longer rendered).
// It writes nothing.
func renderOverlay(dir string) (files []generators.File, stale []string, err error) {
	return nil, nil, errors.New("render: not wired yet")
}
