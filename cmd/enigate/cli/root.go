package cli

import (
	"github.com/spf13/cobra"

	"github.com/enigate/enigate/schema/release"
)

const exitCodesHelp = `Exit codes: 0 ok, 1 findings (stale files, drift, changes, violations), 2 could not run
(bad flags or input, a declaration that fails its checks, environment problems).`

// newRoot assembles the command tree.
func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "enigate",
		Short: "render, admit and verify EKS clusters running Cilium in ENI mode with the Gateway API",
		Long: `enigate renders, admits and verifies EKS clusters running Cilium in ENI mode
with the Gateway API, from one CUE declaration per environment.

'enigate --version' prints the version; 'enigate completion SHELL' prints a shell completion
script (bash, zsh, fish, powershell).

` + exitCodesHelp,
		Version:       release.Version,
		SilenceErrors: true, // Run prints each error once
		SilenceUsage:  true, // a usage error is one line, not the whole help
		RunE:          func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	root.SetVersionTemplate(versionText(release.Current()))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(
		newRenderCmd(),
		newCapacityCmd(),
		groupCmd("limits", "manage the embedded EC2 instance-type and region tables", newLimitsRefreshCmd()),
		newDiffCmd(),
		newPushCmd(),
		newWebhookCmd(),
		newAuditCmd(),
		newCheckCmd(),
		groupCmd("node", "commands that run on a node", newNodeVerifyCmd()),
		groupCmd("upgrade", "plan version upgrades of an environment", newUpgradePlanCmd()),
		newVersionCmd(),
	)
	return root
}
