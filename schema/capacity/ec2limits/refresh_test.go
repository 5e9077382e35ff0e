package ec2limits

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/enigate/enigate/schema/capacity"
	"github.com/enigate/enigate/test/ec2server"
)

// noDelay keeps the SDK's standard retryer (attempts, retryable codes, token bucket) but skips
// its jittered sleep, so a throttled first try does not slow the test down.
type noDelay struct{}

func (noDelay) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

// client is the real aws-sdk-go-v2 EC2 client pointed at srv.
func client(t *testing.T, srv *ec2server.Server) *ec2.Client {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cfg := aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.Backoff = noDelay{} })
		},
	}
	return ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.BaseEndpoint = aws.String(hs.URL) })
}

// fixtureTypes are real EC2 figures: m7g.xlarge (1 card), c7gn.4xlarge, a bare-metal type
// without hypervisor, a xen type, p5.48xlarge (32 cards of 2 ENIs; 64 in total), and more to
// make several pages.
func fixtureTypes() []ec2server.InstanceType {
	one := func(name string, vcpu int, arch, hv string, metal bool, enis, ips int, gbps float64) ec2server.InstanceType {
		return ec2server.InstanceType{Name: name, VCPUs: vcpu, Architectures: []string{arch}, Hypervisor: hv, BareMetal: metal,
			MaxENIs: enis, IPv4PerENI: ips, Cards: []ec2server.NetworkCard{{Index: 0, MaxENIs: enis, BaselineGbps: gbps}}}
	}
	p5 := ec2server.InstanceType{Name: "p5.48xlarge", VCPUs: 192, Architectures: []string{"x86_64"}, Hypervisor: "nitro", MaxENIs: 64, IPv4PerENI: 50}
	for i := range 32 {
		p5.Cards = append(p5.Cards, ec2server.NetworkCard{Index: i, MaxENIs: 2, BaselineGbps: 100})
	}
	return []ec2server.InstanceType{
		one("m7g.xlarge", 4, "arm64", "nitro", false, 4, 15, 1.876),
		one("c7gn.4xlarge", 16, "arm64", "nitro", false, 8, 30, 50),
		one("m5.large", 2, "x86_64", "nitro", false, 3, 10, 0.75),
		one("c4.large", 2, "x86_64", "xen", false, 3, 10, 0.625),
		one("a1.metal", 16, "arm64", "", true, 8, 30, 5),
		one("m7i.48xlarge", 192, "x86_64", "nitro", false, 15, 50, 50),
		one("t3.nano", 2, "x86_64", "nitro", false, 2, 2, 0.032),
		p5,
		one("r7g.2xlarge", 8, "arm64", "nitro", false, 4, 15, 3.75),
		one("m6i.32xlarge", 128, "x86_64", "nitro", false, 15, 50, 50),
		one("z1d.large", 2, "x86_64", "nitro", false, 3, 10, 0.75),
	}
}

func TestRefreshPaginatesAndRetriesThrottling(t *testing.T) {
	srv := &ec2server.Server{Types: fixtureTypes(), PageSize: 3, Faults: []ec2server.Fault{ec2server.Throttle}}
	out := filepath.Join(t.TempDir(), "instance-types.txt")
	// A previous table with one type EC2 will not describe (kept) and one it will (changed).
	prev := []capacity.InstanceType{
		{Name: "x1.legacy", ENIs: 2, IPv4PerENI: 4, Hypervisor: "xen", NetworkCards: []capacity.NetworkCard{{Index: 0, MaxENIs: 2}}},
		{Name: "m5.large", ENIs: 3, IPv4PerENI: 10, Hypervisor: "nitro", NetworkCards: []capacity.NetworkCard{{Index: 0, MaxENIs: 3}}, BaselineBandwidthMbps: 750},
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := capacity.WriteTable(f, []string{"source: seeded for the test"}, prev); err != nil {
		t.Fatal(err)
	}
	f.Close()

	sum, err := Refresh(context.Background(), client(t, srv), Options{Out: out, Source: "region eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Described != 11 || sum.Kept != 1 || sum.Added != 10 || sum.Changed != 1 || len(sum.Skipped) != 0 {
		t.Errorf("summary %+v, want 11 described, 1 kept, 10 added, 1 changed", sum)
	}
	// 1 throttled + 4 pages of 3.
	reqs := srv.Requests()
	// The SDK may retry a page once more on a transient error of a loaded machine; what
	// matters is the order in which each answer first appears.
	var answers []string
	seen := map[string]bool{}
	for _, r := range reqs {
		a := r.Answered + ":" + r.NextToken
		if !seen[a] {
			seen[a] = true
			answers = append(answers, a)
		}
	}
	want := "RequestLimitExceeded:,ok:,ok:page-1,ok:page-2,ok:page-3"
	if got := strings.Join(answers, ","); got != want {
		t.Errorf("requests %s, want %s", got, want)
	}
	if reqs[0].MaxResults != 100 {
		t.Errorf("MaxResults %d, want 100", reqs[0].MaxResults)
	}

	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := capacity.ParseTable(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Types) != 12 {
		t.Errorf("%d types, want 12", len(tab.Types))
	}
	hdr := strings.Join(tab.Header, "\n")
	for _, w := range []string{"source: EC2 DescribeInstanceTypes (region eu-west-1): 11 types described; 1 types kept", "previous source: seeded for the test"} {
		if !strings.Contains(hdr, w) {
			t.Errorf("header lacks %q:\n%s", w, hdr)
		}
	}
	checks := []struct {
		name string
		want capacity.InstanceType
	}{
		{"m7g.xlarge", capacity.InstanceType{Name: "m7g.xlarge", ENIs: 4, IPv4PerENI: 15, Hypervisor: "nitro", NetworkCards: []capacity.NetworkCard{{Index: 0, MaxENIs: 4}}, VCPUs: 4, Architectures: []string{"arm64"}, BaselineBandwidthMbps: 1876}},
		{"a1.metal", capacity.InstanceType{Name: "a1.metal", ENIs: 8, IPv4PerENI: 30, Hypervisor: "unknown", BareMetal: true, NetworkCards: []capacity.NetworkCard{{Index: 0, MaxENIs: 8}}, VCPUs: 16, Architectures: []string{"arm64"}, BaselineBandwidthMbps: 5000}},
		{"x1.legacy", prev[0]},
	}
	for _, c := range checks {
		got, ok := tab.Lookup(c.name)
		if !ok || !sameRow(got, c.want) || got.BaselineBandwidthMbps != c.want.BaselineBandwidthMbps {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
	// p5.48xlarge: only the default card's 2 ENIs count, not the 64 in total.
	p5, _ := tab.Lookup("p5.48xlarge")
	r, err := capacity.ComputeFor(p5, capacity.Input{HostNetworkPods: 2})
	if err != nil {
		t.Fatal(err)
	}
	if p5.ENIs != 2 || len(p5.NetworkCards) != 32 || r.VPCCNIMaxPods != 100 || r.MaxPods != 98 {
		t.Errorf("p5.48xlarge: ENIs %d, cards %d, vpcCni %d, maxPods %d; want 2, 32, 100, 98", p5.ENIs, len(p5.NetworkCards), r.VPCCNIMaxPods, r.MaxPods)
	}
	// With vCPUs known, a 192-vCPU type gets the 250 cap.
	m7i, _ := tab.Lookup("m7i.48xlarge")
	if r, _ := capacity.ComputeFor(m7i, capacity.Input{HostNetworkPods: 2}); r.MaxPods != 250 {
		t.Errorf("m7i.48xlarge maxPods %d, want 250", r.MaxPods)
	}
}

func TestFailedRefreshLeavesTableUntouched(t *testing.T) {
	tests := []struct {
		name    string
		srv     *ec2server.Server
		wantErr string
		code    string
	}{
		{
			name:    "unauthorized on page 3",
			srv:     &ec2server.Server{Types: fixtureTypes(), PageSize: 3, FailPage: 3, FailWith: ec2server.Unauthorized},
			wantErr: "describe instance types: page 3:", code: "UnauthorizedOperation",
		},
		{
			name:    "throttled until retries run out",
			srv:     &ec2server.Server{Types: fixtureTypes(), PageSize: 3, FailPage: 2, FailWith: ec2server.Throttle},
			wantErr: "describe instance types: page 2:", code: "RequestLimitExceeded",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "instance-types.txt")
			before := []byte("# previous table\nm5.large 3 10 nitro false 0 0:3 - - 750\n")
			if err := os.WriteFile(out, before, 0o644); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-time.Hour).Truncate(time.Second)
			if err := os.Chtimes(out, old, old); err != nil {
				t.Fatal(err)
			}
			_, err := Refresh(context.Background(), client(t, tt.srv), Options{Out: out, Source: "test"})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.code {
				t.Errorf("error %v does not carry API code %s", err, tt.code)
			}
			after, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if string(after) != string(before) {
				t.Errorf("table changed:\n%s", after)
			}
			if st, err := os.Stat(out); err != nil || !st.ModTime().Equal(old) {
				t.Errorf("table mtime changed: %v %v", st.ModTime(), err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want only the table (no temp files)", len(entries))
			}
		})
	}
}

func TestRefreshRejectsUnreadableExistingTable(t *testing.T) {
	srv := &ec2server.Server{Types: fixtureTypes()}
	out := filepath.Join(t.TempDir(), "instance-types.txt")
	bad := []byte("not a table\n")
	if err := os.WriteFile(out, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Refresh(context.Background(), client(t, srv), Options{Out: out})
	if err == nil || !strings.Contains(err.Error(), "read existing table") {
		t.Fatalf("error %v, want read existing table", err)
	}
	if len(srv.Requests()) != 0 {
		t.Errorf("EC2 was called %d times before the existing table was checked", len(srv.Requests()))
	}
	if got, _ := os.ReadFile(out); string(got) != string(bad) {
		t.Error("table changed")
	}
}

func TestServerRejectsBadRequests(t *testing.T) {
	srv := &ec2server.Server{Types: fixtureTypes()}
	c := client(t, srv)
	_, err := c.DescribeInstanceTypes(context.Background(), &ec2.DescribeInstanceTypesInput{NextToken: aws.String("bogus")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidParameterValue" {
		t.Errorf("bogus token: %v, want InvalidParameterValue", err)
	}
	_, err = c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidAction" {
		t.Errorf("other action: %v, want InvalidAction", err)
	}
}
