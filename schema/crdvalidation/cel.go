package crdvalidation

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	apiservercel "k8s.io/apiserver/pkg/cel"
)

// celNode is the CEL rules of one schema node and the nodes below it that have rules.
//
// cel.NewValidator compiles every rule of a schema at once; for the Gateway API's HTTPRoute
// that is about 250 ms of CPU per served version, most of it for filters a route rarely uses.
// A celNode compiles only its own node's rules, with the same cel.NewValidator, on the first
// value that reaches it, and walks values exactly as cel.Validator.validate does (properties the
// CEL type declares, additionalProperties, items; nulls skipped; one cost budget across the
// walk). TestLazyCELMatchesUpstream compares both on every object the tests know.
type celNode struct {
	schema         *structuralschema.Structural
	isResourceRoot bool
	own            bool // the node has rules of its own

	once      sync.Once
	validator *cel.Validator
	// memo holds the node's verdict per value seen (JSON) -> memoEntry: on create the rules
	// see only self, so the same value gives the same errors at the same cost.
	memo sync.Map

	props map[string]*celNode
	items *celNode
	addl  *celNode
}

// newCELNode builds the tree of nodes with rules under s (nil when there are none), following
// cel.validator's descent: a property is visited only when the CEL type declares it (fields
// with unknown types are left out of CEL validation there too).
func newCELNode(s *structuralschema.Structural, isResourceRoot bool, declType *apiservercel.DeclType) *celNode {
	if s == nil || !hasRules(s) {
		return nil
	}
	n := &celNode{schema: s, isResourceRoot: isResourceRoot, own: len(s.XValidations) > 0}
	var elemType *apiservercel.DeclType
	if declType != nil {
		elemType = declType.ElemType
	}
	if s.Items != nil {
		n.items = newCELNode(s.Items, s.Items.XEmbeddedResource, elemType)
	}
	for k := range s.Properties {
		prop := s.Properties[k]
		var fieldType *apiservercel.DeclType
		if escaped, ok := apiservercel.Escape(k); ok {
			if declType == nil {
				continue
			}
			f, ok := declType.Fields[escaped]
			if !ok {
				continue
			}
			fieldType = f.Type
		} else if fieldType = model.SchemaDeclType(&prop, prop.XEmbeddedResource); fieldType == nil {
			continue
		}
		if c := newCELNode(&prop, prop.XEmbeddedResource, fieldType); c != nil {
			if n.props == nil {
				n.props = map[string]*celNode{}
			}
			n.props[k] = c
		}
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Structural != nil {
		a := s.AdditionalProperties.Structural
		n.addl = newCELNode(a, a.XEmbeddedResource, elemType)
	}
	return n
}

// hasRules reports whether s or a node below it has x-kubernetes-validations.
func hasRules(s *structuralschema.Structural) bool {
	if s == nil {
		return false
	}
	if len(s.XValidations) > 0 {
		return true
	}
	if hasRules(s.Items) {
		return true
	}
	if s.AdditionalProperties != nil && hasRules(s.AdditionalProperties.Structural) {
		return true
	}
	for k := range s.Properties {
		p := s.Properties[k]
		if hasRules(&p) {
			return true
		}
	}
	return false
}

// compiled returns the node's own rules compiled by cel.NewValidator on a copy of the node
// whose descendants carry no rules (their own nodes compile them).
func (n *celNode) compiled() *cel.Validator {
	n.once.Do(func() {
		c := *n.schema
		c.Properties = nil
		if n.schema.Properties != nil {
			c.Properties = make(map[string]structuralschema.Structural, len(n.schema.Properties))
			for k := range n.schema.Properties {
				p := n.schema.Properties[k]
				c.Properties[k] = *withoutRules(&p)
			}
		}
		c.Items = withoutRules(n.schema.Items)
		if a := n.schema.AdditionalProperties; a != nil && a.Structural != nil {
			c.AdditionalProperties = &structuralschema.StructuralOrBool{Structural: withoutRules(a.Structural), Bool: a.Bool}
		}
		n.validator = cel.NewValidator(&c, n.isResourceRoot, celconfig.PerCallLimit)
	})
	return n.validator
}

// withoutRules copies s and every node below it without their x-kubernetes-validations.
func withoutRules(s *structuralschema.Structural) *structuralschema.Structural {
	if s == nil {
		return nil
	}
	c := *s
	c.XValidations = nil
	c.Items = withoutRules(s.Items)
	if s.Properties != nil {
		c.Properties = make(map[string]structuralschema.Structural, len(s.Properties))
		for k := range s.Properties {
			p := s.Properties[k]
			c.Properties[k] = *withoutRules(&p)
		}
	}
	if a := s.AdditionalProperties; a != nil && a.Structural != nil {
		c.AdditionalProperties = &structuralschema.StructuralOrBool{Structural: withoutRules(a.Structural), Bool: a.Bool}
	}
	return &c
}

// validate evaluates the rules for obj at path within budget, depth first as upstream does.
func (n *celNode) validate(ctx context.Context, path *field.Path, obj any, budget int64) (field.ErrorList, int64) {
	if n == nil || obj == nil {
		return nil, budget
	}
	var errs field.ErrorList
	if n.own {
		if v := n.compiled(); v != nil {
			var e field.ErrorList
			e, budget = n.evaluate(ctx, v, path, obj, budget)
			errs = append(errs, e...)
			if budget < 0 {
				return errs, budget
			}
		}
	}
	switch o := obj.(type) {
	case []any:
		if n.items == nil {
			return errs, budget
		}
		for i, e := range o {
			var ee field.ErrorList
			ee, budget = n.items.validate(ctx, path.Index(i), e, budget)
			errs = append(errs, ee...)
			if budget < 0 {
				return errs, budget
			}
		}
	case map[string]any:
		if n.addl == nil && n.props == nil {
			return errs, budget
		}
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			var ee field.ErrorList
			if n.addl != nil {
				ee, budget = n.addl.validate(ctx, path.Key(k), o[k], budget)
				errs = append(errs, ee...)
				if budget < 0 {
					return errs, budget
				}
			}
			if c, ok := n.props[k]; ok {
				ee, budget = c.validate(ctx, path.Child(k), o[k], budget)
				errs = append(errs, ee...)
				if budget < 0 {
					return errs, budget
				}
			}
		}
	}
	return errs, budget
}

// usesAllOf reports whether s or a node below it has allOf.
func usesAllOf(s *structuralschema.Structural) bool {
	if s == nil {
		return false
	}
	if s.ValueValidation != nil && len(s.ValueValidation.AllOf) > 0 {
		return true
	}
	if usesAllOf(s.Items) {
		return true
	}
	if s.AdditionalProperties != nil && usesAllOf(s.AdditionalProperties.Structural) {
		return true
	}
	for k := range s.Properties {
		p := s.Properties[k]
		if usesAllOf(&p) {
			return true
		}
	}
	return false
}

type memoEntry struct {
	errs field.ErrorList // paths relative to memoRoot
	cost int64
}

// memoRoot stands for the node's path while its verdict is computed for the memo.
var memoRoot = field.NewPath("\x00")

// evaluate runs the node's own rules on obj, or replays the verdict of an equal value seen
// before (with its cost, so the object's budget runs out exactly as it would).
func (n *celNode) evaluate(ctx context.Context, v *cel.Validator, path *field.Path, obj any, budget int64) (field.ErrorList, int64) {
	key, err := json.Marshal(obj)
	if err != nil {
		return v.Validate(ctx, path, nil, obj, nil, budget)
	}
	if m, ok := n.memo.Load(string(key)); ok {
		if e := m.(memoEntry); budget-e.cost >= 0 {
			return rebase(e.errs, path), budget - e.cost
		}
	}
	errs, remaining := v.Validate(ctx, memoRoot, nil, obj, nil, budget)
	if remaining >= 0 {
		n.memo.Store(string(key), memoEntry{errs: errs, cost: budget - remaining})
	}
	return rebase(errs, path), remaining
}

// rebase moves errors computed at memoRoot to path.
func rebase(errs field.ErrorList, path *field.Path) field.ErrorList {
	root := memoRoot.String()
	out := make(field.ErrorList, 0, len(errs))
	for _, e := range errs {
		c := *e
		rest, ok := strings.CutPrefix(c.Field, root)
		switch {
		case !ok:
		case path != nil:
			c.Field = path.String() + rest
		case rest == "":
			c.Field = path.String()
		default:
			c.Field = strings.TrimPrefix(rest, ".")
		}
		out = append(out, &c)
	}
	return out
}
