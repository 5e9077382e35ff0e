package release

import (
	"regexp"
	"runtime/debug"
	"testing"
)

func TestVersionIsSemver(t *testing.T) {
	if !regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`).MatchString(Version) {
		t.Errorf("Version %q is not a v-prefixed semantic version (image tags and Go module versions need one)", Version)
	}
}

func TestCommitFromBuildInfo(t *testing.T) {
	tests := []struct {
		name     string
		settings []debug.BuildSetting
		want     string
	}{
		{"no vcs stamp", []debug.BuildSetting{{Key: "-trimpath", Value: "true"}}, "unknown"},
		{"clean tree", []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}, "abc"},
		{"modified tree", []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}, "abc-dirty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromBuildInfo(tt.settings, "unknown"); got != tt.want {
				t.Errorf("commit %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCurrentPrefersInjectedCommit(t *testing.T) {
	old := commit
	t.Cleanup(func() { commit = old })
	commit = "0123456789abcdef"
	if got := Current(); got.Commit != commit || got.Version != Version || got.GoVersion == "" {
		t.Errorf("Current() = %+v, want commit %s and version %s", got, commit, Version)
	}
}
