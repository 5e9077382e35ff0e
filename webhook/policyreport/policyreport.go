// Package policyreport holds the wgpolicyk8s.io PolicyReport and ClusterPolicyReport CRDs
// (the reports Kyverno and Kubewarden write, which Policy Reporter shows) and minimal Go types
// for their v1alpha2 version.
//
// The CRDs are vendored unmodified from github.com/kubernetes-sigs/wg-policy-prototypes,
// policy-report/crd/v1alpha2/wgpolicyk8s.io_{policyreports,clusterpolicyreports}.yaml at
// commit 25056e1f3eb5cab1e693b8c880eb693a84e099af (Source). They serve v1alpha1, v1alpha2 and
// v1beta1 with one schema (storage v1beta1). The types mirror
// policy-report/pkg/api/wgpolicyk8s.io/v1alpha2/{policyreport,clusterpolicyreport}_types.go of
// the same commit; that module (sigs.k8s.io/wg-policy-prototypes) requires controller-runtime
// v0.6 and pulls a dependency graph enigate does not want for five structs.
package policyreport

import (
	"embed"
	"fmt"
	"path"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Source is where the CRDs come from.
const Source = "github.com/kubernetes-sigs/wg-policy-prototypes@25056e1f3eb5cab1e693b8c880eb693a84e099af policy-report/crd/v1alpha2"

// GroupVersion is the version enigate writes.
var GroupVersion = schema.GroupVersion{Group: "wgpolicyk8s.io", Version: "v1alpha2"}

// Kinds.
const (
	KindPolicyReport        = "PolicyReport"
	KindClusterPolicyReport = "ClusterPolicyReport"
)

//go:embed data/*.yaml
var data embed.FS

// CRDs returns the PolicyReport and ClusterPolicyReport CRDs as upstream ships them.
func CRDs() ([][]byte, error) {
	var out [][]byte
	for _, f := range []string{"wgpolicyk8s.io_policyreports.yaml", "wgpolicyk8s.io_clusterpolicyreports.yaml"} {
		b, err := data.ReadFile(path.Join("data", f))
		if err != nil {
			return nil, fmt.Errorf("policy report crd %s: %w", f, err)
		}
		out = append(out, b)
	}
	return out, nil
}

// Result values (the CRD's enum).
const (
	ResultPass  = "pass"
	ResultFail  = "fail"
	ResultWarn  = "warn"
	ResultError = "error"
	ResultSkip  = "skip"
)

// Summary counts results by value.
type Summary struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Warn  int `json:"warn"`
	Error int `json:"error"`
	Skip  int `json:"skip"`
}

// Result is one policy result on one or more resources.
type Result struct {
	Source     string                   `json:"source"`
	Policy     string                   `json:"policy"`
	Rule       string                   `json:"rule,omitempty"`
	Category   string                   `json:"category,omitempty"`
	Severity   string                   `json:"severity,omitempty"`
	Timestamp  metav1.Timestamp         `json:"timestamp,omitempty"`
	Result     string                   `json:"result,omitempty"`
	Scored     bool                     `json:"scored,omitempty"`
	Resources  []corev1.ObjectReference `json:"resources,omitempty"`
	Message    string                   `json:"message,omitempty"`
	Properties map[string]string        `json:"properties,omitempty"`
}

// Report is a PolicyReport (namespaced) or a ClusterPolicyReport, by its Kind.
type Report struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Scope             *corev1.ObjectReference `json:"scope,omitempty"`
	Summary           Summary                 `json:"summary"`
	Results           []Result                `json:"results,omitempty"`
}

// Add appends r and counts it in the summary.
func (rep *Report) Add(r Result) {
	rep.Results = append(rep.Results, r)
	rep.Count(r.Result)
}

// Count counts one result value in the summary without listing it.
func (rep *Report) Count(result string) {
	switch result {
	case ResultPass:
		rep.Summary.Pass++
	case ResultFail:
		rep.Summary.Fail++
	case ResultWarn:
		rep.Summary.Warn++
	case ResultError:
		rep.Summary.Error++
	case ResultSkip:
		rep.Summary.Skip++
	}
}
