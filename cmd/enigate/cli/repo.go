package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/enigate/enigate/generators"
	"github.com/enigate/enigate/generators/envrepo"
)

const repoFlagsHelp = `
The environment repository is the git repository (or branch) Argo CD or Flux syncs from. It is
reached with the git CLI, so your credential helpers, SSH agent and git configuration apply.
--path selects the environment's directory inside the repository (default: the whole
repository); hidden files and directories there (.git, .github, ...) are never touched.
`

func remoteFlags(c *cobra.Command) *envrepo.Remote {
	r := &envrepo.Remote{}
	f := c.Flags()
	f.StringVar(&r.URL, "repo", "", "environment repository: `URL`, host:path or local path (required)")
	f.StringVar(&r.Branch, "branch", envrepo.DefaultBranch, "branch Argo CD or Flux syncs from")
	f.StringVar(&r.Path, "path", ".", "the environment's directory inside the repository")
	return r
}

// oneOverlay accepts exactly one OVERLAY_DIR positional and requires --repo.
var oneOverlay = expect(func(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("want exactly one OVERLAY_DIR, got %d arguments", len(args))
	}
	return nil
}, "repo")

// renderClean renders dir; callers refuse a stale overlay, since what is diffed or pushed must
// be what is committed in the platform repository.
func renderClean(dir string) ([]generators.File, []string, error) {
	files, stale, err := renderOverlay(dir)
	if err != nil {
		return nil, nil, withCode(ExitError, fmt.Errorf("render %s: %w", dir, err))
	}
	return files, stale, nil
}

func newDiffCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "diff OVERLAY_DIR --repo URL [flags]",
		Short: "show what pushing an overlay would change in its environment repository",
		Long: strings.TrimSpace(`
Renders OVERLAY_DIR in memory (the overlay must be up to date: 'enigate render --check' clean),
fetches the environment repository and prints what pushing would change, per Kubernetes object:
objects added (+), removed (-) and changed (~) with their changed fields as dotted paths, and
RBAC widened (a Role or ClusterRole granting a verb, resource, API group, resource name or URL
it did not grant before, wildcards named; a binding gaining subjects). Objects are identified
by API group, kind, namespace and name, so moving an object between files or bumping its
apiVersion is not an add and a remove. Secret values and key material are redacted. Post the
output on the pull request that changes the platform repository.
` + repoFlagsHelp + `
Exit codes: 0 no change, 1 changes, 2 could not diff (stale overlay, render or git error).`),
		Args: oneOverlay,
	}
	remote := remoteFlags(c)
	output := addOutputFlag(c, formatText, formatJSON, formatYAML)
	c.RunE = func(c *cobra.Command, args []string) error {
		files, stale, err := renderClean(args[0])
		if err != nil {
			return err
		}
		return diffFiles(c.Context(), args[0], *remote, files, stale, output.value, c.OutOrStdout(), c.ErrOrStderr())
	}
	return c
}

// diffFiles is diff after rendering.
func diffFiles(ctx context.Context, dir string, remote envrepo.Remote, files []generators.File, stale []string, format string, stdout, stderr io.Writer) error {
	if len(stale) > 0 {
		for _, s := range stale {
			fmt.Fprintf(stderr, "%s: stale (run `enigate render %s` and commit the result)\n", s, dir)
		}
		return withCode(ExitError, fmt.Errorf("overlay %s is stale: %d files differ from its render", dir, len(stale)))
	}
	rep, err := envrepo.Diff(ctx, remote, files, envrepo.Options{Progress: stderr})
	if err != nil {
		return withCode(ExitError, err)
	}
	if format != formatText {
		if err := writeStructured(stdout, format, rep); err != nil {
			return withCode(ExitError, err)
		}
	} else if err := rep.WriteText(stdout); err != nil {
		return withCode(ExitError, err)
	}
	if rep.HasChanges() {
		return findings("%d objects and %d files would change", len(rep.Objects), len(rep.Files))
	}
	return nil
}

func newPushCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "push OVERLAY_DIR --repo URL [flags]",
		Short: "commit an overlay's rendered files to its environment repository",
		Long: strings.TrimSpace(`
Renders OVERLAY_DIR and replaces the environment's tree in the repository with exactly the
rendered files (files no longer rendered are removed), in one commit on top of the branch,
and pushes it. The commit message lists the changed objects, widened RBAC, the changed files
and the source commit (git rev-parse HEAD of the repository holding OVERLAY_DIR, "-dirty" with
uncommitted changes). Nothing is committed when the environment already holds the render.

Push refuses, and publishes nothing, when the overlay is stale ('enigate render --check' not
clean), when any file holds private key material (PEM "PRIVATE KEY" blocks, also base64-encoded
inside YAML), or holds a Secret with data or stringData or a kustomize secretGenerator.

It never force-pushes. If the branch moved meanwhile it fetches the new tip, re-applies the
render on top and retries (5 attempts). A push updates one ref with one commit, which git
applies atomically: an interrupted or rejected push leaves the branch at the old commit or the
new one, never in between. The work happens in a temporary clone that is always removed;
progress goes to stderr.
` + repoFlagsHelp + `
Exit codes: 0 pushed or nothing to push, 1 refused (stale overlay, keys, Secret data),
2 could not push (render or git error, rejected by the remote).`),
		Args: oneOverlay,
	}
	remote := remoteFlags(c)
	message := c.Flags().String("message", "", "commit subject (default \"enigate: render <overlay directory name>\")")
	c.RunE = func(c *cobra.Command, args []string) error {
		dir := args[0]
		files, stale, err := renderClean(dir)
		if err != nil {
			return err
		}
		source, err := envrepo.SourceCommit(c.Context(), dir)
		if err != nil {
			return withCode(ExitError, err)
		}
		subject := *message
		if subject == "" {
			abs, _ := filepath.Abs(dir)
			subject = "enigate: render " + filepath.Base(abs)
		}
		return pushFiles(c.Context(), *remote, envrepo.PushRequest{Files: files, Stale: stale, Subject: subject, Source: source}, c.OutOrStdout(), c.ErrOrStderr())
	}
	return c
}

// pushFiles is push after rendering.
func pushFiles(ctx context.Context, remote envrepo.Remote, req envrepo.PushRequest, stdout, stderr io.Writer) error {
	res, err := envrepo.Push(ctx, remote, req, envrepo.Options{Progress: stderr})
	var refused *envrepo.RefusedError
	if errors.As(err, &refused) {
		for _, l := range refused.Lines() {
			fmt.Fprintln(stderr, l)
		}
		return findings("refused: %d problems, nothing pushed", len(refused.Problems))
	}
	if err != nil {
		return withCode(ExitError, err)
	}
	branch := remote.Branch
	if branch == "" {
		branch = envrepo.DefaultBranch
	}
	if res.Commit == "" {
		fmt.Fprintf(stdout, "no changes: %s branch %s already holds the rendered files, nothing committed\n", remote.URL, branch)
		return nil
	}
	fmt.Fprintf(stdout, "pushed %s to %s branch %s (attempt %d)\n", res.Commit, remote.URL, branch, res.Attempts)
	return res.Report.WriteText(stdout)
}
