package render_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/generators"
	"github.com/enigate/enigate/schema"
)

// TestOverlayObjectsPassOffline judges every object of the committed overlays that the offline
// validator covers (the CRD kinds and the built-in kinds' metadata), enigate's own components
// included, as the API server would on create.
func TestOverlayObjectsPassOffline(t *testing.T) {
	root := repoRoot(t)
	for _, env := range examples {
		t.Run(env, func(t *testing.T) {
			dir := filepath.Join(root, "overlays", env)
			// The CRDs this environment pins, as render judges it.
			decl, err := schema.LoadDir(dir, "overlays/"+env)
			if err != nil {
				t.Fatal(err)
			}
			set, err := generators.CRDValidationSet(decl.Env)
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]int{}
			err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				if strings.HasPrefix(rel, "crds/") || strings.HasPrefix(rel, "eksctl/") || strings.HasPrefix(rel, "cilium/values") {
					return nil // CRDs themselves, eksctl and Helm input: not in-cluster objects
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				for _, doc := range bytes.Split(data, []byte("\n---\n")) {
					var obj map[string]any
					if err := yaml.Unmarshal(doc, &obj); err != nil {
						t.Errorf("%s: %v", rel, err)
						continue
					}
					kind, _ := obj["kind"].(string)
					apiVersion, _ := obj["apiVersion"].(string)
					if obj == nil || !set.Covers(apiVersion, kind) {
						continue
					}
					kinds[kind]++
					for _, e := range set.Validate(context.Background(), obj) {
						t.Errorf("%s: %s %v: %v", rel, kind, obj["metadata"], e)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"GatewayClass", "CiliumGatewayClassConfig", "Gateway", "HTTPRoute", "Namespace", "Role", "Issuer", "Certificate"} {
				if kinds[k] == 0 {
					t.Errorf("no %s judged (judged: %v)", k, kinds)
				}
			}
		})
	}
}
