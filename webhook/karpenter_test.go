package webhook

import (
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
)

func TestHandleKarpenter(t *testing.T) {
	h := NewHandler(HandlerOptions{Policy: loadTestPolicy(t)})
	pool := func(taints string) string {
		return `{"apiVersion":"karpenter.sh/v1","kind":"NodePool","metadata":{"name":"general"},"spec":{"template":{"spec":{` +
			`"nodeClassRef":{"group":"karpenter.k8s.aws","kind":"EC2NodeClass","name":"general"},` +
			`"requirements":[{"key":"karpenter.k8s.aws/instance-family","operator":"In","values":["m7g"]}]` + taints + `}}}}`
	}
	tests := []struct {
		name    string
		kind    string
		group   string
		obj     string
		allowed bool
		want    string
	}{
		{"pool without the Cilium startup taint", "NodePool", "karpenter.sh", pool(""), false,
			`NodePool.karpenter.sh "general" is invalid: spec.template.spec.startupTaints: Required value`},
		{"pool with it, class not cached", "NodePool", "karpenter.sh",
			pool(`,"startupTaints":[{"key":"node.cilium.io/agent-not-ready","value":"true","effect":"NoExecute"}]`), true, "EC2NodeClass general not found"},
		{"class without a cluster view", "EC2NodeClass", "karpenter.k8s.aws",
			`{"apiVersion":"karpenter.k8s.aws/v1","kind":"EC2NodeClass","metadata":{"name":"general"},"spec":{"kubelet":{"maxPods":500}}}`, true, "kubelet maxPods not checked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.Handle(t.Context(), request(admissionv1.Create, tt.group, "v1", tt.kind, "", "general", tt.obj, ""))
			if resp.Allowed != tt.allowed {
				t.Fatalf("allowed %t, want %t: %+v", resp.Allowed, tt.allowed, resp.Result)
			}
			msg := strings.Join(resp.Warnings, "\n")
			if resp.Result != nil {
				msg += resp.Result.Message
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("response %q lacks %q", msg, tt.want)
			}
		})
	}
}
