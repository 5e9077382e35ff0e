package upstream

import (
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/support"
)

// ciliumVersions are the supported Cilium chart versions, oldest first (the support matrix);
// data/cilium holds each one's values schema.
var ciliumVersions = support.CiliumVersions()

// ciliumChart holds one chart version's schema (compiled key by key as values use them) and
// template-only allow-list, loaded once on first use. The chart's values.yaml is not read at
// run time: every key path in it is a property path of values.schema.json (a test keeps it so),
// so the schema alone says which keys the chart reads.
type ciliumChart struct {
	version, minor string

	once   sync.Once
	schema *propertySchemas
	allow  allowTree
	err    error
}

var ciliumCharts = func() map[string]*ciliumChart {
	m := map[string]*ciliumChart{}
	for _, v := range ciliumVersions {
		m[v] = &ciliumChart{version: v, minor: support.Minor(v)}
	}
	return m
}()

func (c *ciliumChart) load() error {
	c.once.Do(func() {
		c.schema, c.err = loadPropertySchemas("data/cilium/" + c.version + "-values.schema.json")
		c.allow = newAllowTree(c.minor)
	})
	return c.err
}

// ValidateCiliumValues checks Helm values for the Cilium chart chartVersion
// (one of CiliumChartVersions) and returns every problem at once, below path:
//
//   - types and enums against the chart's values.schema.json (draft-07);
//   - unknown keys: every key path that is in neither the schema (which holds
//     every key path of the chart's values.yaml) nor the allow-list of keys
//     only the templates read.
//     Keys under free-form maps (extraConfig, annotations, nodeSelector, any
//     schema object without properties, ...) are not checked. Keys known to
//     be removed or misplaced say what to use instead.
//
// values may hold Go types (e.g. []string); they are read as their JSON form.
func ValidateCiliumValues(chartVersion string, values map[string]any, path *field.Path) field.ErrorList {
	chart := ciliumCharts[chartVersion]
	if chart == nil {
		return field.ErrorList{&field.Error{Type: field.ErrorTypeNotSupported, Field: path.String(), BadValue: chartVersion,
			Detail: fmt.Sprintf("cilium chart version %q is not supported (supported: %s)", chartVersion, strings.Join(ciliumVersions, ", "))}}
	}
	if err := chart.load(); err != nil {
		return field.ErrorList{field.InternalError(path, err)}
	}
	var errs field.ErrorList
	norm, _ := normalize(values, path, 0, &errs).(map[string]any)
	if norm == nil {
		norm = map[string]any{}
	}
	found := chart.schema.validate(norm, path, "Cilium chart "+chart.version)
	found = append(found, chart.unknownKeys(chart.schema.doc, "", norm, path, 0)...)
	return append(errs, withoutBelow(found, errs)...)
}

// unknownKeys walks values beside the schema node at the same key path and flags every key
// the chart does not read.
func (c *ciliumChart) unknownKeys(schemaNode any, prefix string, values map[string]any, path *field.Path, depth int) field.ErrorList {
	if depth >= maxDepth {
		return nil // normalize already reported it
	}
	props := schemaProperties(schemaNode)
	var errs field.ErrorList
	var siblings []string // the known keys at this level, for near misses
	for _, k := range sortedKeys(values) {
		keyPath := k
		if prefix != "" {
			keyPath = prefix + "." + k
		}
		childSchema, inSchema := props[k]
		allowChildren := len(c.allow.children[keyPath]) > 0
		if c.allow.exact[keyPath] || inSchema && passthroughKey(k) {
			continue
		}
		if !inSchema && !allowChildren {
			if siblings == nil {
				siblings = c.knownKeys(prefix, props)
			}
			errs = append(errs, unknown(path.Child(k), c.unknownKeyDetail(prefix, keyPath, k, siblings)))
			continue
		}
		child, ok := values[k].(map[string]any)
		if !ok {
			continue // scalars and lists: the schema checks their types
		}
		closed := len(schemaProperties(childSchema)) > 0 || allowChildren
		if !closed {
			continue // a free-form map
		}
		errs = append(errs, c.unknownKeys(childSchema, keyPath, child, path.Child(k), depth+1)...)
	}
	return errs
}

func (c *ciliumChart) unknownKeyDetail(prefix, keyPath, name string, siblings []string) string {
	head := "unknown key for chart " + c.version + " ("
	for _, r := range ciliumRemovedKeys {
		if r.path == keyPath {
			return head + r.why(c.minor) + ")"
		}
	}
	detail := head + "not a value the chart reads"
	if dm := didYouMean(name, siblings); len(dm) > 0 {
		if prefix != "" {
			for i := range dm {
				dm[i] = prefix + "." + dm[i]
			}
		}
		detail += "; did you mean " + strings.Join(dm, " or ") + "?"
	}
	return detail + ")"
}

// knownKeys lists the keys the chart reads at one level: schema properties and template-only
// keys.
func (c *ciliumChart) knownKeys(prefix string, props map[string]any) []string {
	set := make(map[string]bool, len(props))
	for k := range props {
		set[k] = true
	}
	for _, k := range c.allow.children[prefix] {
		set[k] = true
	}
	return sortedKeys(set)
}

func schemaProperties(node any) map[string]any {
	m, _ := node.(map[string]any)
	p, _ := m["properties"].(map[string]any)
	return p
}

// minorBefore reports whether minor a ("1.18") is older than minor b (both 1.y).
func minorBefore(a, b string) bool { return support.MinorNumber(a) < support.MinorNumber(b) }
