package envrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// git runs the git CLI in one directory, so the user's credential helpers, SSH agent and
// configuration apply exactly as they would on the command line.
type git struct {
	dir string
	env []string // extra environment, appended to the process's
}

// gitError is a failed git command: its arguments, exit status and what it said.
type gitError struct {
	args   []string
	err    error
	stderr string
}

func (e *gitError) Error() string {
	msg := lastLines(e.stderr, 6)
	if msg == "" {
		msg = e.err.Error()
	}
	return fmt.Sprintf("git %s: %s", e.args[0], msg)
}

func (e *gitError) Unwrap() error { return e.err }

// run executes git with args and returns its stdout.
func (g git) run(ctx context.Context, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.dir
	// LC_ALL=C keeps the messages this package parses in English; GIT_TERMINAL_PROMPT stays as
	// the user set it, so interactive credential prompts still work.
	cmd.Env = append(append(os.Environ(), "LC_ALL=C"), g.env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return stdout.String(), fmt.Errorf("git %s: %w", args[0], ctx.Err())
		}
		return stdout.String(), &gitError{args: args, err: err, stderr: stderr.String()}
	}
	return stdout.String(), nil
}

// exitCode returns the exit status of a failed git command, -1 for other errors.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// lastLines returns the last n non-empty lines of s, trimmed, joined with "; ", dropping
// git's "hint:" advice.
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "hint:") {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// remoteMessages returns what the remote said ("remote: ..." lines of git's stderr), which is
// where a rejecting hook's explanation appears.
func remoteMessages(stderr string) string {
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if m, ok := strings.CutPrefix(strings.TrimSpace(l), "remote:"); ok {
			if m = strings.TrimSpace(m); m != "" {
				lines = append(lines, m)
			}
		}
	}
	return strings.Join(lines, "; ")
}

// SourceCommit names the commit the overlay was rendered from: `git rev-parse HEAD` of the
// repository containing dir, with "-dirty" when that repository has uncommitted changes
// (untracked files included, since an untracked declaration changes the render). It returns ""
// when dir is not inside a git repository or the repository has no commit yet.
func SourceCommit(ctx context.Context, dir string) (string, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return "", fmt.Errorf("source commit: %w", err)
	}
	g := git{dir: dir}
	head, err := g.run(ctx, nil, "rev-parse", "--verify", "--quiet", "HEAD")
	if err != nil {
		if ctx.Err() != nil {
			return "", err
		}
		return "", nil // not a repository, or no commit yet
	}
	status, err := g.run(ctx, nil, "status", "--porcelain")
	if err != nil {
		return "", fmt.Errorf("source commit: %w", err)
	}
	commit := strings.TrimSpace(head)
	if strings.TrimSpace(status) != "" {
		commit += "-dirty"
	}
	return commit, nil
}

// clone is a temporary working repository for one environment remote.
type clone struct {
	git
	remote Remote
}

// newClone initialises an empty repository in a new temporary directory with the remote as
// origin. The caller removes it with close.
func newClone(ctx context.Context, r Remote) (*clone, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "enigate-envrepo-")
	if err != nil {
		return nil, err
	}
	c := &clone{git: git{dir: dir}, remote: r}
	if _, err := c.run(ctx, nil, "init", "--quiet"); err != nil {
		c.close()
		return nil, err
	}
	if _, err := c.run(ctx, nil, "remote", "add", "origin", localURL(r.URL)); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *clone) close() { os.RemoveAll(c.dir) }

// localURL makes a relative path to a local repository absolute, since the clone runs in
// another directory. URLs and scp-like addresses (host:path) are returned unchanged.
func localURL(u string) string {
	if strings.Contains(u, "://") || filepath.IsAbs(u) {
		return u
	}
	if i := strings.Index(u, ":"); i > 0 && !strings.Contains(u[:i], "/") {
		return u // user@host:path
	}
	if abs, err := filepath.Abs(u); err == nil {
		return abs
	}
	return u
}

// checkout fetches the branch's tip and makes the work tree hold exactly it (an empty tree on
// an unborn branch when the remote has no such branch). It returns the tip, "" when absent.
func (c *clone) checkout(ctx context.Context) (string, error) {
	ref := "refs/heads/" + c.remote.Branch
	out, err := c.run(ctx, nil, "ls-remote", "--exit-code", "origin", ref)
	switch {
	case err != nil && exitCode(err) == 2:
		// No such branch (or an empty repository): start from nothing, dropping a commit a
		// previous attempt made locally so the next commit is a root commit again.
		if _, err := c.run(ctx, nil, "update-ref", "-d", ref); err != nil {
			return "", err
		}
		if _, err := c.run(ctx, nil, "symbolic-ref", "HEAD", ref); err != nil {
			return "", err
		}
		if _, err := c.run(ctx, nil, "read-tree", "--empty"); err != nil {
			return "", err
		}
		_, err := c.run(ctx, nil, "clean", "-ffdxq")
		return "", err
	case err != nil:
		return "", fmt.Errorf("read %s: %w", c.remote.URL, err)
	}
	tip, _, _ := strings.Cut(strings.TrimSpace(out), "\t")
	// A shallow fetch keeps large histories cheap; the commit pushed later only needs its
	// parent, which the remote has.
	if _, err := c.run(ctx, nil, "fetch", "--quiet", "--no-tags", "--depth=1", "origin", "+"+ref+":refs/remotes/origin/"+c.remote.Branch); err != nil {
		return "", fmt.Errorf("fetch %s: %w", c.remote.URL, err)
	}
	if _, err := c.run(ctx, nil, "checkout", "--quiet", "--force", "-B", c.remote.Branch, "refs/remotes/origin/"+c.remote.Branch); err != nil {
		return "", err
	}
	if _, err := c.run(ctx, nil, "clean", "-ffdxq"); err != nil {
		return "", err
	}
	head, err := c.run(ctx, nil, "rev-parse", "HEAD")
	if err != nil {
		return "", err
	}
	if h := strings.TrimSpace(head); h != tip {
		tip = h // the branch moved between ls-remote and fetch; the fetched tip is what we have
	}
	return tip, nil
}

// envDir is the environment's directory in the work tree.
func (c *clone) envDir() string { return filepath.Join(c.dir, filepath.FromSlash(c.remote.Path)) }

// pushOutcome classifies a push.
type pushOutcome int

const (
	pushed   pushOutcome = iota
	outdated             // the branch moved: fetch, re-apply, retry
)

// push pushes HEAD to the branch, never forced: the remote accepts it only as a fast-forward
// of the tip it has. A branch that moved meanwhile (rejected as non-fast-forward, or a ref lock
// lost to a concurrent push) is reported as outdated; anything else is an error carrying the
// remote's explanation (a hook's message).
//
// The reason is the remote's status and explanation, also for an outdated push.
func (c *clone) push(ctx context.Context) (pushOutcome, string, error) {
	ref := "refs/heads/" + c.remote.Branch
	stdout, err := c.run(ctx, nil, "push", "--porcelain", "origin", "HEAD:"+ref)
	if err == nil {
		return pushed, "", nil
	}
	var ge *gitError
	if !errors.As(err, &ge) {
		return 0, "", err
	}
	// Porcelain status line: "!\tHEAD:refs/heads/main\t[rejected] (fetch first)".
	for _, line := range strings.Split(stdout, "\n") {
		fields := strings.SplitN(line, "\t", 3)
		if len(fields) != 3 || !strings.HasSuffix(fields[1], ":"+ref) {
			continue
		}
		reason := fields[2]
		if why := remoteMessages(ge.stderr); why != "" {
			reason += ": " + why
		}
		if isOutdated(fields[2]) {
			return outdated, reason, nil
		}
		return 0, reason, fmt.Errorf("push to %s branch %s: %s", c.remote.URL, c.remote.Branch, reason)
	}
	return 0, "", fmt.Errorf("push to %s branch %s: %w", c.remote.URL, c.remote.Branch, err)
}

// isOutdated reports whether a push status summary means "someone else pushed first".
func isOutdated(summary string) bool {
	for _, s := range []string{"(fetch first)", "(non-fast-forward)", "(stale info)", "failed to update ref", "cannot lock ref", "failed to lock", "incorrect old value"} {
		if strings.Contains(summary, s) {
			return true
		}
	}
	return false
}
