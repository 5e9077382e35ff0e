package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enigate/enigate/schema/capacity"
	"github.com/enigate/enigate/test/ec2server"
)

// awsTestEnv points the AWS config chain at static test credentials and nothing else.
func awsTestEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func limitsTestTypes() []ec2server.InstanceType {
	mk := func(name string, vcpu, enis, ips int) ec2server.InstanceType {
		return ec2server.InstanceType{Name: name, VCPUs: vcpu, Architectures: []string{"arm64"}, Hypervisor: "nitro",
			MaxENIs: enis, IPv4PerENI: ips, Cards: []ec2server.NetworkCard{{Index: 0, MaxENIs: enis, BaselineGbps: 1.25}}}
	}
	return []ec2server.InstanceType{mk("m7g.xlarge", 4, 4, 15), mk("m7g.16xlarge", 64, 15, 50), mk("c7gn.4xlarge", 16, 8, 30),
		mk("m7g.large", 2, 3, 10), mk("m7g.medium", 1, 2, 4), mk("m7g.2xlarge", 8, 4, 15), mk("r7g.xlarge", 4, 4, 15)}
}

func TestLimitsRefreshCommand(t *testing.T) {
	awsTestEnv(t)
	srv := &ec2server.Server{Types: limitsTestTypes(), PageSize: 3}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	out := filepath.Join(t.TempDir(), "instance-types.txt")

	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"limits", "refresh", "--endpoint-url", hs.URL, "--out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if want := "7 types described (7 new, 0 changed), 0 kept"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests, want 3 pages", n)
	}
	// The refreshed table knows vCPUs: m7g.16xlarge (64 vCPU) gets the 250 cap.
	stdout.Reset()
	err = Run(context.Background(), []string{"capacity", "--table", out, "--instance-type", "m7g.16xlarge", "-o", "json"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"maxPods": 250`) || !strings.Contains(stdout.String(), `"vcpus": 64`) {
		t.Errorf("capacity from refreshed table:\n%s", stdout.String())
	}
}

func TestLimitsRefreshFailureLeavesTable(t *testing.T) {
	awsTestEnv(t)
	srv := &ec2server.Server{Types: limitsTestTypes(), PageSize: 3, FailPage: 2, FailWith: ec2server.Unauthorized}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	out := filepath.Join(t.TempDir(), "instance-types.txt")
	var before bytes.Buffer
	if err := capacity.WriteTable(&before, []string{"source: test"}, []capacity.InstanceType{{Name: "m5.large", ENIs: 3, IPv4PerENI: 10, Hypervisor: "nitro"}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, before.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"limits", "refresh", "--endpoint-url", hs.URL, "--out", out}, &stdout, &stderr)
	if ExitCode(err) != ExitError {
		t.Fatalf("exit %d, want 2", ExitCode(err))
	}
	for _, w := range []string{"enigate limits refresh: table " + out + " unchanged: describe instance types: page 2:", "UnauthorizedOperation"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
		}
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(after, before.Bytes()) {
		t.Errorf("table changed:\n%s", after)
	}
}
