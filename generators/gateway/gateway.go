// Package gateway renders the Gateway API side of an environment: namespaces with the labels
// listeners select on, the CiliumGatewayClassConfig and GatewayClass, Gateways with NLB
// annotations under spec.infrastructure, cert-manager Certificates, HTTPRoutes and exactly the
// ReferenceGrants the rendered cross-namespace references need.
package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/enigate/enigate/schema/model"
)

const (
	// ClassName is the GatewayClass enigate renders (the chart's own is turned off).
	ClassName = "cilium"
	// ClassConfigName is the CiliumGatewayClassConfig the class points at.
	ClassConfigName = "cilium-nlb"
	// ControllerName is Cilium's Gateway API controller.
	ControllerName = "io.cilium/gateway-controller"

	// TeamLabel marks a tenant namespace with its team.
	TeamLabel = "enigate.dev/team"
	// RoleLabel marks platform namespaces.
	RoleLabel = "enigate.dev/role"
	// NameLabel is the immutable namespace name label listeners select on.
	NameLabel = "kubernetes.io/metadata.name"
)

// Namespaces returns every namespace the overlay puts objects in, labelled by role and team.
func Namespaces(env model.Environment) []*corev1.Namespace {
	labels := map[string]map[string]string{}
	add := func(ns string, kv ...string) {
		if ns == "" {
			return
		}
		if labels[ns] == nil {
			labels[ns] = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			labels[ns][kv[i]] = kv[i+1]
		}
	}
	for _, ns := range model.PolicyFor(env).PlatformNamespaces {
		add(ns, RoleLabel, "platform")
	}
	for _, g := range env.Gateways {
		for _, l := range g.Listeners {
			if l.TLS != nil {
				add(l.TLS.SecretNamespace, RoleLabel, "platform")
			}
		}
	}
	for _, t := range env.Teams {
		for _, ns := range t.Namespaces {
			add(ns, TeamLabel, t.Name)
		}
		for _, b := range t.Backends {
			add(b.Namespace)
		}
	}
	names := make([]string, 0, len(labels))
	for ns := range labels {
		names = append(names, ns)
	}
	sort.Strings(names)
	out := make([]*corev1.Namespace, 0, len(names))
	for _, ns := range names {
		l := labels[ns]
		if len(l) == 0 {
			l = nil
		}
		out = append(out, &corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: l},
		})
	}
	return out
}

// Class returns the CiliumGatewayClassConfig (a LoadBalancer Service handled by the AWS Load
// Balancer Controller) and the GatewayClass that references it.
func Class(env model.Environment) []any {
	cfg := map[string]any{
		"apiVersion": "cilium.io/v2alpha1",
		"kind":       "CiliumGatewayClassConfig",
		"metadata":   map[string]any{"name": ClassConfigName, "namespace": env.PlatformNamespace},
		"spec": map[string]any{
			"service": map[string]any{
				"type":              "LoadBalancer",
				"loadBalancerClass": "service.k8s.aws/nlb",
			},
		},
	}
	ns := gwv1.Namespace(env.PlatformNamespace)
	class := &gwv1.GatewayClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "GatewayClass"},
		ObjectMeta: metav1.ObjectMeta{Name: ClassName},
		Spec: gwv1.GatewayClassSpec{
			ControllerName: ControllerName,
			ParametersRef: &gwv1.ParametersReference{
				Group: "cilium.io", Kind: "CiliumGatewayClassConfig", Name: ClassConfigName, Namespace: &ns,
			},
		},
	}
	return []any{cfg, class}
}

// LoadBalancerAnnotations are the NLB annotations for a Gateway's generated Service: the AWS
// Load Balancer Controller reads them from spec.infrastructure.annotations.
func LoadBalancerAnnotations(g model.Gateway) map[string]string {
	a := map[string]string{
		"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
		"service.beta.kubernetes.io/aws-load-balancer-scheme":          g.Scheme,
	}
	for k, v := range g.Annotations {
		a[k] = v
	}
	return a
}

// Gateways returns the Gateways and the cert-manager Certificates their listeners need.
func Gateways(env model.Environment) []any {
	var out []any
	for _, o := range DeclaredGateways(env) {
		out = append(out, o.Obj)
	}
	return out
}

// Declared is a rendered object and the declaration path it is rendered from.
type Declared struct {
	Obj  any
	From *field.Path
}

// DeclaredGateways is Gateways with where each object is declared: a Gateway at
// gateways[name], a Certificate at the listener's tls (gateways[web].listeners[https].tls).
func DeclaredGateways(env model.Environment) []Declared {
	teamNS := map[string][]string{}
	for _, t := range env.Teams {
		teamNS[t.Name] = t.Namespaces
	}
	var out []Declared
	for _, g := range env.Gateways {
		gp := field.NewPath("gateways").Key(g.Name)
		gw := &gwv1.Gateway{
			TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "Gateway"},
			ObjectMeta: metav1.ObjectMeta{Name: g.Name, Namespace: g.Namespace},
			Spec: gwv1.GatewaySpec{
				GatewayClassName: ClassName,
				Infrastructure:   &gwv1.GatewayInfrastructure{Annotations: annotationMap(LoadBalancerAnnotations(g))},
			},
		}
		var certs []Declared
		for _, l := range g.Listeners {
			gl := gwv1.Listener{
				Name:     gwv1.SectionName(l.Name),
				Protocol: gwv1.ProtocolType(l.Protocol),
				Port:     gwv1.PortNumber(l.Port),
				AllowedRoutes: &gwv1.AllowedRoutes{
					Namespaces: allowedNamespaces(l, teamNS),
				},
			}
			if l.Hostname != "" {
				h := gwv1.Hostname(l.Hostname)
				gl.Hostname = &h
			}
			if l.TLS != nil {
				mode := gwv1.TLSModeTerminate
				ref := gwv1.SecretObjectReference{Name: gwv1.ObjectName(l.TLS.SecretName)}
				if l.TLS.SecretNamespace != g.Namespace {
					ns := gwv1.Namespace(l.TLS.SecretNamespace)
					ref.Namespace = &ns
				}
				gl.TLS = &gwv1.ListenerTLSConfig{Mode: &mode, CertificateRefs: []gwv1.SecretObjectReference{ref}}
				if l.TLS.Issuer != "" {
					certs = append(certs, Declared{certificate(l), gp.Child("listeners").Key(l.Name).Child("tls")})
				}
			}
			gw.Spec.Listeners = append(gw.Spec.Listeners, gl)
		}
		out = append(out, Declared{gw, gp})
		out = append(out, certs...)
	}
	return out
}

func annotationMap(in map[string]string) map[gwv1.AnnotationKey]gwv1.AnnotationValue {
	out := make(map[gwv1.AnnotationKey]gwv1.AnnotationValue, len(in))
	for k, v := range in {
		out[gwv1.AnnotationKey(k)] = gwv1.AnnotationValue(v)
	}
	return out
}

// allowedNamespaces selects the listener's teams' namespaces by their immutable name label.
// from: All is rendered only for the schema's explicit allowAll (the checks reject it for
// tenant listeners).
func allowedNamespaces(l model.Listener, teamNS map[string][]string) *gwv1.RouteNamespaces {
	if l.AllowAll {
		from := gwv1.NamespacesFromAll
		return &gwv1.RouteNamespaces{From: &from}
	}
	var names []string
	for _, t := range l.Teams {
		names = append(names, teamNS[t]...)
	}
	sort.Strings(names)
	from := gwv1.NamespacesFromSelector
	return &gwv1.RouteNamespaces{
		From: &from,
		Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: NameLabel, Operator: metav1.LabelSelectorOpIn, Values: names,
		}}},
	}
}

func certificate(l model.Listener) map[string]any {
	return map[string]any{
		"apiVersion": "cert-manager.io/v1",
		"kind":       "Certificate",
		"metadata":   map[string]any{"name": l.TLS.SecretName, "namespace": l.TLS.SecretNamespace},
		"spec": map[string]any{
			"secretName": l.TLS.SecretName,
			"dnsNames":   []any{l.Hostname},
			"issuerRef":  map[string]any{"name": l.TLS.Issuer, "kind": l.TLS.IssuerKind, "group": "cert-manager.io"},
			"privateKey": map[string]any{"rotationPolicy": "Always"},
		},
	}
}

// Routes decodes the environment's route specs strictly into HTTPRoutes. Unknown or mistyped
// fields are reported per route with their path.
func Routes(env model.Environment, path *field.Path) ([]*gwv1.HTTPRoute, field.ErrorList) {
	var out []*gwv1.HTTPRoute
	var errs field.ErrorList
	for _, r := range env.Routes {
		p := path.Key(r.Name).Child("spec")
		raw, err := json.Marshal(r.Spec)
		if err != nil {
			errs = append(errs, field.Invalid(p, "", err.Error()))
			continue
		}
		var spec gwv1.HTTPRouteSpec
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&spec); err != nil {
			errs = append(errs, field.Invalid(p, "", fmt.Sprintf("not an HTTPRoute spec: %v", err)))
			continue
		}
		out = append(out, &gwv1.HTTPRoute{
			TypeMeta: metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "HTTPRoute"},
			ObjectMeta: metav1.ObjectMeta{
				Name: r.Name, Namespace: r.Namespace,
				Labels: map[string]string{TeamLabel: r.Team},
			},
			Spec: spec,
		})
	}
	return out, errs
}

// ReferenceGrants returns one grant per target (namespace, kind, name) that the Gateways'
// certificateRefs and the routes' backendRefs reach across namespaces, each naming its target.
func ReferenceGrants(env model.Environment, routes []*gwv1.HTTPRoute) []*gwv1b1.ReferenceGrant {
	type key struct{ ns, kind, name, fromKind, fromNS string }
	seen := map[key]bool{}
	var keys []key
	add := func(k key) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, g := range env.Gateways {
		for _, l := range g.Listeners {
			if l.TLS != nil && l.TLS.SecretNamespace != g.Namespace {
				add(key{l.TLS.SecretNamespace, "Secret", l.TLS.SecretName, "Gateway", g.Namespace})
			}
		}
	}
	for _, r := range routes {
		for _, rule := range r.Spec.Rules {
			for _, b := range rule.BackendRefs {
				if b.Namespace == nil || string(*b.Namespace) == r.Namespace {
					continue
				}
				kind := "Service"
				if b.Kind != nil {
					kind = string(*b.Kind)
				}
				add(key{string(*b.Namespace), kind, string(b.Name), "HTTPRoute", r.Namespace})
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return fmt.Sprint(a) < fmt.Sprint(b)
	})
	var out []*gwv1b1.ReferenceGrant
	for _, k := range keys {
		name := gwv1b1.ObjectName(k.name)
		out = append(out, &gwv1b1.ReferenceGrant{
			TypeMeta: metav1.TypeMeta{APIVersion: gwv1b1.GroupVersion.String(), Kind: "ReferenceGrant"},
			ObjectMeta: metav1.ObjectMeta{
				Name:      fmt.Sprintf("%s-%s-to-%s", strings.ToLower(k.fromKind), k.fromNS, k.name),
				Namespace: k.ns,
			},
			Spec: gwv1b1.ReferenceGrantSpec{
				From: []gwv1b1.ReferenceGrantFrom{{Group: gwv1.GroupName, Kind: gwv1b1.Kind(k.fromKind), Namespace: gwv1b1.Namespace(k.fromNS)}},
				To:   []gwv1b1.ReferenceGrantTo{{Group: "", Kind: gwv1b1.Kind(k.kind), Name: &name}},
			},
		})
	}
	return out
}
