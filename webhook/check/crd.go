package check

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/enigate/enigate/schema/crdvalidation"
	"github.com/enigate/enigate/schema/rules"
)

// RuleCRD names violations of a CRD's own validation (its OpenAPI schema, unknown fields,
// its x-kubernetes-validations CEL rules): the API server refuses these before any webhook.
const RuleCRD = "crd"

// Gateway API bundle annotations on its CRDs (sigs.k8s.io/gateway-api config/crd).
const (
	bundleVersionAnnotation = "gateway.networking.k8s.io/bundle-version"
	bundleChannelAnnotation = "gateway.networking.k8s.io/channel"
)

var crdGK = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}

// CRDs says which CRDs a check applied: those of the overlay (its crds/, what the environment
// installs). Kinds whose CRDs a Helm chart installs (Cilium's, cert-manager's) are not among
// them and get no CRD validation.
type CRDs struct {
	// GatewayAPI lists the Gateway API bundles ("v1.4.1 standard") of the overlay's CRDs.
	GatewayAPI []string `json:"gatewayAPI"`
	// Kinds are the group/kinds validated ("gateway.networking.k8s.io/HTTPRoute").
	Kinds []string `json:"kinds"`
}

// crds validates objects against the overlay's CRDs as the API server does on create.
type crds struct {
	set *crdvalidation.Set
	// namespaced is the scope of every kind the set defines.
	namespaced map[schema.GroupKind]bool
	gateway    map[string]bool // Gateway API groups, when the overlay pins a bundle
	info       CRDs
}

type crdHead struct {
	Metadata struct {
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind string `json:"kind"`
		} `json:"names"`
		Scope string `json:"scope"`
	} `json:"spec"`
}

// newCRDs indexes the CustomResourceDefinitions among the overlay's documents.
func newCRDs(docs []doc) (*crds, error) {
	c := &crds{namespaced: map[schema.GroupKind]bool{}, gateway: map[string]bool{}, info: CRDs{GatewayAPI: []string{}, Kinds: []string{}}}
	var files [][]byte
	var problems []string
	where := map[schema.GroupKind]string{}
	bundles := map[string]bool{}
	for _, d := range docs {
		if d.gk != crdGK {
			continue
		}
		var h crdHead
		if err := json.Unmarshal(d.raw, &h); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", d.source, err))
			continue
		}
		gk := schema.GroupKind{Group: h.Spec.Group, Kind: h.Spec.Names.Kind}
		if gk.Group == "" || gk.Kind == "" {
			problems = append(problems, fmt.Sprintf("%s: spec.group, spec.names.kind: Required value (a CustomResourceDefinition)", d.source))
			continue
		}
		if prev, ok := where[gk]; ok {
			problems = append(problems, fmt.Sprintf("%s: CRD for %s already given in %s (one CRD per kind)", d.source, gk, prev))
			continue
		}
		where[gk] = d.source
		c.namespaced[gk] = h.Spec.Scope != "Cluster"
		c.info.Kinds = append(c.info.Kinds, gk.Group+"/"+gk.Kind)
		if v := h.Metadata.Annotations[bundleVersionAnnotation]; v != "" {
			bundles[strings.TrimSpace(v+" "+h.Metadata.Annotations[bundleChannelAnnotation])] = true
		}
		// The YAML text keeps controller-gen's layout, which lets the set compile only the
		// version an object uses; JSON (a List item) is parsed whole.
		if d.text != nil {
			files = append(files, d.text)
		} else {
			files = append(files, d.raw)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	set, err := crdvalidation.NewSet(files...)
	if err != nil {
		return nil, fmt.Errorf("crds: %w", err)
	}
	c.set = set
	for b := range bundles {
		c.info.GatewayAPI = append(c.info.GatewayAPI, b)
	}
	sort.Strings(c.info.GatewayAPI)
	sort.Strings(c.info.Kinds)
	if len(bundles) > 0 {
		c.gateway[rules.GatewayGroup] = true
		c.gateway[rules.XGatewayGroup] = true
	}
	return c, nil
}

// scope reports whether gk is namespaced; known is false for kinds without a CRD here.
func (c *crds) scope(gk schema.GroupKind) (namespaced, known bool) {
	namespaced, known = c.namespaced[gk]
	return namespaced, known
}

// covers reports whether validate judges objects of gk.
func (c *crds) covers(gk schema.GroupKind) bool {
	_, ok := c.namespaced[gk]
	return ok || c.gateway[gk.Group]
}

// validate judges d as the API server judges its create: nil when its kind has no CRD here.
// A kind of a Gateway API group the overlay's bundle does not define is refused, as the API
// server refuses a kind it does not serve.
func (c *crds) validate(ctx context.Context, d doc) []Violation {
	namespaced, ok := c.namespaced[d.gk]
	if !ok {
		if !c.gateway[d.gk.Group] {
			return nil
		}
		var kinds []string
		for gk := range c.namespaced {
			if gk.Group == d.gk.Group {
				kinds = append(kinds, gk.Kind)
			}
		}
		sort.Strings(kinds)
		allowed := "none"
		if len(kinds) > 0 {
			allowed = strings.Join(kinds, ", ")
		}
		return []Violation{{Rule: RuleCRD, Field: "kind", Message: fmt.Sprintf("Unsupported value: %q: the environment's Gateway API CRDs (%s) define no such kind in %s (defined: %s)",
			d.gk.Kind, strings.Join(c.info.GatewayAPI, ", "), d.gk.Group, allowed)}}
	}
	dec := json.NewDecoder(bytes.NewReader(d.raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return []Violation{{Rule: rules.RuleDecode, Message: err.Error()}}
	}
	if d.nsDefaulted && namespaced {
		meta, ok := obj["metadata"].(map[string]any)
		if !ok {
			meta = map[string]any{}
			obj["metadata"] = meta
		}
		meta["namespace"] = d.namespace
	}
	var out, whole []Violation
	for _, e := range c.set.Validate(ctx, obj) {
		if e.Field == "" || e.Field == "<nil>" {
			// An error on no field (CEL rules skipped after blocking errors) follows the rest.
			whole = append(whole, Violation{Rule: RuleCRD, Message: e.Detail})
			continue
		}
		out = append(out, Violation{Rule: RuleCRD, Field: e.Field, Message: e.ErrorBody()})
	}
	return append(out, whole...)
}
