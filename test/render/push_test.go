package render_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPushRenderedOverlay renders the dev example and pushes it with the real git CLI into a
// bare repository: the tree holds exactly the rendered files (not the declaration), a second
// push commits nothing, and diff then reports no change.
func TestPushRenderedOverlay(t *testing.T) {
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(t.TempDir(), "gitconfig"))
	t.Setenv("GIT_AUTHOR_NAME", "test")
	t.Setenv("GIT_AUTHOR_EMAIL", "test@example.com")
	t.Setenv("GIT_COMMITTER_NAME", "test")
	t.Setenv("GIT_COMMITTER_EMAIL", "test@example.com")
	root := repoRoot(t)
	dir := t.TempDir()
	overlay := filepath.Join(dir, "overlays", "dev")
	os.MkdirAll(overlay, 0o755)
	src, _ := os.ReadFile(filepath.Join(root, "overlays", "dev", "environment.cue"))
	os.WriteFile(filepath.Join(overlay, "environment.cue"), src, 0o644)
	if _, stderr, code := run(t, dir, "render", "--quiet"); code != 0 {
		t.Fatalf("render: %d\n%s", code, stderr)
	}
	bare := filepath.Join(dir, "env.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", bare).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}

	if _, stderr, code := run(t, dir, "diff", "overlays/dev", "--repo", bare); code != 1 {
		t.Fatalf("diff before push: exit %d, want 1\n%s", code, stderr)
	}
	if _, stderr, code := run(t, dir, "push", "overlays/dev", "--repo", bare); code != 0 {
		t.Fatalf("push: exit %d\n%s", code, stderr)
	}
	tree, err := exec.Command("git", "--git-dir", bare, "ls-tree", "-r", "--name-only", "main").Output()
	if err != nil {
		t.Fatal(err)
	}
	files := strings.Fields(string(tree))
	rendered := readTree(t, overlay)
	if len(files) != len(rendered)-1 {
		t.Errorf("pushed %d files, rendered %d (+ environment.cue)", len(files), len(rendered))
	}
	for _, f := range files {
		if f == "environment.cue" {
			t.Error("the declaration was pushed to the environment repo")
		}
		if _, ok := rendered[f]; !ok {
			t.Errorf("pushed %s, which was not rendered", f)
		}
	}
	if _, stderr, code := run(t, dir, "push", "overlays/dev", "--repo", bare); code != 0 {
		t.Fatalf("second push: exit %d\n%s", code, stderr)
	}
	count, _ := exec.Command("git", "--git-dir", bare, "rev-list", "--count", "main").Output()
	if strings.TrimSpace(string(count)) != "1" {
		t.Errorf("commits after two pushes = %s, want 1", count)
	}
	if _, stderr, code := run(t, dir, "diff", "overlays/dev", "--repo", bare); code != 0 {
		t.Errorf("diff after push: exit %d, want 0\n%s", code, stderr)
	}
}
