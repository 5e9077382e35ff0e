// Package check judges Kubernetes manifests offline exactly as the webhook would, against one
// environment's policy: the shift-left of admission into the teams' CI. The policy and the
// platform's cluster facts (Gateways and their listeners, ReferenceGrants, HTTPRoutes) come
// from the rendered overlay; the manifests given add their own Gateways, grants and routes, and
// --facts files add facts without being judged (another team's grant, say).
package check

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/schema/rules"
	"github.com/enigate/enigate/webhook"
)

// Options say what to check against which environment.
type Options struct {
	// Env is the rendered overlay directory (or one file) holding the policy ConfigMap.
	Env string
	// Paths are files, directories (every .yaml, .yml and .json below) or "-" for Stdin.
	Paths []string
	// Facts are read like Paths for cluster facts only; their objects are not judged.
	Facts []string
	// Namespace is the namespace of namespaced objects that name none (kubectl apply -n).
	Namespace string
	Stdin     io.Reader
}

// Violation is one denying rule on an object.
type Violation struct {
	Rule string `json:"rule"`
	// Field is the field path, Message what is wrong and what is allowed.
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Object is one judged object and its verdict.
type Object struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Namespace  string      `json:"namespace,omitempty"`
	Name       string      `json:"name"`
	Source     string      `json:"source"`
	Allowed    bool        `json:"allowed"`
	Violations []Violation `json:"violations"`
	Warnings   []string    `json:"warnings"`
}

// Report is the verdict on every object.
type Report struct {
	Environment string `json:"environment"`
	// CRDs are the CRDs whose validation applied (the overlay's).
	CRDs    CRDs     `json:"crds"`
	Objects []Object `json:"objects"`
	// Checked counts judged objects; Skipped the objects of kinds neither the webhook nor the
	// overlay's CRDs judge.
	Checked      int            `json:"checked"`
	Skipped      int            `json:"skipped"`
	SkippedKinds map[string]int `json:"skippedKinds"`
	Violations   int            `json:"violations"`
}

// doc is one parsed manifest document.
type doc struct {
	source     string
	apiVersion string
	gk         schema.GroupKind
	namespace  string
	// nsDefaulted: namespace came from --namespace, not the object.
	nsDefaulted bool
	name        string
	raw         []byte
	// text is the document's YAML, kept for CustomResourceDefinitions (see newCRDs).
	text []byte
}

func (d doc) id() string {
	if d.namespace == "" {
		return d.gk.Kind + " " + d.name
	}
	return d.gk.Kind + " " + d.namespace + "/" + d.name
}

// Run judges every object of o.Paths. The error means the check could not run (bad flags, an
// unreadable or unparsable file, no policy in the overlay): every problem, one per line.
func Run(o Options) (*Report, error) {
	var problems []error
	if o.Env == "" {
		problems = append(problems, errors.New("--env: required (the rendered overlay directory, e.g. overlays/prod)"))
	}
	if len(o.Paths) == 0 {
		problems = append(problems, errors.New("no manifests given (files, directories or - for stdin)"))
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	envDocs, err := readPaths([]string{o.Env}, nil, "")
	if err != nil {
		problems = append(problems, err)
	}
	ix, err := policyOf(o.Env, envDocs)
	if err != nil {
		problems = append(problems, err)
	}
	facts, err := readPaths(o.Facts, o.Stdin, o.Namespace)
	if err != nil {
		problems = append(problems, err)
	}
	inputs, err := readPaths(o.Paths, o.Stdin, o.Namespace)
	if err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	crd, err := newCRDs(envDocs)
	if err != nil {
		return nil, err
	}
	all := append(append(envDocs, facts...), inputs...)
	cluster, err := newFacts(all)
	if err != nil {
		return nil, err
	}
	kp := &karpenter{pools: map[string]rules.NodePoolSpec{}, classes: map[string]rules.EC2NodeClassSpec{}}
	for _, d := range all {
		kp.add(d)
	}

	ctx := context.Background()
	rep := &Report{Environment: ix.Policy.Environment, CRDs: crd.info, Objects: []Object{}, SkippedKinds: map[string]int{}}
	var missingNS []error
	for _, d := range inputs {
		karpenterKind := d.gk == nodePoolGK || d.gk == nodeClassGK
		ruled := karpenterKind || rules.Judged(d.gk.Group, d.gk.Kind)
		if !ruled && !crd.covers(d.gk) {
			rep.Skipped++
			rep.SkippedKinds[d.apiVersion+"/"+d.gk.Kind]++
			continue
		}
		namespaced, known := crd.scope(d.gk)
		if !known {
			namespaced = !karpenterKind && d.gk.Kind != rules.KindNode && d.gk.Kind != rules.KindCiliumNode
		}
		if d.nsDefaulted && !namespaced {
			d.namespace, d.nsDefaulted = "", false // kubectl apply -n leaves cluster-scoped objects alone
		}
		if d.namespace == "" && namespaced {
			missingNS = append(missingNS, fmt.Errorf("%s: %s: metadata.namespace: Required value (set it, or pass --namespace)", d.source, d.id()))
			continue
		}
		rep.Checked++
		obj := Object{APIVersion: d.apiVersion, Kind: d.gk.Kind, Namespace: d.namespace, Name: d.name, Source: d.source,
			Violations: []Violation{}, Warnings: []string{}}
		// The API server applies the CRD's validation before any webhook; both are reported.
		obj.Violations = append(obj.Violations, crd.validate(ctx, d)...)
		var res rules.Result
		var decodeErr error
		if karpenterKind {
			res, _, decodeErr = kp.judge(ix.Policy.Capacity, d)
		} else if ruled {
			res, _, decodeErr = rules.Judge(ix, rules.Input{Group: d.gk.Group, Kind: d.gk.Kind, Namespace: d.namespace, Object: d.raw}, cluster)
		}
		// A decode error repeats a type error the CRD's schema already reported.
		if decodeErr != nil && len(obj.Violations) == 0 {
			obj.Violations = append(obj.Violations, Violation{Rule: rules.RuleDecode, Message: decodeErr.Error()})
		}
		for i, e := range res.Errors {
			obj.Violations = append(obj.Violations, Violation{Rule: res.Rules[i], Field: e.Field, Message: e.ErrorBody()})
		}
		obj.Warnings = append(obj.Warnings, res.Warnings...)
		obj.Allowed = len(obj.Violations) == 0
		rep.Violations += len(obj.Violations)
		rep.Objects = append(rep.Objects, obj)
	}
	if len(missingNS) > 0 {
		return nil, errors.Join(missingNS...)
	}
	return rep, nil
}

// policyOf finds the policy ConfigMap (name webhook.DefaultConfigMap, key webhook.PolicyKey)
// among the overlay's documents and compiles it.
func policyOf(env string, docs []doc) (*rules.Index, error) {
	var found []doc
	for _, d := range docs {
		if d.gk == (schema.GroupKind{Kind: "ConfigMap"}) && d.name == webhook.DefaultConfigMap {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%s: no ConfigMap %s with key %s (is it a rendered overlay?)", env, webhook.DefaultConfigMap, webhook.PolicyKey)
	case 1:
	default:
		return nil, fmt.Errorf("%s: %d ConfigMaps %s (%s and %s); give one overlay", env, len(found), webhook.DefaultConfigMap, found[0].source, found[1].source)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal(found[0].raw, &cm); err != nil {
		return nil, fmt.Errorf("%s: %w", found[0].source, err)
	}
	data, ok := cm.Data[webhook.PolicyKey]
	if !ok {
		return nil, fmt.Errorf("%s: data.%s: Required value (the policy)", found[0].source, webhook.PolicyKey)
	}
	ix, err := webhook.ParsePolicy([]byte(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", found[0].source, err)
	}
	return ix, nil
}

// readPaths parses every document of paths; "-" reads stdin (once).
func readPaths(paths []string, stdin io.Reader, namespace string) ([]doc, error) {
	var out []doc
	var problems []error
	for _, p := range paths {
		if p == "-" {
			if stdin == nil {
				problems = append(problems, errors.New("-: no stdin"))
				continue
			}
			data, err := io.ReadAll(stdin)
			if err != nil {
				problems = append(problems, fmt.Errorf("-: %w", err))
				continue
			}
			stdin = nil
			docs, err := parse("-", data, namespace)
			problems = append(problems, err)
			out = append(out, docs...)
			continue
		}
		var files []string
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
				files = append(files, path)
			default:
				if path == p {
					files = append(files, path)
				}
			}
			return nil
		})
		if err != nil {
			problems = append(problems, err)
			continue
		}
		sort.Strings(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				problems = append(problems, err)
				continue
			}
			docs, err := parse(f, data, namespace)
			problems = append(problems, err)
			out = append(out, docs...)
		}
	}
	return out, errors.Join(problems...)
}

// parse splits a (multi-document) YAML or JSON file into objects; List kinds are expanded and
// documents without apiVersion and kind (values files, kustomizations' data) are left out.
func parse(source string, data []byte, namespace string) ([]doc, error) {
	var out []doc
	var problems []error
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 0; ; i++ {
		chunk, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		where := fmt.Sprintf("%s: document %d", source, i)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", where, err))
			break
		}
		if len(bytes.TrimSpace(chunk)) == 0 {
			continue
		}
		js, err := yaml.YAMLToJSON(chunk)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", where, err))
			continue
		}
		docs, err := objects(where, js, namespace)
		if err != nil {
			problems = append(problems, err)
		}
		if len(docs) == 1 && docs[0].source == where && docs[0].gk == crdGK {
			docs[0].text = chunk
		}
		out = append(out, docs...)
	}
	return out, errors.Join(problems...)
}

func objects(where string, js []byte, namespace string) ([]doc, error) {
	var head struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Items      []json.RawMessage `json:"items"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, nil
	}
	if err := json.Unmarshal(js, &head); err != nil {
		// Not an object (a list of values, a scalar): not a manifest.
		return nil, nil
	}
	if head.APIVersion == "" || head.Kind == "" {
		return nil, nil
	}
	if strings.HasSuffix(head.Kind, "List") && head.Items != nil {
		var out []doc
		for i, item := range head.Items {
			docs, err := objects(fmt.Sprintf("%s: items[%d]", where, i), item, namespace)
			if err != nil {
				return out, err
			}
			out = append(out, docs...)
		}
		return out, nil
	}
	gv, err := schema.ParseGroupVersion(head.APIVersion)
	if err != nil {
		return nil, fmt.Errorf("%s: apiVersion: %w", where, err)
	}
	d := doc{source: where, apiVersion: head.APIVersion, gk: schema.GroupKind{Group: gv.Group, Kind: head.Kind},
		namespace: head.Metadata.Namespace, name: head.Metadata.Name, raw: js}
	if d.namespace == "" && namespace != "" && d.gk.Kind != rules.KindNode && d.gk.Kind != rules.KindCiliumNode {
		d.namespace, d.nsDefaulted = namespace, true
	}
	return []doc{d}, nil
}

// facts are the cluster facts of a check: the objects of the overlay, --facts and the inputs.
type facts struct {
	gateways map[types.NamespacedName][]string
	grants   map[string][]gwv1b1.ReferenceGrant
	routes   map[string][]types.NamespacedName
}

var (
	_ rules.Cluster        = (*facts)(nil)
	_ rules.HostnameRoutes = (*facts)(nil)
)

func newFacts(docs []doc) (*facts, error) {
	f := &facts{gateways: map[types.NamespacedName][]string{}, grants: map[string][]gwv1b1.ReferenceGrant{}, routes: map[string][]types.NamespacedName{}}
	var problems []error
	for _, d := range docs {
		switch d.gk {
		case schema.GroupKind{Group: rules.GatewayGroup, Kind: rules.KindGateway}:
			var g gwv1.Gateway
			if err := json.Unmarshal(d.raw, &g); err != nil {
				problems = append(problems, fmt.Errorf("%s: %w", d.source, err))
				continue
			}
			key := types.NamespacedName{Namespace: d.namespace, Name: g.Name}
			for _, l := range g.Spec.Listeners {
				f.gateways[key] = append(f.gateways[key], string(l.Name))
			}
			if f.gateways[key] == nil {
				f.gateways[key] = []string{}
			}
		case schema.GroupKind{Group: rules.GatewayGroup, Kind: rules.KindReferenceGrant}:
			var g gwv1b1.ReferenceGrant
			if err := json.Unmarshal(d.raw, &g); err != nil {
				problems = append(problems, fmt.Errorf("%s: %w", d.source, err))
				continue
			}
			f.grants[d.namespace] = append(f.grants[d.namespace], g)
		case schema.GroupKind{Group: rules.GatewayGroup, Kind: rules.KindHTTPRoute}:
			var r gwv1.HTTPRoute
			if err := json.Unmarshal(d.raw, &r); err != nil {
				continue // judged (and reported) as an input, or not a fact
			}
			r.Namespace = d.namespace
			for _, h := range webhook.IndexHTTPRouteHostnames(&r) {
				f.routes[h] = append(f.routes[h], types.NamespacedName{Namespace: d.namespace, Name: r.Name})
			}
		}
	}
	return f, errors.Join(problems...)
}

func (f *facts) Known() bool { return true }

func (f *facts) GatewayListeners(namespace, name string) ([]string, bool) {
	l, ok := f.gateways[types.NamespacedName{Namespace: namespace, Name: name}]
	return l, ok
}

func (f *facts) ReferenceGrants(namespace string) []gwv1b1.ReferenceGrant { return f.grants[namespace] }

func (f *facts) RoutesWithHostname(h string, limit int64) []types.NamespacedName {
	r := f.routes[h]
	return r[:min(int64(len(r)), limit)]
}

// WriteText prints one line per violation, `kind namespace/name: field: what is wrong (what
// is allowed)`, then the warnings, prefixed "warning:".
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, o := range r.Objects {
		ref := o.Kind + " " + o.Name
		if o.Namespace != "" {
			ref = o.Kind + " " + o.Namespace + "/" + o.Name
		}
		for _, v := range o.Violations {
			if v.Field == "" {
				fmt.Fprintf(&b, "%s: %s\n", ref, v.Message)
				continue
			}
			fmt.Fprintf(&b, "%s: %s: %s\n", ref, v.Field, v.Message)
		}
		for _, wn := range o.Warnings {
			fmt.Fprintf(&b, "%s: warning: %s\n", ref, wn)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Summary is the one-line count.
func (r *Report) Summary() string {
	bad := 0
	for _, o := range r.Objects {
		if !o.Allowed {
			bad++
		}
	}
	kinds := make([]string, 0, len(r.SkippedKinds))
	for k := range r.SkippedKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	s := fmt.Sprintf("policy %q: %d objects checked, %d denied (%d violations), %d skipped", r.Environment, r.Checked, bad, r.Violations, r.Skipped)
	if len(kinds) > 0 {
		s += " (not judged: " + strings.Join(kinds, ", ") + ")"
	}
	switch {
	case len(r.CRDs.Kinds) == 0:
		s += "; CRD validation: none (the overlay has no CRDs)"
	case len(r.CRDs.GatewayAPI) > 0:
		s += fmt.Sprintf("; CRD validation: %d kinds from the overlay (Gateway API %s)", len(r.CRDs.Kinds), strings.Join(r.CRDs.GatewayAPI, ", "))
	default:
		s += fmt.Sprintf("; CRD validation: %d kinds from the overlay", len(r.CRDs.Kinds))
	}
	return s
}
