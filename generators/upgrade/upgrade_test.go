package upgrade

import (
	"slices"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		name, in string
		want     Target
		wantErr  string
	}{
		{name: "cilium only", in: "cilium=1.20.2", want: Target{Cilium: "1.20.2"}},
		{name: "all three", in: "cilium=1.20.2,gatewayAPI=v1.6.3,kubernetes=1.35", want: Target{"1.20.2", "v1.6.3", "1.35"}},
		{name: "unknown key", in: "cilium=1.20.2,helm=3", wantErr: `--to: unknown key "helm" (allowed: cilium, gatewayAPI, kubernetes)`},
		{name: "no value", in: "cilium=", wantErr: `--to: "cilium=" is not key=value (allowed keys: cilium, gatewayAPI, kubernetes)`},
		{name: "empty", in: "", wantErr: `--to: "" is not key=value (allowed keys: cilium, gatewayAPI, kubernetes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			switch {
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("error %v, want %q", err, tt.wantErr)
			case tt.wantErr == "" && (err != nil || got != tt.want):
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestValueChanges: defaults, documentation, removed and added keys of two values.yaml, and
// which of them the rendered values touch.
func TestValueChanges(t *testing.T) {
	from := []byte(`# -- Enable ENI.
eni:
  enabled: false
  # @schema
  # type: [boolean]
  # @schema
  # -- Release excess IPs.
  awsReleaseExcessIPs: false
  gone: 1
image:
  tag: v1
hubble:
  # -- old words
  enabled: true
`)
	to := []byte(`eni:
  enabled: false
  # -- Release excess IPs.
  awsReleaseExcessIPs: true
  fresh: {}
image:
  tag: v2
hubble:
  # -- new words
  enabled: true
`)
	got, err := valueChanges(from, to, []string{"eni.awsReleaseExcessIPs", "hubble.enabled"})
	if err != nil {
		t.Fatal(err)
	}
	want := []ValueChange{
		{Key: "eni.awsReleaseExcessIPs", Change: "default", From: "false", To: "true", Rendered: true},
		{Key: "eni.fresh", Change: "added", To: "{}"},
		{Key: "eni.gone", Change: "removed", From: "1"},
		{Key: "hubble.enabled", Change: "meaning", From: "old words", To: "new words", Rendered: true},
		{Key: "image.tag", Change: "default", From: "v1", To: "v2"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestTouches(t *testing.T) {
	rendered := []string{"eni.eniTags.environment", "bpf.lbMapMax"}
	for key, want := range map[string]bool{"eni.eniTags": true, "bpf.lbMapMax": true, "bpf": true, "bpf.lbMapMaxx": false, "eni.enabled": false} {
		if got := touches(key, rendered); got != want {
			t.Errorf("touches(%q) = %v, want %v", key, got, want)
		}
	}
}
