// Package model is the Go side of the CUE #Environment: what one environment declares, after
// the embedded schema has filled defaults and checked types. Generators and rules read it; only
// schema.Load builds it.
package model

// Environment is one environment's declaration (overlays/<env>/environment.cue).
type Environment struct {
	// Name of the environment and of the EKS cluster (cluster name is Cluster.Name).
	Name string `json:"name"`
	// Source is the declaration's path relative to the repo root; set by the loader, not CUE.
	Source string `json:"-"`

	Versions Versions `json:"versions"`
	Cluster  Cluster  `json:"cluster"`
	VPC      VPC      `json:"vpc"`
	// NodeGroups in declaration order (sorted by name by the loader).
	NodeGroups []NodeGroup `json:"nodeGroups"`
	// Karpenter node pools (with any pool the loader's NodeGroups hold the "system" group).
	Karpenter Karpenter `json:"karpenter"`
	Cilium    Cilium    `json:"cilium"`
	// PlatformNamespace holds Gateways, the GatewayClass config and platform RBAC.
	PlatformNamespace string `json:"platformNamespace"`
	// PlatformGroup is the identity group of the platform team (bound to platform RBAC).
	PlatformGroup string    `json:"platformGroup"`
	Gateways      []Gateway `json:"gateways"`
	Teams         []Team    `json:"teams"`
	// Routes are example/tenant HTTPRoutes rendered into the overlay.
	Routes  []Route `json:"routes"`
	Enigate Enigate `json:"enigate"`
	// Overrides passed through to upstream artifacts; deep-merged, then checked.
	Overrides Overrides `json:"overrides"`
}

// Versions is the lock written to versions.yaml.
type Versions struct {
	Kubernetes string `json:"kubernetes"` // EKS minor, e.g. "1.33"
	Cilium     string `json:"cilium"`     // chart version, e.g. "1.19.7"
	GatewayAPI string `json:"gatewayAPI"` // e.g. "v1.4.1"
	// GatewayAPIChannel is "standard" or "experimental".
	GatewayAPIChannel string `json:"gatewayAPIChannel"`
	Eksctl            string `json:"eksctl"`
	CertManager       string `json:"certManager"`
	Enigate           string `json:"enigate"` // image tag of enigate's own components (default: the release)
	// AWSLoadBalancerController is the Helm chart version of the AWS Load Balancer Controller
	// (chart 3.2.2 ships controller v3.2.2, whose IAM policy generators/eksctl vendors).
	AWSLoadBalancerController string `json:"awsLoadBalancerController"`
	// Karpenter is the Karpenter chart and CRD version (installed with any node pool).
	Karpenter string `json:"karpenter"`
}

// Cluster is the EKS control plane as eksctl creates it.
type Cluster struct {
	Name   string            `json:"name"`
	Region string            `json:"region"`
	Tags   map[string]string `json:"tags"`
	// OperatorIdentity is how the Cilium operator gets AWS credentials: "podIdentity" or "irsa".
	OperatorIdentity string `json:"operatorIdentity"`
	// OperatorRoleARN is used with IRSA (eni.iamRole, role-only service account).
	OperatorRoleARN string `json:"operatorRoleARN"`
	// APIServerHost is the EKS endpoint host (without https://) Cilium's KPR needs; when empty,
	// Cilium reads it from a ConfigMap the rollout creates (k8sServiceHostRef).
	APIServerHost string `json:"apiServerHost"`
	// PublicAccess/PrivateAccess of the API endpoint.
	EndpointPublicAccess  bool `json:"endpointPublicAccess"`
	EndpointPrivateAccess bool `json:"endpointPrivateAccess"`
	// AutoMode is EKS Auto Mode; not supported with Cilium ENI IPAM (erratum 7).
	AutoMode bool `json:"autoMode"`
}

// VPC is the network the cluster runs in: one eksctl creates (ID empty: CIDR, NAT and
// AvailabilityZones declared, Subnets modelled from eksctl's split) or an existing one (ID and
// Subnets declared).
type VPC struct {
	// ID of an existing VPC; empty when eksctl creates the VPC.
	ID   string `json:"id"`
	CIDR string `json:"cidr"`
	// NAT is eksctl's vpc.nat.gateway for a VPC it creates: HighlyAvailable, Single or Disable.
	// Empty for an existing VPC unless declared (which the checks refuse).
	NAT string `json:"nat"`
	// AvailabilityZones eksctl creates subnets in, in declared order (created VPC only).
	AvailabilityZones []string `json:"availabilityZones"`
	// Subnets are declared (existing VPC) or eksctl's split of CIDR (SubnetsModelled).
	Subnets []Subnet `json:"subnets"`
	// SubnetsModelled is true when Subnets are what eksctl will create, not declared.
	SubnetsModelled bool `json:"subnetsModelled"`
}

// Subnet is one subnet in one AZ.
type Subnet struct {
	Name string `json:"name"` // eksctl subnet key (defaults to the AZ)
	AZ   string `json:"az"`
	CIDR string `json:"cidr"`
	// Kind is "private" or "public".
	Kind string `json:"kind"`
	// ID of an existing subnet (existing VPC only).
	ID string `json:"id"`
}

// NodeGroup is a managed node group created in phase 3.
type NodeGroup struct {
	Name            string `json:"name"`
	InstanceType    string `json:"instanceType"`
	MinSize         int    `json:"minSize"`
	MaxSize         int    `json:"maxSize"`
	DesiredCapacity int    `json:"desiredCapacity"`
	VolumeSize      int    `json:"volumeSize"`
	// MaxPodsPerNode as declared; 0 means "derive from the capacity model".
	MaxPodsPerNode int `json:"maxPodsPerNode"`
	// AvailabilityZones the group spans (defaults to every private subnet's AZ).
	AvailabilityZones []string          `json:"availabilityZones"`
	Labels            map[string]string `json:"labels"`
	Taints            []Taint           `json:"taints"`
	Tags              map[string]string `json:"tags"`
	AMIFamily         string            `json:"amiFamily"`
}

// Karpenter is the environment's Karpenter: node pools and what they share.
type Karpenter struct {
	// AMIVersion is pinned in every EC2NodeClass's alias (al2023@<v>, bottlerocket@<v>).
	AMIVersion string `json:"amiVersion"`
	// WasteWarnPercent: a pool wasting this share of its largest type's safe pods is warned
	// about, with the split that recovers them.
	WasteWarnPercent int `json:"wasteWarnPercent"`
	// SystemNodeGroup sizes the managed node group "system" (in NodeGroups with any pool).
	SystemNodeGroup SystemNodeGroup `json:"systemNodeGroup"`
	// NodePools sorted by name.
	NodePools []NodePool `json:"nodePools"`
}

// SystemNodeGroup is the managed node group kept for Karpenter, CoreDNS and the Cilium operator.
type SystemNodeGroup struct {
	InstanceType string `json:"instanceType"`
	MinSize      int    `json:"minSize"`
	MaxSize      int    `json:"maxSize"`
}

// SystemNodeGroupName is the managed node group the schema adds with any node pool.
const SystemNodeGroupName = "system"

// NodePool is one Karpenter NodePool with its EC2NodeClass.
type NodePool struct {
	Name string `json:"name"`
	// Requirements on Karpenter's well-known labels; empty lists allow any.
	Families      []string `json:"families"`
	Categories    []string `json:"categories"`
	MinGeneration int      `json:"minGeneration"`
	Sizes         []string `json:"sizes"`
	Architectures []string `json:"architectures"`
	BareMetal     bool     `json:"bareMetal"`
	NitroOnly     bool     `json:"nitroOnly"`
	CapacityTypes []string `json:"capacityTypes"`
	// MaxPodsPerNode as declared; 0 derives the bound of the pool's instance set.
	MaxPodsPerNode int            `json:"maxPodsPerNode"`
	Limits         NodePoolLimits `json:"limits"`
	Disruption     Disruption     `json:"disruption"`
	ExpireAfter    string         `json:"expireAfter"`
	// AMIFamily is AL2023 or Bottlerocket.
	AMIFamily  string `json:"amiFamily"`
	VolumeSize int    `json:"volumeSize"`
	// AvailabilityZones the pool launches in (defaults to every private subnet's AZ).
	AvailabilityZones []string          `json:"availabilityZones"`
	Labels            map[string]string `json:"labels"`
	Taints            []Taint           `json:"taints"`
}

// NodePoolLimits are a NodePool's spec.limits.
type NodePoolLimits struct {
	// CPU is the pool's total vCPUs.
	CPU int `json:"cpu"`
}

// Disruption is a NodePool's spec.disruption.
type Disruption struct {
	ConsolidationPolicy string `json:"consolidationPolicy"`
	ConsolidateAfter    string `json:"consolidateAfter"`
	// BudgetNodes is budgets[0].nodes ("10%" or a count).
	BudgetNodes string `json:"budgetNodes"`
}

// Taint is a Kubernetes node taint.
type Taint struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Effect string `json:"effect"`
}

// Cilium is what the environment asks of the Cilium chart.
type Cilium struct {
	// ClusterID is Cilium's cluster.id (1-255, 1-127 in ENI mode), unique per environment.
	ClusterID           int  `json:"clusterID"`
	PrefixDelegation    bool `json:"prefixDelegation"`
	FirstInterfaceIndex int  `json:"firstInterfaceIndex"`
	// PreAllocate is the CiliumNode spec.ipam.pre-allocate per node (Cilium default 8).
	PreAllocate int `json:"preAllocate"`
	// HostNetworkPods per node that need no pod address (agent, envoy, ...).
	HostNetworkPods int `json:"hostNetworkPods"`
	// Acceleration is loadBalancer.acceleration: disabled, native or best-effort.
	Acceleration string `json:"acceleration"`
	// LoadBalancerMode is loadBalancer.mode: snat (dsr/hybrid are rejected in ENI mode).
	LoadBalancerMode string `json:"loadBalancerMode"`
	Maglev           Maglev `json:"maglev"`
	BPF              BPF    `json:"bpf"`
	Hubble           Hubble `json:"hubble"`
	// ServiceMonitors turns on Prometheus Operator ServiceMonitors for agent/operator/hubble;
	// the ServiceMonitor CRD is rendered into crds/.
	ServiceMonitors  bool `json:"serviceMonitors"`
	OperatorReplicas int  `json:"operatorReplicas"`
}

// Maglev consistent hashing settings (top-level chart keys maglev.*).
type Maglev struct {
	Enabled   bool   `json:"enabled"`
	TableSize int    `json:"tableSize"`
	HashSeed  string `json:"hashSeed"`
}

// BPF map sizes; zero means "left to dynamic sizing" (bpf.mapDynamicSizeRatio).
type BPF struct {
	PreallocateMaps     bool    `json:"preallocateMaps"`
	MapDynamicSizeRatio float64 `json:"mapDynamicSizeRatio"`
	LBMapMax            int     `json:"lbMapMax"`
	CTTCPMax            int     `json:"ctTcpMax"`
	CTAnyMax            int     `json:"ctAnyMax"`
	NATMax              int     `json:"natMax"`
	NeighMax            int     `json:"neighMax"`
	PolicyMapMax        int     `json:"policyMapMax"`
	MonitorAggregation  string  `json:"monitorAggregation"`
}

// Hubble observability settings.
type Hubble struct {
	Enabled bool `json:"enabled"`
	Relay   bool `json:"relay"`
	UI      bool `json:"ui"`
	// Metrics as the chart's hubble.metrics.enabled list.
	Metrics []string `json:"metrics"`
	// OpenMetrics is hubble.metrics.enableOpenMetrics (needed for exemplars).
	OpenMetrics bool `json:"openMetrics"`
}

// Gateway is a platform-owned Gateway.
type Gateway struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Scheme is internet-facing or internal (the NLB's scheme).
	Scheme string `json:"scheme"`
	// Annotations added to spec.infrastructure.annotations besides the NLB ones.
	Annotations map[string]string `json:"annotations"`
	Listeners   []Listener        `json:"listeners"`
}

// Listener is one Gateway listener.
type Listener struct {
	Name     string `json:"name"`
	Protocol string `json:"protocol"` // HTTP, HTTPS, TLS, TCP, UDP
	Port     int    `json:"port"`
	Hostname string `json:"hostname"`
	// Teams that may attach routes; "shared" when more than one.
	Teams []string `json:"teams"`
	// AllowAll is the guide's from: All; only the schema's escape hatch, rejected for tenants.
	AllowAll bool `json:"allowAll"`
	TLS      *TLS `json:"tls"`
}

// TLS for a terminating listener: an existing Secret or a cert-manager Certificate.
type TLS struct {
	// SecretName/SecretNamespace of an existing Secret (namespace defaults to the Gateway's).
	SecretName      string `json:"secretName"`
	SecretNamespace string `json:"secretNamespace"`
	// Issuer, when set, renders a cert-manager Certificate into SecretNamespace.
	Issuer     string `json:"issuer"`
	IssuerKind string `json:"issuerKind"`
}

// Team is a tenant and what it owns.
type Team struct {
	Name       string   `json:"name"`
	Namespaces []string `json:"namespaces"`
	// Hostnames the team owns exclusively (wildcards allowed, e.g. "*.team-a.example.com").
	Hostnames []string `json:"hostnames"`
	// SharedHosts are hostnames several teams use, each with its own path prefixes.
	SharedHosts []SharedHost `json:"sharedHosts"`
	// Group is the identity group bound to the team's Role.
	Group string `json:"group"`
	// Backends are cross-namespace targets the team may reference (ReferenceGrants rendered).
	Backends []BackendTarget `json:"backends"`
}

// SharedHost is a hostname a team shares with others, limited to path prefixes.
type SharedHost struct {
	Hostname     string   `json:"hostname"`
	PathPrefixes []string `json:"pathPrefixes"`
}

// BackendTarget is a cross-namespace reference target a team may use.
type BackendTarget struct {
	Kind      string `json:"kind"` // Service
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// Route is an HTTPRoute rendered into the overlay for a team.
type Route struct {
	Name      string `json:"name"`
	Team      string `json:"team"`
	Namespace string `json:"namespace"`
	// Spec is the HTTPRoute spec as plain data; decoded strictly into gateway-api types.
	Spec map[string]any `json:"spec"`
}

// Enigate configures enigate's own in-cluster components.
type Enigate struct {
	Namespace string `json:"namespace"`
	Image     Image  `json:"image"`
	// WebhookReplicas (>= 2).
	WebhookReplicas int `json:"webhookReplicas"`
	// CapacityEnforcement: "deny" or "warn" for Node/CiliumNode capacity rules.
	CapacityEnforcement string `json:"capacityEnforcement"`
	// NodeVerify schedules the node verify job.
	NodeVerify bool `json:"nodeVerify"`
	// PolicyWriters may also write the policy ConfigMap and manage ReferenceGrants outside
	// team namespaces: users, groups or service accounts (the GitOps controllers).
	PolicyWriters []string `json:"policyWriters"`
	// NodeVerifyAllowedPrograms are non-Cilium programs the node verifier accepts (kernel name or
	// tag), passed as --allow-program.
	NodeVerifyAllowedPrograms []string `json:"nodeVerifyAllowedPrograms"`
}

// Image locates enigate's image; its tag is Versions.Enigate (see Environment.EnigateImage).
type Image struct {
	// Repository is the image name without tag, e.g. "ghcr.io/enigate/enigate" or a mirror.
	Repository string `json:"repository"`
	// Digest ("sha256:...") pins the image; empty: the tag alone.
	Digest string `json:"digest"`
}

// EnigateImage is the reference of enigate's image: repository:tag, or repository:tag@digest
// when pinned (the runtime pulls by digest; the tag stays for people reading it).
func (e Environment) EnigateImage() string {
	ref := e.Enigate.Image.Repository + ":" + e.Versions.Enigate
	if e.Enigate.Image.Digest != "" {
		ref += "@" + e.Enigate.Image.Digest
	}
	return ref
}

// Overrides are passed through to upstream artifacts after deep merge, then validated.
type Overrides struct {
	// CiliumValues are deep-merged over the rendered Helm values.
	CiliumValues map[string]any `json:"ciliumValues"`
	// EksctlCluster is deep-merged over the phase-1 ClusterConfig.
	EksctlCluster map[string]any `json:"eksctlCluster"`
	// EksctlNodeGroups is deep-merged over the phase-3 ClusterConfig.
	EksctlNodeGroups map[string]any `json:"eksctlNodeGroups"`
	// EksctlIdentities is deep-merged over the identities ClusterConfig (eksctl/identities.yaml).
	EksctlIdentities map[string]any `json:"eksctlIdentities"`
	// EksctlFlags are extra flags for the rollout's eksctl commands.
	EksctlFlags []string `json:"eksctlFlags"`
}
