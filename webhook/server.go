package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1a2 "sigs.k8s.io/gateway-api/apis/v1alpha2"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	gwxv1a1 "sigs.k8s.io/gateway-api/apisx/v1alpha1"

	"github.com/enigate/enigate/schema/contract"
)

// Path is where the webhook server serves the handler (the ValidatingWebhookConfiguration's
// clientConfig.service.path).
const Path = contract.WebhookPath

// Options configure Run. Zero values take the documented defaults.
type Options struct {
	// Config is the API server connection (required).
	Config *rest.Config
	// PolicyFile, when set, is read instead of watching the ConfigMap, and re-read every
	// PolicyFilePoll (default 10s) when its content changes.
	PolicyFile     string
	PolicyFilePoll time.Duration
	// PolicyNamespace/PolicyName of the ConfigMap (defaults enigate-system/enigate-policy).
	PolicyNamespace, PolicyName string
	// PolicyWriters may write the policy ConfigMap (default system:masters).
	PolicyWriters []string
	// CertDir holds tls.crt and tls.key, reloaded when they change (default
	// /tmp/k8s-webhook-server/serving-certs). Host defaults to all interfaces.
	CertDir string
	Host    string
	// ClientCAName, when set, is a CA bundle in CertDir the server verifies client
	// certificates against, requiring one on every connection. Only for API servers configured
	// to present one to webhooks (AdmissionConfiguration kubeConfigFile); EKS's are not, so
	// the rendered Deployment leaves it unset (docs/webhook.md, "Who may call the webhook").
	ClientCAName string
	// Port of the webhook server (default 9443).
	Port int
	// MetricsAddr serves /metrics (default ":8080"; "0" disables).
	MetricsAddr string
	// HealthAddr serves /healthz and /readyz (default ":8081"; "0" disables).
	HealthAddr string
	// ShutdownTimeout bounds the graceful shutdown that lets in-flight requests finish
	// (default 25s, below the pod's 30s termination grace period).
	ShutdownTimeout time.Duration
	// Ready, when set, is called once the webhook serves with a policy and synced caches.
	Ready func()
}

func (o *Options) defaults() {
	if o.PolicyNamespace == "" {
		o.PolicyNamespace = DefaultNamespace
	}
	if o.PolicyName == "" {
		o.PolicyName = DefaultConfigMap
	}
	if o.CertDir == "" {
		o.CertDir = "/tmp/k8s-webhook-server/serving-certs"
	}
	if o.Port == 0 {
		o.Port = contract.WebhookPort
	}
	if o.MetricsAddr == "" {
		o.MetricsAddr = fmt.Sprintf(":%d", contract.MetricsPort)
	}
	if o.HealthAddr == "" {
		o.HealthAddr = fmt.Sprintf(":%d", contract.HealthPort)
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 25 * time.Second
	}
	if o.PolicyFilePoll == 0 {
		o.PolicyFilePoll = 10 * time.Second
	}
}

// Scheme has every type the webhook decodes or caches.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, gwv1.Install, gwv1a2.Install, gwv1b1.Install, gwxv1a1.Install,
	} {
		if err := add(s); err != nil {
			panic(err) // static registrations; cannot fail
		}
	}
	return s
}

// Run serves the webhook until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	if o.Config == nil {
		return errors.New("webhook: no API server config")
	}
	logger := log.FromContext(ctx).WithName("webhook")
	ctx = log.IntoContext(ctx, logger)
	registerRuntimeMetrics()
	store := &PolicyStore{}
	if o.PolicyFile != "" {
		data, err := os.ReadFile(o.PolicyFile)
		if err != nil {
			return fmt.Errorf("webhook: policy file: %w", err)
		}
		if err := store.Load(o.PolicyFile, data); err != nil {
			return fmt.Errorf("webhook: %w", err)
		}
	}
	shutdown := o.ShutdownTimeout
	readOnly := true
	mgr, err := manager.New(o.Config, manager.Options{
		Scheme:                  Scheme(),
		Logger:                  logger,
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:  o.HealthAddr,
		GracefulShutdownTimeout: &shutdown,
		WebhookServer: crwebhook.NewServer(crwebhook.Options{
			Host: o.Host, Port: o.Port, CertDir: o.CertDir, CertName: "tls.crt", KeyName: "tls.key", ClientCAName: o.ClientCAName,
		}),
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			// Read-only use: cache reads skip the deep copy.
			&gwv1.Gateway{}:          {UnsafeDisableDeepCopy: &readOnly},
			&gwv1b1.ReferenceGrant{}: {UnsafeDisableDeepCopy: &readOnly},
			&gwv1.HTTPRoute{}:        {UnsafeDisableDeepCopy: &readOnly},
			&corev1.ConfigMap{}: {
				Namespaces: map[string]cache.Config{o.PolicyNamespace: {}},
				Field:      fields.OneTermEqualSelector("metadata.name", o.PolicyName),
			},
		}},
	})
	if err != nil {
		return fmt.Errorf("webhook: manager: %w", err)
	}

	// Cluster facts from the cache, for the Gateway API kinds that are installed.
	cluster := &CacheCluster{Reader: mgr.GetCache()}
	installed := func(gk schema.GroupKind) bool {
		_, err := mgr.GetRESTMapper().RESTMapping(gk)
		return err == nil
	}
	if !installed(schema.GroupKind{Group: gwv1.GroupName, Kind: "Gateway"}) || !installed(schema.GroupKind{Group: gwv1.GroupName, Kind: "ReferenceGrant"}) {
		logger.Info("Gateway API CRDs not installed: judging routes against the policy only")
		cluster = nil
	} else {
		for _, obj := range []client.Object{&gwv1.Gateway{}, &gwv1b1.ReferenceGrant{}} {
			if _, err := mgr.GetCache().GetInformer(ctx, obj); err != nil {
				return fmt.Errorf("webhook: informer %T: %w", obj, err)
			}
		}
		if installed(schema.GroupKind{Group: gwv1.GroupName, Kind: "HTTPRoute"}) {
			if err := mgr.GetFieldIndexer().IndexField(ctx, &gwv1.HTTPRoute{}, HostnameIndex, IndexHTTPRouteHostnames); err != nil {
				return fmt.Errorf("webhook: index HTTPRoute hostnames: %w", err)
			}
			cluster.Routes = true
		}
	}

	if o.PolicyFile == "" {
		if err := watchPolicyConfigMap(ctx, mgr.GetCache(), store, o.PolicyNamespace, o.PolicyName); err != nil {
			return err
		}
	} else {
		go pollPolicyFile(ctx, store, o.PolicyFile, o.PolicyFilePoll)
	}

	h := NewHandler(HandlerOptions{Policy: store, Cluster: cluster, PolicyNamespace: o.PolicyNamespace, PolicyName: o.PolicyName, PolicyWriters: o.PolicyWriters})
	hook := &admission.Webhook{Handler: h}
	mgr.GetWebhookServer().Register(Path, hook.WithRecoverPanic(true))

	var synced atomic.Bool
	checks := map[string]healthz.Checker{
		"webhook": mgr.GetWebhookServer().StartedChecker(),
		"caches": func(*http.Request) error {
			if !synced.Load() {
				return errors.New("informer caches not synced")
			}
			return nil
		},
		"policy": func(*http.Request) error {
			if store.Current() == nil {
				if err := store.LastError(); err != nil {
					return fmt.Errorf("no valid policy: %w", err)
				}
				return errors.New("no policy loaded yet")
			}
			return nil
		},
		// policy-current fails while a newer broken policy is ignored; the Deployment's probe
		// excludes it (/readyz?exclude=policy-current) so a bad push cannot take the webhook
		// out of service, while /readyz shows it.
		"policy-current": func(*http.Request) error { return store.LastError() },
	}
	for name, c := range checks {
		if err := mgr.AddReadyzCheck(name, c); err != nil {
			return fmt.Errorf("webhook: readyz %s: %w", name, err)
		}
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("webhook: healthz: %w", err)
	}
	go func() {
		if mgr.GetCache().WaitForCacheSync(ctx) {
			synced.Store(true)
			logger.Info("caches synced")
			if o.Ready != nil {
				waitReady(ctx, store, mgr.GetWebhookServer().StartedChecker())
				if ctx.Err() == nil {
					o.Ready()
				}
			}
		}
	}()
	logger.Info("starting", "port", o.Port, "certDir", o.CertDir, "policy", policySource(o))
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	return nil
}

func policySource(o Options) string {
	if o.PolicyFile != "" {
		return o.PolicyFile
	}
	return "configmap " + o.PolicyNamespace + "/" + o.PolicyName
}

func waitReady(ctx context.Context, store *PolicyStore, started healthz.Checker) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if store.Current() != nil && started(nil) == nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watchPolicyConfigMap loads the policy on every add/update of the ConfigMap; a delete or a
// missing key keeps the last good policy and is reported.
func watchPolicyConfigMap(ctx context.Context, c cache.Cache, store *PolicyStore, ns, name string) error {
	inf, err := c.GetInformer(ctx, &corev1.ConfigMap{})
	if err != nil {
		return fmt.Errorf("webhook: policy informer: %w", err)
	}
	logger := log.FromContext(ctx)
	source := "configmap " + ns + "/" + name
	load := func(obj any) {
		cm, ok := obj.(*corev1.ConfigMap)
		if !ok || cm.Namespace != ns || cm.Name != name {
			return
		}
		data, ok := cm.Data[PolicyKey]
		if !ok {
			err := fmt.Errorf("key %s missing", PolicyKey)
			store.Fail(source, err)
			logger.Error(err, "policy not loaded; keeping the last good policy", "source", source)
			return
		}
		if err := store.Load(source, []byte(data)); err != nil {
			logger.Error(err, "policy not loaded; keeping the last good policy", "source", source, "resourceVersion", cm.ResourceVersion)
			return
		}
		logger.Info("policy loaded", "source", source, "resourceVersion", cm.ResourceVersion, "teams", len(store.Current().Policy.Teams))
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    load,
		UpdateFunc: func(_, obj any) { load(obj) },
		DeleteFunc: func(any) {
			err := errors.New("policy ConfigMap deleted")
			store.Fail(source, err)
			logger.Error(err, "keeping the last good policy", "source", source)
		},
	})
	if err != nil {
		return fmt.Errorf("webhook: policy handler: %w", err)
	}
	return nil
}

func pollPolicyFile(ctx context.Context, store *PolicyStore, path string, every time.Duration) {
	logger := log.FromContext(ctx)
	last, _ := os.ReadFile(path)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		data, err := os.ReadFile(path)
		if err != nil {
			store.Fail(path, err)
			logger.Error(err, "policy file unreadable; keeping the last good policy")
			continue
		}
		if bytes.Equal(data, last) {
			continue
		}
		last = data
		if err := store.Load(path, data); err != nil {
			logger.Error(err, "policy not loaded; keeping the last good policy", "source", path)
			continue
		}
		logger.Info("policy reloaded", "source", path)
	}
}
