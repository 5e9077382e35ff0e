package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1a2 "sigs.k8s.io/gateway-api/apis/v1alpha2"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	gwxv1a1 "sigs.k8s.io/gateway-api/apisx/v1alpha1"

	"github.com/enigate/enigate/schema/rules"
)

// Defaults for where the policy ConfigMap lives.
const (
	DefaultNamespace = "enigate-system"
	DefaultConfigMap = "enigate-policy"
)

// HandlerOptions configure the admission handler.
type HandlerOptions struct {
	// Policy holds the policy in force (required).
	Policy *PolicyStore
	// Cluster answers cluster questions from the cache; nil judges against the policy only.
	Cluster *CacheCluster
	// PolicyNamespace/PolicyName locate the protected policy ConfigMap (defaults
	// DefaultNamespace/DefaultConfigMap).
	PolicyNamespace, PolicyName string
	// PolicyWriters are users or groups allowed to write the policy ConfigMap, besides
	// service accounts of platform namespaces (default: system:masters).
	PolicyWriters []string
}

// Handler is the admission.Handler: a dispatch table by group/kind.
type Handler struct {
	opts     HandlerOptions
	dispatch map[schema.GroupKind]func(ctx context.Context, ix *rules.Index, req admission.Request) (rules.Result, error)
}

var _ admission.Handler = (*Handler)(nil)

// NewHandler builds the handler with its dispatch table.
func NewHandler(o HandlerOptions) *Handler {
	if o.PolicyNamespace == "" {
		o.PolicyNamespace = DefaultNamespace
	}
	if o.PolicyName == "" {
		o.PolicyName = DefaultConfigMap
	}
	if len(o.PolicyWriters) == 0 {
		o.PolicyWriters = []string{"system:masters"}
	}
	h := &Handler{opts: o}
	gw := func(kind string) schema.GroupKind { return schema.GroupKind{Group: rules.GatewayGroup, Kind: kind} }
	h.dispatch = map[schema.GroupKind]func(context.Context, *rules.Index, admission.Request) (rules.Result, error){
		gw(rules.KindHTTPRoute): routeHandler(h, func(ns, name string, s gwv1.HTTPRouteSpec) rules.Route {
			return rules.FromHTTPRoute(&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: s})
		}),
		gw(rules.KindGRPCRoute): routeHandler(h, func(ns, name string, s gwv1.GRPCRouteSpec) rules.Route {
			return rules.FromGRPCRoute(&gwv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: s})
		}),
		gw(rules.KindTLSRoute): routeHandler(h, func(ns, name string, s gwv1a2.TLSRouteSpec) rules.Route {
			return rules.FromTLSRoute(&gwv1a2.TLSRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: s})
		}),
		gw(rules.KindTCPRoute): routeHandler(h, func(ns, name string, s gwv1a2.TCPRouteSpec) rules.Route {
			return rules.FromTCPRoute(&gwv1a2.TCPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: s})
		}),
		gw(rules.KindUDPRoute): routeHandler(h, func(ns, name string, s gwv1a2.UDPRouteSpec) rules.Route {
			return rules.FromUDPRoute(&gwv1a2.UDPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: s})
		}),
		gw("ReferenceGrant"): typed(func(ix *rules.Index, o *gwv1b1.ReferenceGrant) rules.Result {
			return rules.ValidateReferenceGrant(ix, o)
		}),
		gw(rules.KindGateway): typed(func(ix *rules.Index, o *gwv1.Gateway) rules.Result { return rules.ValidateGateway(ix, o) }),
		{Group: rules.XGatewayGroup, Kind: rules.KindXListenerSet}: typed(func(ix *rules.Index, o *gwxv1a1.XListenerSet) rules.Result {
			return rules.ValidateListenerSet(ix, o)
		}),
		{Group: "", Kind: "Node"}:                h.node,
		{Group: "cilium.io", Kind: "CiliumNode"}: h.ciliumNode,
		{Group: "", Kind: "ConfigMap"}:           h.configMap,

		// Karpenter (webhook/karpenter.go): startup taint, kubelet maxPods per launchable type.
		{Group: rules.KarpenterGroup, Kind: rules.KindNodePool}:        h.nodePool,
		{Group: rules.KarpenterAWSGroup, Kind: rules.KindEC2NodeClass}: h.ec2NodeClass,
	}
	return h
}

// errNoPolicy is returned while no good policy has been loaded.
var errNoPolicy = errors.New("no valid enigate policy loaded yet")

// Handle decides one request. It never panics: a malformed request gets a well-formed error
// response.
func (h *Handler) Handle(ctx context.Context, req admission.Request) (resp admission.Response) {
	start := time.Now()
	kind := req.Kind.Kind
	defer func() {
		if r := recover(); r != nil {
			log.FromContext(ctx).Error(fmt.Errorf("%v", r), "admission handler panic", "kind", kind)
			resp = admission.Errored(http.StatusInternalServerError, fmt.Errorf("enigate webhook: internal error deciding %s", kind))
			decisions.WithLabelValues(kind, "", "error").Inc()
		}
		decisionSeconds.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	}()
	fn, ok := h.dispatch[schema.GroupKind{Group: req.Kind.Group, Kind: req.Kind.Kind}]
	if !ok {
		decisions.WithLabelValues(kind, "", "allowed").Inc()
		return admission.Allowed("kind not checked by enigate")
	}
	if req.Operation == admissionv1.Delete && req.Kind.Kind != "ConfigMap" {
		decisions.WithLabelValues(kind, "", "allowed").Inc()
		return admission.Allowed("")
	}
	ix := h.opts.Policy.Current()
	if ix == nil {
		if req.Kind.Kind == "Node" || req.Kind.Kind == "CiliumNode" {
			decisions.WithLabelValues(kind, "", "warned").Inc()
			return admission.Allowed("").WithWarnings("enigate: no policy loaded; capacity not checked")
		}
		decisions.WithLabelValues(kind, "", "error").Inc()
		return admission.Errored(http.StatusServiceUnavailable, errNoPolicy)
	}
	res, err := fn(ctx, ix, req)
	if err != nil {
		decisions.WithLabelValues(kind, "", "error").Inc()
		return admission.Errored(http.StatusBadRequest, err)
	}
	return h.respond(req, res)
}

func (h *Handler) respond(req admission.Request, res rules.Result) admission.Response {
	kind := req.Kind.Kind
	if len(res.Errors) == 0 {
		result := "allowed"
		if len(res.Warnings) > 0 {
			result = "warned"
		}
		decisions.WithLabelValues(kind, "", result).Inc()
		return admission.Allowed("").WithWarnings(res.Warnings...)
	}
	for _, r := range res.Rules {
		decisions.WithLabelValues(kind, r, "denied").Inc()
	}
	name := req.Name
	if name == "" {
		name = "(generated)"
	}
	status := apierrors.NewInvalid(schema.GroupKind{Group: req.Kind.Group, Kind: kind}, name, res.Errors).ErrStatus
	resp := admission.Denied(status.Message)
	resp.Result = &status
	return resp.WithWarnings(res.Warnings...)
}

// decodeObject decodes the request's object (or, with old, the old object) as JSON into T.
func decodeObject[T any](req admission.Request, old bool) (*T, error) {
	raw := req.Object.Raw
	if old {
		raw = req.OldObject.Raw
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("admission request for %s %s has no object", req.Kind.Kind, req.Name)
	}
	var o T
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("decode %s: %w", req.Kind.Kind, err)
	}
	return &o, nil
}

// typed adapts a rule over one decoded object.
func typed[T any](rule func(*rules.Index, *T) rules.Result) func(context.Context, *rules.Index, admission.Request) (rules.Result, error) {
	return func(_ context.Context, ix *rules.Index, req admission.Request) (rules.Result, error) {
		o, err := decodeObject[T](req, false)
		if err != nil {
			return rules.Result{}, err
		}
		return rule(ix, o), nil
	}
}

// specRaw extracts the spec and deletionTimestamp of a raw object.
type specOnly struct {
	Metadata struct {
		DeletionTimestamp *string `json:"deletionTimestamp"`
	} `json:"metadata"`
	Spec json.RawMessage `json:"spec"`
}

// routeDoc is the part of a route request the rules read: decoding only metadata names and
// the spec skips status and managedFields.
type routeDoc[S any] struct {
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec S `json:"spec"`
}

// routeHandler adapts a route kind. On UPDATE, a route being deleted or whose spec did not
// change is allowed (a policy change must not block finalizer removal or label edits); the
// violations it still has are returned as warnings.
func routeHandler[S any](h *Handler, adapt func(ns, name string, spec S) rules.Route) func(context.Context, *rules.Index, admission.Request) (rules.Result, error) {
	return func(_ context.Context, ix *rules.Index, req admission.Request) (rules.Result, error) {
		o, err := decodeObject[routeDoc[S]](req, false)
		if err != nil {
			return rules.Result{}, err
		}
		ns := o.Metadata.Namespace
		if ns == "" {
			ns = req.Namespace
		}
		r := adapt(ns, o.Metadata.Name, o.Spec)
		var cluster rules.Cluster = rules.NoCluster{}
		if h.opts.Cluster.Known() {
			cluster = h.opts.Cluster
		}
		res := rules.ValidateRoute(ix, r, cluster)
		if req.Operation == admissionv1.Update && len(res.Errors) > 0 && unchangedOrDeleting(req) {
			for _, e := range res.Errors {
				res.Warnings = append(res.Warnings, "existing violation (spec unchanged, allowed): "+e.Error())
			}
			res.Errors, res.Rules = nil, nil
		}
		if r.Kind == rules.KindHTTPRoute && len(res.Errors) == 0 {
			res.Warnings = append(res.Warnings, h.sharedHostnameWarnings(ix, r)...)
		}
		return res, nil
	}
}

func unchangedOrDeleting(req admission.Request) bool {
	var n, o specOnly
	if json.Unmarshal(req.Object.Raw, &n) != nil || json.Unmarshal(req.OldObject.Raw, &o) != nil {
		return false
	}
	if n.Metadata.DeletionTimestamp != nil {
		return true
	}
	return jsonEqual(n.Spec, o.Spec)
}

func jsonEqual(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ca, _ := json.Marshal(x)
	cb, _ := json.Marshal(y)
	return bytes.Equal(ca, cb)
}

// sharedHostnameWarnings is an advisory: other HTTPRoutes already serve a hostname the route
// declares (same team, as ownership passed), so their rules merge by precedence. Shared hosts
// are split by path on purpose and are skipped.
func (h *Handler) sharedHostnameWarnings(ix *rules.Index, r rules.Route) []string {
	var out []string
	for _, raw := range r.Hostnames {
		host := rules.NormalizeHostname(raw)
		if len(ix.SharedTeams(host)) > 0 {
			continue
		}
		for _, other := range h.opts.Cluster.RoutesWithHostname(host, 2) {
			if other.Namespace == r.Namespace && other.Name == r.Name {
				continue
			}
			out = append(out, fmt.Sprintf("hostname %q is also served by HTTPRoute %s; rules merge by Gateway API precedence", host, other))
			break
		}
	}
	return out
}

func (h *Handler) node(_ context.Context, ix *rules.Index, req admission.Request) (rules.Result, error) {
	n, err := decodeObject[corev1.Node](req, false)
	if err != nil {
		return rules.Result{}, err
	}
	in := rules.NodePods{Name: n.Name, InstanceType: n.Labels[rules.InstanceTypeLabel]}
	if q, ok := n.Status.Capacity[corev1.ResourcePods]; ok {
		in.Capacity = int(q.Value())
	}
	if q, ok := n.Status.Allocatable[corev1.ResourcePods]; ok {
		in.Allocatable = int(q.Value())
	}
	return rules.ValidateNodePods(ix.Policy.Capacity, in), nil
}

// ciliumNode reads the few CiliumNode fields the rule needs without Cilium's Go types.
func (h *Handler) ciliumNode(_ context.Context, ix *rules.Index, req admission.Request) (rules.Result, error) {
	var cn struct {
		Metadata struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			ENI struct {
				InstanceType        string `json:"instance-type"`
				FirstInterfaceIndex *int   `json:"first-interface-index"`
			} `json:"eni"`
			IPAM struct {
				PreAllocate int `json:"pre-allocate"`
				MinAllocate int `json:"min-allocate"`
				MaxAllocate int `json:"max-allocate"`
			} `json:"ipam"`
		} `json:"spec"`
	}
	if len(req.Object.Raw) == 0 {
		return rules.Result{}, errors.New("admission request for CiliumNode has no object")
	}
	if err := json.Unmarshal(req.Object.Raw, &cn); err != nil {
		return rules.Result{}, fmt.Errorf("decode CiliumNode: %w", err)
	}
	it := cn.Spec.ENI.InstanceType
	if it == "" {
		it = cn.Metadata.Labels[rules.InstanceTypeLabel]
	}
	return rules.ValidateCiliumNode(ix.Policy.Capacity, rules.CiliumNodeIPAM{
		Name: cn.Metadata.Name, InstanceType: it, FirstInterfaceIndex: cn.Spec.ENI.FirstInterfaceIndex,
		PreAllocate: cn.Spec.IPAM.PreAllocate, MinAllocate: cn.Spec.IPAM.MinAllocate, MaxAllocate: cn.Spec.IPAM.MaxAllocate,
	}), nil
}

// configMap protects the policy ConfigMap: only policy writers may change or delete it, and
// a new policy must parse and compile (a broken push is refused here, not only at reload).
func (h *Handler) configMap(_ context.Context, ix *rules.Index, req admission.Request) (rules.Result, error) {
	if req.Namespace != h.opts.PolicyNamespace || req.Name != h.opts.PolicyName {
		return rules.Result{}, nil
	}
	res := rules.ValidatePolicyObjectWrite(ix, req.UserInfo.Username, req.UserInfo.Groups, h.opts.PolicyWriters)
	if len(res.Errors) > 0 || req.Operation == admissionv1.Delete {
		return res, nil
	}
	cm, err := decodeObject[corev1.ConfigMap](req, false)
	if err != nil {
		return rules.Result{}, err
	}
	p := field.NewPath("data").Key(PolicyKey)
	data, ok := cm.Data[PolicyKey]
	if !ok {
		res.Errors = append(res.Errors, field.Required(p, "the policy ConfigMap must hold the policy"))
		res.Rules = append(res.Rules, rules.RulePolicy)
		return res, nil
	}
	if _, err := ParsePolicy([]byte(data)); err != nil {
		res.Errors = append(res.Errors, field.Invalid(p, "(policy)", err.Error()))
		res.Rules = append(res.Rules, rules.RulePolicy)
	}
	return res, nil
}
