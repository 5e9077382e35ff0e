package support

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/generators/crds"
	"github.com/enigate/enigate/schema/model"
)

func lock(cilium, gatewayAPI, channel, kubernetes string) model.Versions {
	return model.Versions{Kubernetes: kubernetes, Cilium: cilium, GatewayAPI: gatewayAPI, GatewayAPIChannel: channel,
		Eksctl: "0.230.0", CertManager: "v1.20.2"}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		v         model.Versions
		wantErrs  []string
		wantWarns []string
	}{
		{name: "1.20 with v1.6 standard", v: lock("1.20.2", "v1.6.3", "standard", "1.35")},
		{name: "1.19 with v1.4 standard", v: lock("1.19.7", "v1.4.1", "standard", "1.35")},
		{name: "1.19 with v1.4 experimental", v: lock("1.19.7", "v1.4.1", "experimental", "1.34")},
		{
			name: "1.19 with v1.5 standard: TLSRoute served at v1 only",
			v:    lock("1.19.7", "v1.5.1", "standard", "1.35"),
			wantErrs: []string{"versions.gatewayAPI: v1.5.1 (standard channel) with Cilium 1.19.7 is known to break: the operator crashes at start: " +
				"the standard channel lists TLSRoute v1alpha2 but no longer serves it, and the 1.19 operator watches v1alpha2 " +
				"(upstream: cilium/cilium#44920, cilium/cilium#45139, kubernetes-sigs/kubespray#13222; " +
				"nearest working pin: gatewayAPI v1.4.1 with cilium 1.19.7, or cilium 1.20.2 with gatewayAPI v1.6.3)"},
		},
		{
			name:     "1.19 with v1.6 standard",
			v:        lock("1.19.7", "v1.6.3", "standard", "1.35"),
			wantErrs: []string{"versions.gatewayAPI: v1.6.3 (standard channel) with Cilium 1.19.7 is known to break: the operator crashes at start:"},
		},
		{
			name:     "1.19 with v1.6 experimental: not the release it implements",
			v:        lock("1.19.7", "v1.6.3", "experimental", "1.35"),
			wantErrs: []string{"versions.gatewayAPI: v1.6.3 is not the Gateway API release Cilium 1.19.7 implements (allowed: v1.4.x, pinned v1.4.1)"},
		},
		{
			name: "1.20 without Gateway API v1.6",
			v:    lock("1.20.2", "v1.4.1", "standard", "1.35"),
			wantErrs: []string{"versions.gatewayAPI: v1.4.1 (standard channel) with Cilium 1.20.2 is known to break: the operator requires TLSRoute, ReferenceGrant and " +
				"BackendTLSPolicy served at v1; without them it silently does not start its Gateway API controller and every HTTPS listener resets " +
				"(no certificate is synced to Envoy) (upstream: cilium/cilium v1.20.2 operator/pkg/gateway-api/helpers/schemes.go RequiredGVKs, " +
				"Documentation/network/servicemesh/gateway-api/installation.rst; nearest working pin: gatewayAPI v1.6.3 with cilium 1.20.2, or cilium 1.19.7 with gatewayAPI v1.4.1)"},
		},
		{
			name:     "1.20 with v1.5: not the release it implements",
			v:        lock("1.20.2", "v1.5.1", "standard", "1.35"),
			wantErrs: []string{"versions.gatewayAPI: v1.5.1 is not the Gateway API release Cilium 1.20.2 implements (allowed: v1.6.x, pinned v1.6.3)"},
		},
		{
			name:     "unknown channel",
			v:        lock("1.20.2", "v1.6.3", "beta", "1.35"),
			wantErrs: []string{`versions.gatewayAPIChannel: supported values: "standard", "experimental"`},
		},
		{
			name:     "unknown chart",
			v:        lock("1.17.0", "v1.4.1", "standard", "1.35"),
			wantErrs: []string{`versions.cilium: chart "1.17.0" is not supported (allowed: 1.18.12, 1.19.7, 1.20.2, the newest patch of each supported minor)`},
		},
		{
			name: "Kubernetes outside the tested minors",
			v:    lock("1.19.7", "v1.4.1", "standard", "1.36"),
			wantWarns: []string{"versions.kubernetes: Cilium 1.19.7 is not tested on Kubernetes 1.36 (tested: 1.32, 1.33, 1.34, 1.35)", "versions.eksctl: eksctl 0.230.0 is not tested on Kubernetes 1.36 (tested: 1.23 to 1.35)",
				"versions.certManager: cert-manager v1.20.2 is not tested on Kubernetes 1.36 (tested: 1.31 to 1.35)"},
		},
		{
			name:      "cert-manager not tested on the minor",
			v:         model.Versions{Kubernetes: "1.35", Cilium: "1.20.2", GatewayAPI: "v1.6.3", GatewayAPIChannel: "standard", Eksctl: "0.230.0", CertManager: "v1.19.1"},
			wantWarns: []string{"versions.certManager: cert-manager v1.19.1 is not tested on Kubernetes 1.35 (tested: 1.31 to 1.34)"},
		},
		{
			name:      "unknown eksctl",
			v:         model.Versions{Kubernetes: "1.35", Cilium: "1.20.2", GatewayAPI: "v1.6.3", GatewayAPIChannel: "standard", Eksctl: "0.180.0", CertManager: "v1.20.2"},
			wantWarns: []string{"versions.eksctl: eksctl 0.180.0 is not in the support matrix (known: 0.230.0)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs, warns := Check(tt.v, field.NewPath("versions"))
			var got []string
			for _, e := range errs {
				got = append(got, e.Field+": "+e.Detail)
			}
			if len(got) != len(tt.wantErrs) {
				t.Fatalf("errors = %q, want %d matching %q", got, len(tt.wantErrs), tt.wantErrs)
			}
			for i, w := range tt.wantErrs {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("error %d = %q\nwant prefix %q", i, got[i], w)
				}
			}
			if !slices.Equal(warns, tt.wantWarns) {
				t.Errorf("warnings = %q\nwant %q", warns, tt.wantWarns)
			}
		})
	}
}

func TestCheckKarpenter(t *testing.T) {
	if w := CheckKarpenter("1.14.2", "1.35", field.NewPath("karpenter", "version")); w != nil {
		t.Errorf("1.14.2 on 1.35: %q, want none", w)
	}
	want := []string{"karpenter.version: Karpenter 1.12.0 is not in the support matrix (known: 1.13.x, 1.14.x)"}
	if w := CheckKarpenter("1.12.0", "1.35", field.NewPath("karpenter", "version")); !slices.Equal(w, want) {
		t.Errorf("1.12.0: %q, want %q", w, want)
	}
}

// TestMatrixConsistent: every Cilium row has its values schema vendored, its Gateway API pin
// vendored and of the minor it implements, tested Kubernetes minors EKS knows, and every
// breakage names a supported Cilium minor and a pin.
func TestMatrixConsistent(t *testing.T) {
	vendored := crds.Versions()
	minors := map[string]bool{}
	for _, c := range Ciliums {
		minors[c.Minor()] = true
		if !slices.Contains(vendored, c.GatewayAPIPin) {
			t.Errorf("cilium %s: Gateway API pin %s not vendored (vendored: %v)", c.Version, c.GatewayAPIPin, vendored)
		}
		if Minor(c.GatewayAPIPin) != c.GatewayAPI {
			t.Errorf("cilium %s: pin %s is not of minor %s", c.Version, c.GatewayAPIPin, c.GatewayAPI)
		}
		if errs, _ := Check(lock(c.Version, c.GatewayAPIPin, "standard", c.Kubernetes[0]), field.NewPath("versions")); len(errs) > 0 {
			t.Errorf("cilium %s with its own pin: %v", c.Version, errs)
		}
		if len(c.Sources) == 0 {
			t.Errorf("cilium %s: no source", c.Version)
		}
		for _, k := range c.Kubernetes {
			if MinorNumber(k) < 0 {
				t.Errorf("cilium %s: Kubernetes %q is not a minor", c.Version, k)
			}
		}
	}
	for _, b := range Breakages {
		if !minors[b.Cilium] || b.Pin() == "" || b.Upstream == "" {
			t.Errorf("breakage %+v: unknown Cilium minor, or no pin or upstream", b)
		}
	}
}

// TestBreakagePin: each breakage's pin is computed from the matrix rows, so a version bump
// moves it; both alternatives are there.
func TestBreakagePin(t *testing.T) {
	want := map[string]string{
		"1.19": "gatewayAPI v1.4.1 with cilium 1.19.7, or cilium 1.20.2 with gatewayAPI v1.6.3",
		"1.20": "gatewayAPI v1.6.3 with cilium 1.20.2, or cilium 1.19.7 with gatewayAPI v1.4.1",
	}
	for _, b := range Breakages {
		if got := b.Pin(); got != want[b.Cilium] {
			t.Errorf("breakage of cilium %s: Pin() = %q, want %q", b.Cilium, got, want[b.Cilium])
		}
	}
}

func TestMinor(t *testing.T) {
	for in, want := range map[string]string{"1.20.2": "1.20", "v1.6.3": "v1.6", "1.35": "1.35", "1": "1", "": ""} {
		if got := Minor(in); got != want {
			t.Errorf("Minor(%q) = %q, want %q", in, got, want)
		}
	}
}
