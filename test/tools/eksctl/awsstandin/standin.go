// Package awsstandin is a loopback stand-in for the AWS APIs eksctl calls before it changes
// anything: STS, EC2, CloudFormation and IAM in their Query protocol (XML answers), EKS in
// REST-JSON. It answers read-only calls from a small World, records every call, and answers the
// FIRST mutating call (CreateStack, CreatePodIdentityAssociation, ...) with an error after
// recording it, so the real eksctl binary stops there. Point eksctl at it with
// AWS_ENDPOINT_URL=<URL>, static fake credentials and AWS_REGION.
package awsstandin

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Account is the account id the stand-in answers with.
const Account = "123456789012"

// Subnet is an existing subnet.
type Subnet struct {
	ID, AZ, CIDR string
	Public       bool
}

// World is what the stand-in's AWS account holds.
type World struct {
	Region string
	// Zones are the region's availability zones.
	Zones []string
	// VPCID/VPCCIDR and Subnets describe an existing VPC (empty: none).
	VPCID, VPCCIDR string
	Subnets        []Subnet
	// KubernetesVersions EKS offers (first is the default).
	KubernetesVersions []string
	// Cluster, when set, is an ACTIVE EKS cluster of that name, created by eksctl (its
	// CloudFormation stack exists), with Addons installed.
	Cluster string
	Addons  []string
}

// Call is one request the stand-in received.
type Call struct {
	Service string // sts, ec2, cloudformation, iam, eks
	Action  string // Query Action, or the EKS operation (method and path)
	Params  url.Values
	Body    string // EKS JSON body
}

// Server is a running stand-in.
type Server struct {
	URL   string
	world World
	srv   *httptest.Server
	kube  *httptest.Server

	caData string

	mu       sync.Mutex
	calls    []Call
	mutating *Call
	unknown  []string
}

// Start runs a stand-in on 127.0.0.1 until Close.
func Start(w World) *Server {
	s := &Server{world: w}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	// The cluster's API endpoint: TLS with its own certificate as the cluster CA.
	s.kube = httptest.NewTLSServer(http.HandlerFunc(s.kubeAPI))
	s.caData = base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.kube.Certificate().Raw}))
	return s
}

// Close stops the servers.
func (s *Server) Close() {
	s.srv.Close()
	s.kube.Close()
}

// kubeAPI answers the discovery eksctl does to check the API server is reachable; every
// request is recorded as service "kubernetes".
func (s *Server) kubeAPI(w http.ResponseWriter, r *http.Request) {
	c := Call{Service: "kubernetes", Action: r.Method + " " + r.URL.Path}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/api":
		_ = json.NewEncoder(w).Encode(map[string]any{"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []any{map[string]string{"clientCIDR": "0.0.0.0/0", "serverAddress": r.Host}}})
	case "/apis":
		_ = json.NewEncoder(w).Encode(map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": []any{}})
	case "/api/v1":
		res := func(name, kind string, namespaced bool) map[string]any {
			return map[string]any{"name": name, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": []string{"get", "list", "create", "update", "patch", "delete", "watch"}}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": []any{
			res("configmaps", "ConfigMap", true), res("nodes", "Node", false), res("namespaces", "Namespace", false),
			res("serviceaccounts", "ServiceAccount", true), res("secrets", "Secret", true), res("services", "Service", true)}})
	case "/version":
		_ = json.NewEncoder(w).Encode(map[string]string{"major": "1", "minor": "33", "gitVersion": "v1.33.0-eks-1"})
	default:
		// A bare Cilium cluster has no aws-node, no kube-proxy and (without nodes) no coredns
		// pods: a named object's GET answers NotFound like the real cluster. Anything else is
		// beyond the stand-in.
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/namespaces/") {
			s.mu.Lock()
			s.unknown = append(s.unknown, c.Service+" "+c.Action)
			s.mu.Unlock()
		}
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404, "message": "enigate AWS stand-in: no answer"})
	}
}

// Calls returns every call so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Mutating returns the first mutating call (nil: none yet).
func (s *Server) Mutating() *Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mutating
}

// Unknown lists read-only calls the stand-in could not answer.
func (s *Server) Unknown() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.unknown)
}

// StopMessage is the error message of the answer to the first mutating call.
const StopMessage = "enigate AWS stand-in: first mutating call recorded, stopping here"

var scope = regexp.MustCompile(`Credential=[^/]+/[0-9]+/[^/]+/([^/]+)/aws4_request`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	service := ""
	if m := scope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		service = m[1]
	}
	call := Call{Service: service}
	if service == "eks" {
		call.Action = r.Method + " " + r.URL.Path
		call.Params = r.URL.Query()
		call.Body = string(body)
	} else {
		call.Params, _ = url.ParseQuery(string(body))
		for k, v := range r.URL.Query() {
			call.Params[k] = v
		}
		call.Action = call.Params.Get("Action")
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	stop := s.mutating != nil
	if !stop && isMutating(call, r.Method) {
		c := call
		s.mutating = &c
		stop = true
	}
	s.mu.Unlock()
	if stop {
		s.fail(w, call, http.StatusBadRequest, "ValidationError", StopMessage)
		return
	}
	switch service {
	case "sts":
		s.sts(w, call)
	case "ec2":
		s.ec2(w, call)
	case "cloudformation":
		s.cloudformation(w, call)
	case "iam":
		s.iam(w, call)
	case "eks":
		s.eks(w, r, call)
	default:
		s.unknownCall(w, call)
	}
}

// isMutating: Query actions other than Describe/List/Get, EKS requests other than GET.
func isMutating(c Call, method string) bool {
	if c.Service == "eks" {
		return method != http.MethodGet
	}
	for _, p := range []string{"Describe", "List", "Get", "Validate", "Estimate"} {
		if strings.HasPrefix(c.Action, p) {
			return false
		}
	}
	return c.Action != "" && c.Action != "AssumeRoleWithWebIdentity"
}

func (s *Server) unknownCall(w http.ResponseWriter, c Call) {
	s.mu.Lock()
	s.unknown = append(s.unknown, c.Service+" "+c.Action)
	s.mu.Unlock()
	s.fail(w, c, http.StatusBadRequest, "ValidationError", "enigate AWS stand-in: no answer for "+c.Service+" "+c.Action)
}

// fail answers an error in the service's protocol (non-retryable codes only).
func (s *Server) fail(w http.ResponseWriter, c Call, status int, code, msg string) {
	switch c.Service {
	case "eks":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", "InvalidRequestException")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
	case "ec2":
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>req-1</RequestID></Response>`, code, esc(msg))
	default:
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`, code, esc(msg))
	}
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// query writes a Query-protocol answer: <ActionResponse xmlns><ActionResult>inner</...>.
func query(w http.ResponseWriter, ns, action, inner string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%[1]sResponse xmlns="%[2]s"><%[1]sResult>%[3]s</%[1]sResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></%[1]sResponse>`, action, ns, inner)
}

func (s *Server) sts(w http.ResponseWriter, c Call) {
	switch c.Action {
	case "GetCallerIdentity":
		query(w, "https://sts.amazonaws.com/doc/2011-06-15/", c.Action,
			`<Arn>arn:aws:iam::`+Account+`:user/enigate-test</Arn><UserId>AIDAENIGATETEST</UserId><Account>`+Account+`</Account>`)
	default:
		s.unknownCall(w, c)
	}
}

const ec2NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

func ec2(w http.ResponseWriter, action, inner string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%[1]sResponse xmlns="%[2]s"><requestId>req-1</requestId>%[3]s</%[1]sResponse>`, action, ec2NS, inner)
}

func (s *Server) ec2(w http.ResponseWriter, c Call) {
	switch c.Action {
	case "DescribeAvailabilityZones":
		var b strings.Builder
		for i, z := range s.world.Zones {
			fmt.Fprintf(&b, `<item><zoneName>%s</zoneName><zoneId>apne2-az%d</zoneId><zoneState>available</zoneState><regionName>%s</regionName><zoneType>availability-zone</zoneType><groupName>%s</groupName><optInStatus>opt-in-not-required</optInStatus></item>`, z, i+1, s.world.Region, s.world.Region)
		}
		ec2(w, c.Action, "<availabilityZoneInfo>"+b.String()+"</availabilityZoneInfo>")
	case "DescribeVpcs":
		var b strings.Builder
		if s.world.VPCID != "" && (len(values(c.Params, "VpcId")) == 0 || slices.Contains(values(c.Params, "VpcId"), s.world.VPCID)) {
			fmt.Fprintf(&b, `<item><vpcId>%s</vpcId><state>available</state><cidrBlock>%s</cidrBlock><cidrBlockAssociationSet><item><associationId>vpc-cidr-assoc-1</associationId><cidrBlock>%s</cidrBlock><cidrBlockState><state>associated</state></cidrBlockState></item></cidrBlockAssociationSet><ownerId>%s</ownerId><isDefault>false</isDefault></item>`, s.world.VPCID, s.world.VPCCIDR, s.world.VPCCIDR, Account)
		}
		ec2(w, c.Action, "<vpcSet>"+b.String()+"</vpcSet>")
	case "DescribeSubnets":
		ids := values(c.Params, "SubnetId")
		filters := ec2Filters(c.Params)
		var b strings.Builder
		for _, sn := range s.world.Subnets {
			if len(ids) > 0 && !slices.Contains(ids, sn.ID) {
				continue
			}
			if f, ok := filters["vpc-id"]; ok && !slices.Contains(f, s.world.VPCID) {
				continue
			}
			if f, ok := filters["cidr-block"]; ok && !slices.Contains(f, sn.CIDR) {
				continue
			}
			if f, ok := filters["availability-zone"]; ok && !slices.Contains(f, sn.AZ) {
				continue
			}
			fmt.Fprintf(&b, `<item><subnetId>%s</subnetId><subnetArn>arn:aws:ec2:%s:%s:subnet/%s</subnetArn><state>available</state><vpcId>%s</vpcId><cidrBlock>%s</cidrBlock><availableIpAddressCount>8000</availableIpAddressCount><availabilityZone>%s</availabilityZone><availabilityZoneId>apne2-az1</availabilityZoneId><defaultForAz>false</defaultForAz><mapPublicIpOnLaunch>%t</mapPublicIpOnLaunch><ownerId>%s</ownerId></item>`,
				sn.ID, s.world.Region, Account, sn.ID, s.world.VPCID, sn.CIDR, sn.AZ, sn.Public, Account)
		}
		ec2(w, c.Action, "<subnetSet>"+b.String()+"</subnetSet>")
	case "DescribeInstanceTypeOfferings":
		// every requested type is offered in every zone asked about
		f := ec2Filters(c.Params)
		zones := f["location"]
		if len(zones) == 0 {
			zones = s.world.Zones
		}
		var b strings.Builder
		for _, typ := range f["instance-type"] {
			for _, z := range zones {
				fmt.Fprintf(&b, `<item><instanceType>%s</instanceType><locationType>availability-zone</locationType><location>%s</location></item>`, typ, z)
			}
		}
		ec2(w, c.Action, "<instanceTypeOfferingSet>"+b.String()+"</instanceTypeOfferingSet>")
	default:
		s.unknownCall(w, c)
	}
}

// values collects Query list parameters Name.1, Name.2, ...
func values(p url.Values, name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := p[fmt.Sprintf("%s.%d", name, i)]
		if !ok {
			return out
		}
		out = append(out, v...)
	}
}

// ec2Filters decodes Filter.N.Name / Filter.N.Value.M.
func ec2Filters(p url.Values) map[string][]string {
	out := map[string][]string{}
	for i := 1; ; i++ {
		name := p.Get(fmt.Sprintf("Filter.%d.Name", i))
		if name == "" {
			return out
		}
		out[name] = values(p, fmt.Sprintf("Filter.%d.Value", i))
	}
}

const cfnNS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"

func (s *Server) cloudformation(w http.ResponseWriter, c Call) {
	switch c.Action {
	case "ListStacks":
		var b strings.Builder
		if s.world.Cluster != "" {
			fmt.Fprintf(&b, `<member><StackId>%s</StackId><StackName>eksctl-%s-cluster</StackName><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-01-01T00:00:00Z</CreationTime></member>`, s.stackID(), s.world.Cluster)
		}
		query(w, cfnNS, c.Action, "<StackSummaries>"+b.String()+"</StackSummaries>")
	case "DescribeStacks":
		name := c.Params.Get("StackName")
		if s.world.Cluster != "" && (name == "" || name == "eksctl-"+s.world.Cluster+"-cluster" || name == s.stackID()) {
			query(w, cfnNS, c.Action, "<Stacks>"+s.clusterStack()+"</Stacks>")
			return
		}
		if name == "" {
			query(w, cfnNS, c.Action, "<Stacks></Stacks>")
			return
		}
		s.fail(w, c, http.StatusBadRequest, "ValidationError", "Stack with id "+name+" does not exist")
	case "GetTemplate":
		if s.world.Cluster == "" || c.Params.Get("StackName") != "eksctl-"+s.world.Cluster+"-cluster" {
			s.fail(w, c, http.StatusBadRequest, "ValidationError", "Stack with id "+c.Params.Get("StackName")+" does not exist")
			return
		}
		// The resource eksctl looks for in a cluster stack that supports managed node groups.
		tmpl := `{"Resources":{"IngressDefaultClusterToNodeSG":{"Type":"AWS::EC2::SecurityGroupIngress","Properties":{"GroupId":"sg-0000000000000000b","SourceSecurityGroupId":"sg-0000000000000000c","IpProtocol":"-1"}}}}`
		query(w, cfnNS, c.Action, "<TemplateBody>"+esc(tmpl)+"</TemplateBody><StagesAvailable><member>Original</member></StagesAvailable>")
	default:
		s.unknownCall(w, c)
	}
}

func (s *Server) stackID() string {
	return "arn:aws:cloudformation:" + s.world.Region + ":" + Account + ":stack/eksctl-" + s.world.Cluster + "-cluster/1"
}

func (s *Server) clusterStack() string {
	tag := func(k, v string) string { return "<member><Key>" + k + "</Key><Value>" + v + "</Value></member>" }
	out := func(k, v string) string {
		return "<member><OutputKey>" + k + "</OutputKey><OutputValue>" + v + "</OutputValue></member>"
	}
	var private, public []string
	for _, sn := range s.world.Subnets {
		if sn.Public {
			public = append(public, sn.ID)
		} else {
			private = append(private, sn.ID)
		}
	}
	return `<member><StackId>` + s.stackID() + `</StackId><StackName>eksctl-` + s.world.Cluster + `-cluster</StackName><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-01-01T00:00:00Z</CreationTime><Tags>` +
		tag("alpha.eksctl.io/cluster-name", s.world.Cluster) + tag("eksctl.cluster.k8s.io/v1alpha1/cluster-name", s.world.Cluster) + tag("alpha.eksctl.io/eksctl-version", "0.230.0") +
		`</Tags><Outputs>` +
		out("VPC", s.world.VPCID) + out("SecurityGroup", "sg-0000000000000000a") + out("SharedNodeSecurityGroup", "sg-0000000000000000b") +
		out("SubnetsPrivate", strings.Join(private, ",")) + out("SubnetsPublic", strings.Join(public, ",")) +
		out("ClusterStackName", "eksctl-"+s.world.Cluster+"-cluster") + out("FeatureNATMode", "Disable") +
		out("ServiceRoleARN", "arn:aws:iam::"+Account+":role/eksctl-"+s.world.Cluster+"-cluster-ServiceRole") +
		out("Endpoint", s.kube.URL) + out("ARN", "arn:aws:eks:"+s.world.Region+":"+Account+":cluster/"+s.world.Cluster) +
		out("CertificateAuthorityData", "") + out("ClusterSecurityGroupId", "sg-0000000000000000c") +
		`</Outputs></member>`
}

func (s *Server) iam(w http.ResponseWriter, c Call) {
	switch c.Action {
	case "ListOpenIDConnectProviders":
		query(w, "https://iam.amazonaws.com/doc/2010-05-08/", c.Action, "<OpenIDConnectProviderList></OpenIDConnectProviderList>")
	default:
		s.unknownCall(w, c)
	}
}

func (s *Server) eks(w http.ResponseWriter, r *http.Request, c Call) {
	w.Header().Set("Content-Type", "application/json")
	path := r.URL.Path
	switch {
	case path == "/cluster-versions":
		var vs []any
		for i, v := range s.world.KubernetesVersions {
			vs = append(vs, map[string]any{"clusterVersion": v, "clusterType": "eks", "defaultVersion": i == 0, "status": "STANDARD_SUPPORT", "versionStatus": "STANDARD_SUPPORT",
				"releaseDate": 1.7e9, "endOfStandardSupportDate": 2.0e9, "endOfExtendedSupportDate": 2.1e9})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"clusterVersions": vs})
	case path == "/addons/supported-versions":
		name := r.URL.Query().Get("addonName")
		k8s := r.URL.Query().Get("kubernetesVersion")
		_ = json.NewEncoder(w).Encode(map[string]any{"addons": []any{map[string]any{
			"addonName": name, "type": "networking",
			"addonVersions": []any{map[string]any{"addonVersion": "v1.0.0-eksbuild.1", "architecture": []string{"amd64", "arm64"},
				"compatibilities": []any{map[string]any{"clusterVersion": k8s, "defaultVersion": true, "platformVersions": []string{"*"}}}}},
		}}})
	case s.world.Cluster != "" && path == "/clusters/"+s.world.Cluster:
		_ = json.NewEncoder(w).Encode(map[string]any{"cluster": s.cluster()})
	case strings.HasPrefix(path, "/clusters/") && !strings.Contains(strings.TrimPrefix(path, "/clusters/"), "/"):
		w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "No cluster found for name: " + strings.TrimPrefix(path, "/clusters/") + "."})
	case s.world.Cluster != "" && strings.HasPrefix(path, "/clusters/"+s.world.Cluster+"/addons/"):
		name := strings.TrimPrefix(path, "/clusters/"+s.world.Cluster+"/addons/")
		if !slices.Contains(s.world.Addons, name) {
			w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{"message": "No addon: " + name + " found in cluster: " + s.world.Cluster})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"addon": map[string]any{"addonName": name, "clusterName": s.world.Cluster, "status": "ACTIVE", "addonVersion": "v1.0.0-eksbuild.1"}})
	case s.world.Cluster != "" && path == "/clusters/"+s.world.Cluster+"/addons":
		_ = json.NewEncoder(w).Encode(map[string]any{"addons": s.world.Addons})
	case s.world.Cluster != "" && path == "/clusters/"+s.world.Cluster+"/pod-identity-associations":
		_ = json.NewEncoder(w).Encode(map[string]any{"associations": []any{}})
	case s.world.Cluster != "" && path == "/clusters/"+s.world.Cluster+"/node-groups":
		_ = json.NewEncoder(w).Encode(map[string]any{"nodegroups": []any{}})
	case s.world.Cluster != "" && path == "/clusters/"+s.world.Cluster+"/access-entries":
		_ = json.NewEncoder(w).Encode(map[string]any{"accessEntries": []any{}})
	default:
		s.unknownCall(w, c)
	}
}

func (s *Server) cluster() map[string]any {
	var ids []string
	for _, sn := range s.world.Subnets {
		ids = append(ids, sn.ID)
	}
	return map[string]any{
		"name":            s.world.Cluster,
		"arn":             "arn:aws:eks:" + s.world.Region + ":" + Account + ":cluster/" + s.world.Cluster,
		"version":         s.world.KubernetesVersions[0],
		"platformVersion": "eks.1",
		"status":          "ACTIVE",
		"endpoint":        s.kube.URL,
		"roleArn":         "arn:aws:iam::" + Account + ":role/eksctl-" + s.world.Cluster + "-cluster-ServiceRole",
		// a throwaway self-signed CA made at start; never used to connect
		"certificateAuthority": map[string]any{"data": s.caData},
		"resourcesVpcConfig": map[string]any{
			"vpcId": s.world.VPCID, "subnetIds": ids, "securityGroupIds": []string{},
			"clusterSecurityGroupId": "sg-0000000000000000c", "endpointPublicAccess": true, "endpointPrivateAccess": true,
		},
		"kubernetesNetworkConfig": map[string]any{"ipFamily": "ipv4", "serviceIpv4Cidr": "172.20.0.0/16"},
		"accessConfig":            map[string]any{"authenticationMode": "API_AND_CONFIG_MAP"},
		"tags":                    map[string]string{"alpha.eksctl.io/cluster-name": s.world.Cluster},
	}
}
