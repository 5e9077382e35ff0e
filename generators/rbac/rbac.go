// Package rbac renders least-privilege RBAC: the platform team manages GatewayClasses
// cluster-wide, Gateways and Secrets only in gateway namespaces and ReferenceGrants where grants
// live; each team manages routes (and its own outbound grants) only in its namespaces.
package rbac

import (
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/enigate/enigate/schema/model"
)

const gatewayGroup = gwv1.GroupName

var (
	manage = []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	read   = []string{"get", "list", "watch"}
)

// Objects returns the platform and team RBAC. grantNamespaces are the namespaces holding
// rendered ReferenceGrants (the platform must be able to manage them there).
func Objects(env model.Environment, grantNamespaces []string) []any {
	var out []any
	platform := env.PlatformGroup
	out = append(out,
		&rbacv1.ClusterRole{
			TypeMeta:   typeMeta("ClusterRole"),
			ObjectMeta: metav1.ObjectMeta{Name: "enigate:platform:gatewayclasses"},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{gatewayGroup}, Resources: []string{"gatewayclasses"}, Verbs: manage},
				{APIGroups: []string{gatewayGroup}, Resources: []string{"gateways", "httproutes", "grpcroutes", "tlsroutes", "referencegrants"}, Verbs: read},
			},
		},
		&rbacv1.ClusterRoleBinding{
			TypeMeta:   typeMeta("ClusterRoleBinding"),
			ObjectMeta: metav1.ObjectMeta{Name: "enigate:platform:gatewayclasses"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "enigate:platform:gatewayclasses"},
			Subjects:   []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: platform}},
		},
	)
	gatewayNS := map[string]bool{}
	for _, g := range env.Gateways {
		gatewayNS[g.Namespace] = true
	}
	gatewayNS[env.PlatformNamespace] = true
	for _, ns := range sortedSet(gatewayNS) {
		out = append(out, roleAndBinding(ns, "enigate:platform:gateways", platform, []rbacv1.PolicyRule{
			{APIGroups: []string{gatewayGroup}, Resources: []string{"gateways", "referencegrants"}, Verbs: manage},
			{APIGroups: []string{"cilium.io"}, Resources: []string{"ciliumgatewayclassconfigs"}, Verbs: manage},
			{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: manage},
			{APIGroups: []string{"cert-manager.io"}, Resources: []string{"certificates"}, Verbs: manage},
		})...)
	}
	grantOnly := map[string]bool{}
	for _, ns := range grantNamespaces {
		if !gatewayNS[ns] {
			grantOnly[ns] = true
		}
	}
	for _, ns := range sortedSet(grantOnly) {
		out = append(out, roleAndBinding(ns, "enigate:platform:referencegrants", platform, []rbacv1.PolicyRule{
			{APIGroups: []string{gatewayGroup}, Resources: []string{"referencegrants"}, Verbs: manage},
			{APIGroups: []string{"cert-manager.io"}, Resources: []string{"certificates"}, Verbs: manage},
		})...)
	}
	for _, t := range env.Teams {
		for _, ns := range t.Namespaces {
			out = append(out, roleAndBinding(ns, "enigate:team:routes", t.Group, []rbacv1.PolicyRule{
				{APIGroups: []string{gatewayGroup}, Resources: []string{"httproutes", "grpcroutes", "tlsroutes", "tcproutes", "udproutes", "referencegrants"}, Verbs: manage},
				{APIGroups: []string{gatewayGroup}, Resources: []string{"httproutes/status", "grpcroutes/status", "tlsroutes/status"}, Verbs: read},
				{APIGroups: []string{""}, Resources: []string{"services", "endpoints"}, Verbs: read},
			})...)
		}
	}
	return out
}

func roleAndBinding(ns, name, group string, rules []rbacv1.PolicyRule) []any {
	return []any{
		&rbacv1.Role{
			TypeMeta:   typeMeta("Role"),
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Rules:      rules,
		},
		&rbacv1.RoleBinding{
			TypeMeta:   typeMeta("RoleBinding"),
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
			Subjects:   []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: group}},
		},
	}
}

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: kind}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
