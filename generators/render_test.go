package generators

import (
	"strings"
	"testing"
)

func TestKeyMaterialRefused(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string // "" means accepted
	}{
		{"plain manifest", "kind: ConfigMap\ndata:\n  a: b\n", ""},
		{"PEM private key", "kind: ConfigMap\ndata:\n  k: |\n    -----BEGIN RSA PRIVATE KEY-----\n    MIIE\n", "contains a private key"},
		{"EC private key", "x: -----BEGIN EC PRIVATE KEY-----", "contains a private key"},
		{"Secret with data", "kind: Namespace\n---\nkind: Secret\ndata:\n  tls.key: AAAA\n", "contains a Secret with data"},
		{"Secret with stringData", "kind: Secret\nstringData:\n  password: x\n", "contains a Secret with data"},
		{"empty Secret is fine", "kind: Secret\nmetadata:\n  name: placeholder\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := keyMaterial([]File{{Path: "x.yaml", Data: []byte(tt.data)}})
			switch {
			case tt.want == "" && len(errs) > 0:
				t.Errorf("refused: %v", errs)
			case tt.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.want)):
				t.Errorf("errs = %v, want one containing %q", errs, tt.want)
			}
		})
	}
}
