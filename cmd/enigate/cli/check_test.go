package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckCommand(t *testing.T) {
	env := filepath.Join("..", "..", "..", "overlays", "dev")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: x, namespace: team-a}\nspec: {hostnames: [evil.org], parentRefs: [{name: web, namespace: infra, sectionName: http}]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noSlash := filepath.Join(dir, "no-slash.yaml")
	if err := os.WriteFile(noSlash, []byte("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: x, namespace: team-a}\nspec: {rules: [{matches: [{path: {type: PathPrefix, value: api}}]}]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prod := filepath.Join("..", "..", "..", "overlays", "prod")
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{name: "clean", args: []string{"--env", env, filepath.Join(env, "routes")}, wantStderr: `policy "dev": 1 objects checked, 0 denied (0 violations), 0 skipped`},
		{name: "violation", args: []string{"--env", env, bad}, code: ExitFindings,
			wantStdout: `HTTPRoute team-a/x: spec.hostnames[0]: Forbidden: hostname "evil.org" is delegated to no team; team "team-a" may use: *.dev.example.internal` + "\n"},
		{name: "violation as json", args: []string{"--env", env, "-o", "json", bad}, code: ExitFindings, wantStdout: `"rule": "hostname"`},
		{name: "CRD violation (CEL rule)", args: []string{"--env", prod, noSlash}, code: ExitFindings,
			wantStdout: `HTTPRoute team-a/x: spec.rules[0].matches[0].path: Invalid value: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']` + "\n",
			wantStderr: `1 denied (1 violations), 0 skipped; CRD validation: `},
		{name: "CRD violation as json", args: []string{"--env", prod, "-o", "json", noSlash}, code: ExitFindings, wantStdout: `"rule": "crd"`},
		{name: "no env", args: []string{bad}, code: ExitError, wantStderr: "--env: required"},
		{name: "bad output", args: []string{"--env", env, "-o", "yaml", bad}, code: ExitError, wantStderr: `"yaml" is not one of text, json`},
		{name: "no env and no path", args: []string{}, code: ExitError, wantStderr: "enigate check: want at least one PATH (a file, a directory or - for stdin)\nenigate check: --env: required\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), append([]string{"check"}, tt.args...), &stdout, &stderr)
			if got := ExitCode(err); got != tt.code {
				t.Fatalf("exit %d, want %d (stderr %s)", got, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.wantStderr)
			}
			if strings.Contains(strings.Join(tt.args, " "), "json") {
				var v map[string]any
				if err := json.Unmarshal(stdout.Bytes(), &v); err != nil {
					t.Errorf("json output: %v", err)
				}
			}
		})
	}
}

func TestAuditCommandUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := ExitCode(Run(context.Background(), []string{"audit", "extra"}, &stdout, &stderr)); code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
	if !strings.Contains(stderr.String(), `unexpected arguments ["extra"]`) {
		t.Errorf("stderr %q", stderr.String())
	}
	stdout.Reset()
	if code := ExitCode(Run(context.Background(), []string{"audit", "--help"}, &stdout, &stderr)); code != ExitOK || !strings.Contains(stdout.String(), "PolicyReports") {
		t.Errorf("help: exit %d, %q", code, stdout.String())
	}
}
