// Package envtest starts a real kube-apiserver and etcd (built from source by
// test/tools/build.sh) through controller-runtime's envtest, with the Gateway API CRDs
// and the vendored Cilium and cert-manager CRDs installed.
//
// Binaries come from $KUBEBUILDER_ASSETS, else from bin/k8s/<KubernetesVersion> under the
// module root. When they are missing the test is skipped, or fails if ENVTEST_REQUIRED=1.
//
//	env := envtest.Start(t)
//	err := env.DryRunApply(ctx, objs)
//
// Starting costs seconds: share one Env between subtests (t.Run) where possible.
package envtest

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1alpha2 "sigs.k8s.io/gateway-api/apis/v1alpha2"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// KubernetesVersion is the kube-apiserver version test/tools builds; the default binary
// directory is bin/k8s/<KubernetesVersion> under the module root.
const KubernetesVersion = "1.36.3"

// FieldManager is the field manager DryRunApply uses.
const FieldManager = "enigate-test"

// RequiredEnv, set to 1, turns a missing binary into a test failure instead of a skip.
const RequiredEnv = "ENVTEST_REQUIRED"

// Env is a running API server.
type Env struct {
	// Config authenticates as an admin (group system:masters).
	Config *rest.Config
	// Client is an admin client using Scheme; unstructured objects work too.
	Client client.Client
	// Scheme has client-go's built-in types (core, rbac, apps, policy,
	// admissionregistration, ...), apiextensions/v1 and Gateway API v1, v1beta1, v1alpha2.
	Scheme *runtime.Scheme
	// Environment is the underlying controller-runtime environment; after Start its
	// WebhookInstallOptions hold LocalServingHost, LocalServingPort and LocalServingCertDir.
	Environment *crenvtest.Environment

	tb testing.TB
}

// Option configures Start.
type Option func(*options)

type options struct {
	crdPaths []string
	webhooks crenvtest.WebhookInstallOptions
}

// WithCRDPaths installs more CRDs (files or directories of YAML) besides the defaults.
func WithCRDPaths(paths ...string) Option {
	return func(o *options) { o.crdPaths = append(o.crdPaths, paths...) }
}

// WithWebhooks installs admission webhook configurations pointing at a local server.
// envtest rewrites each webhook's clientConfig to LocalServingHost:LocalServingPort (picked
// when unset) and writes a serving certificate to LocalServingCertDir; read them back from
// Env.Environment.WebhookInstallOptions to start the webhook server.
func WithWebhooks(w crenvtest.WebhookInstallOptions) Option {
	return func(o *options) { o.webhooks = w }
}

// NewScheme returns the scheme Env.Client uses.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme,
		apiextensionsv1.AddToScheme,
		gatewayv1.Install,
		gatewayv1beta1.Install,
		gatewayv1alpha2.Install,
	} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("scheme: %w", err)
		}
	}
	return s, nil
}

// Start starts kube-apiserver and etcd, installs the CRDs and registers t.Cleanup to stop
// them. It skips t when the binaries are missing, unless ENVTEST_REQUIRED=1.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	env, err := newEnvironment(o)
	if errors.Is(err, ErrNoAssets) && os.Getenv(RequiredEnv) != "1" {
		t.Skipf("envtest: %v (build them with `make envtest`; set %s=1 to fail instead)", err, RequiredEnv)
	}
	if err != nil {
		t.Fatalf("envtest: %v", err)
	}
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		t.Fatalf("envtest: start: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("envtest: stop: %v", err)
		}
	})

	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatalf("envtest: client: %v", err)
	}
	return &Env{Config: cfg, Client: c, Scheme: env.Scheme, Environment: env, tb: t}
}

// newEnvironment resolves binaries, CRDs and scheme into an environment not yet started.
func newEnvironment(o options) (*crenvtest.Environment, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	assets, err := AssetsDir(root)
	if err != nil {
		return nil, err
	}
	crdPaths, err := DefaultCRDPaths(root)
	if err != nil {
		return nil, err
	}
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	env := &crenvtest.Environment{
		BinaryAssetsDirectory: assets,
		Scheme:                scheme,
		CRDDirectoryPaths:     append(crdPaths, o.crdPaths...),
		ErrorIfCRDPathMissing: true,
		WebhookInstallOptions: o.webhooks,
	}
	// A shared 2-core machine can take well over envtest's 20s default.
	if os.Getenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT") == "" {
		env.ControlPlaneStartTimeout = 2 * time.Minute
	}
	return env, nil
}

// Impersonate returns a client acting as user in groups (plus system:authenticated, which
// the API server adds), for RBAC tests. The admin Config impersonates, so no RBAC is granted.
func (e *Env) Impersonate(user string, groups ...string) client.Client {
	e.tb.Helper()
	cfg := rest.CopyConfig(e.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	c, err := client.New(cfg, client.Options{Scheme: e.Scheme})
	if err != nil {
		e.tb.Fatalf("envtest: impersonate %s: %v", user, err)
	}
	return c
}
