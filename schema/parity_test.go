package schema

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"cuelang.org/go/cue"
)

// TestModelMatchesSchema keeps the CUE schema the one place for the environment's shape: every
// field of #Environment has a field in the Go declaration it is decoded into, and every Go
// field is a field of the schema. (The strict decode in LoadDeclaration fails on the first
// kind at run time; this names every difference at once.)
func TestModelMatchesSchema(t *testing.T) {
	if _, err := compiled(); err != nil {
		t.Fatal(err)
	}
	var problems []string
	var walk func(path string, v cue.Value, typ reflect.Type)
	walk = func(path string, v cue.Value, typ reflect.Type) {
		mapElem := strings.HasSuffix(path, "[name]")
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		switch typ.Kind() {
		case reflect.Map:
			if typ.Elem().Kind() == reflect.Interface {
				return // free-form (overrides, route specs)
			}
			// The element of a map keyed by a constrained name ([ng=#Name]: {...}): fill one
			// entry with an empty struct and read it back.
			probe := "probe"
			elem := v.FillPath(cue.MakePath(cue.Str(probe)), v.Context().CompileString("{}")).LookupPath(cue.MakePath(cue.Str(probe)))
			if typ.Elem().Kind() != reflect.Struct {
				elem = v.LookupPath(cue.MakePath(cue.AnyString))
			}
			walk(path+"[name]", elem, typ.Elem())
			return
		case reflect.Slice:
			if typ.Elem().Kind() == reflect.Uint8 {
				return
			}
			walk(path+"[i]", v.LookupPath(cue.MakePath(cue.AnyIndex)), typ.Elem())
			return
		case reflect.Struct:
		default:
			return
		}
		goFields := jsonFields(typ)
		var cueFields []string
		it, err := v.Fields(cue.Optional(true))
		if err != nil {
			problems = append(problems, path+": the schema is not a struct here, Go is "+typ.String())
			return
		}
		for it.Next() {
			name := it.Selector().Unquoted()
			cueFields = append(cueFields, name)
			f, ok := goFields[name]
			if !ok {
				problems = append(problems, path+"."+name+": in the schema, not in Go "+typ.String())
				continue
			}
			walk(path+"."+name, it.Value(), f.Type)
		}
		for name := range goFields {
			if mapElem && name == "name" {
				continue // the loader fills it from the map key
			}
			if !slices.Contains(cueFields, name) {
				problems = append(problems, path+"."+name+": in Go "+typ.String()+", not in the schema")
			}
		}
	}
	walk("#Environment", schemaValue, reflect.TypeFor[declaration]())
	slices.Sort(problems)
	for _, p := range problems {
		t.Error(p)
	}
}

// jsonFields maps the JSON names encoding/json decodes into typ (embedded structs flattened).
func jsonFields(typ reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}
