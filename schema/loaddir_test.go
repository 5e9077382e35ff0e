package schema

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeTree writes files (slash paths relative to root) and returns root.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const minimalNoTeams = `name: "t"
cluster: region: "eu-west-1", cilium: clusterID: 1
vpc: {cidr: "10.0.0.0/16", subnets: private: "eu-west-1a": cidr: "10.0.0.0/20"}
nodeGroups: general: {instanceType: "m7g.large", maxSize: 2}
`

// TestLoadDir: a declaration split into several files, or sharing definitions through an
// import from the CUE module that holds it, evaluates to the same environment as one file.
func TestLoadDir(t *testing.T) {
	single, err := LoadDeclaration([]byte(minimal), "overlays/t/environment.cue")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files map[string]string
		dir   string
	}{
		{name: "one file", dir: "overlays/t", files: map[string]string{
			"overlays/t/environment.cue": minimal,
		}},
		{name: "split into files", dir: "overlays/t", files: map[string]string{
			"overlays/t/environment.cue": minimalNoTeams,
			"overlays/t/teams.cue":       `teams: "team-a": hostnames: ["a.example.com"]` + "\n",
		}},
		{name: "shared definitions from the module", dir: "overlays/t", files: map[string]string{
			"cue.mod/module.cue":         "module: \"example.com/platform@v0\"\nlanguage: version: \"v0.17.0\"\n",
			"shared/teams.cue":           "package shared\n\nteams: \"team-a\": hostnames: [\"a.example.com\"]\n",
			"overlays/t/environment.cue": "package t\n\nimport \"example.com/platform/shared\"\n\n" + minimalNoTeams + "teams: shared.teams\n",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			d, err := LoadDir(filepath.Join(root, filepath.FromSlash(tt.dir)), "overlays/t")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.Env, single.Env) {
				t.Errorf("environment differs from the single-file load:\n got %+v\nwant %+v", d.Env, single.Env)
			}
		})
	}
}

// TestLoadDirProblems: problems name the file they are in, under the displayed directory.
func TestLoadDirProblems(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
		once  string // appears on exactly one line
	}{
		{name: "problem in the second file", files: map[string]string{
			"environment.cue": minimalNoTeams,
			"teams.cue":       "\nteams: \"team-a\": {hostnames: [\"a.example.com\"], nameSpaces: [\"x\"]}\n",
		}, want: []string{`overlays/t/teams.cue:2:49: teams."team-a".nameSpaces: unknown field (allowed: namespaces, hostnames`}},
		{name: "unknown top-level field, once", files: map[string]string{
			"environment.cue": minimal,
			"extra.cue":       "clusterName: \"x\"\n",
		}, want: []string{"overlays/t/extra.cue:1:1: clusterName: unknown field (allowed: name, versions,"}, once: "clusterName"},
		{name: "conflict across files", files: map[string]string{
			"environment.cue": minimal,
			"more.cue":        "nodeGroups: general: maxSize: 3\n",
		}, want: []string{"overlays/t/more.cue:1:31: nodeGroups.general.maxSize: conflicting values 3 and 2"}},
		{name: "two packages", files: map[string]string{
			"environment.cue": "package a\n" + minimal,
			"other.cue":       "package b\n",
		}, want: []string{"overlays/t: .cue files of 2 packages (a, b); an overlay is one package"}},
		{name: "no cue files", files: map[string]string{"README.md": "x"},
			want: []string{"overlays/t: no .cue files"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			_, err := LoadDir(root, "overlays/t")
			var p Problems
			if !errors.As(err, &p) {
				t.Fatalf("err = %v, want Problems", err)
			}
			got := strings.Join(p, "\n")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			if tt.once != "" && strings.Count(got, tt.once) != 1 {
				t.Errorf("%q on %d lines, want 1:\n%s", tt.once, strings.Count(got, tt.once), got)
			}
		})
	}
}
