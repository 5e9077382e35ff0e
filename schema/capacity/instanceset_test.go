package capacity

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/enigate/enigate/schema/capacity/internal/karpdoc"
)

// TestTableMatchesKarpenterReference is the property test of the vcpus and arch columns and of
// the name-derived labels against their upstream source: for every type Karpenter's generated
// reference lists, the table has the type with the same vCPU count and architecture, and
// Family/Category/Generation/Size derive what Karpenter labels it with.
func TestTableMatchesKarpenterReference(t *testing.T) {
	ref, err := karpdoc.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(ref) < 1000 {
		t.Fatalf("reference lists %d types, want the full list", len(ref))
	}
	listed := map[string]bool{}
	for _, kt := range ref {
		listed[kt.Name] = true
		it, ok := tab.Lookup(kt.Name)
		if !ok {
			t.Errorf("%s: in Karpenter's reference, not in the table", kt.Name)
			continue
		}
		l := kt.Labels
		checks := []struct{ what, got, want string }{
			{"vcpus", strconv.Itoa(it.VCPUs), l[karpdoc.LabelCPU]},
			{"arch", it.KubernetesArch(), l[karpdoc.LabelArch]},
			{"family", it.Family(), l[karpdoc.LabelFamily]},
			{"category", it.Category(), l[karpdoc.LabelCategory]},
			{"generation", strconv.Itoa(it.Generation()), l[karpdoc.LabelGeneration]},
			{"size", it.Size(), l[karpdoc.LabelSize]},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s: %s %q, Karpenter's reference %q", kt.Name, c.what, c.got, c.want)
			}
		}
		if hv := l[karpdoc.LabelHypervisor]; hv != "" && hv != it.Hypervisor {
			t.Errorf("%s: hypervisor %q, Karpenter's reference %q", kt.Name, it.Hypervisor, hv)
		}
	}
	for _, it := range tab.Types {
		if !listed[it.Name] && (it.VCPUs != 0 || it.Architectures != nil) {
			t.Errorf("%s: vcpus/arch %d/%v without a source (not in Karpenter's reference)", it.Name, it.VCPUs, it.Architectures)
		}
	}
}

// TestPodCapFromVCPU: the 250 cap applies from 30 vCPU on real table rows.
func TestPodCapFromVCPU(t *testing.T) {
	for _, tt := range []struct {
		name, typ string
		cap       int
	}{
		{"16 vCPU", "m7g.4xlarge", 110},
		{"32 vCPU", "m7g.8xlarge", 250},
		{"unknown vCPU", "mac2.metal", 110},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compute(Input{InstanceType: tt.typ, PrefixDelegation: true, HostNetworkPods: 2})
			if err != nil {
				t.Fatal(err)
			}
			if r.PodCap != tt.cap {
				t.Errorf("%s: cap %d (%s), want %d", tt.typ, r.PodCap, r.PodCapReason, tt.cap)
			}
		})
	}
}

func TestInstanceSet(t *testing.T) {
	tab, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		req  Requirements
		want []string // must be in the set
		not  []string // must not
	}{
		{"families", Requirements{Families: []string{"m7g"}, Architectures: []string{"arm64"}}, []string{"m7g.large", "m7g.16xlarge"}, []string{"m7g.metal", "m7i.large"}},
		{"bare metal allowed", Requirements{Families: []string{"m7g"}, BareMetal: true}, []string{"m7g.metal"}, nil},
		{"arch filters", Requirements{Families: []string{"m7g", "m7i"}, Architectures: []string{"amd64"}}, []string{"m7i.large"}, []string{"m7g.large"}},
		{"category and generation", Requirements{Categories: []string{"c"}, MinGeneration: 7, Sizes: []string{"xlarge"}}, []string{"c7g.xlarge", "c8g.xlarge"}, []string{"c6g.xlarge", "m7g.xlarge"}},
		{"nitro only", Requirements{Categories: []string{"m"}, NitroOnly: true, Sizes: []string{"large"}}, []string{"m5.large"}, []string{"m4.large"}},
		{"unknown arch never", Requirements{Families: []string{"mac2"}, BareMetal: true}, nil, []string{"mac2.metal"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			for _, it := range tab.InstanceSet(tt.req) {
				names = append(names, it.Name)
			}
			for _, w := range tt.want {
				if !slices.Contains(names, w) {
					t.Errorf("%s not in the set %v", w, names)
				}
			}
			for _, n := range tt.not {
				if slices.Contains(names, n) {
					t.Errorf("%s in the set", n)
				}
			}
		})
	}
}

func TestPoolErrors(t *testing.T) {
	if _, err := Pool(PoolInput{Requirements: Requirements{Families: []string{"nope9"}}}); err == nil || err.Error() != (EmptySetError{}).Error() {
		t.Errorf("empty set: %v", err)
	}
	pr, err := Pool(PoolInput{Requirements: Requirements{Families: []string{"m7g"}}, HostNetworkPods: 2, DeclaredMaxPods: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Breaking) == 0 || pr.Breaking[0].InstanceType != "m7g.large" && pr.Breaking[0].InstanceType != "m7g.medium" {
		t.Errorf("declared 50 on m7g: breaking %v, want the small sizes", pr.Breaking)
	}
}

// TestPoolProperty draws instance sets from the table (single families, families together,
// categories by generation, random subsets of sizes) and checks the pool's max pods is within
// every member's own bound and equals the minimum of the members' bounds, under each cluster
// setting.
func TestPoolProperty(t *testing.T) {
	tab, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	var families, sizes []string
	for _, it := range tab.Types {
		if it.KubernetesArch() == "" {
			continue
		}
		if !slices.Contains(families, it.Family()) {
			families = append(families, it.Family())
		}
		if !slices.Contains(sizes, it.Size()) {
			sizes = append(sizes, it.Size())
		}
	}
	rng := rand.New(rand.NewPCG(14, 15))
	var reqs []Requirements
	for _, f := range families {
		reqs = append(reqs, Requirements{Families: []string{f}, BareMetal: true})
	}
	for range 300 {
		r := Requirements{BareMetal: rng.IntN(2) == 0, NitroOnly: rng.IntN(4) == 0}
		for range 1 + rng.IntN(4) {
			r.Families = append(r.Families, families[rng.IntN(len(families))])
		}
		if rng.IntN(2) == 0 {
			for range 1 + rng.IntN(5) {
				r.Sizes = append(r.Sizes, sizes[rng.IntN(len(sizes))])
			}
		}
		reqs = append(reqs, r)
	}
	for _, c := range []string{"c", "m", "r", "t"} {
		reqs = append(reqs, Requirements{Categories: []string{c}, MinGeneration: 5, Architectures: []string{"amd64", "arm64"}})
	}
	settings := []PoolInput{
		{HostNetworkPods: 2},
		{HostNetworkPods: 2, PrefixDelegation: true},
		{HostNetworkPods: 0, FirstInterfaceIndex: 1},
	}
	checked := 0
	for _, req := range reqs {
		for _, s := range settings {
			s.Requirements = req
			set := tab.InstanceSet(req)
			pr, err := tab.Pool(s)
			if len(set) == 0 {
				if err == nil {
					t.Errorf("%+v: empty set without an error", req)
				}
				continue
			}
			if err != nil {
				continue // a member Compute refuses (first interface index 1 on a 1-ENI type): reported as such
			}
			minBound := -1
			for _, it := range set {
				ci := Input{InstanceType: it.Name, PrefixDelegation: s.PrefixDelegation && it.PrefixDelegationCapable(),
					FirstInterfaceIndex: s.FirstInterfaceIndex, HostNetworkPods: s.HostNetworkPods}
				r, err := tab.Compute(ci)
				if err != nil {
					t.Fatalf("%s: %v", it.Name, err)
				}
				if pr.MaxPods > r.MaxPods {
					t.Errorf("%+v: pool max pods %d above %s's bound %d", req, pr.MaxPods, it.Name, r.MaxPods)
				}
				if minBound < 0 || r.MaxPods < minBound {
					minBound = r.MaxPods
				}
			}
			if pr.MaxPods != minBound {
				t.Errorf("%+v: pool max pods %d, min of the members' bounds %d", req, pr.MaxPods, minBound)
			}
			if len(pr.Members) != len(set) {
				t.Errorf("%+v: %d members, set has %d", req, len(pr.Members), len(set))
			}
			checked++
		}
	}
	if checked < 500 {
		t.Errorf("only %d pools checked", checked)
	}
}

func TestPoolSplit(t *testing.T) {
	pr, err := Pool(PoolInput{Requirements: Requirements{Families: []string{"m7i"}, Sizes: []string{"large", "xlarge", "8xlarge", "16xlarge"}},
		HostNetworkPods: 2, WastePercent: 25})
	if err != nil {
		t.Fatal(err)
	}
	if pr.Limiting != "m7i.large" || pr.Split == nil || !slices.Contains(pr.Split.Sizes, "large") || pr.Split.HighMaxPods <= pr.MaxPods {
		t.Fatalf("m7i large..16xlarge: limiting %s, waste %d%%, split %+v", pr.Limiting, pr.WastePercent, pr.Split)
	}
	if pr.Smallest.InstanceType != "m7i.large" {
		t.Errorf("smallest %s", pr.Smallest.InstanceType)
	}
}

// TestNoTypeAtThirtyVCPUs keeps LargeVCPUs' boundary moot: EKS's calculator caps at 250 above
// 30 vCPUs, the EKS docs say from 30; no table row sits on 30.
func TestNoTypeAtThirtyVCPUs(t *testing.T) {
	tab, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range tab.Types {
		if it.VCPUs == LargeVCPUs {
			t.Errorf("%s has exactly %d vCPUs: decide the boundary (the calculator uses > 30)", it.Name, LargeVCPUs)
		}
	}
}
