package crdvalidation

import (
	"k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// coreKind is how the API server validates a built-in kind's metadata: its scope and the
// name rule of its registry strategy (k8s.io/kubernetes pkg/apis/*/validation, v1.37: e.g.
// ValidateNamespaceName, apps ValidateDeploymentName, rbac ValidateRBACName).
type coreKind struct {
	namespaced bool
	name       validation.ValidateNameFunc
}

var coreKinds = map[schema.GroupKind]coreKind{
	{Kind: "Namespace"}:                                              {false, validation.ValidateNamespaceName},
	{Kind: "ConfigMap"}:                                              {true, validation.NameIsDNSSubdomain},
	{Kind: "Secret"}:                                                 {true, validation.NameIsDNSSubdomain},
	{Kind: "ServiceAccount"}:                                         {true, validation.NameIsDNSSubdomain},
	{Kind: "Service"}:                                                {true, validation.NameIsDNS1035Label},
	{Group: "apps", Kind: "Deployment"}:                              {true, validation.NameIsDNSSubdomain},
	{Group: "apps", Kind: "DaemonSet"}:                               {true, validation.NameIsDNSSubdomain},
	{Group: "rbac.authorization.k8s.io", Kind: "Role"}:               {true, rbacName},
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}:        {true, rbacName},
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:        {false, rbacName},
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}: {false, rbacName},
}

// rbacName is k8s.io/kubernetes pkg/apis/rbac/validation.ValidateRBACName.
func rbacName(name string, prefix bool) []string { return path.IsValidPathSegmentName(name) }

// validateCore checks a built-in kind's metadata as its registry strategy does (the API
// server's own Go validation of the rest of the object is in k8s.io/kubernetes, which enigate
// does not link; its field shapes come from the k8s.io/api types the generators use).
func validateCore(k coreKind, obj map[string]any) field.ErrorList {
	u := &unstructured.Unstructured{Object: obj}
	return validation.ValidateObjectMetaAccessor(u, k.namespaced, k.name, field.NewPath("metadata"))
}
