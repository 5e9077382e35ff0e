package nodeverify

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/bpf/fakenode"
	"github.com/enigate/enigate/bpf/probe"
	"github.com/enigate/enigate/bpf/verify"
)

func TestMain(m *testing.M) {
	if dev := os.Getenv(helperEnv); dev != "" {
		probeHelper(dev)
		return
	}
	if code, ok := fakenode.Reexec(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// requireNode skips (or, with EBPF_TESTS_REQUIRED=1, fails) unless the test runs as root in a
// private network namespace with tcx support.
func requireNode(t testing.TB) {
	t.Helper()
	miss := func(why string) {
		if fakenode.Required() {
			t.Fatalf("eBPF tests required: %s", why)
		}
		t.Skip(why)
	}
	if !fakenode.InPrivateNetns() {
		miss("needs root (re-runs itself in a private network namespace)")
	}
	if _, err := link.QueryPrograms(link.QueryOptions{Target: 1, Attach: ebpf.AttachTCXIngress}); err != nil {
		miss("kernel without tcx (needs >= 6.6): " + err.Error())
	}
}

func opts(n *fakenode.Node, values string) Options {
	return Options{ValuesFile: "testdata/" + values, VersionsFile: "testdata/versions.yaml", BPFFS: n.BPFFS, Devices: []string{n.Native}}
}

func prodNode() fakenode.Config {
	c := fakenode.Defaults()
	c.XDP = true
	return c
}

func TestVerifyFakeNodePasses(t *testing.T) {
	for _, attach := range []string{"tcx", "tc"} {
		t.Run(attach, func(t *testing.T) {
			requireNode(t)
			cfg := prodNode()
			cfg.TC = attach == "tc"
			n := fakenode.Build(t, cfg)
			r, err := Verify(context.Background(), opts(n, "values-prod.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			verify.WriteText(&sb, r)
			t.Log("\n" + sb.String())
			for _, c := range r.Checks {
				if c.Status == verify.Fail || c.Status == verify.Warn {
					t.Errorf("%s: %s: expected %s, observed %s (%s)", c.Status, c.Name, c.Expected, c.Observed, c.Evidence)
				}
			}
			if code := ExitCode(r); code != 0 {
				t.Errorf("exit code %d, want 0", code)
			}
			for _, want := range []string{"map.cilium_ct4_global", "maglev.table_size.cilium_lb4_maglev", "prog.enp0s5.xdp", "prog.enp0s5.egress.maps", "prog.cilium_net.ingress"} {
				if !slices.ContainsFunc(r.Checks, func(c verify.Check) bool { return c.Name == want && c.Status == verify.Pass }) {
					t.Errorf("check %s did not pass", want)
				}
			}
			// The evidence names how each program was attached.
			for _, name := range []string{"prog.enp0s5.ingress", "prog.enp0s5.egress", "prog.cilium_host.egress", "prog.cilium_net.ingress"} {
				i := slices.IndexFunc(r.Checks, func(c verify.Check) bool { return c.Name == name })
				if i < 0 {
					t.Errorf("no check %s", name)
				} else if dir := name[strings.LastIndex(name, ".")+1:]; !strings.HasPrefix(r.Checks[i].Evidence, attach+" "+dir+" ") {
					t.Errorf("%s evidence %q, want it to start with %q", name, r.Checks[i].Evidence, attach+" "+dir)
				}
			}
		})
	}
}

func TestDriftMatrix(t *testing.T) {
	tests := []struct {
		name   string
		node   func(*fakenode.Config)
		values string
		fails  string // the one check that must fail
	}{
		{name: "ct map size", node: func(c *fakenode.Config) { c.CTTCPMax = 262144 }, fails: "map.cilium_ct4_global"},
		{name: "missing NAT map", node: func(c *fakenode.Config) { c.SkipMaps = []string{"cilium_snat_v4_external"} }, fails: "map.cilium_snat_v4_external"},
		{name: "policy map size", node: func(c *fakenode.Config) { c.PolicyMapMax = 8192 }, fails: "map.cilium_policy_v2_*"},
		{name: "missing egress program", node: func(c *fakenode.Config) { c.NoEgress = true }, fails: "prog.enp0s5.egress"},
		{name: "missing egress program on a legacy tc node", node: func(c *fakenode.Config) { c.TC, c.NoEgress = true, true }, fails: "prog.enp0s5.egress"},
		{name: "XDP missing", node: func(c *fakenode.Config) { c.XDP = false }, fails: "prog.enp0s5.xdp"},
		{name: "XDP unexpected", values: "acceleration: disabled", fails: "prog.enp0s5.xdp"},
		{name: "maglev table size", node: func(c *fakenode.Config) { c.MaglevTableSize = 8191 }, fails: "maglev.table_size.cilium_lb4_maglev"},
		{name: "program uses a replaced map", node: func(c *fakenode.Config) { c.ReplaceMap = "cilium_lb4_services_v2" }, fails: "prog.enp0s5.ingress.maps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireNode(t)
			cfg := prodNode()
			if tt.node != nil {
				tt.node(&cfg)
			}
			n := fakenode.Build(t, cfg)
			o := opts(n, "values-prod.yaml")
			if tt.values != "" {
				o.ValuesFile = patchValues(t, tt.values)
			}
			r, err := Verify(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, c := range r.Checks {
				if c.Status == verify.Fail {
					failed = append(failed, c.Name)
					t.Logf("FAIL %s: expected %s, observed %s; evidence: %s", c.Name, c.Expected, c.Observed, c.Evidence)
				}
			}
			if !slices.Equal(failed, []string{tt.fails}) {
				t.Errorf("failed checks %v, want exactly [%s]", failed, tt.fails)
			}
			if code := ExitCode(r); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
		})
	}
}

// patchValues writes values-prod.yaml with loadBalancer overridden by patch ("key: value").
func patchValues(t *testing.T, patch string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/values-prod.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	k, v, _ := strings.Cut(patch, ": ")
	doc["loadBalancer"].(map[string]any)[k] = v
	out, _ := yaml.Marshal(doc)
	p := t.TempDir() + "/values.yaml"
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProbeCountsPackets(t *testing.T) {
	requireNode(t)
	n := fakenode.Build(t, fakenode.Defaults())
	a, err := probe.Attach(n.Native)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	const sent = 20
	sendUDP(t, n.PeerNS, fakenode.NodeAddr+":9", sent)
	deadline := time.Now().Add(10 * time.Second)
	var got uint64
	for time.Now().Before(deadline) {
		if got, err = a.Packets(); err != nil {
			t.Fatal(err)
		}
		if got >= sent {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got < sent {
		t.Fatalf("probe counted %d packets, sent %d UDP datagrams", got, sent)
	}
	t.Logf("probe counted %d packets for %d datagrams (ARP included)", got, sent)
	// The probe sits at the head of the chain, Cilium's program after it.
	res, err := link.QueryPrograms(link.QueryOptions{Target: fakenode.Ifindex(t, n.Native), Attach: ebpf.AttachTCXIngress})
	if err != nil {
		t.Fatal(err)
	}
	if names := progNames(t, res); !slices.Equal(names, []string{probe.ProgramName, "cil_from_netdev"}) {
		t.Errorf("ingress chain %v, want [%s cil_from_netdev]", names, probe.ProgramName)
	}
}

// sendUDP sends count datagrams to addr from a socket created inside netns.
func sendUDP(t *testing.T, netns, addr string, count int) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		f, err := os.Open("/run/netns/" + netns)
		if err != nil {
			done <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("setns %s: %w", netns, err)
			return
		}
		// Unconnected: the node's ICMP port-unreachable answers do not fail later writes.
		c, err := net.ListenPacket("udp4", ":0")
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		dst, err := net.ResolveUDPAddr("udp4", addr)
		if err != nil {
			done <- err
			return
		}
		for i := range count {
			if _, err := c.WriteTo(fmt.Appendf(nil, "enigate probe test %d", i), dst); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func progNames(t *testing.T, res *link.QueryResult) []string {
	t.Helper()
	var names []string
	for _, p := range res.Programs {
		prog, err := ebpf.NewProgramFromID(p.ID)
		if err != nil {
			t.Fatal(err)
		}
		info, err := prog.Info()
		prog.Close()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, info.Name)
	}
	return names
}

const helperEnv = "ENIGATE_PROBE_HELPER_DEVICE"

// probeHelper is the re-executed verifier subprocess: it attaches the probe, says so, and waits
// to be killed.
func probeHelper(dev string) {
	a, err := probe.Attach(dev)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	_ = a
	fmt.Println("attached")
	select {}
}

func TestKill9LeavesNothingAttached(t *testing.T) {
	requireNode(t)
	n := fakenode.Build(t, fakenode.Defaults())
	ifindex := fakenode.Ifindex(t, n.Native)
	ingress := func() []string {
		res, err := link.QueryPrograms(link.QueryOptions{Target: ifindex, Attach: ebpf.AttachTCXIngress})
		if err != nil {
			t.Fatal(err)
		}
		return progNames(t, res)
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+n.Native)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "attached" {
		cmd.Process.Kill()
		t.Fatalf("helper: %q %v", line, err)
	}
	if got := ingress(); !slices.Contains(got, probe.ProgramName) {
		t.Fatalf("probe not attached while the verifier runs: %v", got)
	}
	if err := cmd.Process.Signal(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		if got = ingress(); !slices.Contains(got, probe.ProgramName) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !slices.Equal(got, []string{"cil_from_netdev"}) {
		t.Fatalf("after kill -9 the ingress chain is %v, want only [cil_from_netdev]", got)
	}
	// Nothing of ours is pinned either.
	entries, _ := os.ReadDir(n.BPFFS + "/cilium/devices/" + n.Native + "/links")
	for _, e := range entries {
		if strings.Contains(e.Name(), "enigate") {
			t.Errorf("probe left a pin: %s", e.Name())
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	requireNode(b)
	n := fakenode.Build(b, fakenode.Defaults())
	o := Options{ValuesFile: "testdata/values-defaults-kpr.yaml", VersionsFile: "testdata/versions.yaml", BPFFS: n.BPFFS, Devices: []string{n.Native}}
	for b.Loop() {
		if _, err := Verify(context.Background(), o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProbeOverhead is the probe's cost on top of its window: load, attach at the tcx
// head, read, detach (the window itself is slept, default 2s).
func BenchmarkProbeOverhead(b *testing.B) {
	requireNode(b)
	n := fakenode.Build(b, fakenode.Defaults())
	for b.Loop() {
		if r := probe.Run(context.Background(), n.Native, time.Microsecond); r.Err != "" {
			b.Fatal(r.Err)
		}
	}
}
