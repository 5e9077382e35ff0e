package cli

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/enigate/enigate/generators"
	"github.com/enigate/enigate/generators/deploy"
	"github.com/enigate/enigate/generators/writer"
	"github.com/enigate/enigate/schema"
	"github.com/enigate/enigate/schema/capacity"
	"github.com/enigate/enigate/schema/checks"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/problem"
	"github.com/enigate/enigate/schema/upstream"
)

const renderHelp = `
Evaluates each OVERLAY_DIR's declaration (environment.cue and any other .cue files there, one
CUE package; imports come from the CUE module holding it) against the embedded schema, runs every
render-time check (the seed guide's known mistakes, ENI/IP capacity, route ownership,
upstream schemas of eksctl and the Cilium chart), and only if every check in every overlay
passes, writes the overlay beside the declaration: eksctl/ (phased ClusterConfigs), cilium/
(Helm values), crds/, gateway/, routes/, rbac/, enigate/, versions.yaml, kustomization.yaml
and ROLLOUT.md. Files no longer rendered are removed; environment.cue is never touched.

With no OVERLAY_DIR, renders every overlays/*/environment.cue under the current directory.
Problems are printed one per line as  file:line:col: path: what is wrong (what is allowed).
With -o json, stdout holds one report instead: per overlay its state (written, unchanged,
current, stale or failed), file count, changes, warnings and problems.

Exit codes: 0 rendered (or, with --check, current); 1 with --check, some files would change
(each is listed); 2 a declaration failed its checks or could not be read (nothing was written:
an invalid declaration is bad input, not a finding about the cluster).`

// renderOptions are render's flags.
type renderOptions struct {
	check, quiet bool
	output       *outputFormat
}

func newRenderCmd() *cobra.Command {
	var o renderOptions
	c := &cobra.Command{
		Use:   "render [OVERLAY_DIR...]",
		Short: "render overlays from their environment.cue (or check they are current)",
		Long:  strings.TrimSpace(renderHelp),
		Args:  cobra.ArbitraryArgs,
	}
	c.Flags().BoolVar(&o.check, "check", false, "write nothing; exit 1 listing every file that would change")
	c.Flags().BoolVar(&o.quiet, "quiet", false, "print problems and changes only, no summary")
	o.output = addOutputFlag(c, formatText, formatJSON)
	c.RunE = func(c *cobra.Command, dirs []string) error {
		return render(o, dirs, c.OutOrStdout(), c.ErrOrStderr())
	}
	return c
}

// overlayReport is one overlay's outcome, as -o json prints it.
type overlayReport struct {
	Dir string `json:"dir"`
	// State is failed, written, unchanged, current or stale.
	State    string         `json:"state"`
	Files    int            `json:"files"`
	Changes  []changeReport `json:"changes,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
	Problems []string       `json:"problems,omitempty"`
}

type changeReport struct {
	Kind string `json:"kind"` // add, update or remove
	Path string `json:"path"`
}

func render(o renderOptions, dirs []string, stdout, stderr io.Writer) error {
	// A render is a short batch that allocates a lot and keeps little: collect garbage less
	// often (about a third less CPU for 200 teams, peak RSS well under 400 MiB).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	go upstream.PreloadEksctl()
	if len(dirs) == 0 {
		matches, _ := filepath.Glob(filepath.Join("overlays", "*", "environment.cue"))
		if len(matches) == 0 {
			return withCode(ExitError, errors.New("no overlays/*/environment.cue here (pass OVERLAY_DIR or run from the repository root)"))
		}
		for _, m := range matches {
			dirs = append(dirs, filepath.Dir(m))
		}
	}
	asJSON := o.output.value == formatJSON
	problems := stderr
	if asJSON {
		problems = io.Discard // they go into the report
	}

	// Render everything first; write only if every overlay passed.
	type rendered struct {
		dir    string
		decl   *schema.Declaration
		result *generators.Result
		took   time.Duration
	}
	var done []rendered
	reports := make(map[string]*overlayReport, len(dirs))
	failed := 0
	for _, dir := range dirs {
		start := time.Now()
		rep := &overlayReport{Dir: dir, State: "failed"}
		reports[dir] = rep
		decl, res, err := renderDir(dir)
		if err != nil {
			failed++
			rep.Problems, rep.Warnings = problemLines(dir, err)
			for _, p := range rep.Problems {
				fmt.Fprintln(problems, p)
			}
			for _, w := range rep.Warnings {
				fmt.Fprintf(problems, "%s: warning: %s\n", dir, w)
			}
			continue
		}
		done = append(done, rendered{dir, decl, res, time.Since(start)})
	}
	// Checks across the overlays rendered together.
	envs := make([]model.Environment, len(done))
	for i, r := range done {
		envs[i] = r.decl.Env
	}
	for _, c := range checks.DuplicateClusterIDs(envs) {
		r, other := done[c.Index], done[c.Other]
		pos := cmp.Or(r.decl.Position("cilium.clusterID"), r.decl.Env.Source)
		line := fmt.Sprintf("%s: cilium.clusterID: %d is also the cluster ID of environment %s in %s (allowed: 1-127, one environment each)",
			pos, r.decl.Env.Cilium.ClusterID, other.decl.Env.Name, other.decl.Env.Source)
		fmt.Fprintln(problems, line)
		rep := reports[r.dir]
		rep.State, rep.Problems = "failed", append(rep.Problems, line)
		failed++
	}
	if failed > 0 {
		if asJSON {
			if err := writeStructured(stdout, formatJSON, orderedReports(dirs, reports)); err != nil {
				return withCode(ExitError, err)
			}
		}
		return withCode(ExitError, fmt.Errorf("%d of %d overlays failed their checks; nothing was written", failed, len(dirs)))
	}

	stale := 0
	for _, r := range done {
		var changes []writer.Change
		var err error
		if o.check {
			changes, err = writer.Plan(r.dir, r.result.Files, writer.KeepOverlay)
		} else {
			changes, err = writer.Sync(r.dir, r.result.Files, writer.KeepOverlay)
		}
		if err != nil {
			return withCode(ExitError, fmt.Errorf("%s: %w", r.dir, err))
		}
		stale += len(changes)
		rep := reports[r.dir]
		rep.Files, rep.Warnings, rep.State = len(r.result.Files), r.result.Warnings, overlayState(len(changes), o.check)
		for _, c := range changes {
			rep.Changes = append(rep.Changes, changeReport{Kind: c.Kind, Path: c.Path})
		}
		if asJSON {
			continue
		}
		for _, c := range changes {
			verb := map[string]string{"add": "would add", "update": "would update", "remove": "would remove"}[c.Kind]
			if !o.check {
				verb = map[string]string{"add": "added", "update": "updated", "remove": "removed"}[c.Kind]
			}
			fmt.Fprintf(stdout, "%s: %s %s\n", r.dir, verb, c.Path)
		}
		for _, w := range r.result.Warnings {
			fmt.Fprintf(stderr, "%s: warning: %s\n", r.dir, w)
		}
		if !o.quiet {
			summary(stdout, r.dir, r.result, len(changes), r.took, o.check)
		}
	}
	if asJSON {
		if err := writeStructured(stdout, formatJSON, orderedReports(dirs, reports)); err != nil {
			return withCode(ExitError, err)
		}
	}
	if o.check && stale > 0 {
		return findings("%d files are stale; run enigate render", stale)
	}
	return nil
}

func orderedReports(dirs []string, reports map[string]*overlayReport) map[string][]*overlayReport {
	out := make([]*overlayReport, 0, len(dirs))
	for _, d := range dirs {
		out = append(out, reports[d])
	}
	return map[string][]*overlayReport{"overlays": out}
}

func overlayState(changed int, check bool) string {
	switch {
	case check && changed == 0:
		return "current"
	case check:
		return "stale"
	case changed == 0:
		return "unchanged"
	}
	return "written"
}

// renderDir loads and renders one overlay directory; it writes nothing.
func renderDir(dir string) (*schema.Declaration, *generators.Result, error) {
	decl, err := schema.LoadDir(dir, path.Dir(displayPath(dir)))
	if err != nil {
		return nil, nil, err
	}
	res, err := generators.Render(decl.Env, extras()...)
	if f, ok := generators.IsFailed(err); ok {
		return nil, nil, located{decl: decl, failed: f}
	}
	return decl, res, err
}

// extras are enigate's own components rendered into every overlay.
func extras() []generators.Extra {
	return []generators.Extra{
		{Name: "webhook.yaml", Objects: func(env model.Environment) ([]any, error) {
			objs, err := deploy.Webhook(env)
			return anySlice(objs), err
		}},
		{Name: "audit.yaml", Objects: func(env model.Environment) ([]any, error) {
			objs, err := deploy.Audit(env)
			return anySlice(objs), err
		}},
		{Name: "node-verify.yaml", Objects: func(env model.Environment) ([]any, error) {
			if !env.Enigate.NodeVerify {
				return nil, nil
			}
			objs, err := deploy.NodeVerify(env)
			return anySlice(objs), err
		}},
	}
}

func anySlice[T any](in []T) []any {
	out := make([]any, len(in))
	for i, o := range in {
		out[i] = o
	}
	return out
}

// located is a failed render whose problems can be pointed at the declaration.
type located struct {
	decl   *schema.Declaration
	failed *generators.Failed
}

func (l located) Error() string { return l.failed.Error() }

// lines returns "file:line:col: path: problem" (or "file: path: problem") per problem.
func (l located) lines() []string {
	var out []string
	seen := map[string]bool{}
	for i, line := range problem.Lines(l.failed.Errors) {
		path := l.failed.Errors[i].Field
		origin := l.failed.From.Of(path)
		line = schema.DisplayPath(origin) + strings.TrimPrefix(line, path)
		pos := l.decl.Position(origin)
		if pos == "" {
			pos = l.decl.Env.Source
		}
		if line = pos + ": " + line; !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	schema.SortProblems(out)
	return out
}

// problemLines returns the lines a failed render prints: problems, and the warnings of a
// render whose checks failed.
func problemLines(dir string, err error) (problems, warnings []string) {
	var declProblems schema.Problems
	var loc located
	switch {
	case errors.As(err, &declProblems):
		for _, p := range declProblems {
			problems = append(problems, p)
		}
	case errors.As(err, &loc):
		return loc.lines(), loc.failed.Warnings
	default:
		problems = append(problems, fmt.Sprintf("%s: %v", dir, err))
	}
	return problems, nil
}

// displayPath is how a declaration is named in headers and messages: relative to the working
// directory (the repository root in CI), so rendered bytes do not depend on the machine.
func displayPath(dir string) string {
	p := filepath.Join(dir, "environment.cue")
	if filepath.IsAbs(p) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
				p = rel
			}
		}
	}
	if strings.HasPrefix(filepath.Clean(p), "..") || filepath.IsAbs(p) {
		p = filepath.Join(filepath.Base(filepath.Dir(p)), "environment.cue")
	}
	return filepath.ToSlash(filepath.Clean(p))
}

func summary(w io.Writer, dir string, r *generators.Result, changed int, took time.Duration, check bool) {
	state := fmt.Sprintf("%d files written", changed)
	switch {
	case check && changed == 0:
		state = "current"
	case check:
		state = fmt.Sprintf("%d files stale", changed)
	case changed == 0:
		state = "unchanged"
	}
	fmt.Fprintf(w, "%s: %d files, %s (%s)\n", dir, len(r.Files), state, took.Round(time.Millisecond))
	if len(r.NodeGroups) > 0 {
		capacity.FormatTable(w, r.NodeGroups, r.Subnets)
	}
}

// renderOverlay evaluates OVERLAY_DIR/environment.cue and returns the files its overlay must
// contain, and the paths on disk that differ from them (stale, missing or no longer rendered).
// It writes nothing.
func renderOverlay(dir string) (files []generators.File, stale []string, err error) {
	_, res, err := renderDir(dir)
	if err != nil {
		var loc located
		if errors.As(err, &loc) {
			return nil, nil, errors.New(strings.Join(loc.lines(), "\n"))
		}
		return nil, nil, err
	}
	changes, err := writer.Plan(dir, res.Files, writer.KeepOverlay)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range changes {
		stale = append(stale, c.Path)
	}
	return res.Files, stale, nil
}
