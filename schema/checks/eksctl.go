package checks

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/upstream"
	"github.com/enigate/enigate/schema/vpc"
)

// RequiredOperatorActions are the EC2 actions the Cilium operator cannot work without (since
// 1.18 the static limits table is gone, so DescribeInstanceTypes is mandatory).
var RequiredOperatorActions = []string{
	"ec2:AssignPrivateIpAddresses", "ec2:AttachNetworkInterface", "ec2:CreateNetworkInterface",
	"ec2:CreateTags", "ec2:DeleteNetworkInterface", "ec2:DescribeInstanceTypes", "ec2:DescribeInstances",
	"ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
	"ec2:DescribeTags", "ec2:DescribeVpcs", "ec2:ModifyNetworkInterfaceAttribute",
	"ec2:UnassignPrivateIpAddresses",
}

// bareClusterForbidden are the ClusterConfig fields eksctl refuses when default add-ons are
// disabled and no vpc-cni is listed (validateBareCluster).
var bareClusterForbidden = [][]string{
	{"nodeGroups"}, {"managedNodeGroups"}, {"fargateProfiles"}, {"karpenter"},
	{"iam", "serviceAccounts"}, {"iam", "podIdentityAssociations"},
}

// eksctlConfig holds the ClusterConfig fields the checks read, as eksctl v0.230.0 spells them
// (pkg/apis/eksctl.io/v1alpha5); every other field is left to eksctl's schema.
// Fields whose mere presence is the finding are looked up in the document instead.
type eksctlConfig struct {
	AddonsConfig struct {
		DisableDefaultAddons bool `json:"disableDefaultAddons"`
	} `json:"addonsConfig"`
	Addons []struct {
		Name string `json:"name"`
	} `json:"addons"`
	AutoModeConfig struct {
		Enabled bool `json:"enabled"`
	} `json:"autoModeConfig"`
	IAM struct {
		WithOIDC        bool `json:"withOIDC"`
		ServiceAccounts []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			RoleOnly     bool           `json:"roleOnly"`
			AttachPolicy map[string]any `json:"attachPolicy"`
		} `json:"serviceAccounts"`
		PodIdentityAssociations []struct {
			ServiceAccountName string         `json:"serviceAccountName"`
			PermissionPolicy   map[string]any `json:"permissionPolicy"`
		} `json:"podIdentityAssociations"`
	} `json:"iam"`
	ManagedNodeGroups []struct {
		Taints []eksctlTaint `json:"taints"`
	} `json:"managedNodeGroups"`
}

type eksctlTaint struct {
	Key    string `json:"key"`
	Effect string `json:"effect"`
}

// decodeEksctl reads doc's checked fields as eksctl reads its config file: encoding/json, keys
// matched case-insensitively, a wrong-typed value refused (eksctl v0.230.0 create cluster -f:
// `loading config file ...: json: cannot unmarshal number into Go struct field
// ClusterConfig.addons of type v1alpha5.Addon`). The typed checks are then skipped: the render
// stops on the error. eksctl's schema names most such values (schemaErrs) at their path; its
// struct definitions carry no "type": "object", though, so a value where eksctl decodes a struct
// is reported here, at the field encoding/json names (a list's, for one of its items).
func decodeEksctl(doc map[string]any, path *field.Path, schemaErrs field.ErrorList) (*eksctlConfig, field.ErrorList) {
	var c eksctlConfig
	data, err := json.Marshal(doc)
	if err == nil {
		err = json.Unmarshal(data, &c)
	}
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return &c, nil
	case !errors.As(err, &te) && len(schemaErrs) > 0:
		return nil, nil // a value with no JSON form, which upstream.ValidateEksctl reports
	case !errors.As(err, &te):
		return nil, field.ErrorList{field.InternalError(path, err)}
	}
	fp := pathOf(path, strings.Split(te.Field, ".")...)
	for _, e := range schemaErrs {
		if listIndex.ReplaceAllString(e.Field, "") == fp.String() {
			return nil, nil
		}
	}
	return nil, field.ErrorList{&field.Error{Type: field.ErrorTypeTypeInvalid, Field: fp.String(),
		Detail: fmt.Sprintf("has %s where eksctl expects %s (eksctl cannot decode it)", jsonKind[te.Value], goKind(te.Type))}}
}

var listIndex = regexp.MustCompile(`\[\d+\]`)

// jsonKind names the JSON values json.UnmarshalTypeError reports.
var jsonKind = map[string]string{"string": "a string", "number": "a number", "bool": "a boolean", "array": "a list", "object": "an object"}

// goKind names the JSON value a Go type decodes from.
func goKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice:
		return "a list"
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	}
	return "a number"
}

// EksctlCluster checks the phase-1 ClusterConfig: eksctl's schema, a bare cluster without the
// VPC CNI and kube-proxy, nothing eksctl refuses in it, and the operator's identity prerequisites.
func EksctlCluster(env model.Environment, doc map[string]any, path *field.Path) Report {
	var r Report
	r.Errors = append(r.Errors, vpc.Validate(env, nil)...)
	schemaErrs := upstream.ValidateEksctl(doc, path)
	r.Errors = append(r.Errors, schemaErrs...)
	r.Errors = append(r.Errors, upstream.EksctlDeprecations(doc, path)...)
	c, errs := decodeEksctl(doc, path, schemaErrs)
	r.Errors = append(r.Errors, errs...)
	if c != nil {
		r.Add(bareCluster(env, c, doc, path))
	}
	for i, f := range env.Overrides.EksctlFlags {
		if strings.HasPrefix(f, "--bootstrapSelfManagedAddons") || strings.HasPrefix(f, "--bootstrap-self-managed-addons") {
			r.errorf(field.NewPath("overrides", "eksctlFlags").Index(i), "%q is not an eksctl flag (it is an EKS API field eksctl sets itself; use addonsConfig.disableDefaultAddons: true)", f)
		}
	}
	return r
}

// bareCluster checks a phase-1 ClusterConfig for a cluster without the VPC CNI and kube-proxy.
func bareCluster(env model.Environment, c *eksctlConfig, doc map[string]any, path *field.Path) Report {
	var r Report
	if !c.AddonsConfig.DisableDefaultAddons {
		msg := "is not true (without it EKS installs the VPC CNI and kube-proxy, which conflict with Cilium)"
		if _, ok := lookup(doc, "addonsConfig", "autoApplyPodIdentityAssociations"); ok {
			msg += "; autoApplyPodIdentityAssociations does not disable the VPC CNI"
		}
		r.errorf(pathOf(path, "addonsConfig", "disableDefaultAddons"), "%s", msg)
	}
	hasCoreDNS := false
	for i, a := range c.Addons {
		switch a.Name {
		case "vpc-cni", "kube-proxy":
			r.errorf(pathOf(path, "addons").Index(i).Child("name"), "%q must not be installed (Cilium replaces the VPC CNI and kube-proxy)", a.Name)
		case "coredns":
			hasCoreDNS = true
		}
	}
	if !hasCoreDNS {
		r.errorf(pathOf(path, "addons"), "lists no coredns (with default add-ons disabled, list addons: [{name: coredns}]; the EKS add-on, not a manifest URL)")
	}
	for _, keys := range bareClusterForbidden {
		if _, ok := lookup(doc, keys...); ok {
			r.errorf(pathOf(path, keys...), "is set (eksctl refuses it in a cluster created without default networking add-ons; enigate renders identities in eksctl/identities.yaml and node groups in eksctl/nodegroups.yaml)")
		}
	}
	if c.AutoModeConfig.Enabled {
		r.errorf(pathOf(path, "autoModeConfig", "enabled"), "is true (EKS Auto Mode nodes use AWS-managed networking; Cilium ENI IPAM is not supported there)")
	}
	if env.Cluster.OperatorIdentity == "irsa" && !c.IAM.WithOIDC {
		r.errorf(pathOf(path, "iam", "withOIDC"), "is not true (IRSA for the Cilium operator needs the cluster's OIDC provider)")
	}
	return r
}

// EksctlNodeGroups checks the phase-3 ClusterConfig: eksctl's schema, the agent-not-ready taint
// on every managed node group, and no identities (`eksctl create nodegroup` does not create them).
func EksctlNodeGroups(env model.Environment, doc map[string]any, path *field.Path) Report {
	var r Report
	schemaErrs := upstream.ValidateEksctl(doc, path)
	r.Errors = append(r.Errors, schemaErrs...)
	r.Errors = append(r.Errors, upstream.EksctlDeprecations(doc, path)...)
	c, errs := decodeEksctl(doc, path, schemaErrs)
	if r.Errors = append(r.Errors, errs...); c == nil {
		return r
	}
	for i, g := range c.ManagedNodeGroups {
		if !slices.ContainsFunc(g.Taints, func(t eksctlTaint) bool {
			return t.Key == "node.cilium.io/agent-not-ready" && t.Effect == "NoExecute"
		}) {
			r.errorf(pathOf(path, "managedNodeGroups").Index(i).Child("taints"), "has no node.cilium.io/agent-not-ready=true:NoExecute taint (pods would start before the Cilium agent and get no ENI address)")
		}
	}
	for _, keys := range [][]string{{"iam", "serviceAccounts"}, {"iam", "podIdentityAssociations"}} {
		if _, ok := lookup(doc, keys...); ok {
			r.errorf(pathOf(path, keys...), "is set (eksctl create nodegroup creates no identities, and they must exist before Cilium starts: enigate renders them in eksctl/identities.yaml, overrides.eksctlIdentities)")
		}
	}
	return r
}

// EksctlIdentities checks the identities ClusterConfig: eksctl's schema, only metadata and iam,
// and the Cilium operator's identity and permissions.
func EksctlIdentities(env model.Environment, doc map[string]any, path *field.Path) Report {
	var r Report
	schemaErrs := upstream.ValidateEksctl(doc, path)
	r.Errors = append(r.Errors, schemaErrs...)
	for _, k := range sortedKeys(doc) {
		switch k {
		case "apiVersion", "kind", "metadata", "iam":
		default:
			r.errorf(pathOf(path, k), "is set (eksctl create podidentityassociation / iamserviceaccount read only metadata and iam from this file)")
		}
	}
	c, errs := decodeEksctl(doc, path, schemaErrs)
	if r.Errors = append(r.Errors, errs...); c == nil {
		return r
	}
	for i, sa := range c.IAM.ServiceAccounts {
		if sa.Metadata.Name != "cilium-operator" {
			continue
		}
		p := pathOf(path, "iam", "serviceAccounts").Index(i)
		if !sa.RoleOnly {
			r.errorf(p.Child("roleOnly"), "is not true (the Cilium chart creates the cilium-operator ServiceAccount; eksctl must create only the role, wired through eni.iamRole)")
		}
		r.Add(operatorPolicy(sa.AttachPolicy, p.Child("attachPolicy")))
	}
	if len(c.IAM.ServiceAccounts) > 0 && !c.IAM.WithOIDC {
		r.errorf(pathOf(path, "iam", "withOIDC"), "is not true (IRSA service accounts need the cluster's OIDC provider)")
	}
	for i, pia := range c.IAM.PodIdentityAssociations {
		if pia.ServiceAccountName == "cilium-operator" {
			r.Add(operatorPolicy(pia.PermissionPolicy, pathOf(path, "iam", "podIdentityAssociations").Index(i).Child("permissionPolicy")))
		}
	}
	return r
}

// operatorPolicy checks an inline IAM policy for the actions the Cilium operator needs. The
// policy is walked, not decoded: IAM lets Statement be one object or a list and Action a string
// or a list, and eksctl's schema leaves the document open.
func operatorPolicy(pm map[string]any, path *field.Path) Report {
	var r Report
	if pm == nil {
		return r // none inline: nothing to read
	}
	granted := map[string]bool{}
	for _, st := range asList(pm["Statement"]) {
		sm, _ := st.(map[string]any)
		if sm["Effect"] != "Allow" {
			continue
		}
		switch a := sm["Action"].(type) {
		case string:
			granted[a] = true
		case []any:
			for _, x := range a {
				if s, ok := x.(string); ok {
					granted[s] = true
				}
			}
		}
	}
	if granted["ec2:*"] || granted["*"] {
		return r
	}
	var missing []string
	for _, a := range RequiredOperatorActions {
		if !granted[a] {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		r.errorf(path.Child("Statement"), "lacks %s (the Cilium operator needs them in ENI mode; DescribeInstanceTypes is mandatory since 1.18)", strings.Join(missing, ", "))
	}
	return r
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
