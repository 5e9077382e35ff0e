package nodeverify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enigate/enigate/schema/support"
)

// TestLoadReportsEveryProblem: bad input is reported all at once, one `path: what is wrong`
// line per problem, and nothing is computed from it.
func TestLoadReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badValues := write("values.yaml", "bpf: {lbMapMax: -1}\nkubeProxyReplacement: perhaps\n")
	missing := filepath.Join(dir, "absent.yaml")
	tests := []struct {
		name string
		o    Options
		want []string
	}{
		{name: "nothing given", o: Options{}, want: []string{
			"--values: is not set (the rendered Cilium Helm values file)",
		}},
		{name: "unreadable files and a bad program", o: Options{ValuesFile: missing, VersionsFile: missing, Allowed: []string{"ok_prog", "a name far too long"}}, want: []string{
			"--values: open " + missing + ": no such file or directory",
			"--versions: open " + missing + ": no such file or directory",
			`--allow-program[1]: "a name far too long" is not a kernel program name (up to 15 of A-Za-z0-9_.) or a program tag (16 hex digits)`,
		}},
		{name: "bad values, versions and program together", o: Options{ValuesFile: badValues, VersionsFile: write("versions.yaml", "cilium: 0.9.1\n"), Allowed: []string{"x-y"}}, want: []string{
			`--allow-program[0]: "x-y" is not a kernel program name (up to 15 of A-Za-z0-9_.) or a program tag (16 hex digits)`,
			`values.bpf.lbMapMax: -1 is not positive (a map size)`,
			`values.kubeProxyReplacement: "perhaps" is not true or false (a bool, or the string "true" or "false")`,
			`versions.cilium: "0.9.1" is not a supported chart (supported: ` + strings.Join(support.CiliumVersions(), ", ") + `, or another patch of their minors)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Devices = []string{"eth0"}
			spec, err := Load(tt.o)
			if err == nil {
				t.Fatalf("no error, spec %+v", spec)
			}
			if err.Error() != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
			if spec.ChartVersion != "" || spec.Maps != nil {
				t.Errorf("spec computed from bad input: %+v", spec)
			}
		})
	}
	if _, err := Load(Options{ValuesFile: "testdata/values-prod.yaml", VersionsFile: "testdata/versions.yaml", Devices: []string{"eth0"}}); err != nil {
		t.Errorf("good input: %v", err)
	}
}
