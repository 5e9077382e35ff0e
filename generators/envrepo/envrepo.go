// Package envrepo keeps per-environment git repositories (or branches), the ones Argo CD or
// Flux sync from, equal to an overlay's rendered files. Diff compares the rendered files with
// the environment's tree per Kubernetes object; Push replaces the tree with exactly the
// rendered files in one commit and pushes it, never forced.
//
// Everything goes through the git CLI (os/exec) in a temporary clone that is always removed,
// so the user's credential helpers, SSH agent and git configuration apply. A push updates one
// ref with one commit; git applies such an update atomically (the remote compares the ref's
// old value and swaps it under a lock after receiving every object), so an interrupted run
// leaves the branch at the old commit or the new one, never in between. When another push
// lands first the remote rejects ours as a non-fast-forward; Push then fetches the new tip,
// re-applies the rendered files on top and retries, a bounded number of times.
package envrepo

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/generators/manifest"
	"github.com/enigate/enigate/generators/writer"
	"github.com/enigate/enigate/schema/problem"
)

// Remote is where an environment lives.
type Remote struct {
	// URL is anything `git clone` accepts: https://, ssh://, host:path or a local path.
	URL string
	// Branch defaults to "main".
	Branch string
	// Path is the environment's directory inside the repository, "." (the default) for the
	// whole repository. Hidden files and directories (.git, .github, ...) are never touched.
	Path string
}

// DefaultBranch is the branch used when Remote.Branch is empty.
const DefaultBranch = "main"

// DefaultMaxAttempts bounds how often Push re-applies its commit on a moved branch.
const DefaultMaxAttempts = 5

// Options tune Diff and Push. The zero value is ready to use.
type Options struct {
	// Progress receives one line per step (fetching, committing, pushing, retrying); nil
	// discards them.
	Progress io.Writer
	// MaxAttempts is how many pushes Push tries before giving up on a branch that keeps
	// moving; 0 means DefaultMaxAttempts.
	MaxAttempts int

	// beforePush runs after the commit and before each push attempt (tests interleave a
	// concurrent pusher here).
	beforePush func(attempt int) error
}

func (o Options) progress(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "envrepo: "+format+"\n", args...)
	}
}

// Problems is every problem found with a request, one line each: "path: what is wrong (what
// is allowed)", the path a flag (repo, branch, path), a file or a file's field.
type Problems field.ErrorList

func (p Problems) Error() string { return strings.Join(p.Lines(), "\n") }

// Lines formats the problems one per line, as render prints its own.
func (p Problems) Lines() []string { return problem.Lines(field.ErrorList(p)) }

// normalize applies defaults and rejects remotes git would misread.
func (r Remote) normalize(ctx context.Context) (Remote, error) {
	var problems Problems
	if r.URL == "" {
		problems = append(problems, field.Required(field.NewPath("repo"), "empty (a git URL or path)"))
	} else if strings.HasPrefix(r.URL, "-") {
		problems = append(problems, invalid("repo", fmt.Sprintf("%q starts with '-' (a git URL or path)", r.URL)))
	}
	if r.Branch == "" {
		r.Branch = DefaultBranch
	}
	if strings.HasPrefix(r.Branch, "-") || exec.CommandContext(ctx, "git", "check-ref-format", "refs/heads/"+r.Branch).Run() != nil {
		problems = append(problems, invalid("branch", fmt.Sprintf("%q is not a valid branch name (see git check-ref-format)", r.Branch)))
	}
	if r.Path == "" {
		r.Path = "."
	}
	if p := path.Clean(r.Path); p != r.Path || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") || (p != "." && writer.KeepHidden(p)) {
		problems = append(problems, invalid("path", fmt.Sprintf("%q is not a clean relative, non-hidden directory inside the repository", r.Path)))
	}
	if len(problems) > 0 {
		return r, problems
	}
	return r, nil
}

// invalid is a problem at path (a flag or a file path, kept verbatim) described by detail.
func invalid(path, detail string) *field.Error {
	return &field.Error{Type: field.ErrorTypeInvalid, Field: path, Detail: detail}
}

// Diff fetches the environment and compares its tree with the rendered files.
func Diff(ctx context.Context, r Remote, files []manifest.File, opts Options) (*Report, error) {
	r, err := r.normalize(ctx)
	if err != nil {
		return nil, err
	}
	c, err := newClone(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	defer c.close()
	opts.progress("fetching %s branch %s", r.URL, r.Branch)
	base, err := c.checkout(ctx)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	return c.compare(base, files)
}

func (c *clone) compare(base string, files []manifest.File) (*Report, error) {
	old, err := writer.Read(c.envDir(), writer.KeepHidden)
	if err != nil {
		return nil, err
	}
	rep, err := Compare(old, files)
	if err != nil {
		return nil, err
	}
	rep.Repo, rep.Branch, rep.Path, rep.Base = c.remote.URL, c.remote.Branch, c.remote.Path, base
	return rep, nil
}

// PushRequest is what Push publishes.
type PushRequest struct {
	// Files are the overlay's rendered files, paths relative to the environment's directory.
	Files []manifest.File
	// Stale lists files on disk that differ from the render (`enigate render --check`); Push
	// refuses unless it is empty.
	Stale []string
	// Subject is the commit's first line; empty means "enigate: update environment".
	Subject string
	// Source names the commit the overlay was rendered from (see SourceCommit); empty omits it.
	Source string
}

// PushResult reports a push.
type PushResult struct {
	// Report is the diff the commit applied (against the tip it was finally based on).
	Report *Report
	// Commit is the pushed commit, "" when the environment already held the rendered files.
	Commit string
	// Attempts counts pushes tried (1 when nobody pushed concurrently).
	Attempts int
}

// RefusedError lists why Push refused to publish anything: problems of the files, where
// other Problems are of the request.
type RefusedError struct {
	Problems
}

func (e *RefusedError) Error() string {
	return "refused: " + strings.Join(e.Lines(), "; ")
}

// Refusals returns every reason req must not be pushed: stale overlay files, no files at all,
// invalid paths, private key material and Secret data (see Check).
func Refusals(req PushRequest) Problems {
	var out Problems
	for _, s := range req.Stale {
		out = append(out, invalid(s, "stale (run `enigate render` and commit the result; push publishes only a clean render)"))
	}
	if len(req.Files) == 0 {
		out = append(out, field.Required(field.NewPath("files"), "none rendered (pushing would empty the environment)"))
	}
	for _, f := range req.Files {
		if p := path.Clean(f.Path); p != f.Path || path.IsAbs(p) || p == "." || strings.HasPrefix(p, "../") || writer.KeepHidden(p) {
			out = append(out, invalid(f.Path, "not a clean relative, non-hidden path"))
		}
	}
	return append(out, Check(req.Files)...)
}

// Push makes the environment hold exactly req.Files in one new commit on top of the branch and
// pushes it without force. Nothing is committed when the environment already holds them.
func Push(ctx context.Context, r Remote, req PushRequest, opts Options) (*PushResult, error) {
	r, err := r.normalize(ctx)
	if err != nil {
		return nil, err
	}
	if problems := Refusals(req); len(problems) > 0 {
		return nil, &RefusedError{problems}
	}
	maxAttempts := opts.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	c, err := newClone(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	defer c.close()
	ident, err := c.identity(ctx)
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	c.env = append(c.env, ident...)

	var lastReason string
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		opts.progress("fetching %s branch %s", r.URL, r.Branch)
		base, err := c.checkout(ctx)
		if err != nil {
			return nil, fmt.Errorf("push: %w", err)
		}
		rep, err := c.compare(base, req.Files)
		if err != nil {
			return nil, fmt.Errorf("push: %w", err)
		}
		res := &PushResult{Report: rep, Attempts: attempt}
		if _, err := writer.Sync(c.envDir(), req.Files, writer.KeepHidden); err != nil {
			return nil, fmt.Errorf("push: replace tree: %w", err)
		}
		if _, err := c.run(ctx, nil, "add", "--all", "--force", "--", c.remote.Path); err != nil {
			return nil, fmt.Errorf("push: %w", err)
		}
		if _, err := c.run(ctx, nil, "diff", "--cached", "--quiet"); err == nil {
			opts.progress("no changes: %s branch %s already holds the rendered files", r.URL, r.Branch)
			rep.Changed, rep.Files, rep.Objects, rep.RBACWidened = false, []FileChange{}, []ObjectChange{}, []Widening{}
			return res, nil
		} else if exitCode(err) != 1 {
			return nil, fmt.Errorf("push: %w", err)
		}
		opts.progress("committing %d file changes, %d object changes", len(rep.Files), len(rep.Objects))
		if _, err := c.run(ctx, []byte(CommitMessage(req.Subject, req.Source, rep)), "commit", "--quiet", "--file=-"); err != nil {
			return nil, fmt.Errorf("push: %w", err)
		}
		head, err := c.run(ctx, nil, "rev-parse", "HEAD")
		if err != nil {
			return nil, fmt.Errorf("push: %w", err)
		}
		res.Commit = strings.TrimSpace(head)
		if opts.beforePush != nil {
			if err := opts.beforePush(attempt); err != nil {
				return nil, err
			}
		}
		opts.progress("pushing %s to %s branch %s", short(res.Commit), r.URL, r.Branch)
		outcome, reason, err := c.push(ctx)
		if err != nil {
			return nil, err
		}
		if outcome == pushed {
			opts.progress("pushed %s", short(res.Commit))
			return res, nil
		}
		lastReason = reason
		if attempt < maxAttempts {
			opts.progress("branch %s moved (%s): fetching and re-applying, attempt %d of %d", r.Branch, reason, attempt+1, maxAttempts)
		}
	}
	return nil, fmt.Errorf("push to %s branch %s: gave up after %d attempts, the branch keeps moving (last: %s)", r.URL, r.Branch, maxAttempts, lastReason)
}

// identity returns environment variables naming a fallback author when git has none
// configured (CI runners often do not), so commits never fail on "Please tell me who you are".
func (c *clone) identity(ctx context.Context) ([]string, error) {
	if _, err := c.run(ctx, nil, "var", "GIT_COMMITTER_IDENT"); err == nil {
		if _, err := c.run(ctx, nil, "var", "GIT_AUTHOR_IDENT"); err == nil {
			return nil, nil
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return []string{
		"GIT_AUTHOR_NAME=enigate", "GIT_AUTHOR_EMAIL=enigate@localhost",
		"GIT_COMMITTER_NAME=enigate", "GIT_COMMITTER_EMAIL=enigate@localhost",
	}, nil
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
