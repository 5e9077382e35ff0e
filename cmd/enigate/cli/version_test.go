package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/enigate/enigate/schema/release"
)

func TestVersionCommand(t *testing.T) {
	text := "enigate " + release.Version + "\ncommit: "
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStdout []string
		wantStderr []string
	}{
		{name: "version", args: []string{"version"}, wantStdout: []string{text, "\ngo: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"}},
		{name: "--version flag", args: []string{"--version"}, wantStdout: []string{text}},
		{name: "json", args: []string{"version", "-o", "json"}, wantStdout: []string{`"version": "` + release.Version + `"`, `"commit": "`, `"goVersion": "` + runtime.Version() + `"`}},
		{name: "help", args: []string{"version", "--help"}, wantStdout: []string{"Usage:\n  enigate version [flags]", "-o, --output format", "default image tag"}},
		{name: "listed in usage", args: []string{"help"}, wantStdout: []string{"  version ", "'enigate --version'"}},
		{name: "yaml", args: []string{"version", "--output", "yaml"}, wantStdout: []string{"version: " + release.Version + "\n"}},
		{name: "unexpected argument", args: []string{"version", "extra"}, code: ExitError,
			wantStderr: []string{`enigate version: unexpected arguments ["extra"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), tt.args, &stdout, &stderr)
			if got := ExitCode(err); got != tt.code {
				t.Fatalf("exit %d, want %d (stderr %s)", got, tt.code, stderr.String())
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

func TestVersionJSONShape(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), []string{"version", "-o", "json"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	var got release.Build
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Version != release.Version || got.Commit == "" || got.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("version JSON %+v", got)
	}
}
