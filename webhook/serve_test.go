package webhook_test

import (
	"context"
	"testing"
	"time"

	"github.com/enigate/enigate/test/envtest"
	"github.com/enigate/enigate/webhook"
)

// serveWebhook runs the webhook in process against kube's API server (on envtest's webhook
// serving address) until the test ends, and waits until it is ready. writers are the policy
// writers (default platform-admins).
func serveWebhook(tb testing.TB, ctx context.Context, cancel context.CancelFunc, kube *envtest.Env, writers ...string) {
	tb.Helper()
	if len(writers) == 0 {
		writers = []string{"platform-admins"}
	}
	wio := kube.Environment.WebhookInstallOptions
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- webhook.Run(ctx, webhook.Options{Config: kube.Config, Host: wio.LocalServingHost, Port: wio.LocalServingPort,
			CertDir: wio.LocalServingCertDir, MetricsAddr: "0", HealthAddr: "0", PolicyWriters: writers,
			Ready: func() { close(ready) }})
	}()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("webhook: %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		tb.Fatalf("webhook stopped: %v", err)
	case <-time.After(2 * time.Minute):
		tb.Fatal("webhook not ready")
	}
}
