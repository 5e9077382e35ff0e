package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enigate/enigate/generators"
	"github.com/enigate/enigate/generators/envrepo"
)

// TestDiffAndPushCommands runs the diff and push glue (everything after rendering) against a
// real bare repository and checks output and exit codes.
func TestDiffAndPushCommands(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "gitconfig")
	os.WriteFile(cfg, []byte("[user]\n\tname = enigate test\n\temail = test@enigate.invalid\n[init]\n\tdefaultBranch = main\n"), 0o644)
	t.Setenv("GIT_CONFIG_GLOBAL", cfg)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	bare := filepath.Join(t.TempDir(), "env.git")
	if out, err := exec.Command("git", "init", "--quiet", "--bare", bare).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	remote := envrepo.Remote{URL: bare}
	ns := []generators.File{{Path: "namespaces.yaml", Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n")}}
	secret := append(ns, generators.File{Path: "tls.yaml", Data: []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\n  namespace: team-a\nstringData:\n  tls.key: x\n")})
	ctx := context.Background()

	steps := []struct {
		name       string
		run        func(stdout, stderr *bytes.Buffer) error
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{
			name: "diff refuses a stale overlay",
			run: func(o, e *bytes.Buffer) error {
				return diffFiles(ctx, "overlays/dev", remote, ns, []string{"overlays/dev/a.yaml"}, "text", o, e)
			},
			wantCode: ExitError, wantStderr: "overlays/dev/a.yaml: stale",
		},
		{
			name:     "diff against the empty repository",
			run:      func(o, e *bytes.Buffer) error { return diffFiles(ctx, "overlays/dev", remote, ns, nil, "text", o, e) },
			wantCode: ExitFindings, wantStdout: "+ Namespace team-a",
		},
		{
			name: "push refuses Secret data",
			run: func(o, e *bytes.Buffer) error {
				return pushFiles(ctx, remote, envrepo.PushRequest{Files: secret}, o, e)
			},
			wantCode: ExitFindings, wantStderr: "tls.yaml.stringData: Secret team-a/tls carries stringData",
		},
		{
			name:     "push",
			run:      func(o, e *bytes.Buffer) error { return pushFiles(ctx, remote, envrepo.PushRequest{Files: ns}, o, e) },
			wantCode: ExitOK, wantStdout: "pushed ", wantStderr: "envrepo: pushing",
		},
		{
			name:     "push without change",
			run:      func(o, e *bytes.Buffer) error { return pushFiles(ctx, remote, envrepo.PushRequest{Files: ns}, o, e) },
			wantCode: ExitOK, wantStdout: "no changes:",
		},
		{
			name:     "diff without change as JSON",
			run:      func(o, e *bytes.Buffer) error { return diffFiles(ctx, "overlays/dev", remote, ns, nil, "json", o, e) },
			wantCode: ExitOK, wantStdout: `"changed": false`,
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := st.run(&stdout, &stderr)
			if code := ExitCode(err); code != st.wantCode {
				t.Errorf("exit %d (%v), want %d\nstdout:\n%s\nstderr:\n%s", code, err, st.wantCode, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), st.wantStdout) {
				t.Errorf("stdout:\n%s\nwant it to contain %q", stdout.String(), st.wantStdout)
			}
			if !strings.Contains(stderr.String(), st.wantStderr) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", stderr.String(), st.wantStderr)
			}
			if strings.HasPrefix(strings.TrimSpace(stdout.String()), "{") && !json.Valid(stdout.Bytes()) {
				t.Errorf("stdout is not valid JSON:\n%s", stdout.String())
			}
		})
	}
}

func TestRepoCommandsHelpAndUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{name: "diff help", args: []string{"diff", "--help"}, wantCode: ExitOK, want: "Exit codes: 0 no change, 1 changes, 2 could not diff"},
		{name: "push help", args: []string{"push", "--help"}, wantCode: ExitOK, want: "never force-pushes"},
		{name: "push without repo", args: []string{"push", "overlays/dev"}, wantCode: ExitError, want: "--repo: required"},
		{name: "diff bad format", args: []string{"diff", "overlays/dev", "--repo", "x", "-o", "xml"}, wantCode: ExitError, want: `"xml" is not one of text, json, yaml`},
		{name: "diff without anything", args: []string{"diff"}, wantCode: ExitError, want: "enigate diff: want exactly one OVERLAY_DIR, got 0 arguments\nenigate diff: --repo: required\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), tt.args, &stdout, &stderr)
			if code := ExitCode(err); code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			if out := stdout.String() + stderr.String(); !strings.Contains(out, tt.want) {
				t.Errorf("output:\n%s\nwant it to contain %q", out, tt.want)
			}
		})
	}
}
