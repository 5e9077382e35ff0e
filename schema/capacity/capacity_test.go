package capacity

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/enigate/enigate/test/golden"
)

func TestEmbeddedTable(t *testing.T) {
	tab, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Types) < 1391 {
		t.Errorf("embedded table has %d types, want at least the 1391 of the seed", len(tab.Types))
	}
	if !strings.Contains(strings.Join(tab.Header, "\n"), "amazon-vpc-cni-k8s b5218838") {
		t.Errorf("provenance line missing from header %q", tab.Header)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, tab.Header, tab.Types); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), embeddedTable) {
		t.Error("WriteTable(ParseTable(embedded)) is not byte-identical to the embedded table")
	}
}

// TestVPCCNIMaxPodsMatchesUpstream checks the VPC CNI formula against every line of the
// upstream eni-max-pods.txt, and that the table and the file list the same types.
func TestVPCCNIMaxPodsMatchesUpstream(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "eni-max-pods.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			t.Fatalf("bad line %q", line)
		}
		want, err := strconv.Atoi(fields[1])
		if err != nil {
			t.Fatalf("bad line %q", line)
		}
		seen[fields[0]] = true
		r, err := tab.Compute(Input{InstanceType: fields[0], HostNetworkPods: DefaultHostNetworkPods})
		if err != nil {
			// Types with 1 pod address cannot run Cilium; the VPC CNI figure still must match.
			it, ok := tab.Lookup(fields[0])
			if !ok {
				t.Errorf("%s: not in the embedded table", fields[0])
				continue
			}
			if got := it.ENIs*(it.IPv4PerENI-1) + 2; got != want {
				t.Errorf("%s: E*(I-1)+2 = %d, upstream %d", fields[0], got, want)
			}
			continue
		}
		if r.VPCCNIMaxPods != want {
			t.Errorf("%s: vpcCniMaxPods %d, upstream %d", fields[0], r.VPCCNIMaxPods, want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) < 1391 {
		t.Errorf("read %d types from eni-max-pods.txt, want at least 1391", len(seen))
	}
	for _, it := range tab.Types {
		if !seen[it.Name] {
			t.Errorf("%s: in the table but not in eni-max-pods.txt", it.Name)
		}
	}
}

func TestWorkedExamples(t *testing.T) {
	tests := []struct {
		name                                   string
		in                                     Input
		vpcCNI, podAddresses, bound, cap, pods int
		multiCardNote                          bool
	}{
		{name: "m5.large", in: Input{InstanceType: "m5.large", HostNetworkPods: 2},
			vpcCNI: 29, podAddresses: 27, bound: 27, cap: 110, pods: 27},
		{name: "m5.large prefix delegation", in: Input{InstanceType: "m5.large", PrefixDelegation: true, HostNetworkPods: 2},
			vpcCNI: 29, podAddresses: 432, bound: 432, cap: 110, pods: 110},
		{name: "m7g.xlarge index 0", in: Input{InstanceType: "m7g.xlarge", HostNetworkPods: 2},
			vpcCNI: 58, podAddresses: 56, bound: 56, cap: 110, pods: 56},
		{name: "m7g.xlarge index 1", in: Input{InstanceType: "m7g.xlarge", FirstInterfaceIndex: 1, HostNetworkPods: 2},
			vpcCNI: 58, podAddresses: 42, bound: 42, cap: 110, pods: 42},
		{name: "m7g.xlarge index 1 no host-network pods", in: Input{InstanceType: "m7g.xlarge", FirstInterfaceIndex: 1},
			vpcCNI: 58, podAddresses: 42, bound: 40, cap: 110, pods: 40},
		{name: "m7g.xlarge prefix delegation", in: Input{InstanceType: "m7g.xlarge", PrefixDelegation: true, HostNetworkPods: 2},
			vpcCNI: 58, podAddresses: 896, bound: 896, cap: 110, pods: 110},
		{name: "c7gn.4xlarge", in: Input{InstanceType: "c7gn.4xlarge", HostNetworkPods: 2},
			vpcCNI: 234, podAddresses: 232, bound: 232, cap: 110, pods: 110},
		{name: "c7gn.4xlarge index 1", in: Input{InstanceType: "c7gn.4xlarge", FirstInterfaceIndex: 1, HostNetworkPods: 2},
			vpcCNI: 234, podAddresses: 203, bound: 203, cap: 110, pods: 110},
		{name: "p5.48xlarge multi-card", in: Input{InstanceType: "p5.48xlarge", HostNetworkPods: 2},
			vpcCNI: 100, podAddresses: 98, bound: 98, cap: 250, pods: 98, multiCardNote: true},
		{name: "c6in.32xlarge multi-card, 128 vCPU", in: Input{InstanceType: "c6in.32xlarge", HostNetworkPods: 2},
			vpcCNI: 394, podAddresses: 392, bound: 392, cap: 250, pods: 250, multiCardNote: true},
		{name: "t3.nano smallest", in: Input{InstanceType: "t3.nano", HostNetworkPods: 2},
			vpcCNI: 4, podAddresses: 2, bound: 2, cap: 110, pods: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compute(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := [5]int{r.VPCCNIMaxPods, r.PodAddresses, r.AddressBound, r.PodCap, r.MaxPods}
			want := [5]int{tt.vpcCNI, tt.podAddresses, tt.bound, tt.cap, tt.pods}
			if got != want {
				t.Errorf("vpcCNI, podAddresses, addressBound, cap, maxPods = %v, want %v", got, want)
			}
			hasNote := strings.Contains(strings.Join(r.Notes, "\n"), "only the default card")
			if hasNote != tt.multiCardNote {
				t.Errorf("multi-card note present %t, want %t (notes %q)", hasNote, tt.multiCardNote, r.Notes)
			}
			if len(r.Formulas) != 4 {
				t.Errorf("%d formulas, want 4", len(r.Formulas))
			}
		})
	}
}

func TestVCPUCap(t *testing.T) {
	it, _ := Lookup("c6in.32xlarge")
	tests := []struct {
		name  string
		vcpus int
		want  int
	}{
		{"unknown is conservative", 0, 110},
		{"below 30", 16, 110},
		{"at 30", 30, 250},
		{"large", 128, 250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it.VCPUs = tt.vcpus
			r, err := ComputeFor(it, Input{HostNetworkPods: 2})
			if err != nil {
				t.Fatal(err)
			}
			if r.MaxPods != tt.want {
				t.Errorf("maxPods %d, want %d (%s)", r.MaxPods, tt.want, r.PodCapReason)
			}
		})
	}
}

func TestComputeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want []string
	}{
		{"unknown type names nearest", Input{InstanceType: "m7g.xlarg"}, []string{`unknown instance type "m7g.xlarg"`, "m7g.xlarge"}},
		{"prefix delegation on xen", Input{InstanceType: "c4.large", PrefixDelegation: true}, []string{"c4.large", "nitro or bare-metal", "hypervisor xen"}},
		{"first interface index too high", Input{InstanceType: "m7g.xlarge", FirstInterfaceIndex: 4}, []string{"first interface index 4 out of range (0..3"}},
		{"negative host-network pods", Input{InstanceType: "m7g.xlarge", HostNetworkPods: -1}, []string{"host-network pods -1"}},
		{"too few addresses for cilium", Input{InstanceType: "t3.nano", FirstInterfaceIndex: 1}, []string{"1 pod addresses, fewer than the 2"}},
		{"all problems at once", Input{InstanceType: "c4.large", PrefixDelegation: true, FirstInterfaceIndex: 9, DeclaredMaxPods: -3}, []string{"nitro", "first interface index 9", "declared max pods -3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compute(tt.in)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	var unknown *UnknownTypeError
	if _, err := Compute(Input{InstanceType: "nope"}); !errors.As(err, &unknown) || len(unknown.Nearest) != 3 {
		t.Errorf("unknown type error %v is not an *UnknownTypeError with 3 nearest names", err)
	}
}

func TestPrefixDelegationOnBareMetal(t *testing.T) {
	// a1.metal has hypervisor "unknown" but is bare metal: prefix delegation is allowed.
	r, err := Compute(Input{InstanceType: "a1.metal", PrefixDelegation: true, HostNetworkPods: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.PodAddresses != 8*29*16 {
		t.Errorf("pod addresses %d, want %d", r.PodAddresses, 8*29*16)
	}
}

func TestDeclaredMaxPods(t *testing.T) {
	tests := []struct {
		name     string
		declared int
		exceeds  bool
	}{
		{"none declared", 0, false},
		{"at the bound", 56, false},
		{"above the bound", 57, true},
		{"AMI default is above the bound", 58, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compute(Input{InstanceType: "m7g.xlarge", HostNetworkPods: 2, DeclaredMaxPods: tt.declared})
			if err != nil {
				t.Fatal(err)
			}
			if r.DeclaredExceeds != tt.exceeds {
				t.Errorf("DeclaredExceeds %t, want %t", r.DeclaredExceeds, tt.exceeds)
			}
		})
	}
}

func TestNearest(t *testing.T) {
	got := Nearest("m7g.xlarg", 3)
	if len(got) != 3 || got[0] != "m7g.xlarge" {
		t.Errorf("Nearest = %v, want m7g.xlarge first", got)
	}
	if got := Nearest("x", 0); got != nil {
		t.Errorf("Nearest(n=0) = %v", got)
	}
}

func TestParseTableErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"too few columns", "m5.large 3 10\n", "3 columns, want 10"},
		{"bad number", "m5.large x 10 nitro false 0 0:3 - - -\n", `enis "x"`},
		{"bad bool", "m5.large 3 10 nitro maybe 0 0:3 - - -\n", "bareMetal"},
		{"bad cards", "m5.large 3 10 nitro false 0 0-3 - - -\n", "cards"},
		{"duplicate", "m5.large 3 10 nitro false 0 0:3 - - -\nm5.large 3 10 nitro false 0 0:3 - - -\n", "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTable([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestWriteResultGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		in   Input
	}{
		{"result-m7g.xlarge.golden", Input{InstanceType: "m7g.xlarge", HostNetworkPods: 2, DeclaredMaxPods: 58}},
		{"result-p5.48xlarge-pd.golden", Input{InstanceType: "p5.48xlarge", PrefixDelegation: true, FirstInterfaceIndex: 1, HostNetworkPods: 2}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, err := Compute(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := WriteResult(&buf, r); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tc.file), buf.Bytes())
		})
	}
}

// TestErratumInstanceFacts pins the guide's wrong instance figures (SEED-ERRATA 36) to the table.
func TestErratumInstanceFacts(t *testing.T) {
	tests := []struct {
		name            string
		enis, ips, mbps int
	}{
		{"c7gn.12xlarge", 8, 30, 150000},
		{"c7gn.16xlarge", 15, 50, 200000},
		{"m7g.8xlarge", 8, 30, 15000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, ok := Lookup(tt.name)
			if !ok {
				t.Fatal("not in table")
			}
			if it.ENIs != tt.enis || it.IPv4PerENI != tt.ips || it.BaselineBandwidthMbps != tt.mbps {
				t.Errorf("%d ENIs x %d IPv4, %d Mbps; want %d x %d, %d Mbps", it.ENIs, it.IPv4PerENI, it.BaselineBandwidthMbps, tt.enis, tt.ips, tt.mbps)
			}
		})
	}
}
