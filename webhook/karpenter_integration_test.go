package webhook_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/enigate/enigate/generators/deploy"
	"github.com/enigate/enigate/test/envtest"
)

func karpenterObject(apiVersion, kind, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": name}, "spec": spec}}
}

func nodeClass(name string, maxPods int64) *unstructured.Unstructured {
	return karpenterObject("karpenter.k8s.aws/v1", "EC2NodeClass", name, map[string]any{
		"role":                       "KarpenterNodeRole-itest",
		"amiSelectorTerms":           []any{map[string]any{"alias": "al2023@v20251117"}},
		"subnetSelectorTerms":        []any{map[string]any{"id": "subnet-0a00000000000001a"}},
		"securityGroupSelectorTerms": []any{map[string]any{"tags": map[string]any{"aws:eks:cluster-name": "itest"}}},
		"kubelet":                    map[string]any{"maxPods": maxPods},
	})
}

func karpenterNodePool(name, class string, taint bool, sizes ...any) *unstructured.Unstructured {
	spec := map[string]any{
		"nodeClassRef": map[string]any{"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": class},
		"requirements": []any{
			map[string]any{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": []any{"m7g"}},
			map[string]any{"key": "karpenter.k8s.aws/instance-size", "operator": "In", "values": sizes},
		},
	}
	if taint {
		spec["startupTaints"] = []any{map[string]any{"key": "node.cilium.io/agent-not-ready", "value": "true", "effect": "NoExecute"}}
	}
	return karpenterObject("karpenter.sh/v1", "NodePool", name, map[string]any{"template": map[string]any{"spec": spec}})
}

// TestKarpenterAdmission runs the webhook against a real kube-apiserver with the pinned
// Karpenter CRDs and the rendered webhook configuration: NodePool and EC2NodeClass writes are
// judged with the other object read from the webhook's cache.
func TestKarpenterAdmission(t *testing.T) {
	env := integrationEnv()
	vwc := deploy.WebhookConfiguration(env, "", nil)
	root, err := envtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	crds, err := filepath.Glob(filepath.Join(root, "generators", "karpenter", "data", "*", "crds"))
	if err != nil || len(crds) != 1 {
		t.Fatalf("vendored Karpenter CRDs: %v %v", crds, err)
	}
	kube := envtest.Start(t,
		envtest.WithWebhooks(crenvtest.WebhookInstallOptions{ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{vwc}}),
		envtest.WithCRDPaths(crds...))
	ctx, cancel := context.WithCancel(context.Background())
	admin := kube.Client
	mustCreate(t, admin, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "enigate-system"}})
	objs, err := deploy.Webhook(env)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if cm, ok := o.(*corev1.ConfigMap); ok {
			mustCreate(t, admin, cm)
		}
	}
	serveWebhook(t, ctx, cancel, kube)

	// Policy: no prefix delegation, index 0, 2 host-network pods: m7g.large 27, m7g.xlarge 56.
	mustCreate(t, admin, nodeClass("general", 27))
	t.Run("pool without the Cilium startup taint", func(t *testing.T) {
		expectDenied(t, admin.Create(ctx, karpenterNodePool("untainted", "general", false, "large")), "node.cilium.io/agent-not-ready")
	})
	t.Run("pool whose class promises more than a launchable type holds", func(t *testing.T) {
		mustCreate(t, admin, nodeClass("roomy", 56))
		var err error
		eventually(t, func() error {
			err = admin.Create(ctx, karpenterNodePool("mixed", "roomy", true, "large", "xlarge"))
			if err == nil || !strings.Contains(err.Error(), "m7g.large (bound 27)") {
				if err == nil {
					_ = admin.Delete(ctx, karpenterNodePool("mixed", "roomy", true))
				}
				return errNotYet
			}
			return nil
		})
		expectDenied(t, err, "kubelet maxPods 56 exceeds the bound of m7g.large (bound 27)")
	})
	t.Run("pool within every bound, then its class raised", func(t *testing.T) {
		eventually(t, func() error {
			return admin.Create(ctx, karpenterNodePool("general", "general", true, "large", "xlarge"))
		})
		var err error
		eventually(t, func() error {
			c := nodeClass("general", 50)
			cur := &unstructured.Unstructured{}
			cur.SetGroupVersionKind(c.GroupVersionKind())
			if err := admin.Get(ctx, client.ObjectKey{Name: "general"}, cur); err != nil {
				return err
			}
			c.SetResourceVersion(cur.GetResourceVersion())
			err = admin.Update(ctx, c)
			if err == nil || !strings.Contains(err.Error(), "NodePool general") {
				return errNotYet
			}
			return nil
		})
		expectDenied(t, err, "NodePool general with EC2NodeClass general: kubelet maxPods 50 exceeds the bound of m7g.large (bound 27)")
	})
}

type notYet struct{}

func (notYet) Error() string { return "not judged with the cached object yet" }

var errNotYet error = notYet{}
