package rules

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
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
	// PolicyWriter is true when the writer may change the policy (the webhook knows from the
	// request's user; check and audit judge as a tenant would be judged).
	PolicyWriter bool
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
	{Group: GatewayGroup, Kind: KindReferenceGrant}: func(ix *Index, in Input, c Cluster) (Result, error) {
		return jsonObject(func(ix *Index, o *gwv1b1.ReferenceGrant, _ Cluster) Result {
			return ValidateReferenceGrantBy(ix, o, in.PolicyWriter)
		})(ix, in, c)
	},
	{Group: GatewayGroup, Kind: KindGateway}:       jsonObject(func(ix *Index, o *gwv1.Gateway, _ Cluster) Result { return ValidateGateway(ix, o) }),
	{Group: XGatewayGroup, Kind: KindXListenerSet}: jsonObject(ValidateListenerSetIn),
	// The standard-channel ListenerSet (v1.5+) has XListenerSet's spec.
	{Group: GatewayGroup, Kind: KindListenerSet}: jsonObject(ValidateListenerSetIn),
	{Group: "", Kind: KindNode}: jsonObject(func(ix *Index, o *corev1.Node, _ Cluster) Result {
		return ValidateNodePods(ix.Policy.Capacity, NodePodsOf(o))
	}),
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
// HTTPRoutes get an advisory when c implements HostnameRoutes and another route already
// serves one of their hostnames. The UPDATE ratchet is the webhook's (it alone sees updates).
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
		return JudgeRoute(ix, adapt(ns, o.Metadata.Name, o.Spec), c), nil
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

// judgeCiliumNode reads the few CiliumNode fields the rule needs without Cilium's Go types.
func judgeCiliumNode(ix *Index, in Input, _ Cluster) (Result, error) {
	cn, err := CiliumNodeIPAMOf(in.Object)
	if err != nil {
		return Result{}, err
	}
	return ValidateCiliumNode(ix.Policy.Capacity, cn), nil
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
		return ValidateReferenceGrantBy(ix, o, false), true, nil
	case *gwv1.Gateway:
		return ValidateGateway(ix, o), true, nil
	case *gwxv1a1.XListenerSet:
		return ValidateListenerSetIn(ix, o, c), true, nil
	case *corev1.Node:
		return ValidateNodePods(ix.Policy.Capacity, NodePodsOf(o)), true, nil
	}
	return Result{}, false, fmt.Errorf("no typed rule for %T (use Judge with its JSON)", obj)
}
