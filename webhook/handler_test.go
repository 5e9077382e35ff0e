package webhook

import (
	"context"
	"os"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

func loadTestPolicy(t testing.TB) *PolicyStore {
	t.Helper()
	data, err := os.ReadFile("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := &PolicyStore{}
	if err := s.Load("testdata/policy.yaml", data); err != nil {
		t.Fatal(err)
	}
	return s
}

// request builds an admission request for a raw JSON object.
func request(op admissionv1.Operation, group, version, kind, ns, name, obj, old string) admission.Request {
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "uid", Operation: op, Namespace: ns, Name: name,
		Kind:     metav1.GroupVersionKind{Group: group, Version: version, Kind: kind},
		UserInfo: authnv1.UserInfo{Username: "alice", Groups: []string{"team-a"}},
	}}
	if obj != "" {
		req.Object = runtime.RawExtension{Raw: []byte(obj)}
	}
	if old != "" {
		req.OldObject = runtime.RawExtension{Raw: []byte(old)}
	}
	return req
}

func httpRouteJSON(ns, name, hosts, extra string) string {
	return `{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"namespace":"` + ns + `","name":"` + name + `"},
	"spec":{"parentRefs":[{"name":"public","namespace":"gateways","sectionName":"http"}],"hostnames":[` + hosts + `]` + extra + `}}`
}

func TestHandle(t *testing.T) {
	h := NewHandler(HandlerOptions{Policy: loadTestPolicy(t)})
	gw := "gateway.networking.k8s.io"
	tests := []struct {
		name    string
		req     admission.Request
		allowed bool
		code    int32    // expected Result.Code when set
		want    []string // substrings of the message
		warn    string
	}{
		{"own host", request(admissionv1.Create, gw, "v1", "HTTPRoute", "team-a", "r", httpRouteJSON("team-a", "r", `"a.example.com"`, ""), ""), true, 0, nil, ""},
		{"another team's host", request(admissionv1.Create, gw, "v1", "HTTPRoute", "team-a", "r", httpRouteJSON("team-a", "r", `"x.team-b.example.com"`, ""), ""), false, 422,
			[]string{`HTTPRoute.gateway.networking.k8s.io "r" is invalid: spec.hostnames[0]: Forbidden: hostname "x.team-b.example.com" belongs to team "team-b"`}, ""},
		{"hostname added on UPDATE", request(admissionv1.Update, gw, "v1", "HTTPRoute", "team-a", "r",
			httpRouteJSON("team-a", "r", `"a.example.com","x.team-b.example.com"`, ""), httpRouteJSON("team-a", "r", `"a.example.com"`, "")), false, 422,
			[]string{`spec.hostnames[1]: Forbidden`}, ""},
		{"unchanged spec on UPDATE is allowed with a warning", request(admissionv1.Update, gw, "v1", "HTTPRoute", "team-a", "r",
			httpRouteJSON("team-a", "r", `"x.team-b.example.com"`, ""), httpRouteJSON("team-a", "r", `"x.team-b.example.com"`, "")), true, 0, nil, "existing violation"},
		{"same bypass as GRPCRoute", request(admissionv1.Create, gw, "v1", "GRPCRoute", "team-a", "g",
			`{"metadata":{"namespace":"team-a","name":"g"},"spec":{"parentRefs":[{"name":"public","namespace":"gateways","sectionName":"http"}],"hostnames":["x.team-b.example.com"]}}`, ""), false, 422,
			[]string{`GRPCRoute.gateway.networking.k8s.io "g" is invalid`, `belongs to team "team-b"`}, ""},
		{"same bypass as TLSRoute", request(admissionv1.Create, gw, "v1alpha2", "TLSRoute", "team-a", "t",
			`{"metadata":{"namespace":"team-a","name":"t"},"spec":{"parentRefs":[{"name":"public","namespace":"gateways","sectionName":"tls-a"}],"hostnames":["x.team-b.example.com"],"rules":[]}}`, ""), false, 422,
			[]string{`belongs to team "team-b"`}, ""},
		{"same bypass as TLSRoute v1 (Gateway API v1.5+)", request(admissionv1.Create, gw, "v1", "TLSRoute", "team-a", "t",
			`{"metadata":{"namespace":"team-a","name":"t"},"spec":{"parentRefs":[{"name":"public","namespace":"gateways","sectionName":"tls-a"}],"hostnames":["x.team-b.example.com"],"rules":[]}}`, ""), false, 422,
			[]string{`belongs to team "team-b"`}, ""},
		{"ListenerSet (standard, v1) for another team's host", request(admissionv1.Create, gw, "v1", "ListenerSet", "team-a", "ls",
			`{"metadata":{"namespace":"team-a","name":"ls"},"spec":{"parentRef":{"name":"public","namespace":"gateways"},"listeners":[{"name":"l","port":443,"protocol":"HTTPS","hostname":"x.team-b.example.com"}]}}`, ""), false, 422,
			[]string{`ListenerSet.gateway.networking.k8s.io "ls" is invalid`, `belongs to team "team-b"`}, ""},
		{"XListenerSet (experimental) for another team's host", request(admissionv1.Create, "gateway.networking.x-k8s.io", "v1alpha1", "XListenerSet", "team-a", "ls",
			`{"metadata":{"namespace":"team-a","name":"ls"},"spec":{"parentRef":{"name":"public","namespace":"gateways"},"listeners":[{"name":"l","port":443,"protocol":"HTTPS","hostname":"x.team-b.example.com"}]}}`, ""), false, 422,
			[]string{`belongs to team "team-b"`}, ""},
		{"grant without to.name", request(admissionv1.Create, gw, "v1beta1", "ReferenceGrant", "team-a", "g",
			`{"metadata":{"namespace":"team-a","name":"g"},"spec":{"from":[{"group":"gateway.networking.k8s.io","kind":"HTTPRoute","namespace":"team-b"}],"to":[{"group":"","kind":"Service"}]}}`, ""), false, 422,
			[]string{`spec.to[0].name: Required value`}, ""},
		{"tenant gateway", request(admissionv1.Create, gw, "v1", "Gateway", "team-a", "mine",
			`{"metadata":{"namespace":"team-a","name":"mine"},"spec":{"gatewayClassName":"cilium","listeners":[{"name":"l","port":80,"protocol":"HTTP","allowedRoutes":{"namespaces":{"from":"All"}}}]}}`, ""), false, 422,
			[]string{`metadata.namespace: Forbidden`, `spec.listeners[0].allowedRoutes.namespaces.from: Unsupported value: "All"`}, ""},
		{"tenant writes the policy", request(admissionv1.Update, "", "v1", "ConfigMap", "enigate-system", "enigate-policy",
			`{"metadata":{"namespace":"enigate-system","name":"enigate-policy"},"data":{"policy.yaml":"environment: x"}}`, `{}`), false, 422,
			[]string{`the enigate policy is platform-owned; user "alice" may not change it`}, ""},
		{"tenant deletes the policy", request(admissionv1.Delete, "", "v1", "ConfigMap", "enigate-system", "enigate-policy", "", policyCM), false, 422,
			[]string{`platform-owned`}, ""},
		// DELETE .../configmaps?fieldSelector=metadata.name=enigate-policy: admitted per object
		// with an empty request name.
		{"collection delete of the policy", request(admissionv1.Delete, "", "v1", "ConfigMap", "enigate-system", "", "", policyCM), false, 422,
			[]string{`platform-owned`}, ""},
		{"collection delete of another configmap", request(admissionv1.Delete, "", "v1", "ConfigMap", "enigate-system", "", "", `{"metadata":{"namespace":"enigate-system","name":"other"}}`), true, 0, nil, ""},
		{"spec change on a terminating route", request(admissionv1.Update, gw, "v1", "HTTPRoute", "team-a", "r",
			terminating(httpRouteJSON("team-a", "r", `"a.example.com","x.team-b.example.com"`, "")), terminating(httpRouteJSON("team-a", "r", `"a.example.com"`, ""))), false, 422,
			[]string{`spec.hostnames[1]: Forbidden`}, ""},
		{"finalizer removal on a terminating route", request(admissionv1.Update, gw, "v1", "HTTPRoute", "team-a", "r",
			terminating(httpRouteJSON("team-a", "r", `"x.team-b.example.com"`, "")),
			strings.Replace(terminating(httpRouteJSON("team-a", "r", `"x.team-b.example.com"`, "")), `"finalizers":["team-a/keep"]`, `"finalizers":[]`, 1)), true, 0, nil, "existing violation"},
		{"label edit on a grant with an existing violation", request(admissionv1.Update, gw, "v1beta1", "ReferenceGrant", "team-a", "g",
			`{"metadata":{"namespace":"team-a","name":"g","labels":{"x":"y"}},"spec":{"from":[{"group":"gateway.networking.k8s.io","kind":"HTTPRoute","namespace":"team-b"}],"to":[{"group":"","kind":"Service"}]}}`,
			`{"metadata":{"namespace":"team-a","name":"g"},"spec":{"from":[{"group":"gateway.networking.k8s.io","kind":"HTTPRoute","namespace":"team-b"}],"to":[{"group":"","kind":"Service"}]}}`), true, 0, nil, "existing violation"},
		{"node pods that wrap an int conversion", request(admissionv1.Update, "", "v1", "Node", "", "n1",
			`{"metadata":{"name":"n1","labels":{"node.kubernetes.io/instance-type":"m7g.xlarge"}},"status":{"capacity":{"pods":"18446744073709551672"}}}`, `{}`), false, 422,
			[]string{`status.capacity[pods]: Invalid value: "18446744073709551672"`}, ""},
		{"label edit on a node over the bound (judged inputs unchanged)", request(admissionv1.Update, "", "v1", "Node", "", "n1",
			`{"metadata":{"name":"n1","labels":{"node.kubernetes.io/instance-type":"m7g.xlarge","team":"x"}},"status":{"capacity":{"pods":"58"}}}`,
			`{"metadata":{"name":"n1","labels":{"node.kubernetes.io/instance-type":"M7G.xlarge"}},"status":{"capacity":{"pods":"58.0"}}}`), true, 0, nil, "existing violation"},
		{"ciliumnode relabelled to a smaller type", request(admissionv1.Update, "cilium.io", "v2", "CiliumNode", "", "n1",
			`{"metadata":{"name":"n1","labels":{"node.kubernetes.io/instance-type":" M7G.XLARGE"}},"spec":{"ipam":{"max-allocate":100}}}`,
			`{"metadata":{"name":"n1","labels":{"node.kubernetes.io/instance-type":"m7g.16xlarge"}},"spec":{"ipam":{"max-allocate":100}}}`), false, 422,
			[]string{`spec.ipam.max-allocate: Invalid value: 100: max-allocate 100 on m7g.xlarge`}, ""},
		{"ciliumnode with an unknown spec type and a known label", request(admissionv1.Create, "cilium.io", "v2", "CiliumNode", "", "n1",
			`{"metadata":{"name":"n1","labels":{"node.kubernetes.io/instance-type":"m7g.xlarge"}},"spec":{"eni":{"instance-type":"zz9.mega"},"ipam":{"max-allocate":100}}}`, ""), false, 422,
			[]string{`max-allocate 100 on m7g.xlarge`}, ""},
		{"other configmaps pass", request(admissionv1.Create, "", "v1", "ConfigMap", "enigate-system", "other", `{"metadata":{"name":"other"}}`, ""), true, 0, nil, ""},
		{"node over the ENI bound", request(admissionv1.Update, "", "v1", "Node", "", "n1",
			`{"metadata":{"name":"n1","labels":{"node.kubernetes.io/instance-type":"m7g.xlarge"}},"status":{"capacity":{"pods":"58"},"allocatable":{"pods":"58"}}}`, `{}`), false, 422,
			[]string{`Node "n1" is invalid`, `status.capacity[pods]: Invalid value: "58": max pods 58 on m7g.xlarge exceeds the bound: bound 56`}, ""},
		{"ciliumnode over the ENI addresses", request(admissionv1.Create, "cilium.io", "v2", "CiliumNode", "", "n1",
			`{"metadata":{"name":"n1"},"spec":{"eni":{"instance-type":"m7g.xlarge"},"ipam":{"pre-allocate":8,"max-allocate":100}}}`, ""), false, 422,
			[]string{`spec.ipam.max-allocate: Invalid value: 100`}, ""},
		{"malformed object", request(admissionv1.Create, gw, "v1", "HTTPRoute", "team-a", "r", `{"spec":`, ""), false, 400, []string{"decode HTTPRoute"}, ""},
		{"wrong types", request(admissionv1.Create, gw, "v1", "HTTPRoute", "team-a", "r", `{"spec":{"hostnames":7}}`, ""), false, 400, []string{"decode HTTPRoute"}, ""},
		{"no object", request(admissionv1.Create, gw, "v1", "HTTPRoute", "team-a", "r", "", ""), false, 400, []string{"has no object"}, ""},
		{"unknown kind passes", request(admissionv1.Create, "apps", "v1", "Deployment", "team-a", "d", `{}`, ""), true, 0, nil, ""},
		{"route delete passes", request(admissionv1.Delete, gw, "v1", "HTTPRoute", "team-a", "r", "", `{}`), true, 0, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.Handle(context.Background(), tt.req)
			if resp.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, tt.allowed, resp.Result)
			}
			if tt.code != 0 && (resp.Result == nil || resp.Result.Code != tt.code) {
				t.Errorf("result = %+v, want code %d", resp.Result, tt.code)
			}
			msg := ""
			if resp.Result != nil {
				msg = resp.Result.Message
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if tt.warn != "" && !strings.Contains(strings.Join(resp.Warnings, "\n"), tt.warn) {
				t.Errorf("warnings %q lack %q", resp.Warnings, tt.warn)
			}
			if !tt.allowed && tt.code == 422 && (resp.Result.Details == nil || len(resp.Result.Details.Causes) == 0) {
				t.Errorf("denial without field causes: %+v", resp.Result)
			}
		})
	}
}

const policyCM = `{"metadata":{"namespace":"enigate-system","name":"enigate-policy"},"data":{"policy.yaml":"environment: x"}}`

// terminating marks a JSON object as being deleted, held by a finalizer.
func terminating(obj string) string {
	return strings.Replace(obj, `"metadata":{`, `"metadata":{"deletionTimestamp":"2026-01-01T00:00:00Z","finalizers":["team-a/keep"],`, 1)
}

func TestPolicyWriterMayPushOnlyValidPolicy(t *testing.T) {
	h := NewHandler(HandlerOptions{Policy: loadTestPolicy(t)})
	good, _ := os.ReadFile("testdata/policy.yaml")
	cm := func(policy string) string {
		return `{"metadata":{"namespace":"enigate-system","name":"enigate-policy"},"data":{"policy.yaml":` + jsonString(policy) + `}}`
	}
	admin := func(obj string) admission.Request {
		r := request(admissionv1.Update, "", "v1", "ConfigMap", "enigate-system", "enigate-policy", obj, `{}`)
		r.UserInfo = authnv1.UserInfo{Username: "admin", Groups: []string{"system:masters"}}
		return r
	}
	if resp := h.Handle(context.Background(), admin(cm(string(good)))); !resp.Allowed {
		t.Errorf("valid policy denied: %+v", resp.Result)
	}
	broken := strings.Replace(string(good), `hostnames: ["*.team-b.example.com"]`, `hostnames: ["*.example.com"]`, 1)
	resp := h.Handle(context.Background(), admin(cm(broken)))
	if resp.Allowed || !strings.Contains(resp.Result.Message, `data[policy.yaml]`) || !strings.Contains(resp.Result.Message, "overlaps") {
		t.Errorf("overlapping policy: allowed=%v %+v", resp.Allowed, resp.Result)
	}
}

func TestPolicyStoreKeepsLastGood(t *testing.T) {
	s := loadTestPolicy(t)
	before := s.Current()
	if err := s.Load("update", []byte("environment: x\nteams: [{name: a, hostnames: ['*']}]\n")); err == nil {
		t.Fatal("broken policy loaded")
	}
	if s.Current() != before {
		t.Error("broken policy replaced the last good one")
	}
	if s.LastError() == nil || !strings.Contains(s.LastError().Error(), "bare *") {
		t.Errorf("last error %v", s.LastError())
	}
	if err := s.Load("update", []byte("environment: x\nunknownField: 1\n")); err == nil || !strings.Contains(err.Error(), "unknownField") {
		t.Errorf("strict decoding: %v", err)
	}
	good, _ := os.ReadFile("testdata/policy.yaml")
	if err := s.Load("again", good); err != nil || s.LastError() != nil {
		t.Errorf("reload: %v / %v", err, s.LastError())
	}
}

func TestNoPolicyYet(t *testing.T) {
	h := NewHandler(HandlerOptions{Policy: &PolicyStore{}})
	resp := h.Handle(context.Background(), request(admissionv1.Create, "gateway.networking.k8s.io", "v1", "HTTPRoute", "team-a", "r", httpRouteJSON("team-a", "r", `"a.example.com"`, ""), ""))
	if resp.Allowed || resp.Result.Code != 503 {
		t.Errorf("route without policy: %+v", resp)
	}
	resp = h.Handle(context.Background(), request(admissionv1.Create, "", "v1", "Node", "", "n", `{"metadata":{"name":"n"}}`, ""))
	if !resp.Allowed || len(resp.Warnings) == 0 {
		t.Errorf("node without policy: %+v", resp)
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
