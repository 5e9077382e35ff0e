package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1a2 "sigs.k8s.io/gateway-api/apis/v1alpha2"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	gwxv1a1 "sigs.k8s.io/gateway-api/apisx/v1alpha1"
)

// This file is the one place that says which rule judges which kind. The webhook, `enigate
// check` (offline, in team CI) and `enigate audit` (existing objects) all judge through Judge,
// so a manifest gets the same verdict in CI, at admission and in the cluster's reports.

// Input is one object to judge, as the API server sends it to the webhook.
type Input struct {
	Group, Kind string
	// Namespace is used when the object's metadata has none (the admission request's).
	Namespace string
	// Object is the object as JSON.
	Object []byte
	// OldObject is the object before an UPDATE (JSON); nil for CREATE, audit and check.
	OldObject []byte
}

// HostnameRoutes is implemented by clusters that index HTTPRoutes by normalised hostname;
// Judge then warns when another HTTPRoute already serves a hostname a route declares.
type HostnameRoutes interface {
	RoutesWithHostname(h string, limit int64) []types.NamespacedName
}

// RuleDecode names errors of objects that do not decode (check and audit report them).
const RuleDecode = "decode"

type judgeFunc func(ix *Index, in Input, c Cluster) (Result, error)

var judges = map[schema.GroupKind]judgeFunc{
	{Group: GatewayGroup, Kind: KindHTTPRoute}: jsonRoute(func(ns, name string, s gwv1.HTTPRouteSpec) Route {
		return FromHTTPRoute(&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: s})
	}),
	{Group: GatewayGroup, Kind: KindGRPCRoute}: jsonRoute(func(ns, name string, s gwv1.GRPCRouteSpec) Route {
		return FromGRPCRoute(&gwv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: s})
	}),
	{Group: GatewayGroup, Kind: KindTLSRoute}: jsonRoute(func(ns, name string, s gwv1a2.TLSRouteSpec) Route {
		return FromTLSRoute(&gwv1a2.TLSRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: s})
	}),
	{Group: GatewayGroup, Kind: KindTCPRoute}: jsonRoute(func(ns, name string, s gwv1a2.TCPRouteSpec) Route {
		return FromTCPRoute(&gwv1a2.TCPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: s})
	}),
	{Group: GatewayGroup, Kind: KindUDPRoute}: jsonRoute(func(ns, name string, s gwv1a2.UDPRouteSpec) Route {
		return FromUDPRoute(&gwv1a2.UDPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: s})
	}),
	{Group: GatewayGroup, Kind: KindReferenceGrant}: jsonObject(func(ix *Index, o *gwv1b1.ReferenceGrant, _ Cluster) Result {
		return ValidateReferenceGrant(ix, o)
	}),
	{Group: GatewayGroup, Kind: KindGateway}: jsonObject(func(ix *Index, o *gwv1.Gateway, _ Cluster) Result { return ValidateGateway(ix, o) }),
	{Group: XGatewayGroup, Kind: KindXListenerSet}: jsonObject(func(ix *Index, o *gwxv1a1.XListenerSet, _ Cluster) Result {
		return ValidateListenerSet(ix, o)
	}),
	// The standard-channel ListenerSet (v1.5+) has XListenerSet's spec.
	{Group: GatewayGroup, Kind: KindListenerSet}: jsonObject(func(ix *Index, o *gwxv1a1.XListenerSet, _ Cluster) Result {
		return ValidateListenerSet(ix, o)
	}),
	{Group: "", Kind: KindNode}:                jsonObject(func(ix *Index, o *corev1.Node, _ Cluster) Result { return judgeNode(ix, o) }),
	{Group: CiliumGroup, Kind: KindCiliumNode}: judgeCiliumNode,
}

// Kinds judged besides the route kinds, Gateway and XListenerSet.
const (
	KindReferenceGrant = "ReferenceGrant"
	KindNode           = "Node"
	KindCiliumNode     = "CiliumNode"
	CiliumGroup        = "cilium.io"
)

// Judged reports whether enigate judges objects of group/kind. The policy ConfigMap is
// judged by the webhook alone (who writes it matters, not what it holds).
func Judged(group, kind string) bool {
	_, ok := judges[schema.GroupKind{Group: group, Kind: kind}]
	return ok
}

// JudgedKinds lists the judged group/kinds.
func JudgedKinds() []schema.GroupKind {
	out := make([]schema.GroupKind, 0, len(judges))
	for gk := range judges {
		out = append(out, gk)
	}
	return out
}

// Judge applies the rules of in's kind under policy ix, with cluster facts from c (nil: none).
// ok is false for kinds enigate does not judge; err is set when the object does not decode.
//
// Routes: on an UPDATE (OldObject set) of a route whose spec did not change, or that is being
// deleted, the violations it still has become warnings (a policy change must not block
// finalizer removal or label edits). HTTPRoutes get an advisory when c implements
// HostnameRoutes and another route already serves one of their hostnames.
func Judge(ix *Index, in Input, c Cluster) (res Result, ok bool, err error) {
	fn, ok := judges[schema.GroupKind{Group: in.Group, Kind: in.Kind}]
	if !ok {
		return Result{}, false, nil
	}
	if len(in.Object) == 0 {
		return Result{}, true, fmt.Errorf("%s has no object", in.Kind)
	}
	res, err = fn(ix, in, c)
	return res, true, err
}

// jsonObject decodes the object into T and applies rule.
func jsonObject[T any](rule func(*Index, *T, Cluster) Result) judgeFunc {
	return func(ix *Index, in Input, c Cluster) (Result, error) {
		var o T
		if err := json.Unmarshal(in.Object, &o); err != nil {
			return Result{}, fmt.Errorf("decode %s: %w", in.Kind, err)
		}
		return rule(ix, &o, c), nil
	}
}

// routeDoc is the part of a route the rules read: decoding only metadata names and the spec
// skips status and managedFields.
type routeDoc[S any] struct {
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec S `json:"spec"`
}

func jsonRoute[S any](adapt func(ns, name string, spec S) Route) judgeFunc {
	return func(ix *Index, in Input, c Cluster) (Result, error) {
		var o routeDoc[S]
		if err := json.Unmarshal(in.Object, &o); err != nil {
			return Result{}, fmt.Errorf("decode %s: %w", in.Kind, err)
		}
		ns := o.Metadata.Namespace
		if ns == "" {
			ns = in.Namespace
		}
		res := JudgeRoute(ix, adapt(ns, o.Metadata.Name, o.Spec), c)
		if in.OldObject != nil && len(res.Errors) > 0 && unchangedOrDeleting(in.Object, in.OldObject) {
			for _, e := range res.Errors {
				res.Warnings = append(res.Warnings, "existing violation (spec unchanged, allowed): "+e.Error())
			}
			res.Errors, res.Rules = nil, nil
		}
		return res, nil
	}
}

// JudgeRoute is the verdict on a reduced route: ValidateRoute (against the policy only when c
// knows nothing) plus, for HTTPRoutes without errors, the shared-hostname advisory.
func JudgeRoute(ix *Index, r Route, c Cluster) Result {
	var rc Cluster = NoCluster{}
	if c != nil && c.Known() {
		rc = c
	}
	res := ValidateRoute(ix, r, rc)
	if hr, ok := c.(HostnameRoutes); ok && r.Kind == KindHTTPRoute && len(res.Errors) == 0 {
		res.Warnings = append(res.Warnings, sharedHostnameWarnings(ix, r, hr)...)
	}
	return res
}

// sharedHostnameWarnings: other HTTPRoutes already serve a hostname the route declares (same
// team, as ownership passed), so their rules merge by precedence. Shared hosts are split by
// path on purpose and are skipped.
func sharedHostnameWarnings(ix *Index, r Route, c HostnameRoutes) []string {
	var out []string
	for _, raw := range r.Hostnames {
		host := NormalizeHostname(raw)
		if len(ix.SharedTeams(host)) > 0 {
			continue
		}
		for _, other := range c.RoutesWithHostname(host, 2) {
			if other.Namespace == r.Namespace && other.Name == r.Name {
				continue
			}
			out = append(out, fmt.Sprintf("hostname %q is also served by HTTPRoute %s; rules merge by Gateway API precedence", host, other))
			break
		}
	}
	return out
}

type specOnly struct {
	Metadata struct {
		DeletionTimestamp *string `json:"deletionTimestamp"`
	} `json:"metadata"`
	Spec json.RawMessage `json:"spec"`
}

func unchangedOrDeleting(obj, old []byte) bool {
	var n, o specOnly
	if json.Unmarshal(obj, &n) != nil || json.Unmarshal(old, &o) != nil {
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

// judgeNode checks a Node's pod capacity (status.capacity/allocatable pods) against its
// instance type.
func judgeNode(ix *Index, n *corev1.Node) Result {
	in := NodePods{Name: n.Name, InstanceType: n.Labels[InstanceTypeLabel]}
	if q, ok := n.Status.Capacity[corev1.ResourcePods]; ok {
		in.Capacity = podCount(q)
	}
	if q, ok := n.Status.Allocatable[corev1.ResourcePods]; ok {
		in.Allocatable = podCount(q)
	}
	return ValidateNodePods(ix.Policy.Capacity, in)
}

// podCount converts a pod quantity without wrapping: values beyond int32 saturate (any of
// them exceeds every instance type's bound).
func podCount(q resource.Quantity) int {
	if q.CmpInt64(math.MaxInt32) > 0 {
		return math.MaxInt32
	}
	return int(q.Value())
}

// judgeCiliumNode reads the few CiliumNode fields the rule needs without Cilium's Go types.
func judgeCiliumNode(ix *Index, in Input, _ Cluster) (Result, error) {
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
	if err := json.Unmarshal(in.Object, &cn); err != nil {
		return Result{}, fmt.Errorf("decode CiliumNode: %w", err)
	}
	it := cn.Spec.ENI.InstanceType
	if it == "" {
		it = cn.Metadata.Labels[InstanceTypeLabel]
	}
	return ValidateCiliumNode(ix.Policy.Capacity, CiliumNodeIPAM{
		Name: cn.Metadata.Name, InstanceType: it, FirstInterfaceIndex: cn.Spec.ENI.FirstInterfaceIndex,
		PreAllocate: cn.Spec.IPAM.PreAllocate, MinAllocate: cn.Spec.IPAM.MinAllocate, MaxAllocate: cn.Spec.IPAM.MaxAllocate,
	}), nil
}

// JudgeObject judges a typed object (the audit's cached objects) without a JSON round trip
// where the kind has a typed rule; other kinds go through Judge. ok is false for kinds
// enigate does not judge.
func JudgeObject(ix *Index, obj any, c Cluster) (res Result, ok bool, err error) {
	switch o := obj.(type) {
	case *gwv1.HTTPRoute:
		return JudgeRoute(ix, FromHTTPRoute(o), c), true, nil
	case *gwv1.GRPCRoute:
		return JudgeRoute(ix, FromGRPCRoute(o), c), true, nil
	case *gwv1a2.TLSRoute:
		return JudgeRoute(ix, FromTLSRoute(o), c), true, nil
	case *gwv1a2.TCPRoute:
		return JudgeRoute(ix, FromTCPRoute(o), c), true, nil
	case *gwv1a2.UDPRoute:
		return JudgeRoute(ix, FromUDPRoute(o), c), true, nil
	case *gwv1b1.ReferenceGrant:
		return ValidateReferenceGrant(ix, o), true, nil
	case *gwv1.Gateway:
		return ValidateGateway(ix, o), true, nil
	case *gwxv1a1.XListenerSet:
		return ValidateListenerSet(ix, o), true, nil
	case *corev1.Node:
		return judgeNode(ix, o), true, nil
	}
	return Result{}, false, fmt.Errorf("no typed rule for %T (use Judge with its JSON)", obj)
}
