package upstream

import (
	"sync"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// EksctlVersion is the eksctl release whose ClusterConfig schema is embedded.
const EksctlVersion = "v0.230.0"

var eksctlSchema struct {
	once   sync.Once
	schema *compiledSchema
	err    error
}

func loadEksctl() (*compiledSchema, error) {
	eksctlSchema.once.Do(func() {
		eksctlSchema.schema, eksctlSchema.err = compileSchema("data/eksctl/" + EksctlVersion + "-schema.json")
	})
	return eksctlSchema.schema, eksctlSchema.err
}

// PreloadEksctl compiles the eksctl schema now, so a caller can overlap the compile with
// other work (the render command does it while CUE evaluates the declarations).
func PreloadEksctl() { _, _ = loadEksctl() }

// eksctlHints explains unknown fields that guides commonly write.
var eksctlHints = map[string]map[string]string{
	"ClusterConfig": {
		"kubeProxy": "kube-proxy is left out by addonsConfig.disableDefaultAddons: true and not listing it under addons",
	},
	"AddonsConfig": {
		"bootstrapSelfManagedAddons": "eksctl sets the EKS bootstrapSelfManagedAddons field itself; use disableDefaultAddons: true",
	},
}

func eksctlHint(owner, name string) string { return eksctlHints[owner][name] }

// ValidateEksctl validates an eksctl ClusterConfig document (as decoded from
// YAML) against the embedded eksctl v0.230.0 JSON schema and returns every
// problem at once, one per field below path: unknown fields (eksctl decodes
// strictly, so each one fails `eksctl create cluster`) with the allowed names,
// wrong types, values outside an enum with the allowed values, and missing
// required fields.
func ValidateEksctl(doc map[string]any, path *field.Path) field.ErrorList {
	cs, err := loadEksctl()
	if err != nil {
		return field.ErrorList{field.InternalError(path, err)}
	}
	var errs field.ErrorList
	norm, _ := normalize(doc, path, 0, &errs).(map[string]any)
	if norm == nil {
		norm = map[string]any{}
	}
	return append(errs, withoutBelow(cs.validate(norm, path, "eksctl "+EksctlVersion, eksctlHint), errs)...)
}

// EksctlDeprecations returns the fields of a ClusterConfig that eksctl
// v0.230.0 still accepts but that are deprecated, each with its replacement.
// They are warnings, not errors: the document still creates a cluster.
func EksctlDeprecations(doc map[string]any, path *field.Path) field.ErrorList {
	var ignored field.ErrorList // ValidateEksctl reports what has no JSON form
	norm, _ := normalize(doc, path, 0, &ignored).(map[string]any)
	var errs field.ErrorList
	for _, groups := range []string{"nodeGroups", "managedNodeGroups"} {
		list, _ := norm[groups].([]any)
		for i, g := range list {
			gm, _ := g.(map[string]any)
			iam, _ := gm["iam"].(map[string]any)
			policies, _ := iam["withAddonPolicies"].(map[string]any)
			if _, ok := policies["albIngress"]; ok {
				errs = append(errs, &field.Error{
					Type:     field.ErrorTypeInvalid,
					Field:    path.Child(groups).Index(i).Child("iam", "withAddonPolicies", "albIngress").String(),
					BadValue: policies["albIngress"],
					Detail:   "deprecated (and not needed: the AWS Load Balancer Controller gets its own Pod Identity association in eksctl/identities.yaml, so node roles carry no add-on policy)",
				})
			}
		}
	}
	return errs
}
