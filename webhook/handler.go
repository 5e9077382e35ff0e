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
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/enigate/enigate/schema/contract"
	"github.com/enigate/enigate/schema/rules"
)

// Defaults for where the policy ConfigMap lives.
const (
	DefaultNamespace = contract.Namespace
	DefaultConfigMap = contract.PolicyConfigMap
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

// Handler is the admission.Handler: every kind goes through rules.Judge (the dispatch that
// enigate check and enigate audit share), except the policy ConfigMap, which only the
// webhook protects; the UPDATE ratchet is applied here.
type Handler struct {
	opts HandlerOptions
}

var _ admission.Handler = (*Handler)(nil)

// NewHandler builds the handler.
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
	return &Handler{opts: o}
}

// own returns the judge of a kind only the webhook judges, nil for the others (rules.Judge):
// the policy ConfigMap (only the webhook protects it), and Karpenter's NodePool and
// EC2NodeClass (webhook/karpenter.go), each judged with its counterpart from the webhook's cache.
func (h *Handler) own(gk schema.GroupKind) func(context.Context, *rules.Index, admission.Request) (rules.Result, error) {
	switch gk {
	case schema.GroupKind{Group: "", Kind: "ConfigMap"}:
		return h.configMap
	case schema.GroupKind{Group: rules.KarpenterGroup, Kind: rules.KindNodePool}:
		return h.nodePool
	case schema.GroupKind{Group: rules.KarpenterAWSGroup, Kind: rules.KindEC2NodeClass}:
		return h.ec2NodeClass
	}
	return nil
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
	own := h.own(schema.GroupKind{Group: req.Kind.Group, Kind: req.Kind.Kind})
	isConfigMap := req.Kind.Group == "" && req.Kind.Kind == "ConfigMap"
	if own == nil && !rules.Judged(req.Kind.Group, req.Kind.Kind) {
		decisions.WithLabelValues(kind, "", "allowed").Inc()
		return admission.Allowed("kind not checked by enigate")
	}
	if req.Operation == admissionv1.Delete && !isConfigMap {
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
	var res rules.Result
	var err error
	if own != nil {
		res, err = own(ctx, ix, req)
	} else if len(req.Object.Raw) == 0 {
		err = fmt.Errorf("admission request for %s %s has no object", req.Kind.Kind, req.Name)
	} else {
		res, _, err = rules.Judge(ix, rules.Input{
			Group: req.Kind.Group, Kind: req.Kind.Kind, Namespace: req.Namespace, Object: req.Object.Raw,
			PolicyWriter: rules.IsPolicyWriter(ix, req.UserInfo.Username, req.UserInfo.Groups, h.opts.PolicyWriters),
		}, h.cluster())
	}
	if err != nil {
		decisions.WithLabelValues(kind, "", "error").Inc()
		return admission.Errored(http.StatusBadRequest, err)
	}
	if !isConfigMap {
		res = h.ratchet(req, res)
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
	errs, more := res.Errors, 0
	if len(errs) > rules.MaxReported {
		errs, more = errs[:rules.MaxReported], len(errs)-rules.MaxReported
	}
	status := apierrors.NewInvalid(schema.GroupKind{Group: req.Kind.Group, Kind: kind}, name, errs).ErrStatus
	if more > 0 {
		status.Message += fmt.Sprintf(" (and %d more violations)", more)
	}
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

// specOnly is the part of an object the UPDATE ratchet compares for Gateway API kinds.
type specOnly struct {
	Spec json.RawMessage `json:"spec"`
}

func (h *Handler) cluster() rules.Cluster {
	if h.opts.Cluster.Known() {
		return h.opts.Cluster
	}
	return rules.NoCluster{}
}

// ratchet is the UPDATE ratchet: an UPDATE that leaves every input the rules judge unchanged
// (a finalizer removed, labels or annotations edited, status written) is allowed, its
// existing violations returned as warnings, so a policy change never blocks it. Anything else,
// also on an object being deleted, is judged in full. The judged inputs are the spec for the
// Gateway API kinds (namespace and name are immutable) and the normalised capacity inputs for
// Node and CiliumNode; the policy ConfigMap is never ratcheted.
func (h *Handler) ratchet(req admission.Request, res rules.Result) rules.Result {
	if req.Operation != admissionv1.Update || len(res.Errors) == 0 || !inputsUnchanged(req) {
		return res
	}
	for i, e := range res.Errors {
		if i == rules.MaxReported {
			res.Warnings = append(res.Warnings, fmt.Sprintf("and %d more existing violations", len(res.Errors)-i))
			break
		}
		res.Warnings = append(res.Warnings, "existing violation (judged inputs unchanged, allowed): "+e.Error())
	}
	res.Errors, res.Rules = nil, nil
	return res
}

func inputsUnchanged(req admission.Request) bool {
	if len(req.Object.Raw) == 0 || len(req.OldObject.Raw) == 0 {
		return false
	}
	switch {
	case req.Kind.Group == rules.GatewayGroup || req.Kind.Group == rules.XGatewayGroup:
		var n, o specOnly
		if json.Unmarshal(req.Object.Raw, &n) != nil || json.Unmarshal(req.OldObject.Raw, &o) != nil {
			return false
		}
		return jsonEqual(n.Spec, o.Spec)
	case req.Kind.Group == "" && req.Kind.Kind == "Node":
		var n, o corev1.Node
		if json.Unmarshal(req.Object.Raw, &n) != nil || json.Unmarshal(req.OldObject.Raw, &o) != nil {
			return false
		}
		a, b := rules.NodePodsOf(&n), rules.NodePodsOf(&o)
		return a.InstanceType == b.InstanceType && quantityEqual(a.Capacity, b.Capacity) && quantityEqual(a.Allocatable, b.Allocatable)
	case req.Kind.Group == "cilium.io" && req.Kind.Kind == "CiliumNode":
		a, errA := rules.CiliumNodeIPAMOf(req.Object.Raw)
		b, errB := rules.CiliumNodeIPAMOf(req.OldObject.Raw)
		if errA != nil || errB != nil {
			return false
		}
		a.Name, b.Name = "", ""
		fa, fb := a.FirstInterfaceIndex, b.FirstInterfaceIndex
		a.FirstInterfaceIndex, b.FirstInterfaceIndex = nil, nil
		return a == b && (fa == nil) == (fb == nil) && (fa == nil || *fa == *fb)
	}
	return false
}

func quantityEqual(a, b *resource.Quantity) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Cmp(*b) == 0
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

// configMap protects the policy ConfigMap: only policy writers may change or delete it, and
// a new policy must parse and compile (a broken push is refused here, not only at reload).
// The object is recognised by its own name (the old object's on DELETE), never by req.Name:
// a collection delete (DELETE .../configmaps?fieldSelector=...) is admitted once per object
// with an empty name (k8s.io/apiserver v0.37.0 pkg/endpoints/handlers/delete.go builds the
// attributes with name "", pkg/registry/rest/delete.go AdmissionToValidateObjectDeleteFunc
// adds each old object, pkg/registry/generic/registry/store.go DeleteCollection calls it per
// item).
func (h *Handler) configMap(ctx context.Context, ix *rules.Index, req admission.Request) (rules.Result, error) {
	if req.Namespace != h.opts.PolicyNamespace || !h.isPolicyObject(req) {
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
	if err := parsePolicyWithin(ctx, []byte(data), PolicyCheckBudget); err != nil {
		res.Errors = append(res.Errors, field.Invalid(p, "(policy)", err.Error()))
		res.Rules = append(res.Rules, rules.RulePolicy)
	}
	return res, nil
}

// isPolicyObject reports whether the request writes the policy ConfigMap, by the name in the
// object (the old object on DELETE); req.Name is empty for collection deletes.
func (h *Handler) isPolicyObject(req admission.Request) bool {
	raw := req.Object.Raw
	if req.Operation == admissionv1.Delete {
		raw = req.OldObject.Raw
	}
	var o struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &o) != nil {
		// No object to read: judge by the request's name, and a nameless request as the
		// policy object (deny rather than guess).
		return req.Name == h.opts.PolicyName || req.Name == ""
	}
	return o.Metadata.Name == h.opts.PolicyName
}
