package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/enigate/enigate/schema/contract"
	"github.com/enigate/enigate/schema/jsonnum"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/release"
	"github.com/enigate/enigate/schema/vpc"
)

// Problems is every problem found in a declaration, one line each.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "\n") }

// compiled is the schema, compiled once per process.
var compiled = sync.OnceValues(func() (*cue.Context, error) {
	ctx := cuecontext.New()
	v := ctx.CompileBytes(Source, cue.Filename("schema/enigate.cue"))
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	// The release's defaults come from Go (schema/release), their one place.
	v = v.FillPath(cue.ParsePath("#Release"), map[string]string{"version": release.Version, "repository": release.Repository, "namespace": contract.Namespace})
	schemaValue = v.LookupPath(cue.ParsePath("#Environment"))
	return ctx, nil
})

var schemaValue cue.Value

// Declaration is an evaluated environment.cue: the decoded model and the user's CUE value, to
// point problems found later (by Go checks) back at file:line:col.
type Declaration struct {
	Env  model.Environment
	user cue.Value
}

// LoadFile evaluates the single-file declaration at file (displayed as display in messages)
// against #Environment and decodes it. Errors are Problems: one line per CUE error with
// file:line:col. LoadDir loads a declaration split into several files.
func LoadFile(file, display string) (*Declaration, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return LoadDeclaration(src, display)
}

// Load evaluates src (named filename in messages) against #Environment and decodes it.
func Load(src []byte, filename string) (model.Environment, error) {
	d, err := LoadDeclaration(src, filename)
	if err != nil {
		return model.Environment{}, err
	}
	return d.Env, nil
}

// Position returns "file:line:col" of the value a field path (as the checks print it, e.g.
// teams[team-a].hostnames[0]) names in the declaration, or "" when the user did not write it.
func (d *Declaration) Position(fieldPath string) string {
	p := cue.ParsePath(cuePath(fieldPath))
	if p.Err() != nil {
		return ""
	}
	for sels := p.Selectors(); len(sels) > 0; sels = sels[:len(sels)-1] {
		if pos := d.user.LookupPath(cue.MakePath(sels...)).Pos(); pos.IsValid() {
			return pos.String()
		}
	}
	return ""
}

// DisplayPath shows a field path the way the declaration spells it: map keys as selectors
// (teams.team-a.hostnames[0]), keys that are not plain words quoted
// (annotations."service.beta.kubernetes.io/aws-load-balancer-type").
func DisplayPath(fp string) string {
	return rewriteKeys(fp, func(key string) string {
		if plainKey.MatchString(key) {
			return "." + key
		}
		return "." + strconv.Quote(key)
	})
}

// cuePath converts a field path (a.b[key][0]) into CUE path syntax (a.b."key"[0]).
func cuePath(fp string) string {
	return rewriteKeys(fp, func(key string) string { return "." + strconv.Quote(key) })
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// rewriteKeys rewrites each map key "[key]" of a field path with format; list indexes stay.
func rewriteKeys(fp string, format func(key string) string) string {
	var b strings.Builder
	for i := 0; i < len(fp); i++ {
		if fp[i] != '[' {
			b.WriteByte(fp[i])
			continue
		}
		end := strings.IndexByte(fp[i:], ']')
		if end < 0 {
			b.WriteString(fp[i:])
			break
		}
		key := fp[i+1 : i+end]
		if _, err := strconv.Atoi(key); err == nil {
			b.WriteString("[" + key + "]")
		} else {
			b.WriteString(format(key))
		}
		i += end
	}
	return b.String()
}

// LoadDeclaration evaluates src (named filename in messages) against #Environment.
func LoadDeclaration(src []byte, filename string) (*Declaration, error) {
	ctx, err := compiled()
	if err != nil {
		return nil, err
	}
	file, err := parser.ParseFile(filename, src, parser.ParseComments)
	if err != nil {
		return nil, cueProblems(err, cue.Value{}, cue.Value{})
	}
	return evaluate(ctx.BuildFile(file), []*ast.File{file}, filename)
}

// LoadDir evaluates the declaration in dir: every .cue file directly in it, as one CUE package
// (or files without a package clause), imports resolved in the CUE module that holds dir
// (a cue.mod directory at or above it, for definitions shared between environments), unified
// with #Environment. display names dir in messages (e.g. overlays/dev), so that problems read
// overlays/dev/teams.cue:3:5 wherever the command runs.
func LoadDir(dir, display string) (*Declaration, error) {
	ctx, err := compiled()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if matches, _ := filepath.Glob(filepath.Join(abs, "*.cue")); len(matches) == 0 {
		return nil, Problems{fmt.Sprintf("%s: no .cue files (the declaration is %s/environment.cue, optionally split into more .cue files)", display, display)}
	}
	cfg := &load.Config{
		Dir:     abs,
		Package: "*",
		// Record positions under the displayed directory, not the absolute path.
		ParseFile: func(name string, src any, pc parser.Config) (*ast.File, error) {
			if rel, err := filepath.Rel(abs, name); err == nil && !strings.HasPrefix(rel, "..") {
				name = path.Join(display, filepath.ToSlash(rel))
			}
			return parser.ParseFile(name, src, pc, parser.ParseComments)
		},
	}
	insts := load.Instances([]string{"."}, cfg)
	if len(insts) != 1 {
		var pkgs []string
		for _, in := range insts {
			pkgs = append(pkgs, in.PkgName)
		}
		return nil, Problems{fmt.Sprintf("%s: .cue files of %d packages (%s); an overlay is one package", display, len(insts), strings.Join(pkgs, ", "))}
	}
	inst := insts[0]
	if inst.Err != nil {
		return nil, cueProblems(inst.Err, cue.Value{}, cue.Value{})
	}
	// Rendered files name the declaration's main file as their source.
	return evaluate(ctx.BuildInstance(inst), inst.Files, path.Join(display, "environment.cue"))
}

// evaluate unifies the user's value with #Environment, reports every problem, and decodes.
func evaluate(user cue.Value, files []*ast.File, source string) (*Declaration, error) {
	// Top-level names are checked on the syntax tree: evaluating the user's value on its own
	// before unifying it with the schema would evaluate every field twice.
	var problems Problems
	topLevel := map[string]bool{} // "file:line:col: name" of each unknown top-level field
	for _, f := range files {
		for _, p := range unknownTopLevel(f) {
			problems = append(problems, p)
			topLevel[p[:strings.Index(p, ": unknown field")]] = true
		}
	}
	v := schemaValue.Unify(user)
	if err := v.Validate(cue.Concrete(true), cue.Final()); err != nil {
		for _, p := range cueProblems(err, user, v) {
			// CUE reports an unknown top-level field too (but not always): once is enough.
			if i := strings.Index(p, ": unknown field"); i < 0 || !topLevel[p[:i]] {
				problems = append(problems, p)
			}
		}
	}
	if len(problems) > 0 {
		SortProblems(problems)
		return nil, problems
	}
	// Through JSON: encoding/json decodes the concrete value much faster than Value.Decode.
	raw, err := v.MarshalJSON()
	if err != nil {
		return nil, cueProblems(err, user, v)
	}
	var d declaration
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	// A field the schema has and the Go model lacks is a bug here, not silently dropped
	// (TestModelMatchesSchema names each one).
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("decode %s: %w", source, err)
	}
	env := d.model()
	env.Source = source
	return &Declaration{Env: env, user: user}, nil
}

// cueProblems turns CUE's errors into one line per problem: "file:line:col: path: message".
// Disjunction noise is folded: a value outside an enumeration becomes one line naming the
// allowed values, and a default that merely conflicts with a bad value is dropped.
func cueProblems(err error, user, unified cue.Value) Problems {
	type item struct{ pos, msg string }
	byPath := map[string][]item{}
	var order []string
	for _, e := range cueerrors.Errors(err) {
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		if disjunctionCount.MatchString(msg) {
			continue
		}
		sels := e.Path()
		if len(sels) > 0 && sels[0] == "#Environment" {
			sels = sels[1:]
		}
		path := strings.Join(sels, ".")
		if _, ok := byPath[path]; !ok {
			order = append(order, path)
		}
		byPath[path] = append(byPath[path], item{pos: position(e, user, path), msg: msg})
	}
	var out Problems
	seen := map[string]bool{}
	add := func(pos, path, msg string) {
		line := msg
		if path != "" {
			line = path + ": " + msg
		}
		if pos != "" {
			line = pos + ": " + line
		}
		if !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	for _, path := range order {
		items := byPath[path]
		var conflicts, others []item
		for _, it := range items {
			if strings.HasPrefix(it.msg, "conflicting values ") {
				conflicts = append(conflicts, it)
			} else {
				others = append(others, it)
			}
		}
		for _, it := range others {
			if it.msg == "field not allowed" {
				bad := strings.TrimPrefix(path, parentPath(path)+".")
				allowed := slices.DeleteFunc(fieldNames(unified, parentPath(path)), func(f string) bool { return f == bad })
				it.msg = "unknown field (allowed: " + strings.Join(allowed, ", ") + ")"
			}
			add(it.pos, path, it.msg)
		}
		if len(others) > 0 || len(conflicts) == 0 {
			continue
		}
		if len(conflicts) == 1 {
			add(conflicts[0].pos, path, conflicts[0].msg)
			continue
		}
		got := fmt.Sprint(user.LookupPath(cue.ParsePath(path)))
		var allowed []string
		for _, it := range conflicts {
			m := conflictValues.FindStringSubmatch(it.msg)
			if m == nil {
				continue
			}
			for _, v := range m[1:] {
				if v != got && !slices.Contains(allowed, v) {
					allowed = append(allowed, v)
				}
			}
		}
		sort.Strings(allowed)
		add(conflicts[0].pos, path, fmt.Sprintf("%s is not allowed (allowed: %s)", got, strings.Join(allowed, ", ")))
	}
	SortProblems(out)
	return out
}

// parentPath drops the last selector of a CUE path.
func parentPath(path string) string {
	sels := cue.ParsePath(path).Selectors()
	if len(sels) == 0 {
		return ""
	}
	return cue.MakePath(sels[:len(sels)-1]...).String()
}

// fieldNames lists the regular fields the unified value defines at path.
func fieldNames(v cue.Value, path string) []string {
	if path != "" {
		v = v.LookupPath(cue.ParsePath(path))
	}
	var out []string
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return nil
	}
	for it.Next() {
		out = append(out, it.Selector().String())
	}
	return out
}

// SortProblems orders lines by file, then line and column numerically.
func SortProblems(p Problems) {
	key := func(s string) (string, int, int) {
		parts := strings.SplitN(s, ":", 4)
		if len(parts) < 4 {
			return s, 0, 0
		}
		l, _ := strconv.Atoi(parts[1])
		c, _ := strconv.Atoi(parts[2])
		return parts[0], l, c
	}
	sort.SliceStable(p, func(i, j int) bool {
		fi, li, ci := key(p[i])
		fj, lj, cj := key(p[j])
		if fi != fj {
			return fi < fj
		}
		if li != lj {
			return li < lj
		}
		if ci != cj {
			return ci < cj
		}
		return p[i] < p[j]
	})
}

var (
	disjunctionCount = regexp.MustCompile(`^\d+ errors in empty disjunction:?$`)
	conflictValues   = regexp.MustCompile(`^conflicting values (.+) and (.+)$`)
)

// position prefers a position in the user's file, then the user's value at path, then the schema.
func position(e cueerrors.Error, user cue.Value, path string) string {
	var schemaPos string
	for _, p := range append([]token.Pos{e.Position()}, e.InputPositions()...) {
		if !p.IsValid() {
			continue
		}
		if !strings.HasPrefix(p.Filename(), "schema/") {
			return p.String()
		}
		schemaPos = p.String()
	}
	if path != "" {
		if p := user.LookupPath(cue.ParsePath(path)).Pos(); p.IsValid() {
			return p.String()
		}
	}
	return schemaPos
}

// unknownTopLevel reports top-level fields the schema does not define (CUE omits these when
// other errors exist).
func unknownTopLevel(file *ast.File) Problems {
	var out Problems
	for _, decl := range file.Decls {
		f, ok := decl.(*ast.Field)
		if !ok {
			continue
		}
		name, isIdent, err := ast.LabelName(f.Label)
		if err != nil || !isIdent && name == "" || strings.HasPrefix(name, "#") || strings.HasPrefix(name, "_") {
			continue // definitions and hidden fields are the user's own helpers
		}
		if !schemaValue.Allows(cue.Str(name)) {
			out = append(out, fmt.Sprintf("%s: %s: unknown field (allowed: %s)", f.Pos(), name, strings.Join(fieldNames(schemaValue, ""), ", ")))
		}
	}
	return out
}

// declaration mirrors the CUE shape (maps keyed by name); model() turns it into the Go model
// with name-sorted slices so output order never depends on map iteration.
type declaration struct {
	Name          string                     `json:"name"`
	Versions      model.Versions             `json:"versions"`
	Cluster       model.Cluster              `json:"cluster"`
	VPC           vpcDecl                    `json:"vpc"`
	NodeGroups    map[string]model.NodeGroup `json:"nodeGroups"`
	Karpenter     karpenterDecl              `json:"karpenter"`
	Cilium        model.Cilium               `json:"cilium"`
	Platform      string                     `json:"platformNamespace"`
	PlatformGroup string                     `json:"platformGroup"`
	Gateways      map[string]gatewayDecl     `json:"gateways"`
	Teams         map[string]model.Team      `json:"teams"`
	Routes        map[string]model.Route     `json:"routes"`
	Enigate       model.Enigate              `json:"enigate"`
	Overrides     model.Overrides            `json:"overrides"`
}

type karpenterDecl struct {
	AMIVersion       string                    `json:"amiVersion"`
	WasteWarnPercent int                       `json:"wasteWarnPercent"`
	SystemNodeGroup  model.SystemNodeGroup     `json:"systemNodeGroup"`
	NodePools        map[string]model.NodePool `json:"nodePools"`
}

type vpcDecl struct {
	ID                string   `json:"id"`
	CIDR              string   `json:"cidr"`
	NAT               string   `json:"nat"`
	AvailabilityZones []string `json:"availabilityZones"`
	Subnets           struct {
		Private map[string]subnetDecl `json:"private"`
		Public  map[string]subnetDecl `json:"public"`
	} `json:"subnets"`
}

type subnetDecl struct {
	ID   string `json:"id"`
	CIDR string `json:"cidr"`
}

// model is the VPC as eksctl will use it: declared subnets, or for a VPC eksctl creates the
// subnets it will carve (an invalid split leaves none; vpc.Validate reports why).
func (v vpcDecl) model() model.VPC {
	out := model.VPC{ID: v.ID, CIDR: v.CIDR, NAT: v.NAT, AvailabilityZones: v.AvailabilityZones}
	for _, az := range sortedKeys(v.Subnets.Private) {
		out.Subnets = append(out.Subnets, model.Subnet{Name: az + "-private", AZ: az, CIDR: v.Subnets.Private[az].CIDR, Kind: "private", ID: v.Subnets.Private[az].ID})
	}
	for _, az := range sortedKeys(v.Subnets.Public) {
		out.Subnets = append(out.Subnets, model.Subnet{Name: az + "-public", AZ: az, CIDR: v.Subnets.Public[az].CIDR, Kind: "public", ID: v.Subnets.Public[az].ID})
	}
	if v.ID == "" && len(out.Subnets) == 0 {
		out.Subnets, _ = vpc.EksctlSubnets(v.CIDR, v.AvailabilityZones)
		out.SubnetsModelled = true
	}
	return out
}

type gatewayDecl struct {
	Namespace   string                    `json:"namespace"`
	Scheme      string                    `json:"scheme"`
	Annotations map[string]string         `json:"annotations"`
	Listeners   map[string]model.Listener `json:"listeners"`
}

// numbersIn normalises the json.Numbers of free-form data (overrides, route specs).
func numbersIn(m map[string]any) map[string]any {
	jsonnum.Normalize(m)
	return m
}

func (d declaration) model() model.Environment {
	d.Overrides.CiliumValues = numbersIn(d.Overrides.CiliumValues)
	d.Overrides.EksctlCluster = numbersIn(d.Overrides.EksctlCluster)
	d.Overrides.EksctlNodeGroups = numbersIn(d.Overrides.EksctlNodeGroups)
	d.Overrides.EksctlIdentities = numbersIn(d.Overrides.EksctlIdentities)
	env := model.Environment{
		Name:              d.Name,
		Versions:          d.Versions,
		Cluster:           d.Cluster,
		VPC:               d.VPC.model(),
		Cilium:            d.Cilium,
		PlatformNamespace: d.Platform,
		PlatformGroup:     d.PlatformGroup,
		Enigate:           d.Enigate,
		Overrides:         d.Overrides,
	}
	for _, name := range sortedKeys(d.NodeGroups) {
		ng := d.NodeGroups[name]
		ng.Name = name
		env.NodeGroups = append(env.NodeGroups, ng)
	}
	env.Karpenter = model.Karpenter{AMIVersion: d.Karpenter.AMIVersion, WasteWarnPercent: d.Karpenter.WasteWarnPercent, SystemNodeGroup: d.Karpenter.SystemNodeGroup}
	for _, name := range sortedKeys(d.Karpenter.NodePools) {
		p := d.Karpenter.NodePools[name]
		p.Name = name
		env.Karpenter.NodePools = append(env.Karpenter.NodePools, p)
	}
	for _, name := range sortedKeys(d.Gateways) {
		g := d.Gateways[name]
		gw := model.Gateway{Name: name, Namespace: g.Namespace, Scheme: g.Scheme, Annotations: g.Annotations}
		for _, ln := range sortedKeys(g.Listeners) {
			l := g.Listeners[ln]
			l.Name = ln
			gw.Listeners = append(gw.Listeners, l)
		}
		env.Gateways = append(env.Gateways, gw)
	}
	for _, name := range sortedKeys(d.Teams) {
		t := d.Teams[name]
		t.Name = name
		env.Teams = append(env.Teams, t)
	}
	for _, name := range sortedKeys(d.Routes) {
		r := d.Routes[name]
		r.Name = name
		r.Spec = numbersIn(r.Spec)
		env.Routes = append(env.Routes, r)
	}
	return env
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
