package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// compiledSchema is one embedded JSON Schema, compiled, with its raw document
// kept for reading property lists into error messages.
type compiledSchema struct {
	url    string
	schema *jsonschema.Schema
	doc    any
}

// compileSchema compiles the embedded JSON Schema file at name.
func compileSchema(name string) (*compiledSchema, error) {
	raw, err := dataFS.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	return compileDoc("embed:///"+name, doc)
}

// compileDoc compiles one parsed schema document, known by url in error messages.
func compileDoc(url string, doc any) (*compiledSchema, error) {
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("load %s: %w", url, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", url, err)
	}
	return &compiledSchema{url: url, schema: sch, doc: doc}, nil
}

// propertySchemas is a schema that is a plain tree of properties, as the Cilium chart's
// values.schema.json is: nothing at the root but type: object, $schema and properties, and no
// $ref anywhere. Such a document is valid exactly when each top-level value is valid against
// its property's subschema, so each subschema is compiled on its own, the first time a
// document sets that key. Compiling the whole schema costs about 45 ms, most of it checking
// the schema against the draft-07 meta-schema; a render sets a few dozen of about 170 keys.
type propertySchemas struct {
	name  string
	doc   map[string]any // the whole document, for walking its property tree
	props map[string]any

	mu       sync.Mutex
	compiled map[string]*compiledSchema
}

// rootKeywords are the keywords a propertySchemas root may hold: validating each property on
// its own keeps their meaning (the document validated is always an object).
var rootKeywords = map[string]bool{"$schema": true, "type": true, "properties": true}

// loadPropertySchemas reads the embedded schema at name; see newPropertySchemas.
func loadPropertySchemas(name string) (*propertySchemas, error) {
	raw, err := dataFS.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return newPropertySchemas(name, raw)
}

// newPropertySchemas parses a schema and checks that it is a plain property tree; nothing is
// compiled yet.
func newPropertySchemas(name string, raw []byte) (*propertySchemas, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: the schema is not an object", name)
	}
	for k := range root {
		if !rootKeywords[k] {
			return nil, fmt.Errorf("%s: root keyword %q: per-property validation would skip it", name, k)
		}
	}
	if t, ok := root["type"]; ok && t != "object" {
		return nil, fmt.Errorf("%s: root type %v: per-property validation needs an object", name, t)
	}
	if bytes.Contains(raw, []byte(`"$ref"`)) {
		return nil, fmt.Errorf("%s: holds $ref: per-property validation cannot resolve it", name)
	}
	props, _ := root["properties"].(map[string]any)
	return &propertySchemas{name: name, doc: root, props: props, compiled: map[string]*compiledSchema{}}, nil
}

// property returns the compiled subschema of the top-level key, or nil when the schema does
// not declare it.
func (ps *propertySchemas) property(key string) (*compiledSchema, error) {
	sub, ok := ps.props[key]
	if !ok {
		return nil, nil
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if cs := ps.compiled[key]; cs != nil {
		return cs, nil
	}
	if m, ok := sub.(map[string]any); ok {
		m = maps.Clone(m)
		if d, ok := ps.doc["$schema"]; ok {
			m["$schema"] = d // the root's draft, for the subschema on its own
		}
		sub = m
	}
	cs, err := compileDoc("embed:///"+ps.name+"/properties/"+url.PathEscape(key), sub)
	if err != nil {
		return nil, err
	}
	ps.compiled[key] = cs
	return cs, nil
}

// validate validates each top-level value of inst against its property's subschema, as
// compiledSchema.validate does for a whole document.
func (ps *propertySchemas) validate(inst map[string]any, base *field.Path, label string) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(inst) {
		cs, err := ps.property(k)
		if err != nil {
			errs = append(errs, field.InternalError(base.Child(k), err))
			continue
		}
		if cs != nil {
			errs = append(errs, cs.validate(inst[k], base.Child(k), label, nil)...)
		}
	}
	sortErrors(errs)
	return errs
}

// fieldHint adds advice to an unknown-field message; it is keyed by the
// definition (or schema pointer) owning the field, then the field name.
type fieldHint func(owner, name string) string

// validate validates inst (already normalized) and converts every schema error
// into one field.Error at the instance's path below base.
func (cs *compiledSchema) validate(inst any, base *field.Path, label string, hint fieldHint) field.ErrorList {
	err := cs.schema.Validate(inst)
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return field.ErrorList{field.InternalError(base, err)}
	}
	var leaves []*jsonschema.ValidationError
	collectLeaves(verr, &leaves, 0)
	var errs field.ErrorList
	seen := map[string]bool{}
	for _, l := range leaves {
		for _, e := range cs.convert(l, inst, base, label, hint) {
			key := e.Field + "\x00" + e.Detail
			if !seen[key] {
				seen[key] = true
				errs = append(errs, e)
			}
		}
	}
	sortErrors(errs)
	return errs
}

// sortErrors orders errors by field, then detail.
func sortErrors(errs field.ErrorList) {
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Field != errs[j].Field {
			return errs[i].Field < errs[j].Field
		}
		return errs[i].Detail < errs[j].Detail
	})
}

// withoutBelow drops the errors at or below the fields of bad: where a value
// had to be replaced because it has no JSON form, the errors about the
// replacement say nothing new.
func withoutBelow(errs, bad field.ErrorList) field.ErrorList {
	if len(bad) == 0 {
		return errs
	}
	var out field.ErrorList
	for _, e := range errs {
		drop := false
		for _, b := range bad {
			if e.Field == b.Field || strings.HasPrefix(e.Field, b.Field+".") || strings.HasPrefix(e.Field, b.Field+"[") {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, e)
		}
	}
	return out
}

// collectLeaves gathers the errors that say what is wrong. anyOf/oneOf
// failures are kept whole: their causes are alternatives, not problems.
func collectLeaves(e *jsonschema.ValidationError, out *[]*jsonschema.ValidationError, depth int) {
	switch e.ErrorKind.(type) {
	case *kind.AnyOf, *kind.OneOf:
		*out = append(*out, e)
		return
	}
	if len(e.Causes) == 0 || depth > 2*maxDepth {
		*out = append(*out, e)
		return
	}
	for _, c := range e.Causes {
		collectLeaves(c, out, depth+1)
	}
}

var printer = message.NewPrinter(language.English)

func (cs *compiledSchema) convert(e *jsonschema.ValidationError, inst any, base *field.Path, label string, hint fieldHint) field.ErrorList {
	path, value := instancePath(base, inst, e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		return field.ErrorList{&field.Error{Type: field.ErrorTypeTypeInvalid, Field: path.String(), BadValue: value,
			Detail: fmt.Sprintf("must be %s (got %s)", joinTypes(k.Want), k.Got)}}
	case *kind.Enum:
		want := "one of " + joinValues(k.Want)
		if len(k.Want) == 1 {
			want = display(k.Want[0])
		}
		return field.ErrorList{&field.Error{Type: field.ErrorTypeNotSupported, Field: path.String(), BadValue: value,
			Detail: fmt.Sprintf("must be %s (got %s)", want, display(k.Got))}}
	case *kind.Const:
		return field.ErrorList{&field.Error{Type: field.ErrorTypeNotSupported, Field: path.String(), BadValue: value,
			Detail: fmt.Sprintf("must be %s (got %s)", display(k.Want), display(k.Got))}}
	case *kind.Required:
		var errs field.ErrorList
		for _, m := range k.Missing {
			errs = append(errs, &field.Error{Type: field.ErrorTypeRequired, Field: path.Child(m).String(),
				Detail: "required field missing"})
		}
		return errs
	case *kind.AdditionalProperties:
		owner, allowed := cs.propertiesAt(e.SchemaURL)
		var errs field.ErrorList
		for _, p := range k.Properties {
			errs = append(errs, unknown(path.Child(p), unknownFieldDetail(label, owner, p, allowed, hint)))
		}
		return errs
	case *kind.AnyOf, *kind.OneOf:
		detail := "matches none of the allowed forms"
		if o, ok := k.(*kind.OneOf); ok && len(o.Subschemas) > 1 {
			detail = "matches more than one of the allowed forms"
		}
		var why []string
		for _, c := range e.Causes {
			var sub []*jsonschema.ValidationError
			collectLeaves(c, &sub, 0)
			for _, s := range sub {
				for _, se := range cs.convert(s, inst, base, label, hint) {
					why = append(why, strings.TrimPrefix(se.Field, path.String()+".")+": "+se.Detail)
				}
			}
		}
		if len(why) > 3 {
			why = append(why[:3], "...")
		}
		if len(why) > 0 {
			detail += " (" + strings.Join(why, "; ") + ")"
		}
		return field.ErrorList{invalid(path, value, detail)}
	case *kind.FalseSchema:
		return field.ErrorList{unknown(path, "not allowed")}
	case *kind.InvalidJsonValue:
		return field.ErrorList{invalid(path, nil, fmt.Sprintf("has no JSON form (got %T)", k.Value))}
	}
	return field.ErrorList{invalid(path, value, e.ErrorKind.LocalizedString(printer))}
}

// unknownFieldDetail says a field is unknown, with the known advice for it,
// the near misses, and the allowed names (all of them when few).
func unknownFieldDetail(label, owner, name string, allowed []string, hint fieldHint) string {
	var parts []string
	if hint != nil {
		if h := hint(owner, name); h != "" {
			parts = append(parts, h)
		}
	}
	if dm := didYouMean(name, allowed); len(dm) > 0 {
		parts = append(parts, "did you mean "+strings.Join(dm, " or ")+"?")
	}
	switch {
	case len(allowed) == 0:
		parts = append(parts, "no fields allowed here")
	case len(allowed) <= 15:
		parts = append(parts, "allowed: "+strings.Join(allowed, ", "))
	default:
		parts = append(parts, fmt.Sprintf("allowed: one of the %d fields of %s, see the %s schema", len(allowed), owner, label))
	}
	return "unknown field (" + strings.Join(parts, "; ") + ")"
}

// propertiesAt returns the name of the schema object owning the keyword at
// schemaURL (its definition name when it has one) and its property names.
func (cs *compiledSchema) propertiesAt(schemaURL string) (string, []string) {
	_, frag, _ := strings.Cut(schemaURL, "#")
	tokens := strings.Split(strings.TrimPrefix(frag, "/"), "/")
	if len(tokens) > 0 && tokens[len(tokens)-1] == "additionalProperties" {
		tokens = tokens[:len(tokens)-1]
	}
	node := cs.doc
	for _, t := range tokens {
		if t == "" {
			continue
		}
		t = strings.NewReplacer("~1", "/", "~0", "~").Replace(t)
		m, ok := node.(map[string]any)
		if !ok {
			return frag, nil
		}
		node = m[t]
	}
	owner := "the document"
	if len(tokens) >= 2 && tokens[0] == "definitions" {
		owner = tokens[1]
	} else if r, ok := cs.doc.(map[string]any)["$ref"].(string); ok && (len(tokens) == 0 || tokens[0] == "") {
		owner = strings.TrimPrefix(r, "#/definitions/")
	}
	m, _ := node.(map[string]any)
	props, _ := m["properties"].(map[string]any)
	return owner, sortedKeys(props)
}

// instancePath turns a JSON pointer's tokens into a field path, using list
// indexes where the instance holds an array, and returns the value there.
func instancePath(base *field.Path, inst any, tokens []string) (*field.Path, any) {
	p := base
	cur := inst
	for _, t := range tokens {
		switch c := cur.(type) {
		case []any:
			if i, err := strconv.Atoi(t); err == nil && i >= 0 && i < len(c) {
				p = p.Index(i)
				cur = c[i]
				continue
			}
			p, cur = p.Child(t), nil
		case map[string]any:
			p, cur = p.Child(t), c[t]
		default:
			p, cur = p.Child(t), nil
		}
	}
	return p, cur
}

// joinTypes renders JSON Schema types, null last: "boolean or null".
func joinTypes(types []string) string {
	ts := append([]string(nil), types...)
	sort.SliceStable(ts, func(i, j int) bool { return ts[j] == "null" && ts[i] != "null" })
	return strings.Join(ts, " or ")
}

func joinValues(vs []any) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = display(v)
	}
	return strings.Join(out, ", ")
}

func display(v any) string {
	switch t := v.(type) {
	case string:
		return strconv.Quote(t)
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprint(v)
}
