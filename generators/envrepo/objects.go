package envrepo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/generators/manifest"
)

// ObjectID identifies an object across renders: API group (not version), kind, namespace and
// name. YAML documents without kind or name (Helm values, a Kustomization) and files that are
// not YAML are identified by their file instead (File set, Index the document in the file).
type ObjectID struct {
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	File      string `json:"file,omitempty"`
	Index     int    `json:"index,omitempty"`
}

// String is kubectl-like: "Kind.group namespace/name", "Namespace team-a", or "file values.yaml".
func (id ObjectID) String() string {
	if id.File != "" {
		s := "file " + id.File
		if id.Index > 0 {
			s += fmt.Sprintf("#%d", id.Index)
		}
		if id.Kind != "" {
			s = id.kind() + " (" + s + ")"
		}
		return s
	}
	if id.Namespace != "" {
		return id.kind() + " " + id.Namespace + "/" + id.Name
	}
	return id.kind() + " " + id.Name
}

func (id ObjectID) kind() string {
	if id.Group == "" {
		return id.Kind
	}
	return id.Kind + "." + id.Group
}

func (id ObjectID) less(o ObjectID) bool {
	a := []string{id.Group, id.Kind, id.Namespace, id.Name, id.File}
	b := []string{o.Group, o.Kind, o.Namespace, o.Name, o.File}
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return id.Index < o.Index
}

// object is one parsed document. doc is nil for files that are not YAML (compared by bytes).
type object struct {
	id   ObjectID
	file string
	doc  any
	raw  []byte
}

func (o *object) isKind(group, kind string) bool { return o.id.Group == group && o.id.Kind == kind }

// isYAML reports whether a rendered file is parsed into documents.
func isYAML(p string) bool {
	switch path.Ext(p) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// parseObjects splits every file into objects keyed by identity. A YAML file that does not
// parse counts as one opaque object so that a broken file in the environment repository can
// still be diffed and replaced. Two documents with the same identity are an error.
// where names the files in messages ("the rendered files").
func parseObjects(files []manifest.File, where string) (map[ObjectID]*object, Problems) {
	out := map[ObjectID]*object{}
	var errs Problems
	add := func(o *object) {
		if prev, ok := out[o.id]; ok {
			errs = append(errs, invalid(o.file, fmt.Sprintf("%s defined twice in %s (also in %s)", o.id, where, prev.file)))
			return
		}
		out[o.id] = o
	}
	for _, f := range files {
		if !isYAML(f.Path) {
			add(&object{id: ObjectID{File: f.Path}, file: f.Path, raw: f.Data})
			continue
		}
		docs, err := splitDocuments(f.Data)
		if err != nil {
			add(&object{id: ObjectID{File: f.Path}, file: f.Path, raw: f.Data})
			continue
		}
		for i, doc := range docs {
			add(&object{id: identify(doc, f.Path, i), file: f.Path, doc: doc})
		}
	}
	return out, errs
}

// splitDocuments parses a multi-document YAML file, skipping empty documents.
func splitDocuments(data []byte) ([]any, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs []any
	for {
		chunk, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		var doc any
		if err := yaml.Unmarshal(chunk, &doc); err != nil {
			return nil, err
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// identify returns the identity of a document: group/kind/namespace/name when it has a kind
// and a name, its file and position otherwise.
func identify(doc any, file string, index int) ObjectID {
	m, ok := doc.(map[string]any)
	if !ok {
		return ObjectID{File: file, Index: index}
	}
	u := unstructured.Unstructured{Object: m}
	kind, name, namespace := u.GetKind(), u.GetName(), u.GetNamespace()
	group := ""
	if gv, err := schema.ParseGroupVersion(u.GetAPIVersion()); err == nil {
		group = gv.Group
	}
	if kind == "" || name == "" || notInCluster[group] {
		return ObjectID{Group: group, Kind: kind, File: file, Index: index}
	}
	return ObjectID{Group: group, Kind: kind, Namespace: namespace, Name: name}
}

// notInCluster are API groups of documents that configure tools, not cluster objects: the
// phased eksctl ClusterConfigs share metadata.name, so they are identified by file.
var notInCluster = map[string]bool{"eksctl.io": true, "kustomize.config.k8s.io": true}

// ObjectChange is one object added, removed or changed.
type ObjectChange struct {
	ObjectID
	// Change is "added", "removed" or "changed".
	Change string `json:"change"`
	// In is the file holding the object (the new file, or the old one when removed).
	In string `json:"in"`
	// Fields lists the changed fields of a changed object (empty for files compared by bytes).
	Fields []FieldChange `json:"fields,omitempty"`
}

// FieldChange is one changed field, as a dotted path ("spec.rules[0].verbs",
// `metadata.labels["app.kubernetes.io/name"]`, "spec.containers[name=web].image").
type FieldChange struct {
	Path string `json:"path"`
	// Change is "added", "removed" or "changed".
	Change string `json:"change"`
	Old    any    `json:"old,omitempty"`
	New    any    `json:"new,omitempty"`
}

// FileChange is one file added, updated or removed in the environment tree.
type FileChange struct {
	Path string `json:"path"`
	// Change is "added", "changed" or "removed".
	Change string `json:"change"`
}

// Compare diffs the environment's current files (old) with the rendered files (new), per
// object and per file, and calls out widened RBAC.
func Compare(old, new []manifest.File) (*Report, error) {
	oldObjs, errs := parseObjects(old, "the environment repository")
	newObjs, newErrs := parseObjects(new, "the rendered files")
	if errs = append(errs, newErrs...); len(errs) > 0 {
		return nil, errs
	}
	r := &Report{Objects: []ObjectChange{}, Files: compareFiles(old, new), RBACWidened: []Widening{}}
	for id, n := range newObjs {
		o, ok := oldObjs[id]
		if !ok {
			r.Objects = append(r.Objects, ObjectChange{ObjectID: id, Change: "added", In: n.file})
			if w, ok := widened(nil, n); ok {
				r.RBACWidened = append(r.RBACWidened, w)
			}
			continue
		}
		var fields []FieldChange
		switch {
		case o.doc == nil || n.doc == nil:
			if o.doc != nil || n.doc != nil || !bytes.Equal(o.raw, n.raw) {
				r.Objects = append(r.Objects, ObjectChange{ObjectID: id, Change: "changed", In: n.file})
			}
			continue
		default:
			diffValues("", o.doc, n.doc, &fields)
		}
		if len(fields) == 0 {
			continue
		}
		redact(id, fields)
		r.Objects = append(r.Objects, ObjectChange{ObjectID: id, Change: "changed", In: n.file, Fields: fields})
		if w, ok := widened(o, n); ok {
			r.RBACWidened = append(r.RBACWidened, w)
		}
	}
	for id, o := range oldObjs {
		if _, ok := newObjs[id]; !ok {
			r.Objects = append(r.Objects, ObjectChange{ObjectID: id, Change: "removed", In: o.file})
		}
	}
	r.Changed = len(r.Files) > 0
	sort.Slice(r.Objects, func(i, j int) bool { return r.Objects[i].ObjectID.less(r.Objects[j].ObjectID) })
	sort.Slice(r.RBACWidened, func(i, j int) bool { return r.RBACWidened[i].Object.less(r.RBACWidened[j].Object) })
	return r, nil
}

func compareFiles(old, new []manifest.File) []FileChange {
	before := map[string][]byte{}
	for _, f := range old {
		before[f.Path] = f.Data
	}
	out := []FileChange{}
	for _, f := range new {
		data, ok := before[f.Path]
		switch {
		case !ok:
			out = append(out, FileChange{Path: f.Path, Change: "added"})
		case !bytes.Equal(data, f.Data):
			out = append(out, FileChange{Path: f.Path, Change: "changed"})
		}
		delete(before, f.Path)
	}
	for p := range before {
		out = append(out, FileChange{Path: p, Change: "removed"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// diffValues appends the differences between a and b below path p.
func diffValues(p string, a, b any, out *[]FieldChange) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(av)+len(bv))
		for k := range av {
			keys = append(keys, k)
		}
		for k := range bv {
			if _, ok := av[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			x, inA := av[k]
			y, inB := bv[k]
			kp := joinKey(p, k)
			switch {
			case !inA:
				*out = append(*out, FieldChange{Path: kp, Change: "added", New: y})
			case !inB:
				*out = append(*out, FieldChange{Path: kp, Change: "removed", Old: x})
			default:
				diffValues(kp, x, y, out)
			}
		}
		return
	case []any:
		bv, ok := b.([]any)
		if !ok {
			break
		}
		diffLists(p, av, bv, out)
		return
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, FieldChange{Path: orRoot(p), Change: "changed", Old: a, New: b})
	}
}

// diffLists matches list items by their "name" field when every item has a distinct one
// (containers, ports, listeners), by position otherwise.
func diffLists(p string, a, b []any, out *[]FieldChange) {
	an, aok := namedItems(a)
	bn, bok := namedItems(b)
	if aok && bok {
		for _, name := range mergedNames(a, b) {
			x, inA := an[name]
			y, inB := bn[name]
			ip := fmt.Sprintf("%s[name=%s]", p, name)
			switch {
			case !inA:
				*out = append(*out, FieldChange{Path: ip, Change: "added", New: y})
			case !inB:
				*out = append(*out, FieldChange{Path: ip, Change: "removed", Old: x})
			default:
				diffValues(ip, x, y, out)
			}
		}
		return
	}
	if scalars(a) && scalars(b) && len(a)*len(b) <= 1<<16 {
		diffScalarLists(p, a, b, out)
		return
	}
	for i := 0; i < max(len(a), len(b)); i++ {
		ip := fmt.Sprintf("%s[%d]", p, i)
		switch {
		case i >= len(a):
			*out = append(*out, FieldChange{Path: ip, Change: "added", New: b[i]})
		case i >= len(b):
			*out = append(*out, FieldChange{Path: ip, Change: "removed", Old: a[i]})
		default:
			diffValues(ip, a[i], b[i], out)
		}
	}
}

// scalars reports whether every item is a string, number, bool or null.
func scalars(items []any) bool {
	for _, it := range items {
		switch it.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

// diffScalarLists reports insertions and removals (longest common subsequence), so adding a
// hostname or a verb reads as one added item rather than every later item changed. Removed
// items carry their old index, added items their new one.
func diffScalarLists(p string, a, b []any, out *[]FieldChange) {
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if reflect.DeepEqual(a[i], b[j]) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && reflect.DeepEqual(a[i], b[j]):
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			*out = append(*out, FieldChange{Path: fmt.Sprintf("%s[%d]", p, i), Change: "removed", Old: a[i]})
			i++
		default:
			*out = append(*out, FieldChange{Path: fmt.Sprintf("%s[%d]", p, j), Change: "added", New: b[j]})
			j++
		}
	}
}

func namedItems(items []any) (map[string]any, bool) {
	if len(items) == 0 {
		return map[string]any{}, true
	}
	out := make(map[string]any, len(items))
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, false
		}
		name, ok := m["name"].(string)
		if !ok || name == "" || out[name] != nil || strings.ContainsAny(name, "[]") {
			return nil, false
		}
		out[name] = it
	}
	return out, true
}

// mergedNames lists item names in new order, then removed names in old order.
func mergedNames(a, b []any) []string {
	seen := map[string]bool{}
	var names []string
	for _, list := range [][]any{b, a} {
		for _, it := range list {
			n := it.(map[string]any)["name"].(string)
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names
}

func joinKey(p, k string) string {
	if plainKey(k) {
		if p == "" {
			return k
		}
		return p + "." + k
	}
	return fmt.Sprintf("%s[%q]", p, k)
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r == '-' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return true
}

func orRoot(p string) string {
	if p == "" {
		return "."
	}
	return p
}

// redact hides Secret values and anything holding private key material from diff output,
// which ends up in pull request comments and CI logs.
func redact(id ObjectID, fields []FieldChange) {
	secret := id.Group == "" && id.Kind == "Secret"
	for i := range fields {
		f := &fields[i]
		hide := secret && (strings.HasPrefix(f.Path, "data") || strings.HasPrefix(f.Path, "stringData"))
		if hide || containsPrivateKey(f.Old) || containsPrivateKey(f.New) {
			if f.Old != nil {
				f.Old = "(redacted)"
			}
			if f.New != nil {
				f.New = "(redacted)"
			}
		}
	}
}
