package webhook

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/enigate/enigate/schema/rules"
	"github.com/enigate/enigate/schema/rules/rulestest"
)

// corpusCluster holds a corpus case's cluster facts in a controller-runtime client, as the
// webhook's cache would (nil when the case has none).
func corpusCluster(t testing.TB, c *rulestest.Cluster) *CacheCluster {
	t.Helper()
	if c == nil {
		return nil
	}
	var objs []client.Object
	names := make([]string, 0, len(c.Gateways))
	for k := range c.Gateways {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		ns, name, _ := strings.Cut(k, "/")
		g := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		for _, l := range c.Gateways[k] {
			g.Spec.Listeners = append(g.Spec.Listeners, gwv1.Listener{Name: gwv1.SectionName(l)})
		}
		objs = append(objs, g)
	}
	for i := range c.Grants {
		objs = append(objs, c.Grants[i].DeepCopy())
	}
	return &CacheCluster{Reader: fake.NewClientBuilder().WithScheme(Scheme()).WithObjects(objs...).Build()}
}

// TestHandlerAgreesWithJudge replays every table case of the rules (the judge corpus) as a
// CREATE through the admission handler and through rules.Judge with the same cluster facts:
// both reach the corpus verdict, so switching the handler's dispatch to rules.Judge is safe.
func TestHandlerAgreesWithJudge(t *testing.T) {
	corpus, err := rulestest.Load()
	if err != nil {
		t.Fatal(err)
	}
	policy, err := json.Marshal(corpus.Policy)
	if err != nil {
		t.Fatal(err)
	}
	store := &PolicyStore{}
	if err := store.Load("corpus", policy); err != nil {
		t.Fatal(err)
	}
	for _, tc := range corpus.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			var meta struct {
				Metadata metav1.ObjectMeta `json:"metadata"`
			}
			if err := json.Unmarshal(tc.Object, &meta); err != nil {
				t.Fatal(err)
			}
			gv, err := schema.ParseGroupVersion(tc.APIVersion)
			if err != nil {
				t.Fatal(err)
			}
			cluster := corpusCluster(t, tc.Cluster)
			h := NewHandler(HandlerOptions{Policy: store, Cluster: cluster})
			resp := h.Handle(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				UID: "uid", Operation: admissionv1.Create, Namespace: meta.Metadata.Namespace, Name: meta.Metadata.Name,
				Kind:   metav1.GroupVersionKind{Group: gv.Group, Version: gv.Version, Kind: tc.Kind},
				Object: runtime.RawExtension{Raw: tc.Object},
			}})
			if resp.Allowed != (len(tc.Errors) == 0) {
				t.Fatalf("handler allowed=%t, corpus errors %q (%v)", resp.Allowed, tc.Errors, resp.Result)
			}
			for _, e := range tc.Errors {
				if !strings.Contains(resp.Result.Message, e) {
					t.Errorf("handler denial %q lacks %q", resp.Result.Message, e)
				}
			}
			if !reflect.DeepEqual(nonNil(resp.Warnings), tc.Warnings) {
				t.Errorf("handler warnings %q, corpus %q", resp.Warnings, tc.Warnings)
			}

			var c rules.Cluster
			if cluster != nil {
				c = cluster
			}
			res, judged, err := rules.Judge(store.Current(), rules.Input{Group: gv.Group, Kind: tc.Kind, Namespace: meta.Metadata.Namespace, Object: tc.Object}, c)
			if !judged || err != nil {
				t.Fatalf("judge: judged=%t err=%v", judged, err)
			}
			var errs []string
			for _, e := range res.Errors {
				errs = append(errs, e.Error())
			}
			if !reflect.DeepEqual(nonNil(errs), tc.Errors) || !reflect.DeepEqual(nonNil(res.Warnings), tc.Warnings) {
				t.Errorf("judge with the webhook's cluster: errors %q warnings %q, corpus %q %q", errs, res.Warnings, tc.Errors, tc.Warnings)
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TestHandlerJudgesTheJudgedKinds: the handler judges exactly rules.Judged kinds plus the
// policy ConfigMap: a request of a judged kind without an object is an error (it was
// judged), any other kind is allowed unjudged.
func TestHandlerJudgesTheJudgedKinds(t *testing.T) {
	h := NewHandler(HandlerOptions{Policy: loadTestPolicy(t)})
	kinds := append(rules.JudgedKinds(), schema.GroupKind{Group: "", Kind: "ConfigMap"}, schema.GroupKind{Group: "apps", Kind: "Deployment"})
	for _, gk := range kinds {
		req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			UID: "u", Operation: admissionv1.Create, Namespace: "a", Name: "x",
			Kind: metav1.GroupVersionKind{Group: gk.Group, Version: "v1", Kind: gk.Kind},
		}}
		resp := h.Handle(context.Background(), req)
		judged := rules.Judged(gk.Group, gk.Kind) || gk.Kind == "ConfigMap"
		if gotJudged := !(resp.Allowed && resp.Result != nil && resp.Result.Message == "kind not checked by enigate"); gotJudged != judged {
			t.Errorf("%s: judged %v, want %v (response %+v)", gk, gotJudged, judged, resp.Result)
		}
	}
}
