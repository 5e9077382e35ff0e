//go:build unix

package render_test

// Render benchmarks (issue 2; results in docs/benchmarks.md). The process benchmarks run the
// real binaries as `make bench` would: `enigate render --check --quiet` from a directory with
// overlays/*/environment.cue, and `cue export` (the CLI of the cuelang.org/go version in
// go.mod) of the same declarations unified with the same schema. Each reports ms/op, CPU
// ms/op (user+sys, steadier than wall time on a loaded machine) and the children's peak RSS
// (measured through test/render/rusage, a small process, so the test's own RSS is not counted).
//
//	go test -run '^$' -bench . -benchtime 5x ./test/render/
//
// Targets: the three examples under 1.5 s; 200 teams / 1,000 routes under 3 s and 400 MiB;
// neither slower than 1.5x cue export of the same CUE.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/enigate/enigate/generators"
	"github.com/enigate/enigate/generators/deploy"
	"github.com/enigate/enigate/schema"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/release"
)

const (
	benchTeams  = 200
	benchRoutes = 1000
)

// BenchmarkRenderExamplesProcess: `enigate render --check --quiet` of the three committed
// examples, one process per op, from the repository root.
func BenchmarkRenderExamplesProcess(b *testing.B) {
	bin := buildEnigate(b)
	root := repoRoot(b)
	b.Run("check", func(b *testing.B) {
		benchProcess(b, root, bin, "render", "--check", "--quiet")
	})
	// The floor under any enigate command: start the one binary (Go initialisation of every
	// linked package, controller-runtime and client-go among them), print help, exit.
	b.Run("start-only", func(b *testing.B) {
		benchProcess(b, root, bin, "--help")
	})
}

// BenchmarkRender200Teams: the same, for a generated environment of 200 teams and 1,000
// routes in a temporary overlay directory (rendered once first, so --check finds it current).
func BenchmarkRender200Teams(b *testing.B) {
	bin := buildEnigate(b)
	dir := b.TempDir()
	overlay := filepath.Join(dir, "overlays", "bench200")
	if err := os.MkdirAll(overlay, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(overlay, "environment.cue"), benchEnvironment(benchTeams, benchRoutes), 0o644); err != nil {
		b.Fatal(err)
	}
	if out, err := runProcess(dir, bin, "render", "--quiet"); err != nil {
		b.Fatalf("render of the generated environment: %v\n%s", err, out)
	}
	b.Run("check", func(b *testing.B) {
		benchProcess(b, dir, bin, "render", "--check", "--quiet")
	})
}

// BenchmarkCueExportExamples: `cue export -e env` of the three examples, each unified with
// #Environment, in one process (as enigate renders them in one process).
func BenchmarkCueExportExamples(b *testing.B) {
	cue := buildCue(b)
	root := repoRoot(b)
	var decls []string
	for _, env := range examples {
		src, err := os.ReadFile(filepath.Join(root, "overlays", env, "environment.cue"))
		if err != nil {
			b.Fatal(err)
		}
		decls = append(decls, fmt.Sprintf("%q: #Environment & {\n%s\n}\n", env, src))
	}
	dir := cuePackage(b, root, "env: {\n"+strings.Join(decls, "")+"}\n")
	benchCueExport(b, dir, cue)
}

// BenchmarkCueExport200Teams: `cue export -e env` of the generated 200-team environment.
func BenchmarkCueExport200Teams(b *testing.B) {
	cue := buildCue(b)
	root := repoRoot(b)
	dir := cuePackage(b, root, fmt.Sprintf("env: #Environment & {\n%s\n}\n", benchEnvironment(benchTeams, benchRoutes)))
	benchCueExport(b, dir, cue)
}

// BenchmarkLoadAndRender is the in-process path of `enigate render` (schema.LoadDeclaration
// then generators.Render, as cmd/enigate/cli renderDir), for -cpuprofile and -benchmem.
// "load" is the CUE evaluation and decode alone.
func BenchmarkLoadAndRender(b *testing.B) {
	root := repoRoot(b)
	var exampleSrc [][]byte
	for _, env := range examples {
		src, err := os.ReadFile(filepath.Join(root, "overlays", env, "environment.cue"))
		if err != nil {
			b.Fatal(err)
		}
		exampleSrc = append(exampleSrc, src)
	}
	team200 := benchEnvironment(benchTeams, benchRoutes)
	cases := []struct {
		name   string
		srcs   [][]byte
		render bool
	}{
		{name: "examples", srcs: exampleSrc, render: true},
		{name: "200teams", srcs: [][]byte{team200}, render: true},
		{name: "examples-load", srcs: exampleSrc},
		{name: "200teams-load", srcs: [][]byte{team200}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := selfCPU()
			for b.Loop() {
				for i, src := range c.srcs {
					if err := loadAndRender(src, fmt.Sprintf("overlays/%d/environment.cue", i), c.render); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64((selfCPU()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
		})
	}
}

// selfCPU is this process's user+system CPU time (GC workers included): steadier than wall
// time when other builds share the cores.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadAndRender(src []byte, name string, render bool) error {
	decl, err := schema.LoadDeclaration(src, name)
	if err != nil || !render {
		return err
	}
	nodeVerify := generators.Extra{Name: "node-verify.yaml", Objects: func(env model.Environment) ([]any, error) {
		objs, err := deploy.NodeVerify(env)
		var out []any
		for _, o := range objs {
			out = append(out, o)
		}
		return out, err
	}}
	res, err := generators.Render(decl.Env, nodeVerify)
	if err != nil {
		return err
	}
	if len(res.Files) == 0 {
		return fmt.Errorf("%s: no files rendered", name)
	}
	return nil
}

// TestBenchEnvironmentRenders keeps the generated environment valid: it must render with no
// problems and produce one HTTPRoute per declared route (so the benchmark measures a real
// render, not an early failure).
func TestBenchEnvironmentRenders(t *testing.T) {
	src := benchEnvironment(benchTeams, benchRoutes)
	decl, err := schema.LoadDeclaration(src, "overlays/bench200/environment.cue")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if len(decl.Env.Teams) != benchTeams || len(decl.Env.Routes) != benchRoutes {
		t.Fatalf("generated %d teams and %d routes, want %d and %d", len(decl.Env.Teams), len(decl.Env.Routes), benchTeams, benchRoutes)
	}
	res, err := generators.Render(decl.Env)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	routes := 0
	for _, f := range res.Files {
		routes += bytes.Count(f.Data, []byte("\nkind: HTTPRoute\n"))
		if bytes.HasPrefix(f.Data, []byte("kind: HTTPRoute\n")) {
			routes++
		}
	}
	if routes != benchRoutes {
		t.Errorf("rendered %d HTTPRoutes, want %d", routes, benchRoutes)
	}
}

// benchProcess runs bin with args in dir once per op and reports wall and CPU ms/op and the
// largest peak RSS of any run.
func benchProcess(b *testing.B, dir, bin string, args ...string) {
	b.StopTimer()
	rusage := buildRusage(b)
	b.StartTimer()
	var cpu time.Duration
	var maxRSS int64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(rusage, append([]string{bin}, args...)...)
		cmd.Dir = dir
		var out, usage bytes.Buffer
		cmd.Stdout, cmd.Stderr = &usage, &out
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out.String())
		}
		var rss, user, sys int64
		if _, err := fmt.Sscan(usage.String(), &rss, &user, &sys); err != nil {
			b.Fatalf("rusage printed %q: %v", usage.String(), err)
		}
		cpu += time.Duration(user+sys) * time.Microsecond
		maxRSS = max(maxRSS, rss) // KiB on Linux
	}
	wall := time.Since(start)
	b.ReportMetric(float64(wall.Microseconds())/1e3/float64(b.N), "ms/op")
	b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(maxRSS)/1024, "peak-RSS-MiB")
}

// buildRusage builds test/render/rusage, which starts each measured process so that its peak
// RSS is its own (see that command's comment).
func buildRusage(b *testing.B) string { return goBuild(b, "./test/render/rusage") }

func benchCueExport(b *testing.B, dir, cue string) {
	// One untimed run proves the CUE is valid and that the export is not empty.
	out, err := runProcess(dir, cue, "export", "-e", "env", "enigate.cue", "env.cue")
	if err != nil {
		b.Fatalf("cue export: %v\n%s", err, out)
	}
	if len(out) < 100 {
		b.Fatalf("cue export printed only %d bytes: %s", len(out), out)
	}
	b.Run("export", func(b *testing.B) {
		benchProcess(b, dir, cue, "export", "-e", "env", "enigate.cue", "env.cue")
	})
}

// cuePackage writes a copy of schema/enigate.cue and env.cue (package enigate, the #Release the
// loader fills in, body) into a temporary directory, for `cue export -e env enigate.cue env.cue`.
func cuePackage(b *testing.B, root, body string) string {
	b.Helper()
	dir := b.TempDir()
	schemaSrc, err := os.ReadFile(filepath.Join(root, "schema", "enigate.cue"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "enigate.cue"), schemaSrc, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "env.cue"), []byte(fmt.Sprintf("package enigate\n\n#Release: {version: %q, repository: %q}\n\n%s", release.Version, release.Repository, body)), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

func runProcess(dir, bin string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return append(out, stderr.Bytes()...), err
	}
	return out, nil
}

// buildEnigate builds cmd/enigate into b.TempDir() (once per benchmark: the timed work runs
// in a sub-benchmark, so the build is not repeated while b.N is found).
func buildEnigate(b *testing.B) string { return goBuild(b, "./cmd/enigate") }

// goBuild builds the main package pkg of this module into b.TempDir() and returns the binary.
func goBuild(b *testing.B, pkg string) string {
	b.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		b.Skipf("go command not on PATH: cannot build %s", pkg)
	}
	bin := filepath.Join(b.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = repoRoot(b)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// buildCue builds the cue CLI of the cuelang.org/go version in go.mod into b.TempDir(). The
// main module's go.sum lacks the CLI's own dependencies, so when building it there fails it
// is built in a temporary module requiring the same version (GOFLAGS=-mod=mod, through the
// module proxy); the repository's go.mod and go.sum are never touched. Skips when neither works.
func buildCue(b *testing.B) string {
	b.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		b.Skip("go command not on PATH: cannot build the cue CLI")
	}
	root := repoRoot(b)
	list := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "cuelang.org/go")
	list.Dir = root
	v, err := list.Output()
	if err != nil {
		b.Skipf("cuelang.org/go version from go.mod: %v", err)
	}
	version := strings.TrimSpace(string(v))
	bin := filepath.Join(b.TempDir(), "cue")
	inMain := exec.Command("go", "build", "-mod=readonly", "-o", bin, "cuelang.org/go/cmd/cue")
	inMain.Dir = root
	if inMain.Run() == nil {
		return bin
	}
	mod := b.TempDir()
	gomod := fmt.Sprintf("module enigate.bench/cue\n\ngo 1.26.0\n\nrequire cuelang.org/go %s\n", version)
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", bin, "cuelang.org/go/cmd/cue")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Skipf("cue CLI %s could not be built (module proxy needed for its dependencies): %v\n%s", version, err, out)
	}
	return bin
}

// benchEnvironment generates a valid environment with the given number of teams and routes:
// four shared Gateways (HTTPS and HTTP listeners, a quarter of the teams each), team i owning
// team-i.example.com, routes spread evenly over the teams with a mix of plain, header-match,
// weighted and cross-namespace rules, an existing /16 VPC with /18 private subnets in three zones.
func benchEnvironment(teams, routes int) []byte {
	const gateways = 4
	var w bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	team := func(i int) string { return fmt.Sprintf("team-%d", i) }

	p("// Generated by test/render/bench_test.go: %d teams, %d routes.\n", teams, routes)
	p(`name: "bench200"

cluster: {
	region: "ap-northeast-2"
	tags: environment: "bench"
}

vpc: {
	id:   "vpc-0400000000000000a"
	cidr: "10.40.0.0/16"
	subnets: {
		private: {
			"ap-northeast-2a": {id: "subnet-0400000000000001a", cidr: "10.40.0.0/18"}
			"ap-northeast-2b": {id: "subnet-0400000000000002b", cidr: "10.40.64.0/18"}
			"ap-northeast-2c": {id: "subnet-0400000000000003c", cidr: "10.40.128.0/18"}
		}
		public: {
			"ap-northeast-2a": {id: "subnet-0400000000000004a", cidr: "10.40.192.0/22"}
			"ap-northeast-2b": {id: "subnet-0400000000000005b", cidr: "10.40.196.0/22"}
			"ap-northeast-2c": {id: "subnet-0400000000000006c", cidr: "10.40.200.0/22"}
		}
	}
}

nodeGroups: {
	general: {
		instanceType:    "m7g.2xlarge"
		minSize:         6
		maxSize:         40
		desiredCapacity: 12
		volumeSize:      100
		labels: role: "worker"
	}
	gateway: {
		instanceType: "c7gn.4xlarge"
		minSize:      2
		maxSize:      6
		labels: role: "gateway"
		taints: [{key: "dedicated", value: "gateway", effect: "NoSchedule"}]
	}
}

cilium: {
	clusterID:        1
	prefixDelegation: true
	maglev: hashSeed: "Yie+5slhri/40zfx"
	bpf: preallocateMaps: true
}

`)
	p("gateways: {\n")
	for g := range gateways {
		var names []string
		for i := g; i < teams; i += gateways {
			names = append(names, fmt.Sprintf("%q", team(i)))
		}
		list := strings.Join(names, ", ")
		p("\t\"shared-%d\": listeners: {\n", g)
		p("\t\thttps: {\n\t\t\tprotocol: \"HTTPS\"\n\t\t\tport:     443\n\t\t\thostname: \"*.example.com\"\n")
		p("\t\t\tteams: [%s]\n", list)
		p("\t\t\ttls: {secretName: \"wildcard-tls\", secretNamespace: \"certs\"}\n\t\t}\n")
		p("\t\thttp: {\n\t\t\tprotocol: \"HTTP\"\n\t\t\tport:     80\n\t\t\thostname: \"*.example.com\"\n")
		p("\t\t\tteams: [%s]\n\t\t}\n\t}\n", list)
	}
	p("}\n\nteams: {\n")
	for i := range teams {
		if i%10 == 0 {
			p("\t%q: {\n\t\thostnames: [\"%s.example.com\"]\n\t\tbackends: [{namespace: \"shared-services\", name: \"auth\"}]\n\t}\n", team(i), team(i))
			continue
		}
		p("\t%q: hostnames: [\"%s.example.com\"]\n", team(i), team(i))
	}
	p("}\n\nroutes: {\n")
	for r := range routes {
		i, j := r%teams, r/teams
		host := team(i) + ".example.com"
		p("\t\"%s-r%d\": {\n\t\tteam: %q\n\t\tspec: {\n", team(i), j, team(i))
		p("\t\t\tparentRefs: [{name: \"shared-%d\", namespace: \"infra\", sectionName: \"https\"}]\n", i%gateways)
		p("\t\t\thostnames: [%q]\n\t\t\trules: [", host)
		switch {
		case j%4 == 1:
			p("{\n\t\t\t\tmatches: [{path: {type: \"PathPrefix\", value: \"/svc-%d\"}, headers: [{name: \"X-User-Type\", value: \"beta\"}]}]\n", j)
			p("\t\t\t\tbackendRefs: [{name: \"svc-%d-beta\", port: 8080}]\n\t\t\t}, {\n", j)
			p("\t\t\t\tmatches: [{path: {type: \"PathPrefix\", value: \"/svc-%d\"}}]\n", j)
			p("\t\t\t\tbackendRefs: [{name: \"svc-%d\", port: 8080}]\n\t\t\t}]\n", j)
		case j%4 == 2:
			p("{\n\t\t\t\tmatches: [{path: {type: \"PathPrefix\", value: \"/svc-%d\"}}]\n", j)
			p("\t\t\t\tbackendRefs: [{name: \"svc-%d-stable\", port: 8080, weight: 90}, {name: \"svc-%d-canary\", port: 8080, weight: 10}]\n\t\t\t}]\n", j, j)
		case j%4 == 3 && i%10 == 0:
			p("{\n\t\t\t\tmatches: [{path: {type: \"PathPrefix\", value: \"/auth\"}}]\n")
			p("\t\t\t\tbackendRefs: [{name: \"auth\", namespace: \"shared-services\", port: 8080}]\n\t\t\t}]\n")
		default:
			p("{\n\t\t\t\tmatches: [{path: {type: \"PathPrefix\", value: \"/svc-%d\"}}]\n", j)
			p("\t\t\t\tbackendRefs: [{name: \"svc-%d\", port: 8080}]\n\t\t\t}]\n", j)
		}
		p("\t\t}\n\t}\n")
	}
	p("}\n")
	return w.Bytes()
}
