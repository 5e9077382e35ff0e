package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enigate/enigate/test/ec2server"
)

func TestLimitsRefreshRegions(t *testing.T) {
	awsTestEnv(t)
	srv := &ec2server.Server{Types: limitsTestTypes(), PageSize: 3, Regions: []ec2server.Region{
		{Name: "eu-west-1", OptInStatus: "opt-in-not-required", Zones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
		{Name: "me-south-1", OptInStatus: "not-opted-in"},
	}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	dir := t.TempDir()
	out, regions := filepath.Join(dir, "instance-types.txt"), filepath.Join(dir, "regions.txt")

	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"limits", "refresh", "--endpoint-url", hs.URL, "--out", out, "--regions-out", regions}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, want := range []string{"1 regions described, 0 kept from the previous table", "region me-south-1 not described: not opted in"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	data, err := os.ReadFile(regions)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\neu-west-1 eu-west-1a eu-west-1b eu-west-1c\n") {
		t.Errorf("region table:\n%s", data)
	}
}
