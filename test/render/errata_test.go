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
		want    string    // regexp the error output must match
	}{
		{name: "kubeProxy disable", erratum: 1, add: `overrides: eksctlCluster: kubeProxy: disable: true`,
			want: `environment.cue:\d+:\d+: overrides\.eksctlCluster\.kubeProxy: unknown field \(kube-proxy is left out by addonsConfig\.disableDefaultAddons`},
		{name: "autoApplyPodIdentityAssociations instead of disableDefaultAddons", erratum: 2,
			add:  `overrides: eksctlCluster: addonsConfig: {disableDefaultAddons: false, autoApplyPodIdentityAssociations: false}`,
			want: `overrides\.eksctlCluster\.addonsConfig\.disableDefaultAddons: is not true \(without it EKS installs the VPC CNI.*autoApplyPodIdentityAssociations does not disable the VPC CNI`},
		{name: "vpc-cni addon listed", erratum: 2, add: `overrides: eksctlCluster: addons: [{name: "coredns"}, {name: "vpc-cni"}]`,
			want: `overrides\.eksctlCluster\.addons\[1\]\.name: "vpc-cni" must not be installed`},
		{name: "bootstrapSelfManagedAddons flag", erratum: 3, add: `overrides: eksctlFlags: ["--bootstrapSelfManagedAddons=false"]`,
			want: `overrides\.eksctlFlags\[0\]: "--bootstrapSelfManagedAddons=false" is not an eksctl flag`},
		{name: "node groups in the bare cluster", erratum: 4, add: `overrides: eksctlCluster: managedNodeGroups: [{name: "ng-1", instanceType: "m7g.xlarge"}]`,
			want: `overrides\.eksctlCluster\.managedNodeGroups: is set \(eksctl refuses it in a cluster created without default networking add-ons`},
		{name: "albIngress addon policy", erratum: 5,
			add:  `overrides: eksctlNodeGroups: managedNodeGroups: [{name: "ng-1", instanceType: "m7g.xlarge", taints: [{key: "node.cilium.io/agent-not-ready", value: "true", effect: "NoExecute"}], iam: withAddonPolicies: albIngress: true}]`,
			want: `overrides\.eksctlNodeGroups\.managedNodeGroups\[0\]\.iam\.withAddonPolicies\.albIngress: deprecated .*own Pod Identity association`},
		{name: "node group without agent-not-ready taint", erratum: 4,
			add:  `overrides: eksctlNodeGroups: managedNodeGroups: [{name: "ng-1", instanceType: "m7g.xlarge"}]`,
			want: `overrides\.eksctlNodeGroups\.managedNodeGroups\[0\]\.taints: has no node\.cilium\.io/agent-not-ready=true:NoExecute taint`},
		{name: "IRSA without OIDC", erratum: 6,
			add:  "cluster: {operatorIdentity: \"irsa\", operatorRoleARN: \"arn:aws:iam::123456789012:role/CiliumOperatorRole\"}\noverrides: eksctlCluster: iam: withOIDC: false",
			want: `overrides\.eksctlCluster\.iam\.withOIDC: is not true \(IRSA for the Cilium operator needs the cluster's OIDC provider\)`},
		{name: "IRSA service account not role-only", erratum: 6,
			add:  "cluster: {operatorIdentity: \"irsa\", operatorRoleARN: \"arn:aws:iam::123456789012:role/CiliumOperatorRole\"}\noverrides: eksctlIdentities: iam: serviceAccounts: [{metadata: {name: \"cilium-operator\", namespace: \"kube-system\"}, roleOnly: false, attachPolicyARNs: [\"arn:aws:iam::aws:policy/AdministratorAccess\"]}]",
			want: `overrides\.eksctlIdentities\.iam\.serviceAccounts\[0\]\.roleOnly: is not true \(the Cilium chart creates the cilium-operator ServiceAccount`},
		{name: "IRSA without role ARN", erratum: 6, add: `cluster: operatorIdentity: "irsa"`,
			want: `cluster\.operatorIdentity: .*|cluster\.operatorRoleARN: is empty \(IRSA needs the role ARN`},
		{name: "auto mode", erratum: 7, add: `cluster: autoMode: true`,
			want: `environment.cue:\d+:\d+: cluster\.autoMode: is true \(EKS Auto Mode nodes use AWS-managed networking`},
		{name: "operator policy lacks DescribeInstanceTypes", erratum: 8,
			add:  `overrides: eksctlIdentities: iam: podIdentityAssociations: [{namespace: "kube-system", serviceAccountName: "cilium-operator", permissionPolicy: {Version: "2012-10-17", Statement: [{Effect: "Allow", Resource: "*", Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances", "ec2:CreateNetworkInterface", "ec2:AttachNetworkInterface", "ec2:ModifyNetworkInterfaceAttribute", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses", "ec2:DeleteNetworkInterface", "ec2:CreateTags"]}]}}]`,
			want: `permissionPolicy\.Statement: lacks ec2:DescribeInstanceTypes, ec2:DescribeTags, ec2:DescribeVpcs`},
		{name: "updateEC2AdapterLimitViaAPI", erratum: 9, add: `overrides: ciliumValues: eni: updateEC2AdapterLimitViaAPI: true`,
			want: `environment.cue:\d+:\d+: overrides\.ciliumValues\.eni\.updateEC2AdapterLimitViaAPI: unknown key for chart 1\.20\.0`},
		{name: "minAllocate as a Helm value", erratum: 10, add: `overrides: ciliumValues: eni: minAllocate: 10`,
			want: `overrides\.ciliumValues\.eni\.minAllocate: unknown key .*(CiliumNode|nodeSpec)`},
		{name: "enableXDPPrefilter", erratum: 11, add: `overrides: ciliumValues: enableXDPPrefilter: true`,
			want: `overrides\.ciliumValues\.enableXDPPrefilter: unknown key .*loadBalancer\.acceleration`},
		{name: "maglev under loadBalancer", erratum: 12, add: `overrides: ciliumValues: loadBalancer: maglev: tableSize: 65521`,
			want: `overrides\.ciliumValues\.loadBalancer\.maglev: unknown key .*top-level maglev`},
		{name: "default hash seed", erratum: 13, replace: [2]string{`hashSeed: "Yie+5slhri/40zfx"`, `hashSeed: "JLfvgnHc2kaSUFaI"`},
			want: `environment.cue:\d+:\d+: cilium\.maglev\.hashSeed: is Cilium's built-in default`},
		{name: "table size not prime", erratum: 13, add: `cilium: maglev: tableSize: 65536`,
			want: `environment.cue:\d+:\d+: cilium\.maglev\.tableSize: 65536 is not one of Cilium's table sizes \(allowed: 251, 509`},
		{name: "dsr", erratum: 14, add: `cilium: loadBalancerMode: "dsr"`,
			want: `environment.cue:\d+:\d+: cilium\.loadBalancerMode: is "dsr" \(ENI mode on AWS needs snat`},
		{name: "autoDirectNodeRoutes", erratum: 15, add: `overrides: ciliumValues: autoDirectNodeRoutes: true`,
			want: `overrides\.ciliumValues\.autoDirectNodeRoutes: is true \(meaningless in ENI mode`},
		{name: "cluster pool CIDR list", erratum: 15, add: `overrides: ciliumValues: ipam: operator: clusterPoolIPv4PodCIDRList: ["10.0.0.0/16"]`,
			want: `overrides\.ciliumValues\.ipam\.operator\.clusterPoolIPv4PodCIDRList: is set \(ignored in ENI mode`},
		{name: "tunnel routing", erratum: 15, add: `overrides: ciliumValues: routingMode: "tunnel"`,
			want: `overrides\.ciliumValues\.routingMode: is "tunnel" \(ENI mode needs native`},
		{name: "native routing CIDR too small", erratum: 15, add: `overrides: ciliumValues: ipv4NativeRoutingCIDR: "10.9.0.0/20"`,
			want: `overrides\.ciliumValues\.ipv4NativeRoutingCIDR: "10\.9\.0\.0/20" does not cover the VPC CIDR 10\.9\.0\.0/16`},
		{name: "duplicate keys conflict instead of overriding", erratum: 16,
			add:  "overrides: ciliumValues: bpf: lbMapMax: 65536\noverrides: ciliumValues: bpf: lbMapMax: 131072",
			want: `overrides\.ciliumValues\.bpf\.lbMapMax: conflicting values 131072 and 65536`},
		{name: "service monitors without CRDs", erratum: 17, add: `overrides: ciliumValues: operator: prometheus: serviceMonitor: enabled: true`,
			want: `overrides\.ciliumValues\.operator\.prometheus\.serviceMonitor\.enabled: is true but cilium\.serviceMonitors is false`},
		{name: "exemplars without OpenMetrics", erratum: 18, add: `cilium: hubble: metrics: ["dns", "httpV2:exemplars=true"]`,
			want: `environment.cue:\d+:\d+: cilium\.hubble\.metrics\[1\]: asks for exemplars but hubble\.metrics\.enableOpenMetrics is false`},
		{name: "natMax above two thirds of CT", erratum: 19, add: `cilium: bpf: {ctTcpMax: 524288, ctAnyMax: 262144, natMax: 1048576}`,
			want: `environment.cue:\d+:\d+: cilium\.bpf\.natMax: 1048576 exceeds 2/3 of ctTcpMax\+ctAnyMax \(524288\)`},
		{name: "chart 1.17.0", erratum: 20, add: `versions: cilium: "1.17.0"`,
			want: `environment.cue:\d+:\d+: versions\.cilium: chart "1\.17\.0" is not supported \(allowed: 1\.18\.12, 1\.19\.6, 1\.20\.0`},
		{name: "Cilium 1.20 with Gateway API 1.4", erratum: 21, add: `versions: gatewayAPI: "v1.4.1"`,
			want: `versions\.gatewayAPI: v1\.4\.1 \(standard channel\) with Cilium 1\.20\.0 is known to break: .*nearest working pin: gatewayAPI v1\.6\.3 with cilium 1\.20\.0`},
		{name: "too many infrastructure annotations", erratum: 22,
			add:  `gateways: shared: annotations: {a: "1", b: "2", c: "3", d: "4", e: "5", f: "6", g: "7"}`,
			want: `environment.cue:\d+:\d+: gateways\.shared\.annotations: 9 infrastructure annotations .*at most 8`},
		{name: "legacy nlb type", erratum: 23, add: `gateways: shared: annotations: "service.beta.kubernetes.io/aws-load-balancer-type": "nlb"`,
			want: `environment.cue:\d+:\d+: gateways\.shared\.annotations\."service\.beta\.kubernetes\.io/aws-load-balancer-type": "nlb" selects the legacy in-tree controller`},
		{name: "backend-protocol", erratum: 23, add: `gateways: shared: annotations: "service.beta.kubernetes.io/aws-load-balancer-backend-protocol": "tcp"`,
			want: `aws-load-balancer-backend-protocol": is a Classic Load Balancer annotation`},
		{name: "from All on a tenant listener", erratum: 26, add: `gateways: shared: listeners: https: allowAll: true`,
			want: `environment.cue:\d+:\d+: gateways\.shared\.listeners\.https\.allowAll: .*from: All lets any namespace attach`},
		{name: "parentRef without namespace", erratum: 27,
			replace: [2]string{`parentRefs: [{name: "shared", namespace: "infra", sectionName: "https"}]`, `parentRefs: [{name: "shared", sectionName: "https"}]`},
			want:    `environment.cue:\d+:\d+: routes\.team-a-route\.spec\.parentRefs\[0\]\.namespace: is missing, so the route points at a Gateway "shared" in its own namespace team-a`},
		{name: "route for another team's host", erratum: 26,
			replace: [2]string{`hostnames: ["team-a.example.com"]
		rules`, `hostnames: ["team-b.example.com"]
		rules`},
			want: `environment.cue:\d+:\d+: routes\.team-a-route\.spec\.hostnames\[0\]: hostname "team-b\.example\.com" belongs to team "team-b"`},
		{name: "overlapping delegations", erratum: 26, replace: [2]string{`"team-b": hostnames: ["team-b.example.com"]`, `"team-b": hostnames: ["*.example.com"]`},
			want: `environment.cue:\d+:\d+: teams\.team-b\.hostnames\[0\]: .*(overlap|team-a)`},
		{name: "max pods above the ENI bound", erratum: 32, add: `nodeGroups: general: maxPodsPerNode: 58`,
			want: `environment.cue:\d+:\d+: nodeGroups\.general\.maxPodsPerNode: max pods 58 on m7g\.xlarge exceeds the bound: bound 56`},
		{name: "prefix delegation on a non-nitro type", erratum: 31, add: "cilium: prefixDelegation: true", replace: [2]string{`instanceType: "m7g.xlarge"`, `instanceType: "m4.large"`},
			want: `environment.cue:\d+:\d+: nodeGroups\.general\.instanceType: .*(nitro|bare metal)`},
		{name: "subnet too small", erratum: 33,
			replace: [2]string{`cidr: "10.9.0.0/20"`, `cidr: "10.9.0.0/28"`},
			want:    `environment.cue:\d+:\d+: vpc\.subnets\.private\.ap-northeast-2a: .* more than the 11 usable \(size 16 minus 5 AWS-reserved`},
		{name: "internet-facing without public subnets", erratum: 35,
			replace: [2]string{`public: {
			"ap-northeast-2a": {id: "subnet-00000000000000a02", cidr: "10.9.32.0/24"}
			"ap-northeast-2b": {id: "subnet-00000000000000b02", cidr: "10.9.33.0/24"}
		}`, ``},
			want: `gateways\.shared\.scheme: is internet-facing but the VPC declares no public subnets`},
		{name: "XDP at EKS MTU", erratum: 37, add: `cilium: acceleration: "native"`,
			want: `environment.cue:\d+:\d+: cilium\.acceleration: XDP on ENA needs an MTU <= 3498`},
		{name: "operator replicas without a node each", erratum: 0, add: `cilium: operatorReplicas: 2`,
			want: `environment.cue:\d+:\d+: cilium\.operatorReplicas: is 2, but the node groups' minSize adds up to 1 nodes and each replica needs its own node`},
		{name: "unknown field in the declaration", erratum: 0, add: `cilium: kubeProxy: disable: true`,
			want: `environment.cue:\d+:\d+: cilium\.kubeProxy: unknown field \(allowed: clusterID, prefixDelegation,`},
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
			os.MkdirAll(overlay, 0o755)
			os.WriteFile(filepath.Join(overlay, "environment.cue"), []byte(src), 0o644)
			stdout, stderr, code := run(t, dir, "render", "overlays/errata")
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if !regexp.MustCompile(tt.want).MatchString(stderr) {
				t.Errorf("erratum %d: no line matches %q\nstderr:\n%s", tt.erratum, tt.want, stderr)
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
		os.MkdirAll(overlay, 0o755)
		os.WriteFile(filepath.Join(overlay, "environment.cue"), []byte(base), 0o644)
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
