package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/enigate/enigate/webhook"
	"github.com/enigate/enigate/webhook/audit"
)

func init() {
	register(command{name: "audit", summary: "judge existing objects against the policy into PolicyReports", run: runAudit})
}

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

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit", "audit [--policy FILE] [--interval D] [--metrics-addr ADDR] [--health-addr ADDR]", auditHelp, stdout, stderr)
	var o audit.Options
	var kubeconfig string
	var verbose bool
	fs.StringVar(&o.PolicyFile, "policy", "", "read the policy from this YAML file instead of watching the ConfigMap")
	fs.StringVar(&o.PolicyNamespace, "policy-namespace", webhook.DefaultNamespace, "namespace of the policy ConfigMap")
	fs.StringVar(&o.PolicyName, "policy-configmap", webhook.DefaultConfigMap, "name of the policy ConfigMap")
	fs.DurationVar(&o.Interval, "interval", 10*time.Minute, "full audit period, besides the audits on changes")
	fs.DurationVar(&o.Settle, "settle", 2*time.Second, "wait after a change before auditing, so a burst of changes costs one pass")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", ":8080", `address of the Prometheus /metrics endpoint ("0" disables)`)
	fs.StringVar(&o.HealthAddr, "health-addr", ":8081", `address of /healthz and /readyz ("0" disables)`)
	fs.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)")
	fs.BoolVar(&verbose, "v", false, "verbose logs")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return withCode(ExitError, fmt.Errorf("unexpected arguments %q", pos))
	}
	cfg, err := webhookRESTConfig(kubeconfig)
	if err != nil {
		return withCode(ExitError, fmt.Errorf("kubeconfig: %w", err))
	}
	level := 0
	if verbose {
		level = 1
	}
	logger := funcr.NewJSON(func(obj string) { _, _ = io.WriteString(stderr, obj+"\n") }, funcr.Options{Verbosity: level})
	log.SetLogger(logger)
	ctx = logr.NewContext(ctx, logger)
	o.Config = cfg
	return withCode(ExitError, audit.Run(ctx, o))
}
