package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enigate/enigate/test/golden"
)

func TestCapacityCommand(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		golden     string   // testdata/capacity/<golden> holds stdout
		wantStderr []string // substrings
	}{
		{name: "m7g.xlarge index 1", args: []string{"--instance-type", "m7g.xlarge", "--first-interface-index", "1"}, golden: "m7g.xlarge-index1.txt"},
		{name: "multi-card type", args: []string{"--instance-type", "p5.48xlarge"}, golden: "p5.48xlarge.txt"},
		{name: "declared above bound", args: []string{"--instance-type", "m7g.xlarge", "--max-pods", "58"}, code: ExitFindings, golden: "m7g.xlarge-maxpods58.txt",
			wantStderr: []string{"enigate capacity: max pods 58 on m7g.xlarge exceeds the bound: bound 56"}},
		{name: "declared within bound", args: []string{"--instance-type", "m7g.xlarge", "--max-pods", "56", "-o", "json"}, golden: "m7g.xlarge-maxpods56.json"},
		{name: "unknown type", args: []string{"--instance-type", "m7g.xlarg"}, code: ExitError,
			wantStderr: []string{`unknown instance type "m7g.xlarg" (nearest known: m7g.xlarge`}},
		{name: "prefix delegation on xen", args: []string{"--instance-type", "c4.large", "--prefix-delegation"}, code: ExitError,
			wantStderr: []string{"c4.large: prefix delegation needs a nitro or bare-metal instance type (hypervisor xen"}},
		{name: "every usage problem at once", args: []string{"extra", "-o", "yaml"}, code: ExitError,
			wantStderr: []string{`enigate capacity: unexpected arguments ["extra"]`, "enigate capacity: --instance-type: required", "Run 'enigate capacity --help' for usage."}},
		{name: "bad output format", args: []string{"--instance-type", "m7g.xlarge", "-o", "table"}, code: ExitError,
			wantStderr: []string{`invalid argument "table" for "-o, --output" flag: "table" is not one of text, json, yaml`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), append([]string{"capacity"}, tt.args...), &stdout, &stderr)
			if got := ExitCode(err); got != tt.code {
				t.Fatalf("exit %d, want %d (stderr %s)", got, tt.code, stderr.String())
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if tt.golden != "" {
				golden.Check(t, filepath.Join("testdata", "capacity", tt.golden), stdout.Bytes())
			}
		})
	}
}

func TestCapacityJSONFields(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"capacity", "--instance-type", "m7g.xlarge", "--prefix-delegation", "-o", "json"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	var got map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"instanceType": "m7g.xlarge", "enis": 4.0, "ipv4PerEni": 15.0, "prefixDelegation": true,
		"firstInterfaceIndex": 0.0, "podAddresses": 896.0, "vpcCniMaxPods": 58.0, "maxPods": 110.0}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestCapacityHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"capacity", "--help"}, &stdout, &stderr)
	if ExitCode(err) != ExitOK {
		t.Fatalf("exit %d", ExitCode(err))
	}
	for _, w := range []string{"E*(I-1)+2", "(E-F)*(I-1)", "110 up to 30 vCPU", "--first-interface-index", "Exit codes"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("help lacks %q", w)
		}
	}
}
