package upgrade

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/enigate/enigate/generators/cilium"
	"github.com/enigate/enigate/generators/gateway"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/support"
)

// minorAtATime is where Cilium says to move one minor at a time, from the newest patch.
const minorAtATime = "cilium/cilium v1.20.0 Documentation/operations/upgrade-notes.inc"

// experimentalTLSRouteURL is the upstream experimental TLSRoute CRD of a Gateway API release.
func experimentalTLSRouteURL(version string) string {
	return "https://raw.githubusercontent.com/kubernetes-sigs/gateway-api/" + version + "/config/crd/experimental/gateway.networking.k8s.io_tlsroutes.yaml"
}

const tlsRoutesCRD = "crds/gateway.networking.k8s.io_tlsroutes.yaml"

// steps orders the path: per Cilium minor (newest patch of each), operator IAM, Gateway API
// CRDs, Cilium; Kubernetes one minor at a time where both Cilium releases are tested on it;
// node roll where node settings change.
func steps(env model.Environment, from, to model.Versions, p *Plan) ([]Step, []PathBreakage) {
	var out []Step
	var breaks []PathBreakage
	add := func(s Step) int { out = append(out, s); return len(out) }

	cur, _ := support.LookupCilium(from.Cilium)
	var hops []support.Cilium
	for _, c := range support.Ciliums[ciliumIndex(from.Cilium)+1 : ciliumIndex(to.Cilium)+1] {
		hops = append(hops, c)
	}
	curK, lastK := support.MinorNumber(from.Kubernetes), support.MinorNumber(to.Kubernetes)
	curGW := from.GatewayAPI
	nodeRoll := slices.ContainsFunc(p.Files, func(f FileChange) bool { return f.Path == "eksctl/nodegroups.yaml" })
	iamDone := false
	pin := func(v model.Versions) Step {
		return Step{
			Title:    fmt.Sprintf("Pin versions {kubernetes: %q, cilium: %q, gatewayAPI: %q} in environment.cue and render", v.Kubernetes, v.Cilium, v.GatewayAPI),
			Why:      "the overlay is rendered for these pins; apply it by the steps below, not by a GitOps sync of the whole overlay (pause it until they have run)",
			Commands: []string{"enigate render .", "git diff --stat ."},
		}
	}
	state := from
	k8s := func(m int) string { return "1." + strconv.Itoa(m) }

	for len(hops) > 0 || curK < lastK {
		if len(hops) > 0 && (slices.Contains(hops[0].Kubernetes, k8s(curK)) || curK >= lastK) {
			c := hops[0]
			hops = hops[1:]
			gw := curGW
			if len(hops) == 0 {
				gw = to.GatewayAPI
			} else if support.Minor(curGW) != c.GatewayAPI {
				gw = c.GatewayAPIPin
			}
			if !slices.Contains(c.Kubernetes, k8s(curK)) {
				p.Warnings = append(p.Warnings, fmt.Sprintf("path: Cilium %s runs on Kubernetes %s, which upstream does not test it on (tested: %s)", c.Version, k8s(curK), strings.Join(c.Kubernetes, ", ")))
			}
			state.Cilium, state.GatewayAPI, state.Kubernetes = c.Version, gw, k8s(curK)
			add(pin(state))

			iam := Step{Title: "Operator IAM policy before the new operator starts"}
			switch {
			case iamDone:
			case len(p.IAM) == 0:
				iam.Why = "unchanged: the rendered eksctl/identities.yaml grants the same actions for both releases"
			default:
				iam.Why = "the new operator calls EC2 with the added actions from its first reconcile"
				if env.Cluster.OperatorIdentity == "irsa" {
					iam.Commands = []string{"eksctl update iamserviceaccount --config-file eksctl/identities.yaml --approve"}
				} else {
					iam.Commands = []string{"eksctl update podidentityassociation --config-file eksctl/identities.yaml"}
				}
			}
			if !iamDone {
				add(iam)
				iamDone = true
			}

			crdStep := 0
			if gw != curGW {
				s := Step{Title: fmt.Sprintf("Gateway API CRDs %s -> %s before Cilium %s", curGW, gw, c.Version),
					Why: fmt.Sprintf("the Cilium %s operator checks for %s when it starts and does not start its Gateway API controller without them", c.Version, strings.Join(c.RequiredCRDs, ", "))}
				if cur.ExperimentalTLSRoute && !c.ExperimentalTLSRoute {
					s.Why += fmt.Sprintf("; TLSRoute comes from the %s experimental channel first, which serves v1 and the v1alpha2 the running Cilium %s operator watches (the standard CRD does not: cilium/cilium#44920), and keeps stored TLSRoutes readable", gw, cur.Version)
					s.Commands = []string{
						"kubectl get tlsroutes.gateway.networking.k8s.io -A -o yaml > tlsroutes-backup.yaml",
						"kubectl apply --server-side -f " + experimentalTLSRouteURL(gw),
					}
					for _, f := range p.newCRDs {
						if f != tlsRoutesCRD {
							s.Commands = append(s.Commands, "kubectl apply --server-side -f "+f)
						}
					}
				} else {
					s.Commands = []string{"kubectl apply --server-side -k crds/"}
				}
				crdStep = add(s)
			}
			ciliumStep := add(Step{
				Title: fmt.Sprintf("Cilium %s -> %s", cur.Version, c.Version),
				Why:   "one minor at a time, from the newest patch of the current one (" + minorAtATime + "); agents and Envoy roll as DaemonSets, connections through Envoy (every Gateway listener) are reset as each node's Envoy restarts",
				Commands: []string{
					"helm upgrade cilium cilium --repo " + cilium.ChartRepo + " --version " + c.Version + " --namespace kube-system -f cilium/values.yaml",
					"kubectl -n kube-system rollout status deployment/cilium-operator --timeout 10m",
					"kubectl -n kube-system rollout status daemonset/cilium --timeout 30m",
					"kubectl -n kube-system rollout status daemonset/cilium-envoy --timeout 30m",
					"kubectl wait gatewayclass/" + gateway.ClassName + " --for=condition=Accepted --timeout 5m",
				},
			})
			if cur.ExperimentalTLSRoute && !c.ExperimentalTLSRoute && gw != curGW {
				add(Step{
					Title: "TLSRoutes rewritten at v1, then the standard TLSRoute CRD",
					Why:   "the standard CRD serves only v1: objects still stored at v1alpha2 or v1alpha3 would be unreadable (Cilium " + c.Version + " upgrade notes)",
					Commands: []string{
						"kubectl get tlsroutes.v1.gateway.networking.k8s.io -A -o json | kubectl replace -f -",
						"kubectl apply --server-side -f " + tlsRoutesCRD,
						`kubectl patch crd tlsroutes.gateway.networking.k8s.io --subresource=status --type=merge -p '{"status":{"storedVersions":["v1"]}}'`,
					},
				})
			}
			breaks = append(breaks, pathBreakages(cur, c, curGW, gw, from.GatewayAPIChannel, crdStep, ciliumStep)...)
			cur, curGW = c, gw
			continue
		}
		next := curK + 1
		if !slices.Contains(cur.Kubernetes, k8s(next)) {
			p.Warnings = append(p.Warnings, fmt.Sprintf("path: Kubernetes %s runs Cilium %s, which upstream does not test on it (tested: %s)", k8s(next), cur.Version, strings.Join(cur.Kubernetes, ", ")))
		}
		state.Kubernetes, state.Cilium, state.GatewayAPI = k8s(next), cur.Version, curGW
		add(pin(state))
		s := Step{
			Title: fmt.Sprintf("Kubernetes %s -> %s: control plane, add-ons, then nodes", k8s(curK), k8s(next)),
			Why:   "EKS moves the control plane one minor at a time and nodes may not be newer than it; node groups are replaced node by node, pods drained",
			Commands: []string{
				"eksctl upgrade cluster --config-file eksctl/cluster.yaml --approve",
				fmt.Sprintf("eksctl update addon --name coredns --cluster %s --region %s --version latest --wait", env.Cluster.Name, env.Cluster.Region),
			},
		}
		for _, ng := range env.NodeGroups {
			s.Commands = append(s.Commands, fmt.Sprintf("eksctl upgrade nodegroup --name %s --cluster %s --region %s --kubernetes-version %s --wait", ng.Name, env.Cluster.Name, env.Cluster.Region, k8s(next)))
		}
		add(s)
		curK = next
	}
	if curGW != to.GatewayAPI {
		state.GatewayAPI = to.GatewayAPI
		add(pin(state))
		n := add(Step{Title: fmt.Sprintf("Gateway API CRDs %s -> %s", curGW, to.GatewayAPI), Commands: []string{"kubectl apply --server-side -k crds/"}})
		for _, b := range support.Breakages {
			if b.Cilium == cur.Minor() && slices.Contains(b.GatewayAPI, support.Minor(to.GatewayAPI)) && (b.Channel == "" || b.Channel == to.GatewayAPIChannel) {
				breaks = append(breaks, PathBreakage{State: fmt.Sprintf("Cilium %s with Gateway API %s (%s)", cur.Version, to.GatewayAPI, to.GatewayAPIChannel),
					What: b.What, Upstream: b.Upstream, Avoided: fmt.Sprintf("not avoided: step %d is this state (pin: %s)", n, b.Pin())})
			}
		}
	}
	if nodeRoll {
		s := Step{
			Title:    "Roll the node groups: their rendered settings change (eksctl/nodegroups.yaml)",
			Why:      "eksctl does not change maxPodsPerNode or labels of an existing managed node group: create the groups under new names, then drain and delete the old ones",
			Commands: []string{"eksctl create nodegroup --config-file eksctl/nodegroups.yaml"},
		}
		for _, ng := range env.NodeGroups {
			s.Commands = append(s.Commands, fmt.Sprintf("eksctl delete nodegroup --name %s --cluster %s --region %s --drain", ng.Name, env.Cluster.Name, env.Cluster.Region))
		}
		add(s)
	}
	return out, breaks
}

// pathBreakages are the matrix's known breakages of the two orders one Cilium hop could take:
// CRDs first (the old Cilium with the new Gateway API) and Cilium first (the new Cilium with
// the old Gateway API).
func pathBreakages(cur, next support.Cilium, curGW, gw, channel string, crdStep, ciliumStep int) []PathBreakage {
	var out []PathBreakage
	for _, b := range support.Breakages {
		if gw != curGW && b.Cilium == cur.Minor() && slices.Contains(b.GatewayAPI, support.Minor(gw)) && (b.Channel == "" || b.Channel == channel) {
			avoided := fmt.Sprintf("step %d installs the CRDs before Cilium %s", crdStep, next.Version)
			if cur.ExperimentalTLSRoute && !next.ExperimentalTLSRoute {
				avoided = fmt.Sprintf("step %d installs TLSRoute from the %s experimental channel, which still serves v1alpha2, until Cilium %s runs", crdStep, gw, next.Version)
			}
			out = append(out, PathBreakage{State: fmt.Sprintf("Cilium %s with Gateway API %s (%s)", cur.Version, gw, channel), What: b.What, Upstream: b.Upstream, Avoided: avoided})
		}
		if b.Cilium == next.Minor() && slices.Contains(b.GatewayAPI, support.Minor(curGW)) && (b.Channel == "" || b.Channel == channel) {
			avoided := fmt.Sprintf("step %d runs only after the CRDs of step %d", ciliumStep, crdStep)
			if crdStep == 0 {
				avoided = "not avoided: the target keeps this Gateway API release"
			}
			out = append(out, PathBreakage{State: fmt.Sprintf("Cilium %s with Gateway API %s (%s)", next.Version, curGW, channel), What: b.What, Upstream: b.Upstream, Avoided: avoided})
		}
	}
	return out
}
