package deploy

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/enigate/enigate/schema/rules"
)

func auditObjects(t *testing.T) map[string]client.Object {
	t.Helper()
	objs, err := Audit(webhookTestEnv())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]client.Object{}
	for _, o := range objs {
		out[o.GetObjectKind().GroupVersionKind().Kind+"/"+o.GetName()] = o
	}
	return out
}

// TestAuditRBAC: the audit reads every kind rules.Judge judges and writes nothing but
// PolicyReports, ClusterPolicyReports and events.
func TestAuditRBAC(t *testing.T) {
	objs := auditObjects(t)
	role, ok := objs["ClusterRole/"+AuditName].(*rbacv1.ClusterRole)
	if !ok {
		t.Fatal("no ClusterRole")
	}
	allows := func(group, resource, verb string) bool {
		for _, r := range role.Rules {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
				return true
			}
		}
		return false
	}
	for _, gk := range rules.JudgedKinds() {
		res := strings.ToLower(gk.Kind) + "s"
		for _, verb := range []string{"list", "watch"} {
			if !allows(gk.Group, res, verb) {
				t.Errorf("cannot %s %s.%s", verb, res, gk.Group)
			}
		}
	}
	writes := map[string]bool{"policyreports": true, "clusterpolicyreports": true, "events": true}
	for _, r := range role.Rules {
		for _, v := range r.Verbs {
			if v != "get" && v != "list" && v != "watch" {
				for _, res := range r.Resources {
					if !writes[res] {
						t.Errorf("%s on %s: the audit writes only reports and events", v, res)
					}
				}
			}
		}
	}
	if !allows("events.k8s.io", "events", "create") || !allows("wgpolicyk8s.io", "policyreports", "patch") || !allows("wgpolicyk8s.io", "clusterpolicyreports", "patch") {
		t.Errorf("cannot write reports or events: %+v", role.Rules)
	}
}

func TestAuditDeploymentAndCRDs(t *testing.T) {
	objs := auditObjects(t)
	d, ok := objs["Deployment/"+AuditName].(*appsv1.Deployment)
	if !ok {
		t.Fatal("no Deployment")
	}
	if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("replicas %d strategy %s: one writer of the reports", *d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if c.Args[0] != "audit" || c.Image != "ghcr.io/enigate/enigate:v1.2.3" || d.Spec.Template.Spec.ServiceAccountName != AuditName {
		t.Errorf("container %s %v, service account %s", c.Image, c.Args, d.Spec.Template.Spec.ServiceAccountName)
	}
	for _, name := range []string{"policyreports.wgpolicyk8s.io", "clusterpolicyreports.wgpolicyk8s.io"} {
		if _, ok := objs["CustomResourceDefinition/"+name]; !ok {
			t.Errorf("no CRD %s", name)
		}
	}
	env := webhookTestEnv()
	env.Enigate.Namespace = ""
	if _, err := Audit(env); err == nil {
		t.Error("empty namespace accepted")
	}
}
