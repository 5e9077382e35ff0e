// Package contract holds the names and numbers that the renderer, the webhook and the node
// job must agree on: change one here and every side follows.
package contract

// The policy ConfigMap the renderer writes and the webhook watches and protects.
const (
	// Namespace is enigate's default namespace (enigate.namespace in the declaration; the CUE
	// schema takes its default from here).
	Namespace = "enigate-system"
	// PolicyConfigMap is the policy ConfigMap's name.
	PolicyConfigMap = "enigate-policy"
	// PolicyKey is the ConfigMap key holding the policy YAML.
	PolicyKey = "policy.yaml"
)

// The webhook server.
const (
	// WebhookPath is where the handler is served (the ValidatingWebhookConfiguration's
	// clientConfig.service.path).
	WebhookPath = "/validate"
	// WebhookPort serves HTTPS admission requests.
	WebhookPort = 9443
	// MetricsPort serves Prometheus /metrics.
	MetricsPort = 8080
	// HealthPort serves /healthz and /readyz.
	HealthPort = 8081
	// WebhookCertDir is where the rendered Deployment mounts the serving certificate.
	WebhookCertDir = "/etc/enigate/webhook-certs"
)
