package render_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// base is a valid environment; each erratum case writes the guide's wrong form into it.
const base = `name: "errata"
cluster: region: "ap-northeast-2"
vpc: {
	id:   "vpc-0123456789abcdef0"
	cidr: "10.9.0.0/16"
	subnets: {
		private: {
			"ap-northeast-2a": {id: "subnet-00000000000000a01", cidr: "10.9.0.0/20"}
			"ap-northeast-2b": {id: "subnet-00000000000000b01", cidr: "10.9.16.0/20"}
		}
		public: {
			"ap-northeast-2a": {id: "subnet-00000000000000a02", cidr: "10.9.32.0/24"}
			"ap-northeast-2b": {id: "subnet-00000000000000b02", cidr: "10.9.33.0/24"}
		}
	}
}
nodeGroups: general: {instanceType: "m7g.xlarge", minSize: 1, maxSize: 3}
cilium: {clusterID: 9, maglev: hashSeed: "Yie+5slhri/40zfx"}
gateways: shared: listeners: {
	https: {
		protocol: "HTTPS", port: 443, hostname: "*.example.com", teams: ["team-a", "team-b"]
		tls: {secretName: "wildcard-tls", secretNamespace: "certs"}
	}
}
teams: {
	"team-a": hostnames: ["team-a.example.com"]
	"team-b": hostnames: ["team-b.example.com"]
}
routes: "team-a-route": {
	team: "team-a"
	spec: {
		parentRefs: [{name: "shared", namespace: "infra", sectionName: "https"}]
		hostnames: ["team-a.example.com"]
		rules: [{backendRefs: [{name: "svc", port: 80}]}]
	}
}
`

// TestErrata writes each catchable mistake of the seed guide (docs/errata.md, by
// number) into an environment and expects its error line, exit 2, and nothing written.
func TestErrata(t *testing.T) {
	tests := []struct {
		name    string
		erratum int
		add     string    // appended to base (CUE unifies it in)
		replace [2]string // or: replace [0] with [1] in base
		want    string    // the whole problem line after "file:line:col: "
	}{
		{name: "kubeProxy disable", erratum: 1, add: `overrides: eksctlCluster: kubeProxy: disable: true`,
			want: `overrides.eksctlCluster.kubeProxy: unknown field (kube-proxy is left out by addonsConfig.disableDefaultAddons: true and not listing it under addons; allowed: one of the 31 fields of ClusterConfig, see the eksctl v0.230.0 schema)`},
		{name: "autoApplyPodIdentityAssociations instead of disableDefaultAddons", erratum: 2,
			add:  `overrides: eksctlCluster: addonsConfig: {disableDefaultAddons: false, autoApplyPodIdentityAssociations: false}`,
			want: `overrides.eksctlCluster.addonsConfig.disableDefaultAddons: is not true (without it EKS installs the VPC CNI and kube-proxy, which conflict with Cilium); autoApplyPodIdentityAssociations does not disable the VPC CNI`},
		{name: "vpc-cni addon listed", erratum: 2, add: `overrides: eksctlCluster: addons: [{name: "coredns"}, {name: "vpc-cni"}]`,
			want: `overrides.eksctlCluster.addons[1].name: "vpc-cni" must not be installed (Cilium replaces the VPC CNI and kube-proxy)`},
		{name: "bootstrapSelfManagedAddons flag", erratum: 3, add: `overrides: eksctlFlags: ["--bootstrapSelfManagedAddons=false"]`,
			want: `overrides.eksctlFlags[0]: "--bootstrapSelfManagedAddons=false" is not an eksctl flag (it is an EKS API field eksctl sets itself; use addonsConfig.disableDefaultAddons: true)`},
		{name: "node groups in the bare cluster", erratum: 4, add: `overrides: eksctlCluster: managedNodeGroups: [{name: "ng-1", instanceType: "m7g.xlarge"}]`,
			want: `overrides.eksctlCluster.managedNodeGroups: is set (eksctl refuses it in a cluster created without default networking add-ons; enigate renders identities in eksctl/identities.yaml and node groups in eksctl/nodegroups.yaml)`},
		{name: "albIngress addon policy", erratum: 5,
			add:  `overrides: eksctlNodeGroups: managedNodeGroups: [{name: "ng-1", instanceType: "m7g.xlarge", taints: [{key: "node.cilium.io/agent-not-ready", value: "true", effect: "NoExecute"}], iam: withAddonPolicies: albIngress: true}]`,
			want: `overrides.eksctlNodeGroups.managedNodeGroups[0].iam.withAddonPolicies.albIngress: deprecated (and not needed: the AWS Load Balancer Controller gets its own Pod Identity association in eksctl/identities.yaml, so node roles carry no add-on policy)`},
		{name: "node group without agent-not-ready taint", erratum: 4,
			add:  `overrides: eksctlNodeGroups: managedNodeGroups: [{name: "ng-1", instanceType: "m7g.xlarge"}]`,
			want: `overrides.eksctlNodeGroups.managedNodeGroups[0].taints: has no node.cilium.io/agent-not-ready=true:NoExecute taint (pods would start before the Cilium agent and get no ENI address)`},
		{name: "IRSA without OIDC", erratum: 6,
			add:  "cluster: {operatorIdentity: \"irsa\", operatorRoleARN: \"arn:aws:iam::123456789012:role/CiliumOperatorRole\"}\noverrides: eksctlCluster: iam: withOIDC: false",
			want: `overrides.eksctlCluster.iam.withOIDC: is not true (IRSA for the Cilium operator needs the cluster's OIDC provider)`},
		{name: "IRSA service account not role-only", erratum: 6,
			add:  "cluster: {operatorIdentity: \"irsa\", operatorRoleARN: \"arn:aws:iam::123456789012:role/CiliumOperatorRole\"}\noverrides: eksctlIdentities: iam: serviceAccounts: [{metadata: {name: \"cilium-operator\", namespace: \"kube-system\"}, roleOnly: false, attachPolicyARNs: [\"arn:aws:iam::aws:policy/AdministratorAccess\"]}]",
			want: `overrides.eksctlIdentities.iam.serviceAccounts[0].roleOnly: is not true (the Cilium chart creates the cilium-operator ServiceAccount; eksctl must create only the role, wired through eni.iamRole)`},
		{name: "IRSA without role ARN", erratum: 6, add: `cluster: operatorIdentity: "irsa"`,
			want: `cluster.operatorRoleARN: is empty (IRSA needs the role ARN for eni.iamRole; eksctl creates it with --role-only)`},
		{name: "auto mode", erratum: 7, add: `cluster: autoMode: true`,
			want: `cluster.autoMode: is true (EKS Auto Mode nodes use AWS-managed networking; Cilium ENI IPAM is not supported there)`},
		{name: "operator policy lacks DescribeInstanceTypes", erratum: 8,
			add:  `overrides: eksctlIdentities: iam: podIdentityAssociations: [{namespace: "kube-system", serviceAccountName: "cilium-operator", permissionPolicy: {Version: "2012-10-17", Statement: [{Effect: "Allow", Resource: "*", Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances", "ec2:CreateNetworkInterface", "ec2:AttachNetworkInterface", "ec2:ModifyNetworkInterfaceAttribute", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses", "ec2:DeleteNetworkInterface", "ec2:CreateTags"]}]}}]`,
			want: `overrides.eksctlIdentities.iam.podIdentityAssociations[0].permissionPolicy.Statement: lacks ec2:DescribeInstanceTypes, ec2:DescribeTags, ec2:DescribeVpcs (the Cilium operator needs them in ENI mode; DescribeInstanceTypes is mandatory since 1.18)`},
		{name: "updateEC2AdapterLimitViaAPI", erratum: 9, add: `overrides: ciliumValues: eni: updateEC2AdapterLimitViaAPI: true`,
			want: `overrides.ciliumValues.eni.updateEC2AdapterLimitViaAPI: unknown key for chart 1.20.2 (removed in 1.18; not read by the chart)`},
		{name: "minAllocate as a Helm value", erratum: 10, add: `overrides: ciliumValues: eni: minAllocate: 10`,
			want: `overrides.ciliumValues.eni.minAllocate: unknown key for chart 1.20.2 (not a chart value; it is CiliumNode spec.ipam.min-allocate, set through a custom CNI config, or ipam.nodeSpec.ipamMinAllocate since 1.19)`},
		{name: "enableXDPPrefilter", erratum: 11, add: `overrides: ciliumValues: enableXDPPrefilter: true`,
			want: `overrides.ciliumValues.enableXDPPrefilter: unknown key for chart 1.20.2 (not a chart value; XDP acceleration is loadBalancer.acceleration: native|best-effort, the prefilter is extraConfig enable-xdp-prefilter: "true")`},
		{name: "maglev under loadBalancer", erratum: 12, add: `overrides: ciliumValues: loadBalancer: maglev: tableSize: 65521`,
			want: `overrides.ciliumValues.loadBalancer.maglev: unknown key for chart 1.20.2 (ignored under loadBalancer; use top-level maglev.tableSize and maglev.hashSeed)`},
		{name: "default hash seed", erratum: 13, replace: [2]string{`hashSeed: "Yie+5slhri/40zfx"`, `hashSeed: "JLfvgnHc2kaSUFaI"`},
			want: `cilium.maglev.hashSeed: is Cilium's built-in default, shared by every cluster that keeps it (set base64 of 12 random bytes, 16 characters)`},
		{name: "table size not prime", erratum: 13, add: `cilium: maglev: tableSize: 65536`,
			want: `cilium.maglev.tableSize: 65536 is not one of Cilium's table sizes (allowed: 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071)`},
		{name: "dsr", erratum: 14, add: `cilium: loadBalancerMode: "dsr"`,
			want: `cilium.loadBalancerMode: is "dsr" (ENI mode on AWS needs snat: DSR breaks on the source/destination check and does nothing for Envoy-terminated Gateway traffic)`},
		{name: "autoDirectNodeRoutes", erratum: 15, add: `overrides: ciliumValues: autoDirectNodeRoutes: true`,
			want: `overrides.ciliumValues.autoDirectNodeRoutes: is true (meaningless in ENI mode: the VPC routes pod addresses; leave it unset)`},
		{name: "cluster pool CIDR list", erratum: 15, add: `overrides: ciliumValues: ipam: operator: clusterPoolIPv4PodCIDRList: ["10.0.0.0/16"]`,
			want: `overrides.ciliumValues.ipam.operator.clusterPoolIPv4PodCIDRList: is set (ignored in ENI mode: pods get VPC addresses from ENIs; remove it)`},
		{name: "tunnel routing", erratum: 15, add: `overrides: ciliumValues: routingMode: "tunnel"`,
			want: `overrides.ciliumValues.routingMode: is "tunnel" (ENI mode needs native; the chart default is tunnel)`},
		{name: "native routing CIDR too small", erratum: 15, add: `overrides: ciliumValues: ipv4NativeRoutingCIDR: "10.9.0.0/20"`,
			want: `overrides.ciliumValues.ipv4NativeRoutingCIDR: "10.9.0.0/20" does not cover the VPC CIDR 10.9.0.0/16 (it must cover every VPC CIDR)`},
		{name: "duplicate keys conflict instead of overriding", erratum: 16,
			add:  "overrides: ciliumValues: bpf: lbMapMax: 65536\noverrides: ciliumValues: bpf: lbMapMax: 131072",
			want: `overrides.ciliumValues.bpf.lbMapMax: conflicting values 131072 and 65536`},
		{name: "service monitors without CRDs", erratum: 17, add: `overrides: ciliumValues: operator: prometheus: serviceMonitor: enabled: true`,
			want: `overrides.ciliumValues.operator.prometheus.serviceMonitor.enabled: is true but cilium.serviceMonitors is false (helm install fails without the Prometheus Operator CRDs, which crds/ carries only with cilium.serviceMonitors: true)`},
		{name: "exemplars without OpenMetrics", erratum: 18, add: `cilium: hubble: metrics: ["dns", "httpV2:exemplars=true"]`,
			want: `cilium.hubble.metrics[1]: asks for exemplars but hubble.metrics.enableOpenMetrics is false (exemplars are exported only in OpenMetrics format)`},
		{name: "natMax above two thirds of CT", erratum: 19, add: `cilium: bpf: {ctTcpMax: 524288, ctAnyMax: 262144, natMax: 1048576}`,
			want: `cilium.bpf.natMax: 1048576 exceeds 2/3 of ctTcpMax+ctAnyMax (524288) (natMax <= 2/3 (ctTcpMax + ctAnyMax))`},
		{name: "chart 1.17.0", erratum: 20, add: `versions: cilium: "1.17.0"`,
			want: `versions.cilium: chart "1.17.0" is not supported (allowed: 1.18.12, 1.19.7, 1.20.2, the newest patch of each supported minor)`},
		{name: "Cilium 1.20 with Gateway API 1.4", erratum: 21, add: `versions: gatewayAPI: "v1.4.1"`,
			want: `versions.gatewayAPI: v1.4.1 (standard channel) with Cilium 1.20.2 is known to break: the operator requires TLSRoute, ReferenceGrant and BackendTLSPolicy served at v1; without them it silently does not start its Gateway API controller and every HTTPS listener resets (no certificate is synced to Envoy) (upstream: cilium/cilium v1.20.2 operator/pkg/gateway-api/helpers/schemes.go RequiredGVKs, Documentation/network/servicemesh/gateway-api/installation.rst; nearest working pin: gatewayAPI v1.6.3 with cilium 1.20.2, or cilium 1.19.7 with gatewayAPI v1.4.1)`},
		{name: "too many infrastructure annotations", erratum: 22,
			add:  `gateways: shared: annotations: {a: "1", b: "2", c: "3", d: "4", e: "5", f: "6", g: "7"}`,
			want: `gateways.shared.annotations: 9 infrastructure annotations with the 2 enigate renders (at most 8)`},
		{name: "legacy nlb type", erratum: 23, add: `gateways: shared: annotations: "service.beta.kubernetes.io/aws-load-balancer-type": "nlb"`,
			want: `gateways.shared.annotations."service.beta.kubernetes.io/aws-load-balancer-type": "nlb" selects the legacy in-tree controller, which ignores nlb-target-type and scheme (use "external" with the AWS Load Balancer Controller; enigate sets loadBalancerClass service.k8s.aws/nlb)`},
		{name: "backend-protocol", erratum: 23, add: `gateways: shared: annotations: "service.beta.kubernetes.io/aws-load-balancer-backend-protocol": "tcp"`,
			want: `gateways.shared.annotations."service.beta.kubernetes.io/aws-load-balancer-backend-protocol": is a Classic Load Balancer annotation, ignored for NLBs (Envoy terminates TLS; remove it)`},
		{name: "from All on a tenant listener", erratum: 26, add: `gateways: shared: listeners: https: allowAll: true`,
			want: `gateways.shared.listeners.https.allowAll: from: All lets any namespace attach (use the teams list; rendered as from: Selector)`},
		{name: "parentRef without namespace", erratum: 27,
			replace: [2]string{`parentRefs: [{name: "shared", namespace: "infra", sectionName: "https"}]`, `parentRefs: [{name: "shared", sectionName: "https"}]`},
			want:    `routes.team-a-route.spec.parentRefs[0].namespace: is missing, so the route points at a Gateway "shared" in its own namespace team-a, which does not exist (the Gateway is in namespace infra)`},
		{name: "route for another team's host", erratum: 26,
			replace: [2]string{`hostnames: ["team-a.example.com"]
		rules`, `hostnames: ["team-b.example.com"]
		rules`},
			want: `routes.team-a-route.spec.hostnames[0]: hostname "team-b.example.com" belongs to team "team-b", not "team-a" (allowed: team-a.example.com)`},
		{name: "overlapping delegations", erratum: 26, replace: [2]string{`"team-b": hostnames: ["team-b.example.com"]`, `"team-b": hostnames: ["*.example.com"]`},
			want: `teams.team-b.hostnames[0]: overlaps "team-a.example.com" of team "team-a" at teams[team-a].hostnames[0] (delegations must be disjoint)`},
		{name: "max pods above the ENI bound", erratum: 32, add: `nodeGroups: general: maxPodsPerNode: 58`,
			want: `nodeGroups.general.maxPodsPerNode: max pods 58 on m7g.xlarge exceeds the bound: bound 56 = min((E-F)*(I-1) - 2 Cilium + H = 56, cap 110) with E=4 ENIs, I=15 IPv4/ENI, first interface index 0, prefix delegation off, 2 host-network pods, vCPU 4`},
		{name: "prefix delegation on a non-nitro type", erratum: 31, add: "cilium: prefixDelegation: true", replace: [2]string{`instanceType: "m7g.xlarge"`, `instanceType: "m4.large"`},
			want: `nodeGroups.general.instanceType: m4.large: prefix delegation needs a nitro or bare-metal instance type (hypervisor xen, bare metal false) (cilium.prefixDelegation is true)`},
		{name: "subnet too small", erratum: 33,
			replace: [2]string{`cidr: "10.9.0.0/20"`, `cidr: "10.9.0.0/28"`},
			want:    `vpc.subnets.private.ap-northeast-2a: AZ ap-northeast-2a (10.9.0.0/28): node groups at max size need 2 nodes + 6 ENI primaries + 112 pod addresses = 120 addresses, more than the 11 usable (size 16 minus 5 AWS-reserved per subnet); enlarge the subnets or lower maxSize/maxPodsPerNode`},
		{name: "internet-facing without public subnets", erratum: 35,
			replace: [2]string{`public: {
			"ap-northeast-2a": {id: "subnet-00000000000000a02", cidr: "10.9.32.0/24"}
			"ap-northeast-2b": {id: "subnet-00000000000000b02", cidr: "10.9.33.0/24"}
		}`, ``},
			want: `gateways.shared.scheme: is internet-facing but the VPC declares no public subnets (an internet-facing NLB needs public subnets tagged kubernetes.io/role/elb=1, which eksctl tags)`},
		{name: "XDP at EKS MTU", erratum: 37, add: `cilium: acceleration: "native"`,
			want: `cilium.acceleration: XDP on ENA needs an MTU <= 3498 and at most half the combined channels (MTU is unset: EKS uses 9001; set MTU <= 3498 or acceleration: disabled)`},
		{name: "operator replicas without a node each", erratum: 0, add: `cilium: operatorReplicas: 2`,
			want: `cilium.operatorReplicas: is 2, but the node groups' minSize adds up to 1 nodes and each replica needs its own node (the chart's required anti-affinity on kubernetes.io/hostname; allowed: at most 1, or raise a minSize)`},
		{name: "unknown field in the declaration", erratum: 0, add: `cilium: kubeProxy: disable: true`,
			want: `cilium.kubeProxy: unknown field (allowed: clusterID, prefixDelegation, firstInterfaceIndex, preAllocate, hostNetworkPods, acceleration, loadBalancerMode, maglev, bpf, hubble, serviceMonitors, operatorReplicas)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := base
			if tt.replace[0] != "" {
				if !strings.Contains(src, tt.replace[0]) {
					t.Fatalf("base lacks %q", tt.replace[0])
				}
				src = strings.Replace(src, tt.replace[0], tt.replace[1], 1)
			}
			src += tt.add + "\n"
			dir := t.TempDir()
			overlay := filepath.Join(dir, "overlays", "errata")
			writeDeclaration(t, overlay, src)
			stdout, stderr, code := run(t, dir, "render", "overlays/errata")
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			line := regexp.MustCompile(`(?m)^overlays/errata/environment\.cue:\d+:\d+: ` + regexp.QuoteMeta(tt.want) + `$`)
			if !line.MatchString(stderr) {
				t.Errorf("erratum %d: no line is exactly file:line:col: %s\nstderr:\n%s", tt.erratum, tt.want, stderr)
			}
			if files := readTree(t, overlay); len(files) != 1 {
				t.Errorf("wrote files on failure: %v", keys(files))
			}
		})
	}
	// The base itself must render, or every case above would pass for the wrong reason.
	t.Run("base renders", func(t *testing.T) {
		dir := t.TempDir()
		overlay := filepath.Join(dir, "overlays", "errata")
		writeDeclaration(t, overlay, base)
		if _, stderr, code := run(t, dir, "render", "--quiet", "overlays/errata"); code != 0 {
			t.Fatalf("base: exit %d\n%s", code, stderr)
		}
	})
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func writeDeclaration(t *testing.T, dir, src string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "environment.cue"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}
