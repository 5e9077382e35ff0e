package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/enigate/enigate/schema/contract"
	"github.com/enigate/enigate/webhook/audit"
)

const auditHelp = `
Judges every existing HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute, ReferenceGrant,
Gateway, XListenerSet, Node and CiliumNode against the policy in force, with the webhook's
rules: on start, on every policy change, after changes of those objects, and every
--interval. Admission judges writes only; the audit shows what was admitted before the
webhook, while it was down, or before a policy change.

Publishes wgpolicyk8s.io/v1alpha2 PolicyReports (one per namespace, named enigate-audit) and a
ClusterPolicyReport for Nodes and CiliumNodes, a Warning event (reason PolicyViolation) on each
object with a new violation, and the gauge enigate_audit_violations{namespace,rule}. It also
reports HTTPRoute rules shadowed by an older route's identical match on the same host
(rule hostname-conflict), which the Gateway API resolves silently.

The policy comes from the ConfigMap the renderer writes (or --policy FILE). The API server
connection from --kubeconfig, $KUBECONFIG, in-cluster config or ~/.kube/config. See
docs/webhook.md ("Audit").

Exit codes: 0 after a clean shutdown, 2 when the audit could not start.`

func newAuditCmd() *cobra.Command {
	var o audit.Options
	var kubeconfig string
	var verbose bool
	c := &cobra.Command{
		Use:   "audit [flags]",
		Short: "judge existing objects against the policy into PolicyReports",
		Long:  strings.TrimSpace(auditHelp),
		Args:  noArgs,
	}
	f := c.Flags()
	f.StringVar(&o.PolicyFile, "policy", "", "read the policy from this YAML `file` instead of watching the ConfigMap")
	f.StringVar(&o.PolicyNamespace, "policy-namespace", contract.Namespace, "namespace of the policy ConfigMap")
	f.StringVar(&o.PolicyName, "policy-configmap", contract.PolicyConfigMap, "name of the policy ConfigMap")
	f.DurationVar(&o.Interval, "interval", 10*time.Minute, "full audit period, besides the audits on changes")
	f.DurationVar(&o.Settle, "settle", 2*time.Second, "wait after a change before auditing, so a burst of changes costs one pass")
	f.StringVar(&o.MetricsAddr, "metrics-addr", fmt.Sprintf(":%d", contract.MetricsPort), `address of the Prometheus /metrics endpoint ("0" disables)`)
	f.StringVar(&o.HealthAddr, "health-addr", fmt.Sprintf(":%d", contract.HealthPort), `address of /healthz and /readyz ("0" disables)`)
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig `file` (default: $KUBECONFIG, in-cluster, ~/.kube/config)")
	f.BoolVarP(&verbose, "verbose", "v", false, "verbose logs")
	c.RunE = func(c *cobra.Command, _ []string) error {
		ctx, cfg, err := inCluster(c, kubeconfig, verbose)
		if err != nil {
			return err
		}
		o.Config = cfg
		return withCode(ExitError, audit.Run(ctx, o))
	}
	return c
}
