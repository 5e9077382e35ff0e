package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRenderClusterIDsAcrossOverlays renders two copies of the dev example in one run: a
// shared cilium.clusterID is one line naming both environments, and nothing is written.
func TestRenderClusterIDsAcrossOverlays(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "overlays", "dev", "environment.cue"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		secondID string
		wantCode int
		want     string // regexp over stderr; "" means empty
	}{
		{name: "distinct IDs render", secondID: "clusterID: 2", wantCode: ExitOK},
		{name: "shared ID is refused", secondID: "clusterID: 1", wantCode: ExitError,
			want: `(?m)^qa/environment\.cue:\d+:\d+: cilium\.clusterID: 1 is also the cluster ID of environment dev in dev/environment\.cue \(allowed: 1-127, one environment each\)$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			t.Chdir(root)
			write := func(dir, text string) {
				os.MkdirAll(dir, 0o755)
				if err := os.WriteFile(filepath.Join(dir, "environment.cue"), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("dev", string(src))
			qa := strings.Replace(strings.Replace(string(src), `name: "dev"`, `name: "qa"`, 1), "clusterID: 1", tt.secondID, 1)
			write("qa", qa)
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), []string{"render", "--quiet", "dev", "qa"}, &stdout, &stderr)
			if code := ExitCode(err); code != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d\nstderr:\n%s", code, err, tt.wantCode, stderr.String())
			}
			if tt.want == "" {
				return
			}
			if !regexp.MustCompile(tt.want).MatchString(stderr.String()) {
				t.Fatalf("stderr:\n%s\nwant a line matching %s", stderr.String(), tt.want)
			}
			if n := strings.Count(stderr.String(), "cilium.clusterID"); n != 1 {
				t.Errorf("%d lines name cilium.clusterID, want 1", n)
			}
			for _, d := range []string{"dev", "qa"} {
				if _, err := os.Stat(filepath.Join(d, "kustomization.yaml")); err == nil {
					t.Errorf("%s/kustomization.yaml written despite the failure", d)
				}
			}
		})
	}
}
