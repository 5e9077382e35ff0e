// Package audit judges what already exists: every route, ReferenceGrant, Gateway,
// XListenerSet, Node and CiliumNode in the cluster, against the policy in force, with the
// webhook's rules (rules.Judge). Admission only judges writes; objects created before the
// webhook, while it was down (failurePolicy Ignore) or before a policy change keep violating
// silently without it.
//
// The verdicts are published as wgpolicyk8s.io/v1alpha2 PolicyReports (one per namespace) and
// a ClusterPolicyReport (Nodes, CiliumNodes), Kubernetes Events on the offending objects, and
// the gauge enigate_audit_violations{namespace,rule}. The audit also reports hostname
// conflicts that the Gateway API resolves silently (rule hostname-conflict).
package audit

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/enigate/enigate/schema/rules"
	"github.com/enigate/enigate/webhook/policyreport"
)

// Names in reports, events and metrics.
const (
	// Source is the PolicyReport results' source and the reports' manager label value.
	Source = "enigate"
	// ReportName is the name of every PolicyReport and of the ClusterPolicyReport.
	ReportName = "enigate-audit"
	// ManagedByLabel marks the reports the audit owns (it deletes stale ones).
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// RuleHostnameConflict names a route rule shadowed by an older route's identical match.
	RuleHostnameConflict = "hostname-conflict"
	// RuleAdvisory names warnings (they carry no rule of their own).
	RuleAdvisory = "advisory"
)

// Item is one object to audit with its group/version/kind (typed objects from a cache carry
// no TypeMeta).
type Item struct {
	GVK schema.GroupVersionKind
	Obj client.Object
}

// Finding is one result on one object.
type Finding struct {
	Rule string
	// Field is the field path ("" when the finding is about the whole object).
	Field   string
	Message string
	// Result is policyreport.ResultFail, ResultWarn or ResultError.
	Result string
}

// Verdict is the audit of one object.
type Verdict struct {
	Ref      corev1.ObjectReference
	Findings []Finding
}

// Audit is the verdict on every object, in input order.
type Audit struct {
	Verdicts []Verdict
}

// Evaluate judges items under ix with cluster facts c. It is pure: the caller lists the
// objects (the runner from its informer cache).
func Evaluate(ix *rules.Index, items []Item, c rules.Cluster) Audit {
	a := Audit{Verdicts: make([]Verdict, 0, len(items))}
	at := make([]int, len(items)) // item -> verdict index, -1 when not judged
	for i, it := range items {
		at[i] = -1
		v := Verdict{Ref: ref(it)}
		res, judged, err := rules.JudgeObject(ix, it.Obj, c)
		if !judged {
			raw, merr := json.Marshal(it.Obj)
			if merr != nil {
				err = merr
			} else {
				res, judged, err = rules.Judge(ix, rules.Input{Group: it.GVK.Group, Kind: it.GVK.Kind, Namespace: it.Obj.GetNamespace(), Object: raw}, c)
			}
		}
		if !judged && err == nil {
			continue
		}
		if err != nil {
			v.Findings = append(v.Findings, Finding{Rule: rules.RuleDecode, Message: err.Error(), Result: policyreport.ResultError})
		}
		for i, e := range res.Errors {
			v.Findings = append(v.Findings, Finding{Rule: res.Rules[i], Field: e.Field, Message: e.ErrorBody(), Result: policyreport.ResultFail})
		}
		for _, w := range res.Warnings {
			v.Findings = append(v.Findings, Finding{Rule: RuleAdvisory, Message: w, Result: policyreport.ResultWarn})
		}
		at[i] = len(a.Verdicts)
		a.Verdicts = append(a.Verdicts, v)
	}
	conflicts(ix, items, at, a.Verdicts)
	return a
}

func ref(it Item) corev1.ObjectReference {
	return corev1.ObjectReference{APIVersion: it.GVK.GroupVersion().String(), Kind: it.GVK.Kind,
		Namespace: it.Obj.GetNamespace(), Name: it.Obj.GetName(), UID: it.Obj.GetUID()}
}

// claim is one HTTPRoute match on one host of one listener.
type claim struct {
	verdict int // index in verdicts
	route   *gwv1.HTTPRoute
	field   string
}

// conflicts adds a hostname-conflict finding to every HTTPRoute rule match that an older
// route of the same owner (one team, or the platform) claims identically on the same host
// and listener. Gateway API gives such ties to the oldest route, then to the first by
// namespace/name (sigs.k8s.io/gateway-api v1.4.1, apis/v1/httproute_types.go, HTTPRouteRule);
// the newer one never receives the traffic and nothing in its status says so. Matches that
// differ in anything (path, method, headers, query) are not conflicts.
func conflicts(ix *rules.Index, items []Item, at []int, verdicts []Verdict) {
	byKey := map[string][]claim{}
	for i, it := range items {
		r, ok := it.Obj.(*gwv1.HTTPRoute)
		vi := at[i]
		if !ok || vi < 0 {
			continue
		}
		owner := ix.TeamOf(r.Namespace)
		if owner == "" && ix.IsPlatform(r.Namespace) {
			owner = "(platform)"
		}
		if owner == "" {
			continue
		}
		matches := routeMatches(r)
		for _, p := range r.Spec.ParentRefs {
			if (p.Group != nil && string(*p.Group) != rules.GatewayGroup) || (p.Kind != nil && string(*p.Kind) != rules.KindGateway) {
				continue
			}
			ns := r.Namespace
			if p.Namespace != nil {
				ns = string(*p.Namespace)
			}
			parent := fmt.Sprintf("%s/%s/%s/%d", ns, p.Name, deref(p.SectionName), derefPort(p.Port))
			seen := map[string]bool{}
			for _, h := range r.Spec.Hostnames {
				host := rules.NormalizeHostname(string(h))
				for _, m := range matches {
					key := owner + "|" + parent + "|" + host + "|" + m.key
					if seen[key] {
						continue // the same match twice in one route: Gateway API takes the first rule
					}
					seen[key] = true
					byKey[key] = append(byKey[key], claim{verdict: vi, route: r, field: m.field})
				}
			}
		}
	}
	keys := make([]string, 0, len(byKey))
	for k, cs := range byKey {
		if len(cs) > 1 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		cs := byKey[k]
		sort.SliceStable(cs, func(i, j int) bool { return older(cs[i].route, cs[j].route) })
		win := cs[0].route
		host := strings.Split(k, "|")[2]
		for _, c := range cs[1:] {
			verdicts[c.verdict].Findings = append(verdicts[c.verdict].Findings, Finding{Rule: RuleHostnameConflict, Field: c.field, Result: policyreport.ResultFail,
				Message: fmt.Sprintf("shadowed: HTTPRoute %s/%s (older, created %s) has the same match on host %q and listener; Gateway API sends the traffic to the oldest route, so this rule receives none (change the path or host, or merge the routes)",
					win.Namespace, win.Name, win.CreationTimestamp.UTC().Format(time.RFC3339), host)})
		}
	}
}

// older orders routes by Gateway API precedence: creation time, then namespace/name.
func older(a, b *gwv1.HTTPRoute) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
}

type match struct{ key, field string }

// routeMatches canonicalises every match of r (defaults applied: no matches is PathPrefix /).
func routeMatches(r *gwv1.HTTPRoute) []match {
	var out []match
	prefix, root := gwv1.PathMatchPathPrefix, "/"
	for i, rule := range r.Spec.Rules {
		field := fmt.Sprintf("spec.rules[%d]", i)
		if len(rule.Matches) == 0 {
			m := gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: &prefix, Value: &root}}
			out = append(out, match{canonical(m), field + ".matches"})
		}
		for j, m := range rule.Matches {
			m = *m.DeepCopy()
			if m.Path == nil {
				m.Path = &gwv1.HTTPPathMatch{}
			}
			if m.Path.Type == nil {
				m.Path.Type = &prefix
			}
			if m.Path.Value == nil {
				m.Path.Value = &root
			}
			out = append(out, match{canonical(m), fmt.Sprintf("%s.matches[%d]", field, j)})
		}
	}
	return out
}

// canonical is the match as JSON with headers and query params sorted by name.
func canonical(m gwv1.HTTPRouteMatch) string {
	sort.Slice(m.Headers, func(i, j int) bool { return m.Headers[i].Name < m.Headers[j].Name })
	sort.Slice(m.QueryParams, func(i, j int) bool { return m.QueryParams[i].Name < m.QueryParams[j].Name })
	b, _ := json.Marshal(m)
	return string(b)
}

func deref[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return string(*p)
}

func derefPort(p *gwv1.PortNumber) int32 {
	if p == nil {
		return 0
	}
	return int32(*p)
}

// Reports builds the PolicyReport of every namespace that holds audited objects (results for
// failing and warning objects; passing objects are counted in the summary) and the
// ClusterPolicyReport of the cluster-scoped ones. now stamps the results.
func (a Audit) Reports(now time.Time) (namespaced map[string]*policyreport.Report, cluster *policyreport.Report) {
	ts := metav1.Timestamp{Seconds: now.Unix()}
	newReport := func(kind, ns string) *policyreport.Report {
		return &policyreport.Report{
			TypeMeta:   metav1.TypeMeta{APIVersion: policyreport.GroupVersion.String(), Kind: kind},
			ObjectMeta: metav1.ObjectMeta{Name: ReportName, Namespace: ns, Labels: map[string]string{ManagedByLabel: Source}},
		}
	}
	namespaced = map[string]*policyreport.Report{}
	cluster = newReport(policyreport.KindClusterPolicyReport, "")
	for _, v := range a.Verdicts {
		rep := cluster
		if v.Ref.Namespace != "" {
			rep = namespaced[v.Ref.Namespace]
			if rep == nil {
				rep = newReport(policyreport.KindPolicyReport, v.Ref.Namespace)
				namespaced[v.Ref.Namespace] = rep
			}
		}
		if len(v.Findings) == 0 {
			rep.Count(policyreport.ResultPass)
			continue
		}
		for _, f := range v.Findings {
			r := policyreport.Result{Source: Source, Policy: Source, Rule: f.Rule, Result: f.Result, Timestamp: ts,
				Resources: []corev1.ObjectReference{v.Ref}, Message: f.Message, Category: category(v.Ref.Kind), Severity: severity(f)}
			if f.Field != "" {
				r.Properties = map[string]string{"field": f.Field}
			}
			rep.Add(r)
		}
	}
	for _, rep := range append([]*policyreport.Report{cluster}, maps(namespaced)...) {
		sort.SliceStable(rep.Results, func(i, j int) bool { return resultLess(&rep.Results[i], &rep.Results[j]) })
	}
	return namespaced, cluster
}

func maps(m map[string]*policyreport.Report) []*policyreport.Report {
	out := make([]*policyreport.Report, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	return out
}

// resultLess orders results by object (kind, namespace, name), then rule, field and message,
// so that a report's content does not depend on the order objects were listed in.
func resultLess(a, b *policyreport.Result) bool {
	ra, rb := a.Resources[0], b.Resources[0]
	for _, p := range [][2]string{{ra.Kind, rb.Kind}, {ra.Namespace, rb.Namespace}, {ra.Name, rb.Name}, {a.Rule, b.Rule},
		{a.Properties["field"], b.Properties["field"]}, {a.Message, b.Message}} {
		if p[0] != p[1] {
			return p[0] < p[1]
		}
	}
	return false
}

func category(kind string) string {
	if kind == rules.KindNode || kind == rules.KindCiliumNode {
		return "capacity"
	}
	return "route ownership"
}

func severity(f Finding) string {
	switch f.Result {
	case policyreport.ResultFail, policyreport.ResultError:
		return "high"
	}
	return "info"
}

// Violations counts fail results by namespace ("" for cluster-scoped objects) and rule.
func (a Audit) Violations() map[[2]string]int {
	out := map[[2]string]int{}
	for _, v := range a.Verdicts {
		for _, f := range v.Findings {
			if f.Result == policyreport.ResultFail || f.Result == policyreport.ResultError {
				out[[2]string{v.Ref.Namespace, f.Rule}]++
			}
		}
	}
	return out
}
