package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// FuzzHandle drives the whole request path, AdmissionReview bytes -> controller-runtime's
// admission HTTP handler -> dispatch -> rules -> response, with arbitrary bodies. Every request
// must get a well-formed AdmissionReview answer (never a crash, never an empty body).
// Corpus: testdata/fuzz/FuzzHandle. Run: go test ./webhook -run '^$' -fuzz FuzzHandle -fuzztime 30s
func FuzzHandle(f *testing.F) {
	seeds := []string{
		review("HTTPRoute", "gateway.networking.k8s.io", "team-a", "CREATE", httpRouteJSON("team-a", "r", `"a.example.com"`, "")),
		review("HTTPRoute", "gateway.networking.k8s.io", "team-a", "CREATE", httpRouteJSON("team-a", "r", `"*.EXAMPLE.com."`, `,"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/apiv2"}}]}]`)),
		review("GRPCRoute", "gateway.networking.k8s.io", "team-a", "CREATE", `{"spec":{"hostnames":["shared.example.com"],"rules":[{"matches":[{"method":{"service":"api"}}]}]}}`),
		review("TLSRoute", "gateway.networking.k8s.io", "team-b", "UPDATE", `{"spec":{"parentRefs":[{"name":"public","port":443}],"hostnames":["*"]}}`),
		review("ReferenceGrant", "gateway.networking.k8s.io", "team-a", "CREATE", `{"spec":{"to":[{"kind":"Secret"}]}}`),
		review("Node", "", "", "UPDATE", `{"metadata":{"labels":{"node.kubernetes.io/instance-type":"m7g.xlarge"}},"status":{"capacity":{"pods":"1e9"}}}`),
		review("CiliumNode", "cilium.io", "", "CREATE", `{"spec":{"eni":{"first-interface-index":-7},"ipam":{"max-allocate":99999}}}`),
		review("ConfigMap", "", "enigate-system", "DELETE", ``),
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`,
		`{`, ``, `null`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	h := NewHandler(HandlerOptions{Policy: loadTestPolicy(f)})
	hook := (&admission.Webhook{Handler: h}).WithRecoverPanic(true)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		hook.ServeHTTP(w, req)
		var out admissionv1.AdmissionReview
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("response is not an AdmissionReview: %v: %q", err, w.Body.String())
		}
		if out.Response == nil {
			t.Fatalf("no response in %q", w.Body.String())
		}
		if !out.Response.Allowed && out.Response.Result == nil {
			t.Fatalf("denial without status: %q", w.Body.String())
		}
		// Also straight into the handler with the body as the object of every kind.
		for _, k := range []struct{ group, kind string }{{"gateway.networking.k8s.io", "HTTPRoute"}, {"gateway.networking.k8s.io", "GRPCRoute"}, {"", "Node"}, {"cilium.io", "CiliumNode"}} {
			r := request(admissionv1.Update, k.group, "v1", k.kind, "team-a", "x", string(body), string(body))
			resp := h.Handle(context.Background(), r)
			if !resp.Allowed && resp.Result == nil {
				t.Fatalf("%s: denial without status", k.kind)
			}
		}
	})
}

func review(kind, group, ns, op, obj string) string {
	if obj == "" {
		obj = "null"
	}
	return `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"` + group + `","version":"v1","kind":"` + kind +
		`"},"resource":{"group":"` + group + `","version":"v1","resource":"x"},"namespace":"` + ns + `","name":"enigate-policy","operation":"` + op +
		`","userInfo":{"username":"alice","groups":["team-a"]},"object":` + obj + `,"oldObject":` + obj + `}}`
}
