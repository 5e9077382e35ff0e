package audit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1a2 "sigs.k8s.io/gateway-api/apis/v1alpha2"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	gwxv1a1 "sigs.k8s.io/gateway-api/apisx/v1alpha1"

	"github.com/enigate/enigate/schema/rules"
	"github.com/enigate/enigate/webhook"
	"github.com/enigate/enigate/webhook/policyreport"
)

// FieldManager owns the reports' fields (server-side apply).
const FieldManager = "enigate-audit"

// applyWorkers bounds the concurrent report writes.
const applyWorkers = 8

// Options configure Run. Zero values take the documented defaults.
type Options struct {
	// Config is the API server connection (required).
	Config *rest.Config
	// PolicyFile, when set, is read instead of watching the ConfigMap (re-read every Interval).
	PolicyFile string
	// PolicyNamespace/PolicyName of the ConfigMap (defaults enigate-system/enigate-policy).
	PolicyNamespace, PolicyName string
	// Interval between full audits besides those on changes (default 10m).
	Interval time.Duration
	// Settle is how long the audit waits after a change before judging, so that a burst of
	// changes (a GitOps sync) costs one pass (default 2s).
	Settle time.Duration
	// MetricsAddr serves /metrics (default ":8080"; "0" disables); HealthAddr /healthz and
	// /readyz (default ":8081"; "0" disables).
	MetricsAddr, HealthAddr string
	// Passed, when set, is called after every pass that published its reports (tests).
	Passed func(Audit)
}

func (o *Options) defaults() {
	if o.PolicyNamespace == "" {
		o.PolicyNamespace = webhook.DefaultNamespace
	}
	if o.PolicyName == "" {
		o.PolicyName = webhook.DefaultConfigMap
	}
	if o.Interval == 0 {
		o.Interval = 10 * time.Minute
	}
	if o.Settle == 0 {
		o.Settle = 2 * time.Second
	}
	if o.MetricsAddr == "" {
		o.MetricsAddr = ":8080"
	}
	if o.HealthAddr == "" {
		o.HealthAddr = ":8081"
	}
}

// kind is one audited kind: its list type, and whether the API server serves it.
type kind struct {
	gvk  schema.GroupVersionKind
	list func() client.ObjectList
	obj  func() client.Object
}

func typedKind[T any, PT interface {
	*T
	client.Object
}, L any, PL interface {
	*L
	client.ObjectList
}](gvk schema.GroupVersionKind) kind {
	return kind{gvk: gvk, obj: func() client.Object { return PT(new(T)) }, list: func() client.ObjectList { return PL(new(L)) }}
}

func gatewayGVK(version, k string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: rules.GatewayGroup, Version: version, Kind: k}
}

// ciliumNodeGVK is the CiliumNode version enigate reads (Cilium's stable v2).
var ciliumNodeGVK = schema.GroupVersionKind{Group: rules.CiliumGroup, Version: "v2", Kind: rules.KindCiliumNode}

// auditedKinds are every kind rules.Judge judges, in the version the audit lists.
func auditedKinds() []kind {
	return []kind{
		typedKind[gwv1.HTTPRoute, *gwv1.HTTPRoute, gwv1.HTTPRouteList](gatewayGVK("v1", rules.KindHTTPRoute)),
		typedKind[gwv1.GRPCRoute, *gwv1.GRPCRoute, gwv1.GRPCRouteList](gatewayGVK("v1", rules.KindGRPCRoute)),
		typedKind[gwv1a2.TLSRoute, *gwv1a2.TLSRoute, gwv1a2.TLSRouteList](gatewayGVK("v1alpha2", rules.KindTLSRoute)),
		typedKind[gwv1a2.TCPRoute, *gwv1a2.TCPRoute, gwv1a2.TCPRouteList](gatewayGVK("v1alpha2", rules.KindTCPRoute)),
		typedKind[gwv1a2.UDPRoute, *gwv1a2.UDPRoute, gwv1a2.UDPRouteList](gatewayGVK("v1alpha2", rules.KindUDPRoute)),
		typedKind[gwv1b1.ReferenceGrant, *gwv1b1.ReferenceGrant, gwv1b1.ReferenceGrantList](gatewayGVK("v1beta1", rules.KindReferenceGrant)),
		typedKind[gwv1.Gateway, *gwv1.Gateway, gwv1.GatewayList](gatewayGVK("v1", rules.KindGateway)),
		typedKind[gwxv1a1.XListenerSet, *gwxv1a1.XListenerSet, gwxv1a1.XListenerSetList](schema.GroupVersionKind{Group: rules.XGatewayGroup, Version: "v1alpha1", Kind: rules.KindXListenerSet}),
		// The standard-channel ListenerSet (Gateway API v1.5+) has no Go type in the pinned
		// module: listed unstructured, judged from its JSON like CiliumNode.
		unstructuredKind(gatewayGVK("v1", rules.KindListenerSet)),
		typedKind[corev1.Node, *corev1.Node, corev1.NodeList](corev1.SchemeGroupVersion.WithKind(rules.KindNode)),
		unstructuredKind(ciliumNodeGVK),
	}
}

// unstructuredKind is a kind the audit lists without a Go type.
func unstructuredKind(gvk schema.GroupVersionKind) kind {
	return kind{gvk: gvk,
		obj: func() client.Object {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(gvk)
			return u
		},
		list: func() client.ObjectList {
			u := &unstructured.UnstructuredList{}
			u.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
			return u
		}}
}

// Run audits until ctx ends: once the caches are synced and a policy is loaded, then on every
// policy change, on changes of audited objects (after Settle) and every Interval.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	if o.Config == nil {
		return errors.New("audit: no API server config")
	}
	logger := log.FromContext(ctx).WithName("audit")
	ctx = log.IntoContext(ctx, logger)
	// The audit only reads cached objects: lists skip the deep copy.
	readOnly := true
	kinds := auditedKinds()
	mgr, err := manager.New(o.Config, manager.Options{
		Scheme:                 webhook.Scheme(),
		Logger:                 logger,
		Metrics:                metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress: o.HealthAddr,
		Cache: cache.Options{DefaultUnsafeDisableDeepCopy: &readOnly, ByObject: map[client.Object]cache.ByObject{
			&corev1.ConfigMap{}: {Namespaces: map[string]cache.Config{o.PolicyNamespace: {}}, Field: fields.OneTermEqualSelector("metadata.name", o.PolicyName)},
		}},
	})
	if err != nil {
		return fmt.Errorf("audit: manager: %w", err)
	}
	a := &auditor{
		mgr: mgr, opts: o, trigger: make(chan struct{}, 1), store: &webhook.PolicyStore{},
		recorder: mgr.GetEventRecorder(FieldManager), seen: map[key]metav1.Timestamp{}, written: map[string]*policyreport.Report{},
	}
	for _, k := range kinds {
		if _, err := mgr.GetRESTMapper().RESTMapping(k.gvk.GroupKind(), k.gvk.Version); err != nil {
			logger.Info("kind not served, not audited", "kind", k.gvk.String())
			continue
		}
		inf, err := mgr.GetCache().GetInformer(ctx, k.obj())
		if err != nil {
			return fmt.Errorf("audit: informer %s: %w", k.gvk, err)
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { a.poke() }, UpdateFunc: func(old, obj any) { a.changed(old, obj) }, DeleteFunc: func(any) { a.poke() },
		}); err != nil {
			return fmt.Errorf("audit: handler %s: %w", k.gvk, err)
		}
		a.kinds = append(a.kinds, k)
	}
	if _, err := mgr.GetRESTMapper().RESTMapping(schema.GroupKind{Group: policyreport.GroupVersion.Group, Kind: policyreport.KindPolicyReport}, policyreport.GroupVersion.Version); err != nil {
		return fmt.Errorf("audit: the PolicyReport CRD (%s) is not installed: %w", policyreport.GroupVersion, err)
	}
	if o.PolicyFile != "" {
		if err := a.loadFile(); err != nil {
			return err
		}
	} else if err := a.watchPolicy(ctx); err != nil {
		return err
	}
	for name, check := range map[string]healthz.Checker{
		"audit": func(*http.Request) error {
			if !a.ready.Load() {
				return errors.New("no audit pass published yet")
			}
			return nil
		},
	} {
		if err := mgr.AddReadyzCheck(name, check); err != nil {
			return fmt.Errorf("audit: readyz: %w", err)
		}
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("audit: healthz: %w", err)
	}
	if err := mgr.Add(manager.RunnableFunc(a.loop)); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	logger.Info("starting", "interval", o.Interval.String(), "kinds", len(a.kinds))
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

type auditor struct {
	mgr      manager.Manager
	opts     Options
	kinds    []kind
	store    *webhook.PolicyStore
	trigger  chan struct{}
	recorder recorder.EventRecorder
	ready    atomic.Bool

	mu sync.Mutex
	// seen holds when each current finding was first seen (results keep that timestamp, so
	// a report changes only when its findings do, and events go out for new findings only).
	seen map[key]metav1.Timestamp
	// written are the reports as last applied, by namespace ("" for the cluster report).
	written map[string]*policyreport.Report
}

// key identifies a finding on an object across passes.
type key struct {
	ref           corev1.ObjectReference
	rule, field   string
	message, kind string
}

func (a *auditor) poke() {
	select {
	case a.trigger <- struct{}{}:
	default:
	}
}

// changed pokes unless only the status or metadata bookkeeping changed (labels count: a
// CiliumNode's instance type may come from one) (kubelets update Node
// status every few seconds; controllers write route status).
func (a *auditor) changed(old, obj any) {
	o, ok1 := old.(client.Object)
	n, ok2 := obj.(client.Object)
	if ok1 && ok2 && o.GetGeneration() != 0 && o.GetGeneration() == n.GetGeneration() && reflect.DeepEqual(o.GetLabels(), n.GetLabels()) {
		return
	}
	if on, ok := old.(*corev1.Node); ok {
		if nn, ok := obj.(*corev1.Node); ok && reflect.DeepEqual(on.Labels, nn.Labels) &&
			on.Status.Capacity.Pods().Equal(*nn.Status.Capacity.Pods()) && on.Status.Allocatable.Pods().Equal(*nn.Status.Allocatable.Pods()) {
			return
		}
	}
	a.poke()
}

func (a *auditor) loadFile() error {
	data, err := os.ReadFile(a.opts.PolicyFile)
	if err != nil {
		return fmt.Errorf("audit: policy file: %w", err)
	}
	if err := a.store.Load(a.opts.PolicyFile, data); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// watchPolicy loads the policy on every add/update of its ConfigMap and audits again; a
// broken policy keeps the last good one (as the webhook does).
func (a *auditor) watchPolicy(ctx context.Context) error {
	inf, err := a.mgr.GetCache().GetInformer(ctx, &corev1.ConfigMap{})
	if err != nil {
		return fmt.Errorf("audit: policy informer: %w", err)
	}
	logger := log.FromContext(ctx)
	source := "configmap " + a.opts.PolicyNamespace + "/" + a.opts.PolicyName
	load := func(obj any) {
		cm, ok := obj.(*corev1.ConfigMap)
		if !ok || cm.Namespace != a.opts.PolicyNamespace || cm.Name != a.opts.PolicyName {
			return
		}
		if err := a.store.Load(source, []byte(cm.Data[webhook.PolicyKey])); err != nil {
			logger.Error(err, "policy not loaded; keeping the last good policy", "source", source)
			return
		}
		logger.Info("policy loaded", "source", source, "resourceVersion", cm.ResourceVersion)
		a.poke()
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: load, UpdateFunc: func(_, obj any) { load(obj) }})
	if err != nil {
		return fmt.Errorf("audit: policy handler: %w", err)
	}
	return nil
}

// loop runs a pass on every trigger (after Settle) and every Interval.
func (a *auditor) loop(ctx context.Context) error {
	logger := log.FromContext(ctx)
	if !a.mgr.GetCache().WaitForCacheSync(ctx) {
		return nil
	}
	tick := time.NewTicker(a.opts.Interval)
	defer tick.Stop()
	a.poke()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if a.opts.PolicyFile != "" {
				if err := a.loadFile(); err != nil {
					logger.Error(err, "policy not reloaded; keeping the last good policy")
				}
			}
		case <-a.trigger:
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(a.opts.Settle):
			}
			select { // changes during Settle are in this pass
			case <-a.trigger:
			default:
			}
		}
		if err := a.pass(ctx); err != nil {
			passes.WithLabelValues("error").Inc()
			logger.Error(err, "audit pass")
			continue
		}
		passes.WithLabelValues("ok").Inc()
	}
}

// serves reports whether the Gateway API kind k is served and cached.
func (a *auditor) serves(k string) bool {
	for _, have := range a.kinds {
		if have.gvk.Group == rules.GatewayGroup && have.gvk.Kind == k {
			return true
		}
	}
	return false
}

// items lists every audited object from the cache.
func (a *auditor) items(ctx context.Context) ([]Item, error) {
	var out []Item
	for _, k := range a.kinds {
		l := k.list()
		if err := a.mgr.GetCache().List(ctx, l); err != nil {
			return nil, fmt.Errorf("list %s: %w", k.gvk.Kind, err)
		}
		if err := meta(l, func(o client.Object) { out = append(out, Item{GVK: k.gvk, Obj: o}) }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// meta calls add with every object of l (pointers into the list, no copies).
func meta(l client.ObjectList, add func(client.Object)) error {
	objs, err := apimeta.ExtractList(l)
	if err != nil {
		return err
	}
	for _, o := range objs {
		co, ok := o.(client.Object)
		if !ok {
			return fmt.Errorf("list item %T is not an object", o)
		}
		add(co)
	}
	return nil
}

// pass audits once and publishes reports, events and metrics.
func (a *auditor) pass(ctx context.Context) error {
	ix := a.store.Current()
	if ix == nil {
		return errors.New("no valid policy loaded yet; reports unchanged")
	}
	start := time.Now()
	items, err := a.items(ctx)
	if err != nil {
		return err
	}
	var cluster rules.Cluster = rules.NoCluster{}
	if a.serves(rules.KindGateway) && a.serves(rules.KindReferenceGrant) {
		cluster = &webhook.CacheCluster{Reader: a.mgr.GetCache()}
	}
	res := Evaluate(ix, items, cluster)
	// The gauges describe the judgement, set before the reports so that a report on the API
	// server implies its counts are exported.
	objectsAudited.Set(float64(len(res.Verdicts)))
	setViolations(res.Violations())
	if err := a.publish(ctx, res, items); err != nil {
		return err
	}
	passSeconds.Set(time.Since(start).Seconds())
	a.ready.Store(true)
	if a.opts.Passed != nil {
		a.opts.Passed(res)
	}
	return nil
}

// publish applies every changed report, deletes the reports of namespaces with nothing left
// to audit, and sends one Warning event per new finding.
func (a *auditor) publish(ctx context.Context, res Audit, items []Item) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := metav1.Timestamp{Seconds: time.Now().Unix()}
	seen := map[key]metav1.Timestamp{}
	objs := map[corev1.ObjectReference]client.Object{}
	for _, it := range items {
		objs[ref(it)] = it.Obj
	}
	for _, v := range res.Verdicts {
		for _, f := range v.Findings {
			k := key{ref: v.Ref, rule: f.Rule, field: f.Field, message: f.Message, kind: f.Result}
			if ts, ok := a.seen[k]; ok {
				seen[k] = ts
				continue
			}
			seen[k] = now
			if obj := objs[v.Ref]; obj != nil && f.Result != policyreport.ResultWarn {
				a.event(obj, v.Ref, f)
			}
		}
	}
	a.seen = seen
	namespaced, clusterReport := res.Reports(time.Unix(now.Seconds, 0))
	stamp := func(rep *policyreport.Report) {
		for i := range rep.Results {
			r := &rep.Results[i]
			k := key{ref: r.Resources[0], rule: r.Rule, field: r.Properties["field"], message: r.Message, kind: r.Result}
			r.Timestamp = seen[k]
		}
	}
	want := map[string]*policyreport.Report{"": clusterReport}
	for ns, rep := range namespaced {
		want[ns] = rep
	}
	var errs []error
	names := make([]string, 0, len(want))
	for ns := range want {
		names = append(names, ns)
	}
	sort.Strings(names)
	var changed []string
	for _, ns := range names {
		rep := want[ns]
		stamp(rep)
		if old := a.written[ns]; old == nil || !reflect.DeepEqual(old, rep) {
			changed = append(changed, ns)
		}
	}
	// Writes are round trips: a few at a time (the first pass writes every report).
	applyErrs := make([]error, len(changed))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(applyWorkers, len(changed)) {
		wg.Go(func() {
			for i := range work {
				applyErrs[i] = a.apply(ctx, want[changed[i]])
			}
		})
	}
	for i := range changed {
		work <- i
	}
	close(work)
	wg.Wait()
	for i, ns := range changed {
		if applyErrs[i] != nil {
			errs = append(errs, applyErrs[i])
			continue
		}
		a.written[ns] = want[ns]
	}
	// Reports of namespaces that no longer hold audited objects.
	var existing unstructured.UnstructuredList
	existing.SetGroupVersionKind(policyreport.GroupVersion.WithKind(policyreport.KindPolicyReport + "List"))
	if err := a.mgr.GetAPIReader().List(ctx, &existing, client.MatchingLabels{ManagedByLabel: Source}); err != nil {
		errs = append(errs, fmt.Errorf("list policy reports: %w", err))
	}
	for i := range existing.Items {
		r := &existing.Items[i]
		if _, ok := want[r.GetNamespace()]; ok || r.GetName() != ReportName {
			continue
		}
		if err := a.mgr.GetClient().Delete(ctx, r); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete policy report %s: %w", r.GetNamespace(), err))
			continue
		}
		delete(a.written, r.GetNamespace())
	}
	return errors.Join(errs...)
}

func (a *auditor) apply(ctx context.Context, rep *policyreport.Report) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(rep)
	if err != nil {
		return fmt.Errorf("policy report %s: %w", rep.Namespace, err)
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	if err := a.mgr.GetClient().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		where := rep.Kind
		if rep.Namespace != "" {
			where += " " + rep.Namespace
		}
		return fmt.Errorf("apply %s/%s: %w", where, rep.Name, err)
	}
	return nil
}

// event records a Warning event on the offending object (events.k8s.io/v1; the note is
// limited to 1 kB by the API).
func (a *auditor) event(obj client.Object, r corev1.ObjectReference, f Finding) {
	regarding := obj
	if gvk, err := apiutil.GVKForObject(obj, a.mgr.GetScheme()); err != nil || gvk.Empty() {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(schema.FromAPIVersionAndKind(r.APIVersion, r.Kind))
		u.SetNamespace(r.Namespace)
		u.SetName(r.Name)
		u.SetUID(r.UID)
		regarding = u
	}
	note := f.Rule + ": " + f.Message
	if f.Field != "" {
		note = f.Rule + ": " + f.Field + ": " + f.Message
	}
	if len(note) > 1000 {
		note = note[:1000] + "..."
	}
	a.recorder.Eventf(regarding, nil, corev1.EventTypeWarning, "PolicyViolation", "Audit", "%s", note)
}
