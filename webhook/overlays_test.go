package webhook

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// TestRenderedPoliciesLoad: the policy ConfigMap rendered into every overlay is one the
// webhook accepts (the renderer and the webhook agree on the YAML contract).
func TestRenderedPoliciesLoad(t *testing.T) {
	files, _ := filepath.Glob("../overlays/*/enigate/webhook.yaml")
	if len(files) == 0 {
		t.Fatal("no rendered overlays under ../overlays (the repository always has the examples)")
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, doc := range bytes.Split(data, []byte("\n---\n")) {
				var cm corev1.ConfigMap
				if yaml.Unmarshal(doc, &cm) != nil || cm.Kind != "ConfigMap" || cm.Name != DefaultConfigMap {
					continue
				}
				found = true
				if _, err := ParsePolicy([]byte(cm.Data[PolicyKey])); err != nil {
					t.Errorf("rendered policy rejected: %v", err)
				}
			}
			if !found {
				t.Errorf("no ConfigMap %s in %s", DefaultConfigMap, f)
			}
		})
	}
}
