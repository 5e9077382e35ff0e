// Package crdvalidation judges custom resources offline exactly as the kube-apiserver does on
// create, with k8s.io/apiextensions-apiserver's own code: the CRD version's structural schema,
// pruning (unknown fields are errors, as with fieldValidation=Strict), defaulting, the OpenAPI
// schema validator, metadata and embedded-resource checks, list-type invariants, and the CEL
// rules (x-kubernetes-validations) within the API server's runtime cost budget.
//
// The sequence follows k8s.io/apiextensions-apiserver v0.37.0: pkg/apiserver/customresource_handler.go
// (unstructuredSchemaCoercer.apply: prune, then defaulting on decode) and
// pkg/registry/customresource/strategy.go (customResourceStrategy.Validate, validator.go).
//
// A CRD's validators are compiled once per process, on the first object of its kind; a Set
// only scans the CRD files' headers for their group and kind.
package crdvalidation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

// data holds the CRDs of the non-Gateway-API kinds enigate renders, copied verbatim from
// test/testdata/crds (see its update.sh for module, version and path; a test keeps the
// copies identical).
//
//go:embed data/*.yaml
var data embed.FS

// Vendored returns the embedded CRD files (CiliumGatewayClassConfig, cert-manager Certificate
// and Issuer).
func Vendored() [][]byte {
	entries, _ := fs.ReadDir(data, "data")
	out := make([][]byte, 0, len(entries))
	for _, e := range entries {
		b, err := data.ReadFile(path.Join("data", e.Name()))
		if err == nil {
			out = append(out, b)
		}
	}
	return out
}

// Set judges objects against a set of CRDs.
type Set struct {
	byGK map[schema.GroupKind]*crd
}

// NewSet indexes CRD files (YAML, one CRD each, as vendored upstream) by group and kind. It
// reads only their headers; a CRD is parsed and compiled when an object of its kind is first
// validated, once per process for the same bytes.
func NewSet(files ...[]byte) (*Set, error) {
	s := &Set{byGK: map[schema.GroupKind]*crd{}}
	for i, f := range files {
		gk, ok := scanHeader(f)
		if !ok {
			// Not in the usual controller-gen layout: parse it now.
			c := cached(f)
			if err := c.load(); err != nil {
				return nil, fmt.Errorf("crd %d: %w", i, err)
			}
			gk = c.gk
		}
		s.byGK[gk] = cached(f)
	}
	return s, nil
}

// Covers reports whether the set has a CRD for the object's group and kind, or knows the
// built-in kind's metadata rules.
func (s *Set) Covers(apiVersion, kind string) bool {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return false
	}
	gk := gv.WithKind(kind).GroupKind()
	_, crd := s.byGK[gk]
	_, core := coreKinds[gk]
	return crd || core
}

// Validate judges obj (JSON-shaped: map[string]any, []any, string, bool, numbers) as a create
// of it would be judged, and returns every problem with its path from the object's root,
// sorted by path. obj is not modified. Built-in kinds get their metadata checked (see
// validateCore). A kind the set does not cover is an error, as is a version the CRD does not
// serve.
func (s *Set) Validate(ctx context.Context, obj map[string]any) field.ErrorList {
	u := &unstructured.Unstructured{Object: obj}
	gv, err := schema.ParseGroupVersion(u.GetAPIVersion())
	if err != nil {
		return field.ErrorList{field.Invalid(field.NewPath("apiVersion"), u.GetAPIVersion(), err.Error())}
	}
	gk := gv.WithKind(u.GetKind()).GroupKind()
	c, ok := s.byGK[gk]
	if !ok {
		if k, ok := coreKinds[gk]; ok {
			return validateCore(k, obj)
		}
		return field.ErrorList{field.NotFound(field.NewPath("kind"), u.GetKind())}
	}
	if err := c.load(); err != nil {
		return field.ErrorList{field.InternalError(field.NewPath("kind"), err)}
	}
	v, ok := c.versions[gv.Version]
	if !ok {
		return field.ErrorList{field.NotSupported(field.NewPath("apiVersion"), u.GetAPIVersion(), c.served)}
	}
	if err := v.load(); err != nil {
		return field.ErrorList{field.InternalError(field.NewPath("apiVersion"), err)}
	}
	errs := v.validate(ctx, runtimeCopy(obj))
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return errs
}

// crd is one CRD file. Its served versions are found by scanning (see scanVersions); each is
// parsed and compiled on its first object, from the CRD's text with only that version, which
// halves the YAML to parse for CRDs serving two versions.
type crd struct {
	raw      []byte
	once     sync.Once
	err      error
	gk       schema.GroupKind
	versions map[string]*version
	served   []string
}

// version holds one served version's validators, compiled on first use.
type version struct {
	name string
	doc  []byte // the CRD with only this version; nil when props came from a full parse

	once       sync.Once
	err        error
	gvk        schema.GroupVersionKind
	namespaced bool
	hasStatus  bool
	props      *apiextensionsv1.JSONSchemaProps
	structural *structuralschema.Structural
	schema     apiservervalidation.SchemaValidator
	cel        *celNode
	// eager is upstream's whole-schema CEL validator, used instead of cel when the schema has
	// allOf (whose rules celNode does not split).
	eager *cel.Validator
}

var (
	cacheMu sync.Mutex
	cache   = map[[32]byte]*crd{}
)

// cached returns the process-wide entry for a CRD's bytes.
func cached(raw []byte) *crd {
	key := sha256.Sum256(raw)
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if c, ok := cache[key]; ok {
		return c
	}
	c := &crd{raw: raw}
	cache[key] = c
	return c
}

func (c *crd) load() error {
	c.once.Do(func() { c.err = c.index() })
	return c.err
}

// index finds the served versions, by scanning when the CRD has controller-gen's layout, else
// by parsing it whole.
func (c *crd) index() error {
	gk, okHeader := scanHeader(c.raw)
	docs, served, okVersions := scanVersions(c.raw)
	if okHeader && okVersions {
		c.gk, c.versions = gk, map[string]*version{}
		for name, doc := range docs {
			if served[name] {
				c.versions[name] = &version{name: name, doc: doc}
				c.served = append(c.served, gk.Group+"/"+name)
			}
		}
		sort.Strings(c.served)
		if len(c.versions) > 0 {
			return nil
		}
	}
	var def apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(c.raw, &def); err != nil {
		return fmt.Errorf("crd: %w", err)
	}
	c.gk = schema.GroupKind{Group: def.Spec.Group, Kind: def.Spec.Names.Kind}
	c.versions, c.served = map[string]*version{}, nil
	for i := range def.Spec.Versions {
		v := &def.Spec.Versions[i]
		if !v.Served {
			continue
		}
		c.versions[v.Name] = &version{name: v.Name}
		c.versions[v.Name].set(&def, v)
		c.served = append(c.served, c.gk.Group+"/"+v.Name)
	}
	if len(c.versions) == 0 {
		return fmt.Errorf("crd %s: no served version", def.Name)
	}
	return nil
}

// set takes the version's facts from a parsed CRD.
func (v *version) set(def *apiextensionsv1.CustomResourceDefinition, cv *apiextensionsv1.CustomResourceDefinitionVersion) {
	v.gvk = schema.GroupKind{Group: def.Spec.Group, Kind: def.Spec.Names.Kind}.WithVersion(cv.Name)
	v.namespaced = def.Spec.Scope == apiextensionsv1.NamespaceScoped
	v.hasStatus = cv.Subresources != nil && cv.Subresources.Status != nil
	if cv.Schema != nil {
		v.props = cv.Schema.OpenAPIV3Schema
	}
}

func (v *version) load() error {
	v.once.Do(func() { v.err = v.compile() })
	return v.err
}

// compile builds the version's validators as customresource_handler.go's
// getOrCreateServingInfoFor does: internal schema, structural schema with pruned defaults,
// the OpenAPI schema validator, and the CEL rules (compiled per schema node on first use).
func (v *version) compile() error {
	if v.doc != nil {
		var def apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(v.doc, &def); err != nil {
			return fmt.Errorf("crd %s: %w", v.name, err)
		}
		if len(def.Spec.Versions) != 1 || def.Spec.Versions[0].Name != v.name {
			return fmt.Errorf("crd %s: version %s not found where the scan put it", def.Name, v.name)
		}
		v.set(&def, &def.Spec.Versions[0])
	}
	if v.props == nil {
		return fmt.Errorf("crd %s: no schema", v.gvk)
	}
	internal := &apiextensions.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(&apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: v.props}, internal, nil); err != nil {
		return fmt.Errorf("crd %s: %w", v.gvk, err)
	}
	st, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return fmt.Errorf("crd %s: structural schema: %w", v.gvk, err)
	}
	st = st.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(st); err != nil {
		return fmt.Errorf("crd %s: defaults: %w", v.gvk, err)
	}
	sv, _, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
	if err != nil {
		return fmt.Errorf("crd %s: schema validator: %w", v.gvk, err)
	}
	v.structural, v.schema = st, sv
	if usesAllOf(st) {
		v.eager = cel.NewValidator(st, true, celconfig.PerCallLimit)
	} else {
		v.cel = newCELNode(st, true, model.SchemaDeclType(st, true))
	}
	return nil
}

// validate runs the create path on obj (a copy the caller owns).
func (v *version) validate(ctx context.Context, obj map[string]any) field.ErrorList {
	var errs field.ErrorList
	// Decode: prune unknown fields (reported, as fieldValidation=Strict does) and coerce
	// metadata (unstructuredSchemaCoercer.apply), then apply defaults.
	for _, p := range structuralpruning.PruneWithOptions(obj, v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		// The API server refuses these before validation (strict decoding error); the
		// pruned rest is still judged, so every problem is reported at once.
		errs = append(errs, field.Forbidden(field.NewPath(p), "unknown field"))
	}
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj, v.structural)
	if err := schemaobjectmeta.Coerce(nil, obj, v.structural, true, false); err != nil {
		return append(errs, err)
	}
	structuraldefaulting.Default(obj, v.structural)
	// PrepareForCreate: status cannot be set on create when the status subresource exists.
	if v.hasStatus {
		delete(obj, "status")
	}

	// customResourceValidator.Validate: type meta, object meta, the OpenAPI schema.
	u := &unstructured.Unstructured{Object: obj}
	if u.GetKind() != v.gvk.Kind {
		errs = append(errs, field.Invalid(field.NewPath("kind"), u.GetKind(), "must be "+v.gvk.Kind))
	}
	if u.GetAPIVersion() != v.gvk.GroupVersion().String() {
		errs = append(errs, field.Invalid(field.NewPath("apiVersion"), u.GetAPIVersion(), "must be "+v.gvk.GroupVersion().String()))
	}
	errs = append(errs, apimachineryvalidation.ValidateObjectMetaAccessor(u, v.namespaced, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, v.schema)...)
	// customResourceStrategy.Validate: embedded resources, list types, then CEL unless a
	// blocking error makes the rules meaningless.
	errs = append(errs, schemaobjectmeta.Validate(ctx, nil, obj, v.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, v.structural, obj)...)
	if v.cel != nil || v.eager != nil {
		if blocked := blocking(errs); blocked != nil {
			errs = append(errs, blocked)
		} else if v.eager != nil {
			celErrs, _ := v.eager.Validate(ctx, nil, v.structural, obj, nil, celconfig.RuntimeCELCostBudget)
			errs = append(errs, celErrs...)
		} else {
			celErrs, _ := v.cel.validate(ctx, nil, obj, celconfig.RuntimeCELCostBudget)
			errs = append(errs, celErrs...)
		}
	}
	return errs
}

// blocking mirrors strategy.go's hasBlockingErr: error types after which the CEL rules are not
// evaluated.
func blocking(errs field.ErrorList) *field.Error {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return nil
}

// scanHeader reads spec.group and spec.names.kind from a CRD in controller-gen's layout
// without parsing the document.
func scanHeader(b []byte) (schema.GroupKind, bool) {
	var gk schema.GroupKind
	inSpec, inNames := false, false
	for line := range bytes.Lines(b) {
		l := strings.TrimRight(string(line), "\r\n")
		switch {
		case l == "spec:":
			inSpec = true
		case !inSpec:
		case strings.HasPrefix(l, "  group: "):
			gk.Group = strings.TrimSpace(l[len("  group: "):])
		case l == "  names:":
			inNames = true
		case inNames && strings.HasPrefix(l, "    kind: "):
			gk.Kind = strings.TrimSpace(l[len("    kind: "):])
		case strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") && !strings.HasPrefix(l, "  - "):
			inNames = false
		case len(l) > 0 && l[0] != ' ' && l[0] != '#':
			return gk, false
		}
		if gk.Group != "" && gk.Kind != "" {
			return gk, true
		}
	}
	return gk, false
}

// runtimeCopy deep-copies a JSON-shaped value, converting Go integer and float kinds into the
// int64 / float64 the API server's JSON decoder produces.
func runtimeCopy(obj map[string]any) map[string]any {
	return copyValue(obj).(map[string]any)
}

func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = copyValue(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = copyValue(e)
		}
		return l
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case uint64:
		return int64(x)
	case float32:
		return float64(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
		return x
	}
	return v
}

// scanVersions splits a CRD in controller-gen's layout (spec.versions a block list at indent 2,
// each item's keys at indent 4) into one document per version: the text before the list, that
// version's item, the text after. served reports each version's served: true.
func scanVersions(b []byte) (docs map[string][]byte, served map[string]bool, ok bool) {
	type item struct {
		start, end int
		name       string
		served     bool
	}
	var items []item
	listStart, listEnd := -1, -1
	off := 0
	for line := range bytes.Lines(b) {
		l := strings.TrimRight(string(line), "\r\n")
		switch {
		case listStart < 0:
			if l == "  versions:" {
				listStart = off + len(line)
			}
		case listEnd >= 0:
		case strings.HasPrefix(l, "  - "):
			if len(items) > 0 {
				items[len(items)-1].end = off
			}
			items = append(items, item{start: off})
			if name, ok := strings.CutPrefix(l, "  - name: "); ok {
				items[len(items)-1].name = strings.TrimSpace(name)
			}
		case strings.HasPrefix(l, "    ") || l == "":
			if len(items) == 0 {
				return nil, nil, false
			}
			it := &items[len(items)-1]
			if name, ok := strings.CutPrefix(l, "    name: "); ok {
				it.name = strings.TrimSpace(name)
			}
			if l == "    served: true" {
				it.served = true
			}
		default:
			listEnd = off
		}
		off += len(line)
	}
	if listStart < 0 || len(items) == 0 {
		return nil, nil, false
	}
	if listEnd < 0 {
		listEnd = len(b)
	}
	items[len(items)-1].end = listEnd
	docs, served = map[string][]byte{}, map[string]bool{}
	for _, it := range items {
		if it.name == "" {
			return nil, nil, false
		}
		doc := make([]byte, 0, listStart+(it.end-it.start)+(len(b)-listEnd))
		doc = append(append(append(doc, b[:listStart]...), b[it.start:it.end]...), b[listEnd:]...)
		docs[it.name], served[it.name] = doc, it.served
	}
	return docs, served, true
}
