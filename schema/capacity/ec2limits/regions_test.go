package ec2limits

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/enigate/enigate/schema/eksdata"
	"github.com/enigate/enigate/test/ec2server"
)

func testRegions() []ec2server.Region {
	return []ec2server.Region{
		{Name: "eu-west-1", OptInStatus: "opt-in-not-required", Zones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
		{Name: "us-east-1", OptInStatus: "opt-in-not-required", Zones: []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"}},
		{Name: "ap-east-2", OptInStatus: "opted-in", Zones: []string{"ap-east-2a", "ap-east-2b", "ap-east-2c"}},
		{Name: "me-south-1", OptInStatus: "not-opted-in", Zones: []string{"me-south-1a"}},
	}
}

func TestRefreshRegions(t *testing.T) {
	srv := &ec2server.Server{Regions: testRegions(), Faults: []ec2server.Fault{ec2server.Throttle}}
	out := filepath.Join(t.TempDir(), "regions.txt")
	// The previous table: a region this account cannot describe (kept) and a stale one (replaced).
	prev := "# source: seeded for the test\nme-south-1 me-south-1a me-south-1b me-south-1c\neu-west-1 eu-west-1a\n"
	if err := os.WriteFile(out, []byte(prev), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := RefreshRegions(context.Background(), client(t, srv), RegionsOptions{Out: out, Source: "endpoint test", Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Described != 3 || sum.Kept != 1 || len(sum.Skipped) != 1 || sum.Skipped[0].Name != "me-south-1" {
		t.Errorf("summary %+v, want 3 described, 1 kept, me-south-1 skipped", sum)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := eksdata.ParseRegions(data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"ap-east-2":  {"ap-east-2a", "ap-east-2b", "ap-east-2c"},
		"eu-west-1":  {"eu-west-1a", "eu-west-1b", "eu-west-1c"},
		"me-south-1": {"me-south-1a", "me-south-1b", "me-south-1c"},
		"us-east-1":  {"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"},
	}
	if got := tab.Names(); !slices.Equal(got, []string{"ap-east-2", "eu-west-1", "me-south-1", "us-east-1"}) {
		t.Errorf("regions %v", got)
	}
	for name, zones := range want {
		if r, _ := tab.Lookup(name); !slices.Equal(r.Zones, zones) {
			t.Errorf("%s zones %v, want %v", name, r.Zones, zones)
		}
	}
	if !strings.Contains(string(data), "# previous source: seeded for the test") || !strings.Contains(string(data), "3 regions described; 1 regions kept") {
		t.Errorf("header lacks provenance:\n%s", data)
	}
	// Each region's zones were asked of that region (SigV4 scope), once it answered.
	asked := map[string]bool{}
	for _, r := range srv.Requests() {
		if r.Action == "DescribeAvailabilityZones" && r.Answered == "ok" {
			asked[r.Region] = true
		}
	}
	if len(asked) != 3 || !asked["eu-west-1"] || !asked["us-east-1"] || !asked["ap-east-2"] {
		t.Errorf("zones asked of %v", asked)
	}
}

func TestRefreshRegionsFailureLeavesTable(t *testing.T) {
	tests := []struct {
		name string
		srv  *ec2server.Server
		want string
	}{
		{name: "describe regions refused", srv: &ec2server.Server{Regions: testRegions(), Faults: []ec2server.Fault{ec2server.Unauthorized}},
			want: "describe regions:"},
		{name: "no region answers", srv: &ec2server.Server{Regions: []ec2server.Region{{Name: "eu-west-1", OptInStatus: "opt-in-not-required"}}},
			want: "describe availability zones: no region answered (eu-west-1: no availability zones described)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "regions.txt")
			prev := []byte("# source: before\neu-west-1 eu-west-1a\n")
			if err := os.WriteFile(out, prev, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := RefreshRegions(context.Background(), client(t, tt.srv), RegionsOptions{Out: out})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if got, _ := os.ReadFile(out); string(got) != string(prev) {
				t.Errorf("table changed:\n%s", got)
			}
			if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
				t.Errorf("left temp files: %v", entries)
			}
		})
	}
}

// TestEmbeddedRegions keeps the embedded table parseable and its zones inside their regions.
func TestEmbeddedRegions(t *testing.T) {
	tab, err := eksdata.DefaultRegions()
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := tab.Lookup("ap-northeast-2"); !ok || !slices.Equal(r.Zones, []string{"ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c", "ap-northeast-2d"}) {
		t.Errorf("ap-northeast-2: %v", r)
	}
}
