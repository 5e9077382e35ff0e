package checks

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/enigate/enigate/schema/capacity"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/rules"
	"github.com/enigate/enigate/schema/support"
)

// MaxInfrastructureAnnotations is the Gateway API's limit on spec.infrastructure.annotations.
const MaxInfrastructureAnnotations = 8

// badLBAnnotations are AWS load-balancer annotations that do not do what the guide expects.
var badLBAnnotations = map[string]func(v string) string{
	"service.beta.kubernetes.io/aws-load-balancer-type": func(v string) string {
		if v == "nlb" {
			return `"nlb" selects the legacy in-tree controller, which ignores nlb-target-type and scheme (use "external" with the AWS Load Balancer Controller; enigate sets loadBalancerClass service.k8s.aws/nlb)`
		}
		return ""
	},
	"service.beta.kubernetes.io/aws-load-balancer-backend-protocol": func(string) string {
		return "is a Classic Load Balancer annotation, ignored for NLBs (Envoy terminates TLS; remove it)"
	},
	"service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": func(string) string {
		return "is deprecated (use aws-load-balancer-attributes: load_balancing.cross_zone.enabled=true)"
	},
}

// Environment checks the declaration as a whole: versions, identity, ownership delegations,
// listeners, load-balancer annotations, subnets and ENI capacity.
func Environment(env model.Environment, vendoredGatewayAPI []string) Report {
	var r Report
	// The support matrix: the chart, and the Gateway API release it works with.
	versionErrs, versionWarns := support.Check(env.Versions, field.NewPath("versions"))
	r.Errors = append(r.Errors, versionErrs...)
	r.Warnings = append(r.Warnings, versionWarns...)
	if len(env.Karpenter.NodePools) > 0 {
		r.Warnings = append(r.Warnings, support.CheckKarpenter(env.Versions.Karpenter, env.Versions.Kubernetes, field.NewPath("versions", "karpenter"))...)
	}
	if !slices.Contains(vendoredGatewayAPI, env.Versions.GatewayAPI) {
		r.errorf(field.NewPath("versions", "gatewayAPI"), "%s is not vendored (allowed: %s)", env.Versions.GatewayAPI, strings.Join(vendoredGatewayAPI, ", "))
	}
	if env.Cluster.AutoMode {
		r.errorf(field.NewPath("cluster", "autoMode"), "is true (EKS Auto Mode nodes use AWS-managed networking; Cilium ENI IPAM is not supported there)")
	}
	if env.Cluster.OperatorIdentity == "irsa" && env.Cluster.OperatorRoleARN == "" {
		r.errorf(field.NewPath("cluster", "operatorRoleARN"), "is empty (IRSA needs the role ARN for eni.iamRole; eksctl creates it with --role-only)")
	}

	// Ownership: the policy the webhook will enforce must compile (delegations disjoint, ...).
	_, errs := rules.CompilePolicy(model.PolicyFor(env))
	r.Errors = append(r.Errors, errs...)
	r.Errors = append(r.Errors, rules.ValidateGatewayListeners(env, field.NewPath("gateways"))...)

	hasPublic := slices.ContainsFunc(env.VPC.Subnets, func(s model.Subnet) bool { return s.Kind == "public" })
	for _, g := range env.Gateways {
		gp := field.NewPath("gateways").Key(g.Name)
		ann := map[string]bool{}
		for k := range g.Annotations {
			ann[k] = true
		}
		if n := len(ann) + 2; n > MaxInfrastructureAnnotations {
			r.errorf(gp.Child("annotations"), "%d infrastructure annotations with the 2 enigate renders (at most %d)", n, MaxInfrastructureAnnotations)
		}
		for _, k := range sortedStrings(ann) {
			if check, ok := badLBAnnotations[k]; ok {
				if msg := check(g.Annotations[k]); msg != "" {
					r.errorf(gp.Child("annotations").Key(k), "%s", msg)
				}
			}
		}
		if g.Scheme == "internet-facing" && !hasPublic {
			r.errorf(gp.Child("scheme"), "is internet-facing but the VPC declares no public subnets (an internet-facing NLB needs public subnets tagged kubernetes.io/role/elb=1, which eksctl tags)")
		}
		for _, l := range g.Listeners {
			lp := gp.Child("listeners").Key(l.Name)
			switch {
			case l.Protocol == "HTTPS" && l.TLS == nil:
				r.errorf(lp.Child("tls"), "is missing (an HTTPS listener terminates TLS: name a Secret or a cert-manager issuer)")
			case (l.Protocol == "HTTP" || l.Protocol == "TCP" || l.Protocol == "UDP") && l.TLS != nil:
				r.errorf(lp.Child("tls"), "is set on a %s listener (tls only on HTTPS or TLS listeners)", l.Protocol)
			}
			if l.TLS != nil && l.TLS.Issuer != "" && l.Hostname == "" {
				r.errorf(lp.Child("hostname"), "is empty (a cert-manager Certificate needs the listener hostname as its DNS name)")
			}
		}
	}

	operatorPlacement(&r, env)
	r.Errors = append(r.Errors, capacity.ValidateNodeGroups(env, nil)...)
	_, subnetErrs, warnings := capacity.SubnetUsage(env, nil)
	r.Errors = append(r.Errors, subnetErrs...)
	r.Warnings = append(r.Warnings, warnings...)
	return r
}

// operatorPlacement: the chart gives the Cilium operator a required pod anti-affinity on
// kubernetes.io/hostname (values.yaml operator.affinity, charts 1.18 to 1.20) and a toleration
// for every taint, so its replicas need that many nodes; with fewer, the extra replicas stay
// Pending and a rollout of the operator Deployment never completes. Counted against the nodes
// every node group keeps at its minimum, unless the environment overrides the affinity.
func operatorPlacement(r *Report, env model.Environment) {
	if op, ok := env.Overrides.CiliumValues["operator"].(map[string]any); ok {
		if _, set := op["affinity"]; set {
			return
		}
	}
	nodes := 0
	for _, ng := range env.NodeGroups {
		nodes += ng.MinSize
	}
	if env.Cilium.OperatorReplicas > nodes {
		r.errorf(field.NewPath("cilium", "operatorReplicas"), "is %d, but the node groups' minSize adds up to %d nodes and each replica needs its own node (the chart's required anti-affinity on kubernetes.io/hostname; allowed: at most %d, or raise a minSize)",
			env.Cilium.OperatorReplicas, nodes, nodes)
	}
}

// renderedCluster answers the ownership rules from the rendered overlay: its Gateways and the
// ReferenceGrants it renders.
type renderedCluster struct {
	env    model.Environment
	grants []*gwv1b1.ReferenceGrant
}

func (c renderedCluster) Known() bool { return true }

func (c renderedCluster) GatewayListeners(ns, name string) ([]string, bool) {
	for _, g := range c.env.Gateways {
		if g.Namespace == ns && g.Name == name {
			var out []string
			for _, l := range g.Listeners {
				out = append(out, l.Name)
			}
			return out, true
		}
	}
	return nil, false
}

func (c renderedCluster) ReferenceGrants(ns string) []gwv1b1.ReferenceGrant {
	var out []gwv1b1.ReferenceGrant
	for _, g := range c.grants {
		if g.Namespace == ns {
			out = append(out, *g)
		}
	}
	return out
}

// Routes checks the rendered HTTPRoutes with the webhook's ownership rules against the
// rendered Gateways and grants, plus the guide's missing parentRefs namespace.
func Routes(env model.Environment, routes []*gwv1.HTTPRoute, grants []*gwv1b1.ReferenceGrant) Report {
	var r Report
	ix, errs := rules.CompilePolicy(model.PolicyFor(env))
	if len(errs) > 0 {
		return r // reported by Environment
	}
	teams := map[string]model.Team{}
	for _, t := range env.Teams {
		teams[t.Name] = t
	}
	cluster := renderedCluster{env: env, grants: grants}
	for i, route := range routes {
		decl := env.Routes[i]
		rp := field.NewPath("routes").Key(route.Name)
		t, ok := teams[decl.Team]
		if !ok {
			r.errorf(rp.Child("team"), "%q is not a team (allowed: %s)", decl.Team, strings.Join(teamNames(env), ", "))
			continue
		}
		if !slices.Contains(t.Namespaces, route.Namespace) {
			r.errorf(rp.Child("namespace"), "%q is not a namespace of team %s (allowed: %s)", route.Namespace, t.Name, strings.Join(t.Namespaces, ", "))
			continue
		}
		for j, pr := range route.Spec.ParentRefs {
			if pr.Namespace != nil {
				continue
			}
			if _, own := cluster.GatewayListeners(route.Namespace, string(pr.Name)); own {
				continue
			}
			for _, g := range env.Gateways {
				if g.Name == string(pr.Name) {
					r.errorf(rp.Child("spec", "parentRefs").Index(j).Child("namespace"), "is missing, so the route points at a Gateway %q in its own namespace %s, which does not exist (the Gateway is in namespace %s)", g.Name, route.Namespace, g.Namespace)
				}
			}
		}
		res := rules.ValidateRoute(ix, rules.FromHTTPRoute(route), cluster)
		for _, e := range res.Errors {
			c := *e
			c.Field = rp.String() + "." + strings.TrimPrefix(c.Field, "metadata.")
			r.Errors = append(r.Errors, &c)
		}
		for _, w := range res.Warnings {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %s", rp, w))
		}
	}
	return r
}

func teamNames(env model.Environment) []string {
	var out []string
	for _, t := range env.Teams {
		out = append(out, t.Name)
	}
	return out
}

func sortedStrings(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
