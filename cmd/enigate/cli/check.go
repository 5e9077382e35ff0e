package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/enigate/enigate/webhook/check"
)

const checkHelp = `
Judges Kubernetes manifests offline exactly as the API server and enigate's admission webhook
would in one environment. PATH is a file, a directory (every .yaml, .yml, .json below it) or -
for stdin; multi-document YAML, List objects and 'kustomize build' output work.

First the CRDs' own validation, as the API server applies it on create: the OpenAPI schema,
unknown fields (as kubectl's strict field validation), and the x-kubernetes-validations CEL
rules, for every kind whose CRD the overlay installs (its crds/: the Gateway API bundle at the
environment's pinned version and channel, Karpenter, ...). A Gateway API kind the pinned
bundle lacks is refused as the API server refuses it. Kinds whose CRDs a Helm chart installs
(Cilium, cert-manager) are not validated; the summary names what was applied.

Then enigate's rules: route ownership (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute,
XListenerSet), ReferenceGrants, Gateways, Node/CiliumNode capacity, and Karpenter: a NodePool
is judged with its EC2NodeClass, an EC2NodeClass with the NodePools that use it, found among
the manifests, --facts and the overlay; when the counterpart is absent a warning says what was
not checked.

The policy, the CRDs and the platform's cluster facts (Gateways and their listeners,
ReferenceGrants, HTTPRoutes, NodePools, EC2NodeClasses) come from the rendered overlay given
with --env; the manifests add their own. --facts PATH adds facts that are not judged (another
team's ReferenceGrant, say). Objects of kinds neither judges are skipped and counted.

Each violation is one line: kind namespace/name: field: what is wrong (what is allowed).
Warnings (advisories the webhook returns too) are prefixed "warning:" and do not fail.
See docs/webhook.md ("Check in CI").

Exit codes: 0 every object would be admitted, 1 violations, 2 could not run (bad flags, a
file that does not parse, an object of a namespaced kind without namespace, no policy in the
overlay).`

func newCheckCmd() *cobra.Command {
	var o check.Options
	c := &cobra.Command{
		Use:   "check --env OVERLAY_DIR [flags] PATH...",
		Short: "judge manifests offline as the API server and the webhook would (team CI)",
		Long:  strings.TrimSpace(checkHelp),
		Args: expect(func(args []string) error {
			if len(args) == 0 {
				return errors.New("want at least one PATH (a file, a directory or - for stdin)")
			}
			return nil
		}, "env"),
	}
	f := c.Flags()
	f.StringVar(&o.Env, "env", "", "rendered overlay `directory` of the environment, e.g. overlays/prod: policy, CRDs, cluster facts (required)")
	f.StringArrayVar(&o.Facts, "facts", nil, "file or directory of cluster facts (Gateways, ReferenceGrants, HTTPRoutes, NodePools, EC2NodeClasses) not judged (repeatable)")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "namespace of objects that name none (as kubectl apply -n)")
	output := addOutputFlag(c, formatText, formatJSON)
	c.RunE = func(c *cobra.Command, paths []string) error {
		o.Paths, o.Stdin = paths, c.InOrStdin()
		rep, err := check.Run(o)
		if err != nil {
			return withCode(ExitError, err)
		}
		stdout := c.OutOrStdout()
		if output.value == formatJSON {
			err = rep.WriteJSON(stdout)
		} else {
			err = rep.WriteText(stdout)
		}
		if err != nil {
			return withCode(ExitError, err)
		}
		fmt.Fprintln(c.ErrOrStderr(), rep.Summary())
		if rep.Violations > 0 {
			return withCode(ExitFindings, errors.New(""))
		}
		return nil
	}
	return c
}
