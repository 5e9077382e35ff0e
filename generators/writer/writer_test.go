package writer

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/enigate/enigate/generators/manifest"
)

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, data := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, _ := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return out
}

func TestSync(t *testing.T) {
	tests := []struct {
		name        string
		before      map[string]string
		files       []manifest.File
		wantChanges []string
		wantAfter   map[string]string
	}{
		{
			name:        "empty dir gets every file",
			files:       []manifest.File{{Path: "a.yaml", Data: []byte("a")}, {Path: "sub/b.yaml", Data: []byte("b")}},
			wantChanges: []string{"add a.yaml", "add sub/b.yaml"},
			wantAfter:   map[string]string{"a.yaml": "a", "sub/b.yaml": "b"},
		},
		{
			name:        "declaration and hidden files kept, stale removed, same bytes untouched",
			before:      map[string]string{"environment.cue": "x", ".git/HEAD": "h", "a.yaml": "a", "old/gone.yaml": "g", "c.yaml": "old"},
			files:       []manifest.File{{Path: "a.yaml", Data: []byte("a")}, {Path: "c.yaml", Data: []byte("new")}},
			wantChanges: []string{"update c.yaml", "remove old/gone.yaml"},
			wantAfter:   map[string]string{"environment.cue": "x", ".git/HEAD": "h", "a.yaml": "a", "c.yaml": "new"},
		},
		{
			name:      "no change",
			before:    map[string]string{"environment.cue": "x", "a.yaml": "a"},
			files:     []manifest.File{{Path: "a.yaml", Data: []byte("a")}},
			wantAfter: map[string]string{"environment.cue": "x", "a.yaml": "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tt.before)
			plan, err := Plan(dir, tt.files, KeepOverlay)
			if err != nil {
				t.Fatal(err)
			}
			changes, err := Sync(dir, tt.files, KeepOverlay)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(plan, changes) {
				t.Errorf("Plan %v differs from Sync %v", plan, changes)
			}
			var got []string
			for _, c := range changes {
				got = append(got, c.String())
			}
			if !reflect.DeepEqual(got, tt.wantChanges) {
				t.Errorf("changes = %q, want %q", got, tt.wantChanges)
			}
			if after := readTree(t, dir); !reflect.DeepEqual(after, tt.wantAfter) {
				t.Errorf("tree = %v, want %v", after, tt.wantAfter)
			}
			if again, _ := Plan(dir, tt.files, KeepOverlay); len(again) != 0 {
				t.Errorf("second plan not empty: %v", again)
			}
		})
	}
}

func TestSyncRejectsBadPathsBeforeWriting(t *testing.T) {
	for _, bad := range []string{"../escape.yaml", "/abs.yaml", "a/../b.yaml", "", "dup.yaml"} {
		t.Run(bad, func(t *testing.T) {
			dir := t.TempDir()
			files := []manifest.File{{Path: "ok.yaml", Data: []byte("ok")}, {Path: bad}}
			if bad == "dup.yaml" {
				files = append(files, manifest.File{Path: bad})
			}
			if _, err := Sync(dir, files, KeepOverlay); err == nil {
				t.Fatal("want error")
			}
			if got := readTree(t, dir); len(got) != 0 {
				t.Errorf("wrote %v before failing", got)
			}
		})
	}
}
