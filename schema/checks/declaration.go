package checks

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/enigate/enigate/schema/capacity"
	"github.com/enigate/enigate/schema/eksdata"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/rules"
	"github.com/enigate/enigate/schema/vpc"
)

// Declaration checks what the CRDs and the CUE schema cannot express: a Kubernetes minor EKS
// offers on day today, a known region and zones of that region, listeners that can share their
// ports, route hostnames some listener accepts, and node groups with room for workload pods.
// routes are the decoded HTTPRoutes (in env.Routes order when all decoded).
func Declaration(env model.Environment, routes []*gwv1.HTTPRoute, today time.Time) Report {
	var r Report
	r.Add(KubernetesVersion(env.Versions.Kubernetes, today, field.NewPath("versions", "kubernetes")))
	if regions, err := eksdata.DefaultRegions(); err != nil {
		r.errorf(field.NewPath("cluster", "region"), "region table: %v", err)
	} else {
		r.Errors = append(r.Errors, Region(regions, env.Cluster.Region, field.NewPath("cluster", "region"))...)
		r.Errors = append(r.Errors, AvailabilityZones(regions, env.Cluster.Region, ModelZones(env))...)
	}
	r.Errors = append(r.Errors, ListenerPorts(env)...)
	r.Errors = append(r.Errors, RouteHostnames(env, routes)...)
	r.Errors = append(r.Errors, NodeGroupRoom(env)...)
	return r
}

// KubernetesVersion refuses a minor EKS does not offer on day today (unknown, not yet
// released, or past the end of extended support), and warns when it is in extended support.
func KubernetesVersion(minor string, today time.Time, path *field.Path) Report {
	var r Report
	offered := strings.Join(eksdata.OfferedKubernetes(today), ", ")
	v, ok := eksdata.LookupKubernetes(minor)
	switch {
	case !ok:
		r.errorf(path, "%q is not a Kubernetes version EKS offers (allowed on %s: %s; source: the EKS release calendar)", minor, today.Format(time.DateOnly), offered)
	case today.Before(v.Released):
		r.errorf(path, "%s is not released on EKS before %s (allowed on %s: %s)", minor, v.Released.Format(time.DateOnly), today.Format(time.DateOnly), offered)
	case !today.Before(v.EndOfExtended):
		r.errorf(path, "%s reached the end of EKS extended support on %s: EKS upgrades such clusters itself (allowed on %s: %s)", minor, v.EndOfExtended.Format(time.DateOnly), today.Format(time.DateOnly), offered)
	case !today.Before(v.EndOfStandard):
		r.warnf(path, "%s is in EKS extended support (extra cost per cluster hour) since %s, until %s", minor, v.EndOfStandard.Format(time.DateOnly), v.EndOfExtended.Format(time.DateOnly))
	}
	return r
}

// Region refuses a region the table does not list.
func Region(regions *eksdata.Regions, region string, path *field.Path) field.ErrorList {
	if _, ok := regions.Lookup(region); ok {
		return nil
	}
	return field.ErrorList{field.Invalid(path, region, fmt.Sprintf("%q is not a known AWS region (allowed: %s; refresh the table with `enigate limits refresh`)", region, strings.Join(regions.Names(), ", ")))}
}

// ZoneRef is an Availability Zone named at a declaration path.
type ZoneRef struct {
	Path *field.Path
	AZ   string
}

// AvailabilityZones refuses zones that are not zones of region. An unknown region is left to
// Region.
func AvailabilityZones(regions *eksdata.Regions, region string, zones []ZoneRef) field.ErrorList {
	reg, ok := regions.Lookup(region)
	if !ok {
		return nil
	}
	var errs field.ErrorList
	for _, z := range zones {
		if slices.Contains(reg.Zones, z.AZ) {
			continue
		}
		errs = append(errs, &field.Error{Type: field.ErrorTypeInvalid, Field: z.Path.String(),
			Detail: fmt.Sprintf("%q is not an Availability Zone of region %s (allowed: %s)", z.AZ, region, strings.Join(reg.Zones, ", "))})
	}
	return errs
}

// ModelZones are the zones the declaration names: each subnet's, and each node group's that
// no subnet names (a node group's zones default to the private subnets').
func ModelZones(env model.Environment) []ZoneRef {
	var out []ZoneRef
	subnetAZ := map[string]bool{}
	for _, s := range env.VPC.Subnets {
		subnetAZ[s.AZ] = true
		if !env.VPC.SubnetsModelled {
			out = append(out, ZoneRef{Path: vpc.SubnetPath(nil, s), AZ: s.AZ})
		}
	}
	// eksctl creates the subnets: the zones are the declared vpc.availabilityZones.
	if env.VPC.SubnetsModelled {
		for i, az := range env.VPC.AvailabilityZones {
			out = append(out, ZoneRef{Path: field.NewPath("vpc", "availabilityZones").Index(i), AZ: az})
		}
	}
	for _, ng := range env.NodeGroups {
		for j, az := range ng.AvailabilityZones {
			if !subnetAZ[az] {
				out = append(out, ZoneRef{Path: field.NewPath("nodeGroups").Key(ng.Name).Child("availabilityZones").Index(j), AZ: az})
			}
		}
	}
	return out
}

// ListenerPorts refuses listeners of different protocols on one port of a Gateway.
//
// Gateway API v1.4.1 (sigs.k8s.io/gateway-api apis/v1/gateway_types.go, GatewaySpec.Listeners,
// "Compatible Listeners" and "Handling indistinct Listeners"): listeners are compatible only
// when they are distinct and the implementation can serve them all on its addresses; HTTP,
// HTTPS and TLS listeners sharing a port with a TCP listener are not distinct and MUST NOT be
// accepted; an implementation that cannot mix protocols on one port marks such listeners
// Conflicted (reason ProtocolConflict) and accepts none of them. A port is one NLB listener of
// one protocol in front of one Envoy listener: plaintext HTTP and TLS (HTTPS, TLS) cannot share
// it, nor TCP or UDP anything else. Same protocol, port and hostname is left to the CRD's CEL.
func ListenerPorts(env model.Environment) field.ErrorList {
	var errs field.ErrorList
	for _, g := range env.Gateways {
		byPort := map[int][]model.Listener{}
		var ports []int
		for _, l := range g.Listeners {
			if _, ok := byPort[l.Port]; !ok {
				ports = append(ports, l.Port)
			}
			byPort[l.Port] = append(byPort[l.Port], l)
		}
		for _, port := range ports {
			ls := byPort[port]
			first := ls[0]
			for _, l := range ls[1:] {
				if l.Protocol == first.Protocol {
					continue
				}
				errs = append(errs, &field.Error{Type: field.ErrorTypeInvalid,
					Field: field.NewPath("gateways").Key(g.Name).Child("listeners").Key(l.Name).Child("protocol").String(),
					Detail: fmt.Sprintf("%s on port %d conflicts with listener %s (%s on the same port): Gateway API listeners on one port must be compatible, and an %s and a %s listener cannot share a port (ProtocolConflict; use another port)",
						l.Protocol, port, first.Name, first.Protocol, first.Protocol, l.Protocol)})
			}
		}
	}
	return errs
}

// RouteHostnames refuses route hostnames that no listener of the route's parents accepts: a
// listener without hostname accepts any; otherwise the two must intersect, wildcards included
// (Gateway API v1.4.1 apis/v1/httproute_types.go, HTTPRouteSpec.Hostnames). Only HTTP and
// HTTPS listeners take HTTPRoutes. Parents that resolve to no declared Gateway are left to the
// ownership rules.
func RouteHostnames(env model.Environment, routes []*gwv1.HTTPRoute) field.ErrorList {
	var errs field.ErrorList
	for _, route := range routes {
		if len(route.Spec.Hostnames) == 0 {
			continue
		}
		var listeners []string // "namespace/gateway listener (hostname)", for the message
		var hostnames []string
		resolved, anyHost := false, false
		for _, pr := range route.Spec.ParentRefs {
			ns := route.Namespace
			if pr.Namespace != nil {
				ns = string(*pr.Namespace)
			}
			for _, g := range env.Gateways {
				if g.Name != string(pr.Name) || g.Namespace != ns {
					continue
				}
				for _, l := range g.Listeners {
					if pr.SectionName != nil && string(*pr.SectionName) != l.Name {
						continue
					}
					if pr.Port != nil && int(*pr.Port) != l.Port {
						continue
					}
					if l.Protocol != "HTTP" && l.Protocol != "HTTPS" {
						continue
					}
					resolved = true
					if l.Hostname == "" {
						anyHost = true
						continue
					}
					hostnames = append(hostnames, rules.NormalizeHostname(l.Hostname))
					listeners = append(listeners, fmt.Sprintf("%s/%s %s: %s", g.Namespace, g.Name, l.Name, l.Hostname))
				}
			}
		}
		if !resolved || anyHost {
			continue
		}
		for i, h := range route.Spec.Hostnames {
			hn := rules.NormalizeHostname(string(h))
			if slices.ContainsFunc(hostnames, func(lh string) bool { return rules.HostnamesOverlap(lh, hn) }) {
				continue
			}
			errs = append(errs, &field.Error{Type: field.ErrorTypeInvalid,
				Field:  field.NewPath("routes").Key(route.Name).Child("spec", "hostnames").Index(i).String(),
				Detail: fmt.Sprintf("%q matches no listener of the route's parents, so the route never serves it (listeners: %s)", string(h), strings.Join(listeners, ", "))})
		}
	}
	return errs
}

// DaemonSetsPerNode names the DaemonSet pods every node runs in the environment: each takes
// one of the kubelet's max-pods slots, host network or not.
func DaemonSetsPerNode(env model.Environment) []string {
	ds := []string{"cilium (agent)", "cilium-envoy"}
	if env.Cluster.OperatorIdentity == "podIdentity" {
		ds = append(ds, "eks-pod-identity-agent")
	}
	if env.Enigate.NodeVerify {
		ds = append(ds, "enigate-node-verify")
	}
	return ds
}

// NodeGroupRoom refuses node groups whose max pods leave no room for a workload pod once the
// DaemonSet pods every node runs are placed.
func NodeGroupRoom(env model.Environment) field.ErrorList {
	ds := DaemonSetsPerNode(env)
	var errs field.ErrorList
	for _, ng := range env.NodeGroups {
		maxPods, err := capacity.MaxPodsFor(env, ng)
		if err != nil {
			continue // reported by capacity.ValidateNodeGroups
		}
		if maxPods > len(ds) {
			continue
		}
		p := field.NewPath("nodeGroups").Key(ng.Name).Child("maxPodsPerNode")
		source := "declared"
		if ng.MaxPodsPerNode == 0 {
			source = "derived from the ENI model"
			p = field.NewPath("nodeGroups").Key(ng.Name).Child("instanceType")
		}
		errs = append(errs, &field.Error{Type: field.ErrorTypeInvalid, Field: p.String(),
			Detail: fmt.Sprintf("max pods %d (%s, %s) minus the %d DaemonSet pods every node runs (%s) leaves %d for workload pods (need at least %d max pods)",
				maxPods, source, ng.InstanceType, len(ds), strings.Join(ds, ", "), maxPods-len(ds), len(ds)+1)})
	}
	return errs
}
