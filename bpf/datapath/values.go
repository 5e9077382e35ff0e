package datapath

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/schema/support"
)

// Values are the datapath-relevant parts of the rendered Cilium Helm values, with chart defaults
// filled in. A nil size means Cilium sizes the map from node memory (bpf.mapDynamicSizeRatio).
type Values struct {
	ChartVersion string // from versions.yaml (cilium), e.g. "1.19.7"
	Minor        string // "1.19"

	BPFRoot              string
	LBMapMax             int
	CTTCPMax             *int
	CTAnyMax             *int
	NATMax               *int
	NeighMax             *int
	PolicyMapMax         int
	DynamicSizeRatio     float64
	MaglevTableSize      int
	LBAlgorithm          string
	Acceleration         string // disabled | native | best-effort
	KubeProxyReplacement bool
	BPFMasquerade        bool
	IPv4, IPv6           bool
	// EnableTCX: Cilium attaches with tcx where the kernel has it, else legacy tc (bpf.enableTCX).
	EnableTCX bool
	// PreallocateMaps: hash maps without BPF_F_NO_PREALLOC (bpf.preallocateMaps).
	PreallocateMaps bool
	// DistributedLRU: LRU maps with BPF_F_NO_COMMON_LRU, sizes rounded to the CPU count
	// (bpf.distributedLRU.enabled).
	DistributedLRU bool
	// SocketLB: the cgroup socket load-balancing programs (kube-proxy replacement implies it).
	SocketLB bool
	// BindProtection: cil_sock*_post_bind with KPR (nodePort.bindProtection).
	BindProtection bool
	// CgroupRoot is where Cilium attaches the socket-LB programs (cgroup.hostRoot).
	CgroupRoot string
}

// DefaultChartVersion is the chart assumed when no versions file is given: the newest supported
// one (schema/support).
var DefaultChartVersion = support.Ciliums[len(support.Ciliums)-1].Version

// ParseValues reads rendered Helm values and (optionally, may be nil) versions.yaml. Keys the
// values leave out take the defaults of the chart version's vendored values.yaml (the
// supported patch of its minor when the version itself is not vendored). It reports every
// problem at once, one per field path, each Detail a whole sentence (`what is wrong (what is
// allowed)`) for the one-line rendering (problem.Lines).
func ParseValues(valuesYAML, versionsYAML []byte) (Values, field.ErrorList) {
	var errs field.ErrorList
	var v Values

	v.ChartVersion = DefaultChartVersion
	versions := field.NewPath("versions")
	if versionsYAML != nil {
		var vers map[string]any
		if err := yaml.Unmarshal(versionsYAML, &vers); err != nil {
			errs = append(errs, fieldErr(field.ErrorTypeInvalid, versions, nil, "is not YAML: %v", err))
		} else if s, ok := vers["cilium"].(string); !ok || s == "" {
			errs = append(errs, fieldErr(field.ErrorTypeRequired, versions.Child("cilium"), nil,
				"is not set (the chart version, like %s)", DefaultChartVersion))
		} else {
			v.ChartVersion = strings.TrimPrefix(s, "v")
		}
	}
	v.Minor = support.Minor(v.ChartVersion)
	chart, ok := vendoredChart(v.ChartVersion)
	if !ok {
		errs = append(errs, fieldErr(field.ErrorTypeNotSupported, versions.Child("cilium"), v.ChartVersion,
			"%q is not a supported chart (supported: %s, or another patch of their minors)", v.ChartVersion, strings.Join(support.CiliumVersions(), ", ")))
		chart = DefaultChartVersion // to judge the values all the same
	}
	def, err := chartDefaults(chart)
	if err != nil {
		return v, append(errs, field.InternalError(versions.Child("cilium"), err))
	}

	var doc map[string]any
	if err := yaml.Unmarshal(valuesYAML, &doc); err != nil {
		return v, sorted(append(errs, fieldErr(field.ErrorTypeInvalid, field.NewPath("values"), nil, "is not YAML: %v", err)))
	}
	r := reader{doc: doc, root: "values"}

	v.BPFRoot = r.str("bpf.root", def.BPFRoot)
	v.LBMapMax = r.intv("bpf.lbMapMax", def.LBMapMax)
	v.CTTCPMax = r.optInt("bpf.ctTcpMax")
	v.CTAnyMax = r.optInt("bpf.ctAnyMax")
	v.NATMax = r.optInt("bpf.natMax")
	v.NeighMax = r.optInt("bpf.neighMax")
	v.PolicyMapMax = r.intv("bpf.policyMapMax", def.PolicyMapMax)
	v.DynamicSizeRatio = r.float("bpf.mapDynamicSizeRatio", def.DynamicSizeRatio)
	if v.DynamicSizeRatio == 0 {
		// The chart writes bpf-map-dynamic-size-ratio only when it is not 0.0, else its default.
		v.DynamicSizeRatio = def.DynamicSizeRatio
	}
	v.MaglevTableSize = r.intv("maglev.tableSize", def.MaglevTableSize)
	v.LBAlgorithm = r.str("loadBalancer.algorithm", def.LBAlgorithm)
	v.Acceleration = r.str("loadBalancer.acceleration", def.Acceleration)
	v.KubeProxyReplacement = r.boolish("kubeProxyReplacement", def.KubeProxyReplacement)
	v.BPFMasquerade = r.boolish("bpf.masquerade", def.BPFMasquerade)
	v.IPv4 = r.boolish("ipv4.enabled", def.IPv4)
	v.IPv6 = r.boolish("ipv6.enabled", def.IPv6)
	v.EnableTCX = r.boolish("bpf.enableTCX", def.EnableTCX)
	v.PreallocateMaps = r.boolish("bpf.preallocateMaps", def.PreallocateMaps)
	v.DistributedLRU = r.boolish("bpf.distributedLRU.enabled", def.DistributedLRU)
	// pkg/kpr NewKPRConfig: kube-proxy replacement turns socket LB on whatever socketLB.enabled says.
	v.SocketLB = r.boolish("socketLB.enabled", def.SocketLB) || v.KubeProxyReplacement
	v.BindProtection = r.boolish("nodePort.bindProtection", def.BindProtection)
	v.CgroupRoot = r.str("cgroup.hostRoot", def.CgroupRoot)
	errs = append(errs, r.errs...)

	if accel := []string{"disabled", "native", "best-effort"}; !slices.Contains(accel, v.Acceleration) {
		errs = append(errs, fieldErr(field.ErrorTypeNotSupported, path("loadBalancer.acceleration"), v.Acceleration,
			"%q is not supported (allowed: %s)", v.Acceleration, strings.Join(accel, ", ")))
	}
	if !slices.Contains(support.MaglevTableSizes, v.MaglevTableSize) {
		errs = append(errs, fieldErr(field.ErrorTypeInvalid, path("maglev.tableSize"), v.MaglevTableSize,
			"%d is not one of Cilium's table sizes (allowed: %s)", v.MaglevTableSize, joinInts(support.MaglevTableSizes)))
	}
	for key, n := range map[string]int{"bpf.lbMapMax": v.LBMapMax, "bpf.policyMapMax": v.PolicyMapMax} {
		if n <= 0 {
			errs = append(errs, fieldErr(field.ErrorTypeInvalid, path(key), n, "%d is not positive (a map size)", n))
		}
	}
	for key, p := range map[string]*int{"bpf.ctTcpMax": v.CTTCPMax, "bpf.ctAnyMax": v.CTAnyMax, "bpf.natMax": v.NATMax, "bpf.neighMax": v.NeighMax} {
		if p != nil && *p <= 0 {
			errs = append(errs, fieldErr(field.ErrorTypeInvalid, path(key), *p, "%d is not positive (a map size, or unset for dynamic sizing)", *p))
		}
	}
	for key, dir := range map[string]string{"bpf.root": v.BPFRoot, "cgroup.hostRoot": v.CgroupRoot} {
		if !strings.HasPrefix(dir, "/") {
			errs = append(errs, fieldErr(field.ErrorTypeInvalid, path(key), dir, "%q is not an absolute path", dir))
		}
	}
	return v, sorted(errs)
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// sorted orders errors by path.
func sorted(errs field.ErrorList) field.ErrorList {
	slices.SortStableFunc(errs, func(a, b *field.Error) int { return strings.Compare(a.Field, b.Field) })
	return errs
}

// fieldErr is a field error whose Detail reads on its own after the path.
func fieldErr(t field.ErrorType, p *field.Path, value any, format string, args ...any) *field.Error {
	return &field.Error{Type: t, Field: p.String(), BadValue: value, Detail: fmt.Sprintf(format, args...)}
}

func path(dotted string) *field.Path { return pathUnder("values", dotted) }

func pathUnder(root, dotted string) *field.Path {
	return field.NewPath(root, strings.Split(dotted, ".")...)
}

// reader looks up dotted keys in a decoded YAML document below root and collects type errors
// (and, when required, missing keys).
type reader struct {
	doc      map[string]any
	root     string
	required bool
	errs     field.ErrorList
}

func (r *reader) lookup(dotted string) (any, bool) {
	var cur any = r.doc
	for _, p := range strings.Split(dotted, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			cur = nil
			break
		}
		if cur, ok = m[p]; !ok || cur == nil {
			break
		}
	}
	if cur == nil && r.required {
		r.errs = append(r.errs, fieldErr(field.ErrorTypeRequired, pathUnder(r.root, dotted), nil, "is not set (the chart must give a default)"))
	}
	return cur, cur != nil
}

func (r *reader) typeErr(key string, v any, want string) *field.Error {
	shown, _ := json.Marshal(v)
	return fieldErr(field.ErrorTypeTypeInvalid, pathUnder(r.root, key), v, "%s is not %s", shown, want)
}

func (r *reader) str(key, def string) string {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	s, ok := v.(string)
	if !ok {
		r.errs = append(r.errs, r.typeErr(key, v, "a string"))
		return def
	}
	return s
}

func (r *reader) optInt(key string) *int {
	v, ok := r.lookup(key)
	if !ok {
		return nil
	}
	n, ok := toInt(v)
	if !ok {
		r.errs = append(r.errs, r.typeErr(key, v, "an integer"))
		return nil
	}
	return &n
}

func (r *reader) intv(key string, def int) int {
	if p := r.optInt(key); p != nil {
		return *p
	}
	return def
}

func (r *reader) float(key string, def float64) float64 {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case float64:
		return x
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return f
		}
	}
	r.errs = append(r.errs, r.typeErr(key, v, "a number"))
	return def
}

func (r *reader) boolish(key string, def bool) bool {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(x) {
		case "true":
			return true
		case "false", "":
			return false
		}
	}
	r.errs = append(r.errs, r.typeErr(key, v, `true or false (a bool, or the string "true" or "false")`))
	return def
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		if x != float64(int(x)) {
			return 0, false
		}
		return int(x), true
	case int:
		return x, true
	case int64:
		return int(x), true
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}
