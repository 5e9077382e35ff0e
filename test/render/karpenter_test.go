package render_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/enigate/enigate/schema/crdvalidation"
	"github.com/enigate/enigate/test/envtest"
)

// karpenterCRDDirs are the vendored Karpenter CRD directories (generators/karpenter/vendor.sh).
func karpenterCRDDirs(t testing.TB) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(repoRoot(t), "generators", "karpenter", "data", "*", "crds"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("want one vendored Karpenter CRD directory, found %v (%v)", dirs, err)
	}
	return dirs
}

// prodKarpenterObjects are prod's rendered EC2NodeClass and NodePool.
func prodKarpenterObjects(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, o := range build(t, filepath.Join(repoRoot(t), "overlays", "prod")) {
		if o.GetAPIVersion() == "karpenter.sh/v1" || o.GetAPIVersion() == "karpenter.k8s.aws/v1" {
			out = append(out, o)
		}
	}
	if len(out) != 2 {
		t.Fatalf("prod renders %d Karpenter objects, want an EC2NodeClass and a NodePool", len(out))
	}
	return out
}

// karpenterFaults are hand-written mistakes on prod's rendered objects; each must be refused by
// the pinned CRDs (their OpenAPI schema or CEL rules), offline and by the real API server.
var karpenterFaults = []struct {
	name, kind string
	mutate     func(spec map[string]any)
	want       string // in the offline error
}{
	{"role and instance profile", "EC2NodeClass", func(s map[string]any) { s["instanceProfile"] = "KarpenterNodeInstanceProfile" },
		"must specify exactly one of ['role', 'instanceProfile']"},
	{"no subnet selector", "EC2NodeClass", func(s map[string]any) { delete(s, "subnetSelectorTerms") }, "subnetSelectorTerms"},
	{"AL2 family with an AL2023 alias", "EC2NodeClass", func(s map[string]any) { s["amiFamily"] = "AL2" },
		"amiFamily must be 'AL2023' or 'Custom' when using an AL2023 alias"},
	{"budget above 100%", "NodePool", func(s map[string]any) {
		s["disruption"].(map[string]any)["budgets"] = []any{map[string]any{"nodes": "150%"}}
	}, "budgets[0].nodes"},
	{"restricted label domain in the template", "NodePool", func(s map[string]any) {
		s["template"].(map[string]any)["metadata"].(map[string]any)["labels"].(map[string]any)["karpenter.k8s.aws/pool"] = "general"
	}, "label domain"},
	{"Gt with two values", "NodePool", func(s map[string]any) {
		spec := s["template"].(map[string]any)["spec"].(map[string]any)
		spec["requirements"] = append(spec["requirements"].([]any), map[string]any{"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt", "values": []any{"6", "7"}})
	}, "requirements"},
}

func karpenterSet(t *testing.T) *crdvalidation.Set {
	t.Helper()
	dir := karpenterCRDDirs(t)[0]
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files [][]byte
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	set, err := crdvalidation.NewSet(files...)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func faulty(t *testing.T, objs []*unstructured.Unstructured, kind string, mutate func(map[string]any)) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind {
			c := o.DeepCopy()
			mutate(c.Object["spec"].(map[string]any))
			return c
		}
	}
	t.Fatalf("no %s", kind)
	return nil
}

// TestKarpenterObjectsOffline: prod's objects pass the pinned CRDs offline; every fault fails.
func TestKarpenterObjectsOffline(t *testing.T) {
	set := karpenterSet(t)
	objs := prodKarpenterObjects(t)
	for _, o := range objs {
		if errs := set.Validate(context.Background(), o.Object); len(errs) > 0 {
			t.Errorf("%s %s: %v", o.GetKind(), o.GetName(), errs)
		}
	}
	for _, f := range karpenterFaults {
		t.Run(f.name, func(t *testing.T) {
			errs := set.Validate(context.Background(), faulty(t, objs, f.kind, f.mutate).Object)
			if len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), f.want) {
				t.Errorf("offline: %v, want an error with %q", errs, f.want)
			}
		})
	}
}

// TestKarpenterObjectsAPIServer: the real kube-apiserver with the pinned CRDs accepts prod's
// objects by server-side dry-run and refuses every fault.
func TestKarpenterObjectsAPIServer(t *testing.T) {
	env := envtest.Start(t, envtest.WithCRDPaths(karpenterCRDDirs(t)...))
	ctx := context.Background()
	objs := prodKarpenterObjects(t)
	if err := env.DryRunApply(ctx, objs); err != nil {
		t.Fatalf("the API server rejects prod's Karpenter objects: %v", err)
	}
	for _, f := range karpenterFaults {
		t.Run(f.name, func(t *testing.T) {
			if err := env.DryRunApply(ctx, []*unstructured.Unstructured{faulty(t, objs, f.kind, f.mutate)}); err == nil {
				t.Errorf("the API server accepts %s", f.name)
			}
		})
	}
}
