package envrepo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/enigate/enigate/generators/manifest"

	"github.com/enigate/enigate/test/golden"
)

// goldenReport writes a report as text and JSON with the temporary repository path and the
// base commit replaced by placeholders.
func goldenReport(t *testing.T, name string, rep *Report, bare string) {
	t.Helper()
	r := *rep
	r.Repo = "ENVREPO"
	if r.Base != "" {
		r.Base = "BASE"
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", name+".txt"), text.Bytes())
	js, err := json.MarshalIndent(&r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", name+".json"), append(js, '\n'))
}

// noLeftovers fails when a temporary clone survived its run.
func noLeftovers(t *testing.T) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "enigate-envrepo-*"))
	if len(left) > 0 {
		t.Errorf("temporary clones left behind: %v", left)
	}
}

func commitCount(t *testing.T, bare, branch string) int {
	var n int
	fmt.Sscan(gitIn(t, bare, "rev-list", "--count", "refs/heads/"+branch), &n)
	return n
}

func TestPushLifecycle(t *testing.T) {
	isolateGit(t)
	t.Setenv("TMPDIR", t.TempDir())
	bare := bareRepo(t)
	remote := Remote{URL: bare}
	steps := []struct {
		name        string
		files       []manifest.File
		wantCommit  bool
		wantCommits int
		// wantNameStatus is `git diff --name-status` between the old and the new tip.
		wantNameStatus string
	}{
		{name: "push to empty repository", files: overlayV1(), wantCommit: true, wantCommits: 1},
		{name: "push again without change", files: overlayV1(), wantCommit: false, wantCommits: 1},
		{
			name: "push after change", files: overlayV2(), wantCommit: true, wantCommits: 2,
			wantNameStatus: "M\tkustomization.yaml\nD\tlegacy/configmap.yaml\nM\trbac/platform.yaml\nA\trbac/team-b.yaml\nM\troutes/team-a.yaml",
		},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := tip(t, bare, "main")
			rep, err := Diff(ctx, remote, st.files, Options{})
			if err != nil {
				t.Fatalf("diff: %v", err)
			}
			if rep.HasChanges() != st.wantCommit {
				t.Errorf("diff HasChanges = %v, want %v", rep.HasChanges(), st.wantCommit)
			}
			goldenReport(t, fmt.Sprintf("diff-%d", i+1), rep, bare)

			var progress bytes.Buffer
			res, err := Push(ctx, remote, PushRequest{Files: st.files, Subject: "dev: render environment", Source: "0123456789abcdef-dirty"}, Options{Progress: &progress})
			if err != nil {
				t.Fatalf("push: %v\n%s", err, progress.String())
			}
			after := tip(t, bare, "main")
			if st.wantCommit {
				if res.Commit == "" || res.Commit != after || after == before {
					t.Fatalf("commit %q, remote tip %q (was %q): want a new commit at the tip", res.Commit, after, before)
				}
				golden.Check(t, filepath.Join("testdata", fmt.Sprintf("commit-%d.txt", i+1)), []byte(gitIn(t, bare, "log", "-1", "--format=%B", after)+"\n"))
			} else {
				if res.Commit != "" || after != before {
					t.Fatalf("commit %q, remote tip %q (was %q): want no commit", res.Commit, after, before)
				}
				if !strings.Contains(progress.String(), "no changes") {
					t.Errorf("progress does not say nothing changed:\n%s", progress.String())
				}
			}
			if n := commitCount(t, bare, "main"); n != st.wantCommits {
				t.Errorf("main has %d commits, want %d", n, st.wantCommits)
			}
			if got, want := treeAt(t, bare, after), asMap(st.files, ""); !equalMaps(got, want) {
				t.Errorf("remote tree:\n%v\nwant exactly the rendered files:\n%v", keys(got), keys(want))
			}
			if before != "" && st.wantNameStatus != "" {
				if got := gitIn(t, bare, "diff", "--name-status", before, after); got != st.wantNameStatus {
					t.Errorf("changed files:\n%s\nwant:\n%s", got, st.wantNameStatus)
				}
			}
			noLeftovers(t)
		})
	}
}

// TestPushKeepsOtherDirectoriesAndHiddenFiles pushes into a subdirectory of a repository that
// holds other environments and CI configuration.
func TestPushKeepsOtherDirectoriesAndHiddenFiles(t *testing.T) {
	isolateGit(t)
	bare := bareRepo(t)
	seed := filepath.Join(t.TempDir(), "seed")
	gitIn(t, t.TempDir(), "clone", "--quiet", bare, seed)
	for p, d := range map[string]string{".github/workflows/ci.yaml": "on: push\n", "prod/keep.yaml": "kind: x\n", "dev/stale.yaml": "gone: true\n"} {
		os.MkdirAll(filepath.Dir(filepath.Join(seed, p)), 0o755)
		os.WriteFile(filepath.Join(seed, p), []byte(d), 0o644)
	}
	gitIn(t, seed, "add", ".")
	gitIn(t, seed, "commit", "--quiet", "-m", "seed")
	gitIn(t, seed, "push", "--quiet", "origin", "HEAD:main")

	if _, err := Push(ctx, Remote{URL: bare, Path: "dev"}, PushRequest{Files: overlayV1()}, Options{}); err != nil {
		t.Fatal(err)
	}
	want := asMap(overlayV1(), "dev/")
	want[".github/workflows/ci.yaml"] = "on: push\n"
	want["prod/keep.yaml"] = "kind: x\n"
	if got := treeAt(t, bare, "main"); !equalMaps(got, want) {
		t.Errorf("tree %v, want %v", keys(got), keys(want))
	}
}

func TestPushRace(t *testing.T) {
	isolateGit(t)
	t.Setenv("TMPDIR", t.TempDir())

	t.Run("other environment pushed first on an empty repository", func(t *testing.T) {
		bare := bareRepo(t)
		var b *PushResult
		a, err := Push(ctx, Remote{URL: bare, Path: "dev"}, PushRequest{Files: overlayV1(), Subject: "dev"}, Options{
			beforePush: func(attempt int) error {
				if attempt == 1 {
					var err error
					b, err = Push(ctx, Remote{URL: bare, Path: "prod"}, PushRequest{Files: overlayV2(), Subject: "prod"}, Options{})
					return err
				}
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if a.Attempts != 2 || b.Attempts != 1 {
			t.Errorf("attempts: A %d, B %d; want 2 and 1", a.Attempts, b.Attempts)
		}
		if parent := gitIn(t, bare, "rev-parse", a.Commit+"^"); parent != b.Commit {
			t.Errorf("A's commit has parent %s, want B's commit %s (re-applied on top, not forced)", parent, b.Commit)
		}
		want := asMap(overlayV1(), "dev/")
		for k, v := range asMap(overlayV2(), "prod/") {
			want[k] = v
		}
		if got := treeAt(t, bare, "main"); !equalMaps(got, want) {
			t.Errorf("tree %v, want both environments %v", keys(got), keys(want))
		}
		noLeftovers(t)
	})

	t.Run("same directory pushed meanwhile", func(t *testing.T) {
		bare := bareRepo(t)
		if _, err := Push(ctx, Remote{URL: bare}, PushRequest{Files: overlayV1()}, Options{}); err != nil {
			t.Fatal(err)
		}
		meanwhile := overlayV1()
		meanwhile[0].Data = append(meanwhile[0].Data, []byte("# hotfix\n")...) // gateway/gateway.yaml
		var b *PushResult
		a, err := Push(ctx, Remote{URL: bare}, PushRequest{Files: overlayV2()}, Options{
			beforePush: func(attempt int) error {
				if attempt == 1 {
					var err error
					b, err = Push(ctx, Remote{URL: bare}, PushRequest{Files: meanwhile}, Options{})
					return err
				}
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if gitIn(t, bare, "rev-parse", a.Commit+"^") != b.Commit {
			t.Errorf("A not re-applied on top of B")
		}
		if got, want := treeAt(t, bare, "main"), asMap(overlayV2(), ""); !equalMaps(got, want) {
			t.Errorf("tree %v, want A's render %v", keys(got), keys(want))
		}
		// The retried commit describes the change against B's tree, which touched the Gateway.
		var changed bool
		for _, f := range a.Report.Files {
			changed = changed || f.Path == "gateway/gateway.yaml"
		}
		if !changed {
			t.Errorf("A's final report does not undo B's gateway edit: %+v", a.Report.Files)
		}
	})

	t.Run("gives up after the bounded number of attempts", func(t *testing.T) {
		bare := bareRepo(t)
		n := 0
		_, err := Push(ctx, Remote{URL: bare, Path: "dev"}, PushRequest{Files: overlayV1()}, Options{
			MaxAttempts: 2,
			beforePush: func(int) error {
				n++
				_, err := Push(ctx, Remote{URL: bare, Path: fmt.Sprintf("other-%d", n)}, PushRequest{Files: overlayV2()}, Options{})
				return err
			},
		})
		if err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts") || !strings.Contains(err.Error(), "fetch first") {
			t.Fatalf("err = %v, want gave up after 2 attempts naming the rejection", err)
		}
		if commitCount(t, bare, "main") != 2 {
			t.Errorf("want only the two concurrent commits")
		}
		noLeftovers(t)
	})

	t.Run("ref lock lost to a push landing inside the remote", func(t *testing.T) {
		bare := bareRepo(t)
		if _, err := Push(ctx, Remote{URL: bare}, PushRequest{Files: overlayV1()}, Options{}); err != nil {
			t.Fatal(err)
		}
		intruder, err := Push(ctx, Remote{URL: bare, Branch: "intruder"}, PushRequest{Files: overlayV2()[:3]}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		// Between receiving our objects and updating the ref, another push moves main: the
		// remote's compare-and-swap on the ref fails ("failed to update ref").
		hook(t, bare, "pre-receive", `if [ ! -e "$GIT_DIR/raced" ]; then
  touch "$GIT_DIR/raced"
  env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES git update-ref refs/heads/main refs/heads/intruder
fi
`)
		var progress bytes.Buffer
		a, err := Push(ctx, Remote{URL: bare}, PushRequest{Files: overlayV2()}, Options{Progress: &progress})
		if err != nil {
			t.Fatal(err)
		}
		if a.Attempts != 2 || !strings.Contains(progress.String(), "failed to update ref") {
			t.Errorf("attempts %d, progress:\n%s\nwant a retry after the lost ref lock", a.Attempts, progress.String())
		}
		if gitIn(t, bare, "rev-parse", a.Commit+"^") != intruder.Commit {
			t.Errorf("commit not re-applied on top of the concurrent one")
		}
	})

	t.Run("concurrent pushers on one branch", func(t *testing.T) {
		bare := bareRepo(t)
		const pushers = 4
		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make([]*PushResult, pushers)
		errs := make([]error, pushers)
		for i := range pushers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = Push(ctx, Remote{URL: bare, Path: fmt.Sprintf("env-%d", i)}, PushRequest{Files: overlayV1()}, Options{})
			}()
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		final := tip(t, bare, "main")
		for i, r := range results {
			if err := exec.Command("git", "--git-dir", bare, "merge-base", "--is-ancestor", r.Commit, final).Run(); err != nil {
				t.Errorf("pusher %d's commit %s is not in main's history (lost update)", i, r.Commit)
			}
		}
		if n := commitCount(t, bare, "main"); n != pushers {
			t.Errorf("main has %d commits, want %d", n, pushers)
		}
		if got := len(treeAt(t, bare, "main")); got != pushers*len(overlayV1()) {
			t.Errorf("tree has %d files, want %d", got, pushers*len(overlayV1()))
		}
		noLeftovers(t)
	})
}

func TestPushRejectedByHook(t *testing.T) {
	isolateGit(t)
	t.Setenv("TMPDIR", t.TempDir())
	bare := bareRepo(t)
	first, err := Push(ctx, Remote{URL: bare}, PushRequest{Files: overlayV1()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	hook(t, bare, "pre-receive", "echo 'policy: dev is frozen until the release is cut' >&2\nexit 1\n")
	_, err = Push(ctx, Remote{URL: bare}, PushRequest{Files: overlayV2()}, Options{})
	if err == nil {
		t.Fatal("push succeeded, want the hook's rejection")
	}
	for _, want := range []string{"pre-receive hook declined", "policy: dev is frozen until the release is cut"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if got := tip(t, bare, "main"); got != first.Commit {
		t.Errorf("remote moved to %s, want it left at %s", got, first.Commit)
	}
	if refs := gitIn(t, bare, "for-each-ref", "--format=%(refname)"); refs != "refs/heads/main" {
		t.Errorf("remote refs %q, want only refs/heads/main", refs)
	}
	noLeftovers(t)
}

func TestPushRefused(t *testing.T) {
	isolateGit(t)
	keyPEM := "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oKqHl7SBzq6SoAoGCCqGSM49\n-----END EC PRIVATE KEY-----\n"
	tests := []struct {
		name  string
		req   PushRequest
		wants []string
	}{
		{
			name:  "stale overlay",
			req:   PushRequest{Files: overlayV1(), Stale: []string{"overlays/dev/routes/team-a.yaml"}},
			wants: []string{"overlays/dev/routes/team-a.yaml: stale"},
		},
		{
			name: "private key base64-encoded in a ConfigMap",
			req: PushRequest{Files: append(overlayV1(), manifest.File{Path: "gateway/ca.yaml", Data: []byte(
				"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ca\n  namespace: gateway-system\nbinaryData:\n  key.pem: " +
					b64(keyPEM) + "\n")})},
			wants: []string{"gateway/ca.yaml.binaryData[key.pem]: private key material"},
		},
		{
			name:  "Secret with data",
			req:   PushRequest{Files: append(overlayV1(), manifest.File{Path: "gateway/tls.yaml", Data: []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: shared-gateway-tls\n  namespace: gateway-system\ntype: kubernetes.io/tls\ndata:\n  tls.crt: Y2VydA==\n")})},
			wants: []string{"gateway/tls.yaml.data: Secret gateway-system/shared-gateway-tls carries data"},
		},
		{
			name: "placeholder in the Cilium values",
			req: PushRequest{Files: append(overlayV1(), manifest.File{Path: "cilium/values.yaml", Data: []byte(
				"# Code generated by enigate. DO NOT EDIT.\nkubeProxyReplacement: true\nk8sServiceHost: REPLACE-WITH-EKS-ENDPOINT-HOST\nk8sServicePort: 443\n")})},
			wants: []string{`cilium/values.yaml.k8sServiceHost: placeholder "REPLACE-WITH-EKS-ENDPOINT-HOST"`},
		},
		{
			name:  "k8sServiceHost auto",
			req:   PushRequest{Files: append(overlayV1(), manifest.File{Path: "cilium/values.yaml", Data: []byte("k8sServiceHost: auto\n")})},
			wants: []string{"cilium/values.yaml.k8sServiceHost: auto (a Helm lookup"},
		},
		{
			name:  "nothing rendered",
			req:   PushRequest{},
			wants: []string{"files: none rendered"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bare := bareRepo(t)
			_, err := Push(ctx, Remote{URL: bare}, tt.req, Options{})
			var refused *RefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("err = %v, want a refusal", err)
			}
			joined := strings.Join(refused.Lines(), "\n")
			if len(refused.Problems) != len(tt.wants) {
				t.Errorf("%d problems:\n%s\nwant %d, one line each", len(refused.Problems), joined, len(tt.wants))
			}
			for _, w := range tt.wants {
				if !strings.Contains(joined, w) {
					t.Errorf("problems:\n%s\nwant one containing %q", joined, w)
				}
			}
			if got := tip(t, bare, "main"); got != "" {
				t.Errorf("remote got commit %s despite the refusal", got)
			}
		})
	}
}

func TestSourceCommit(t *testing.T) {
	isolateGit(t)
	repo := t.TempDir()
	gitIn(t, repo, "init", "--quiet")
	os.MkdirAll(filepath.Join(repo, "overlays", "dev"), 0o755)
	os.WriteFile(filepath.Join(repo, "overlays", "dev", "environment.cue"), []byte("env: dev\n"), 0o644)
	overlay := filepath.Join(repo, "overlays", "dev")

	if got, err := SourceCommit(ctx, overlay); err != nil || got != "" {
		t.Errorf("no commit yet: %q, %v; want empty", got, err)
	}
	gitIn(t, repo, "add", ".")
	gitIn(t, repo, "commit", "--quiet", "-m", "dev")
	head := gitIn(t, repo, "rev-parse", "HEAD")

	steps := []struct {
		name   string
		change func()
		want   string
	}{
		{name: "clean", change: func() {}, want: head},
		{name: "untracked file", change: func() { os.WriteFile(filepath.Join(overlay, "new.cue"), nil, 0o644) }, want: head + "-dirty"},
		{name: "modified file", change: func() {
			os.Remove(filepath.Join(overlay, "new.cue"))
			os.WriteFile(filepath.Join(overlay, "environment.cue"), []byte("env: prod\n"), 0o644)
		}, want: head + "-dirty"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change()
			if got, err := SourceCommit(ctx, overlay); err != nil || got != st.want {
				t.Errorf("SourceCommit = %q, %v; want %q", got, err, st.want)
			}
		})
	}
	if got, err := SourceCommit(ctx, t.TempDir()); err != nil || got != "" {
		t.Errorf("not a repository: %q, %v; want empty", got, err)
	}
}

func TestRemoteValidation(t *testing.T) {
	tests := []struct {
		name   string
		remote Remote
		want   string
	}{
		{name: "no url", remote: Remote{}, want: "repo: empty"},
		{name: "option-like url", remote: Remote{URL: "--upload-pack=evil"}, want: "starts with '-'"},
		{name: "bad branch", remote: Remote{URL: "x", Branch: "a..b"}, want: `branch: "a..b" is not a valid branch name`},
		{name: "escaping path", remote: Remote{URL: "x", Path: "../other"}, want: `path: "../other"`},
		{name: "hidden path", remote: Remote{URL: "x", Path: ".git"}, want: `path: ".git"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Diff(ctx, tt.remote, overlayV1(), Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
