package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enigate/enigate/test/golden"
)

// TestUpgradePlan runs `enigate upgrade plan` on the example environments from the repository
// root (the paths the rendered headers name), against goldens for prod 1.19 -> 1.20.
func TestUpgradePlan(t *testing.T) {
	testdata, err := filepath.Abs("testdata/upgrade")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir("../../..")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		golden   string // file under testdata/upgrade for stdout
		stderr   string // substring of stderr
	}{
		{name: "prod 1.19 to 1.20, text", args: []string{"overlays/prod", "--to", "cilium=1.20.2"}, wantCode: ExitOK, golden: "prod-1.20.2.txt"},
		{name: "prod 1.19 to 1.20, json", args: []string{"overlays/prod", "--to", "cilium=1.20.2,gatewayAPI=v1.6.3", "-o", "json"}, wantCode: ExitOK, golden: "prod-1.20.2.json"},
		{name: "Gateway API v1.6 under Cilium 1.19 is refused", args: []string{"overlays/prod", "--to", "gatewayAPI=v1.6.3"}, wantCode: ExitFindings,
			golden: "prod-gatewayapi-v1.6.3.txt", stderr: "the target is refused (1 problems, listed under Blocked)"},
		{name: "downgrade", args: []string{"overlays/dev", "--to", "cilium=1.19.7"}, wantCode: ExitError,
			stderr: "--to cilium: 1.19.7 is older than the pinned 1.20.2 (downgrades are not planned)"},
		{name: "unknown key", args: []string{"overlays/prod", "--to", "helm=3"}, wantCode: ExitError,
			stderr: "enigate upgrade plan: --to: unknown key \"helm\" (allowed: cilium, gatewayAPI, kubernetes)\nRun 'enigate upgrade plan --help' for usage.\n"},
		{name: "bad output format", args: []string{"overlays/prod", "--to", "cilium=1.20.2", "-o", "xml"}, wantCode: ExitError,
			stderr: "\"xml\" is not one of text, json, yaml"},
		{name: "unsupported chart", args: []string{"overlays/prod", "--to", "cilium=1.21.0"}, wantCode: ExitError,
			stderr: `--to cilium: "1.21.0" is not supported (allowed: 1.18.12, 1.19.7, 1.20.2)`},
		{name: "no overlay", args: []string{"--to", "cilium=1.20.2"}, wantCode: ExitError, stderr: "want exactly one OVERLAY_DIR, got 0 arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), append([]string{"upgrade", "plan"}, tt.args...), &stdout, &stderr)
			if got := ExitCode(err); got != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", got, tt.wantCode, stderr.String())
			}
			if tt.stderr != "" && !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.stderr)
			}
			if tt.golden != "" {
				if strings.HasSuffix(tt.golden, ".json") && !json.Valid(stdout.Bytes()) {
					t.Errorf("-o json output is not JSON")
				}
				golden.Check(t, filepath.Join(testdata, tt.golden), stdout.Bytes())
			}
		})
	}
}
