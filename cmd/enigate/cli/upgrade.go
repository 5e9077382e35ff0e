package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/enigate/enigate/generators"
	"github.com/enigate/enigate/schema"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/upgrade"
)

func init() {
	register(command{name: "upgrade plan", summary: "ordered steps and deltas to move an environment to new Cilium, Gateway API, Kubernetes versions", run: runUpgradePlan})
}

const upgradePlanHelp = `
Plans moving OVERLAY_DIR from the versions its environment.cue pins to those --to names,
without touching anything: the ordered steps (operator IAM first, Gateway API CRDs before
Cilium, one Cilium minor and one Kubernetes minor at a time, node roll where node settings
change), the known breakages of the path from the support matrix and how the order avoids
them, upstream changes, the Cilium chart values whose default or documented meaning changes
(computed from the two charts' values.yaml), the IAM policy diff and the rendered file diff.
A --to without gatewayAPI moves the Gateway API to the pin of the target Cilium when needed.
See docs/upgrades.md.

Exit codes: 0 planned; 1 the target is refused (support matrix or render checks; listed under
Blocked); 2 bad input (flags, declaration, unsupported version, downgrade).`

func runUpgradePlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("upgrade plan", "upgrade plan OVERLAY_DIR --to cilium=X[,gatewayAPI=Y,kubernetes=Z] [-o text|json]", upgradePlanHelp, stdout, stderr)
	to := fs.String("to", "", "target versions: cilium=X[,gatewayAPI=Y,kubernetes=Z] (required)")
	output := fs.String("o", "text", "output format: text or json")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	var problems []error
	if len(rest) != 1 {
		problems = append(problems, fmt.Errorf("want exactly one OVERLAY_DIR, got %d arguments", len(rest)))
	}
	if *output != "text" && *output != "json" {
		problems = append(problems, fmt.Errorf("-o: %q is not text or json", *output))
	}
	target, err := upgrade.ParseTarget(*to)
	if err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return withCode(ExitError, errors.Join(problems...))
	}
	dir := rest[0]
	decl, err := schema.LoadFile(filepath.Join(dir, "environment.cue"), displayPath(dir))
	if err != nil {
		return withCode(ExitError, err)
	}
	p, err := upgrade.Make(upgrade.Input{Env: decl.Env, To: target, Render: func(env model.Environment) ([]generators.File, error) {
		r, err := generators.Render(env, extras()...)
		if err != nil {
			return nil, err
		}
		return r.Files, nil
	}})
	if err != nil {
		return withCode(ExitError, err)
	}
	if *output == "json" {
		b, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			return withCode(ExitError, err)
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else if err := upgrade.WriteText(stdout, p); err != nil {
		return withCode(ExitError, err)
	}
	if len(p.Blocked) > 0 {
		return findings("the target is refused (%d problems, listed under Blocked)", len(p.Blocked))
	}
	return nil
}
