package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	crconfig "sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/enigate/enigate/webhook"

	"github.com/enigate/enigate/schema/contract"
)

const webhookHelp = `
Serves enigate's validating admission webhook over HTTPS at /validate with
controller-runtime. It enforces route ownership for HTTPRoute, GRPCRoute, TLSRoute,
TCPRoute, UDPRoute and XListenerSet (hostnames inside the team's delegation, parentRefs to
allowed listeners, shared-host path prefixes, ReferenceGrants naming their target), keeps
Gateways in platform namespaces, protects the policy ConfigMap, and checks Nodes and
CiliumNodes against the ENI/IP capacity model.

The policy is the YAML the renderer writes to ConfigMap enigate-system/enigate-policy (key
policy.yaml); it is watched and hot-reloaded. With --policy FILE the file is used instead
(re-read when it changes). A policy that does not parse or whose delegations overlap never
replaces the last good one: it is logged, counted in enigate_webhook_policy_loads_total,
shown by enigate_webhook_policy_current=0 and by /readyz/policy-current.

Certificates (tls.crt, tls.key) are read from --cert-dir and reloaded when they change.
/healthz and /readyz are served on --health-addr (ready after caches sync and a policy is
loaded); Prometheus metrics on --metrics-addr. On SIGTERM in-flight requests finish.
The API server connection comes from --kubeconfig, $KUBECONFIG, in-cluster config or
~/.kube/config. See docs/webhook.md for failure modes and break-glass.

Exit codes: 0 after a clean shutdown, 2 when the webhook could not start.`

func newWebhookCmd() *cobra.Command {
	var o webhook.Options
	var kubeconfig string
	var verbose bool
	c := &cobra.Command{
		Use:   "webhook [flags]",
		Short: "serve the validating admission webhook (route ownership, ENI/IP limits)",
		Long:  strings.TrimSpace(webhookHelp),
		Args:  noArgs,
	}
	f := c.Flags()
	f.StringVar(&o.PolicyFile, "policy", "", "read the policy from this YAML `file` instead of watching the ConfigMap")
	f.StringVar(&o.CertDir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "`directory` with tls.crt and tls.key (hot-reloaded)")
	f.IntVar(&o.Port, "port", contract.WebhookPort, "HTTPS port of the webhook server")
	f.StringVar(&o.MetricsAddr, "metrics-addr", fmt.Sprintf(":%d", contract.MetricsPort), `address of the Prometheus /metrics endpoint ("0" disables)`)
	f.StringVar(&o.HealthAddr, "health-addr", fmt.Sprintf(":%d", contract.HealthPort), `address of /healthz and /readyz ("0" disables)`)
	f.StringVar(&o.PolicyNamespace, "policy-namespace", contract.Namespace, "namespace of the policy ConfigMap")
	f.StringVar(&o.PolicyName, "policy-configmap", contract.PolicyConfigMap, "name of the policy ConfigMap")
	f.StringArrayVar(&o.PolicyWriters, "policy-writer", nil, "`user or group` allowed to change the policy ConfigMap (repeatable; default system:masters; platform-namespace service accounts always may)")
	f.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 25*time.Second, "how long in-flight requests may take to finish on shutdown")
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig `file` (default: $KUBECONFIG, in-cluster, ~/.kube/config)")
	f.BoolVarP(&verbose, "verbose", "v", false, "log every decision")
	c.RunE = func(c *cobra.Command, _ []string) error {
		ctx, cfg, err := inCluster(c, kubeconfig, verbose)
		if err != nil {
			return err
		}
		o.Config = cfg
		return withCode(ExitError, webhook.Run(ctx, o))
	}
	return c
}

// inCluster prepares a command that talks to the API server: the connection from an explicit
// kubeconfig file or the usual places, then JSON logs on stderr (controller-runtime's logger
// too) carried in the returned context.
func inCluster(c *cobra.Command, kubeconfig string, verbose bool) (context.Context, *rest.Config, error) {
	// Before the logger is set: without a cluster, the error is the one line printed, not
	// controller-runtime's log of each place it tried.
	var cfg *rest.Config
	var err error
	if kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	} else {
		cfg, err = crconfig.GetConfig()
	}
	if err != nil {
		return nil, nil, withCode(ExitError, fmt.Errorf("kubeconfig: %w", err))
	}
	level := 0
	if verbose {
		level = 1
	}
	stderr := c.ErrOrStderr()
	logger := funcr.NewJSON(func(obj string) { _, _ = io.WriteString(stderr, obj+"\n") }, funcr.Options{Verbosity: level})
	log.SetLogger(logger)
	return logr.NewContext(c.Context(), logger), cfg, nil
}
