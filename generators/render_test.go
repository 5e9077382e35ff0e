package generators

import (
	"strings"
	"testing"

	"github.com/enigate/enigate/generators/envrepo"
)

// TestRenderRefusesWhatPushRefuses: the render pipeline's last check is the environment
// repository's, so render cannot write a file that push would refuse.
func TestRenderRefusesWhatPushRefuses(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string // "" means accepted
	}{
		{"plain manifest", "kind: ConfigMap\ndata:\n  a: b\n", ""},
		{"PEM private key", "kind: ConfigMap\ndata:\n  k: |\n    -----BEGIN RSA PRIVATE KEY-----\n    MIIE\n", "private key material"},
		{"EC private key", "x: -----BEGIN EC PRIVATE KEY-----", "private key material"},
		{"Secret with data", "kind: Namespace\n---\nkind: Secret\ndata:\n  tls.key: AAAA\n", "carries data"},
		{"Secret with stringData", "kind: Secret\nstringData:\n  password: x\n", "carries stringData"},
		{"empty Secret is fine", "kind: Secret\nmetadata:\n  name: tls\n", ""},
		{"base64-encoded key", "kind: ConfigMap\ndata:\n  k: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCg==\n", "private key material"},
		{"placeholder", "kind: ConfigMap\ndata:\n  role: REPLACE-WITH-ROLE-ARN\n", "placeholder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := envrepo.Check([]File{{Path: "x.yaml", Data: []byte(tt.data)}})
			switch {
			case tt.want == "" && len(errs) > 0:
				t.Errorf("refused: %v", errs)
			case tt.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.want)):
				t.Errorf("errs = %v, want one containing %q", errs, tt.want)
			}
		})
	}
}
