package cli

import (
	"fmt"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"github.com/enigate/enigate/generators"
	"github.com/enigate/enigate/generators/upgrade"
	"github.com/enigate/enigate/schema"
	"github.com/enigate/enigate/schema/model"
)

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

func newUpgradePlanCmd() *cobra.Command {
	var to string
	c := &cobra.Command{
		Use:   "plan OVERLAY_DIR --to cilium=X[,gatewayAPI=Y,kubernetes=Z] [flags]",
		Short: "ordered steps and deltas to move an environment to new Cilium, Gateway API, Kubernetes versions",
		Long:  strings.TrimSpace(upgradePlanHelp),
		Args: expect(func(args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("want exactly one OVERLAY_DIR, got %d arguments", len(args))
			}
			return nil
		}, "to"),
	}
	c.Flags().StringVar(&to, "to", "", "target versions: cilium=X[,gatewayAPI=Y,kubernetes=Z] (required)")
	output := addOutputFlag(c, formatText, formatJSON, formatYAML)
	c.RunE = func(c *cobra.Command, args []string) error {
		target, err := upgrade.ParseTarget(to)
		if err != nil {
			return usageError(err)
		}
		dir := args[0]
		decl, err := schema.LoadDir(dir, path.Dir(displayPath(dir)))
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
		stdout := c.OutOrStdout()
		if output.value != formatText {
			err = writeStructured(stdout, output.value, p)
		} else {
			err = upgrade.WriteText(stdout, p)
		}
		if err != nil {
			return withCode(ExitError, err)
		}
		if len(p.Blocked) > 0 {
			return findings("the target is refused (%d problems, listed under Blocked)", len(p.Blocked))
		}
		return nil
	}
	return c
}
