package envtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/enigate/enigate/test/envtest"
)

// TestWithWebhooks proves the API server calls a local webhook that WithWebhooks wired up:
// envtest picks the port and writes the serving certificate, the test serves on them.
func TestWithWebhooks(t *testing.T) {
	path := "deny"
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	env := envtest.Start(t, envtest.WithWebhooks(crenvtest.WebhookInstallOptions{
		ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{{
			ObjectMeta: metav1.ObjectMeta{Name: "deny-labelled"},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{{
				Name:                    "deny.enigate.test",
				ClientConfig:            admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Name: "unused", Namespace: "default", Path: &path}},
				Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}},
				ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{"enigate-test": "deny"}},
				FailurePolicy:           &fail,
				SideEffects:             &none,
				AdmissionReviewVersions: []string{"v1"},
			}},
		}},
	}))

	opts := env.Environment.WebhookInstallOptions
	serveDenyingWebhook(t, net.JoinHostPort(opts.LocalServingHost, strconv.Itoa(opts.LocalServingPort)), opts.LocalServingCertDir)

	tests := []struct {
		name     string
		labels   map[string]string
		wantDeny bool
	}{
		{name: "selected", labels: map[string]string{"enigate-test": "deny"}, wantDeny: true},
		{name: "not selected", labels: map[string]string{"enigate-test": "other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "default", Labels: tt.labels}}
			err := env.Client.Create(context.Background(), cm, client.DryRunAll)
			denied := err != nil && strings.Contains(err.Error(), "denied by test webhook")
			if denied != tt.wantDeny || !tt.wantDeny && err != nil {
				t.Fatalf("create configmap labelled %v: %v, want denied=%v", tt.labels, err, tt.wantDeny)
			}
		})
	}
}

// serveDenyingWebhook answers every AdmissionReview with a denial until the test ends.
func serveDenyingWebhook(t *testing.T, addr, certDir string) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/deny", func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "bad admission review", http.StatusBadRequest)
			return
		}
		review.Response = &admissionv1.AdmissionResponse{
			UID: review.Request.UID, Allowed: false,
			Result: &metav1.Status{Message: "denied by test webhook"},
		}
		review.Request = nil
		_ = json.NewEncoder(w).Encode(&review)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	done := make(chan error, 1)
	go func() {
		done <- srv.ServeTLS(ln, filepath.Join(certDir, "tls.crt"), filepath.Join(certDir, "tls.key"))
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("webhook server: %v", err)
		}
	})
}
