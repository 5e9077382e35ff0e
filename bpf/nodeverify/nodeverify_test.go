package nodeverify

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/bpf/datapath"
	"github.com/enigate/enigate/bpf/observe"
	"github.com/enigate/enigate/bpf/probe"
	"github.com/enigate/enigate/schema/support"
	"github.com/enigate/enigate/test/fakenode"
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
	if _, err := link.QueryPrograms(link.QueryOptions{Target: 1, Attach: ebpf.AttachTCXIngress}); observe.OldKernel(err) {
		miss("kernel without tcx (needs >= 6.6): " + err.Error())
	} else if err != nil {
		t.Fatalf("tcx query: %v", err)
	}
}

func opts(n *fakenode.Node, values string) Options {
	return Options{ValuesFile: "testdata/" + values, VersionsFile: "testdata/versions.yaml", BPFFS: n.BPFFS, CgroupRoot: n.CgroupRoot, Devices: []string{n.Native}}
}

func prodNode() fakenode.Config {
	c := fakenode.Defaults()
	c.XDP = true
	return c
}

// legacyTC is the values patch for a node where Cilium attaches with legacy tc.
const legacyTC = "bpf.enableTCX=false"

func TestVerifyFakeNodePasses(t *testing.T) {
	tests := []struct {
		name    string
		node    func(*fakenode.Config)
		values  []string
		allowed []string
	}{
		{name: "tcx"},
		{name: "legacy tc", node: func(c *fakenode.Config) { c.TC = true }, values: []string{legacyTC}},
		{name: "preallocated maps", node: func(c *fakenode.Config) { c.Preallocate = true }, values: []string{"bpf.preallocateMaps=true"}},
		// 500001 is no multiple of the CPU count: Cilium (and the kernel) round it up.
		{name: "distributed LRU rounds sizes to the CPUs", node: func(c *fakenode.Config) { c.DistributedLRU, c.CTTCPMax = true, 500001 },
			values: []string{"bpf.distributedLRU.enabled=true", "bpf.ctTcpMax=500001"}},
		{name: "distributed LRU with dynamic sizes", node: func(c *fakenode.Config) { c.DistributedLRU, c.CTAnyMax = true, 300001 },
			values: []string{"bpf.distributedLRU.enabled=true", "bpf.ctAnyMax=-"}},
		{name: "declared program ahead of Cilium", node: func(c *fakenode.Config) {
			c.Extra = []fakenode.Extra{{Name: "secagent_tc", Dev: "native", Hook: "ingress", Head: true, Next: true}}
		}, allowed: []string{"secagent_tc"}},
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
			o.ValuesFile = patchValues(t, tt.values...)
			o.Allowed = tt.allowed
			r, err := Verify(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			datapath.WriteText(&sb, r)
			t.Log("\n" + sb.String())
			for _, c := range r.Checks {
				if c.Status == datapath.Fail || c.Status == datapath.Warn {
					t.Errorf("%s: %s: expected %s, observed %s (%s)", c.Status, c.Name, c.Expected, c.Observed, c.Evidence)
				}
			}
			if code := ExitCode(r); code != 0 {
				t.Errorf("exit code %d, want 0", code)
			}
			seen := map[string]bool{}
			for _, c := range r.Checks {
				if seen[c.Name] {
					t.Errorf("two checks named %s", c.Name)
				}
				seen[c.Name] = true
			}
			for _, want := range []string{"map.cilium_ct4_global", "map.cilium_ct4_global.layout", "map.cilium_ct4_global.flags", "map.cilium_ipcache_v2",
				"maglev.table_size.cilium_lb4_maglev", "prog.enp0s5.xdp", "prog.enp0s5.xdp.mode", "prog.enp0s5.egress.maps", "prog.enp0s5.ingress.foreign",
				"prog.enp0s5.ingress.order", "prog.enp0s5.ingress.duplicate", "prog.enp0s5.ingress.stale", "prog.cilium_net.ingress",
				"prog." + fakenode.Endpoint + ".ingress", "socketlb.cil_sock4_connect", "socketlb.cil_sock_release", "cgroup.mounted"} {
				if !seen[want] {
					t.Errorf("no check %s", want)
				}
			}
			// The evidence lists how each program was attached.
			attach := "tcx"
			if cfg.TC {
				attach = "tc"
			}
			for _, name := range []string{"prog.enp0s5.ingress", "prog.enp0s5.egress", "prog.cilium_host.egress", "prog.cilium_net.ingress"} {
				i := slices.IndexFunc(r.Checks, func(c datapath.Check) bool { return c.Name == name })
				if i < 0 {
					t.Errorf("no check %s", name)
				} else if dir := name[strings.LastIndex(name, ".")+1:]; !strings.Contains(r.Checks[i].Evidence, " "+attach+" "+dir+" ") {
					t.Errorf("%s evidence %q, want %q in it", name, r.Checks[i].Evidence, attach+" "+dir)
				}
			}
		})
	}
}

// TestVerifyFakeNodeEachMinor: a healthy node of every supported Cilium release passes with
// that release's versions.yaml, and a 1.20 node judged as 1.19 fails exactly on the map whose
// flags changed between them (so the per-minor tables are what is compared).
func TestVerifyFakeNodeEachMinor(t *testing.T) {
	type run struct {
		node, versions string // Cilium release of the fake node's maps, and of versions.yaml
		fail           []string
	}
	var runs []run
	for _, v := range support.CiliumVersions() {
		runs = append(runs, run{node: v, versions: v})
	}
	runs = append(runs, run{node: "1.20.2", versions: "1.19.7", fail: []string{"map.cilium_lxc.flags"}})
	for _, r := range runs {
		t.Run("node "+r.node+" verified as "+r.versions, func(t *testing.T) {
			requireNode(t)
			cfg := prodNode()
			cfg.CiliumMinor = support.Minor(r.node)
			n := fakenode.Build(t, cfg)
			o := opts(n, "values-prod.yaml")
			o.VersionsFile = filepath.Join(t.TempDir(), "versions.yaml")
			if err := os.WriteFile(o.VersionsFile, []byte("cilium: "+r.versions+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			rep, err := Verify(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, c := range rep.Checks {
				if c.Status == datapath.Fail || c.Status == datapath.Warn {
					failed = append(failed, c.Name)
				}
			}
			if !slices.Equal(failed, r.fail) {
				var sb strings.Builder
				datapath.WriteText(&sb, rep)
				t.Errorf("failed checks %v, want %v\n%s", failed, r.fail, sb.String())
			}
		})
	}
}

func TestDriftMatrix(t *testing.T) {
	native := func(x fakenode.Extra) fakenode.Extra { x.Dev = "native"; return x }
	tests := []struct {
		name    string
		node    func(*fakenode.Config)
		values  []string
		allowed []string
		fails   []string // exactly the checks that must fail
	}{
		{name: "ct map size", node: func(c *fakenode.Config) { c.CTTCPMax = 262144 }, fails: []string{"map.cilium_ct4_global"}},
		{name: "missing NAT map", node: func(c *fakenode.Config) { c.SkipMaps = []string{"cilium_snat_v4_external"} }, fails: []string{"map.cilium_snat_v4_external"}},
		{name: "missing always-pinned map", node: func(c *fakenode.Config) { c.SkipMaps = []string{"cilium_lxc"} }, fails: []string{"map.cilium_lxc"}},
		{name: "policy map size", node: func(c *fakenode.Config) { c.PolicyMapMax = 8192 }, fails: []string{"map.cilium_policy_v2_*"}},
		{name: "map value size", node: func(c *fakenode.Config) { c.MapLayout = map[string][2]uint32{"cilium_lb4_reverse_nat": {2, 8}} },
			fails: []string{"map.cilium_lb4_reverse_nat.layout"}},
		{name: "no preallocation where bpf.preallocateMaps", node: func(c *fakenode.Config) {
			c.Preallocate, c.MapFlags = true, map[string]uint32{"cilium_lb4_services_v2": unix.BPF_F_NO_PREALLOC}
		}, values: []string{"bpf.preallocateMaps=true"}, fails: []string{"map.cilium_lb4_services_v2.flags"}},
		{name: "common LRU where distributed LRU", node: func(c *fakenode.Config) {
			c.DistributedLRU, c.MapFlags = true, map[string]uint32{"cilium_ct4_global": 0}
		}, values: []string{"bpf.distributedLRU.enabled=true"}, fails: []string{"map.cilium_ct4_global.flags"}},
		{name: "missing egress program", node: func(c *fakenode.Config) { c.NoEgress = true }, fails: []string{"prog.enp0s5.egress"}},
		{name: "missing egress program on a legacy tc node", node: func(c *fakenode.Config) { c.TC, c.NoEgress = true, true }, values: []string{legacyTC},
			fails: []string{"prog.enp0s5.egress"}},
		{name: "XDP missing", node: func(c *fakenode.Config) { c.XDP = false }, fails: []string{"prog.enp0s5.xdp"}},
		{name: "XDP unexpected", values: []string{"loadBalancer.acceleration=disabled"}, fails: []string{"prog.enp0s5.xdp"}},
		{name: "XDP generic where native", node: func(c *fakenode.Config) { c.XDPGeneric = true }, fails: []string{"prog.enp0s5.xdp.mode"}},
		{name: "maglev table size", node: func(c *fakenode.Config) { c.MaglevTableSize = 8191 }, fails: []string{"maglev.table_size.cilium_lb4_maglev"}},
		{name: "program uses a replaced map", node: func(c *fakenode.Config) { c.ReplaceMap = "cilium_lb4_services_v2" }, fails: []string{"prog.enp0s5.ingress.maps"}},
		{name: "undeclared dropper ahead of Cilium", node: func(c *fakenode.Config) {
			c.Extra = []fakenode.Extra{native(fakenode.Extra{Name: "dropper", Hook: "ingress", Head: true, Drop: true})}
		}, fails: []string{"prog.enp0s5.ingress.foreign"}},
		{name: "undeclared legacy tc filter behind Cilium", node: func(c *fakenode.Config) {
			c.Extra = []fakenode.Extra{native(fakenode.Extra{Name: "tc_mirror", Hook: "egress", Attach: "tc", Prio: 5})}
		}, fails: []string{"prog.enp0s5.egress.foreign"}},
		{name: "declared program behind Cilium", node: func(c *fakenode.Config) {
			c.Extra = []fakenode.Extra{native(fakenode.Extra{Name: "secagent_tc", Hook: "ingress"})}
		}, allowed: []string{"secagent_tc"}, fails: []string{"prog.enp0s5.ingress.order"}},
		{name: "duplicate legacy tc cil_from_netdev next to the tcx one", node: func(c *fakenode.Config) {
			c.Extra = []fakenode.Extra{native(fakenode.Extra{Name: "cil_from_netdev", Hook: "ingress", Attach: "tc", Prio: 1})}
		}, fails: []string{"prog.enp0s5.ingress.duplicate", "prog.enp0s5.ingress.stale"}},
		{name: "duplicate cil_from_netdev on a legacy tc node", node: func(c *fakenode.Config) {
			c.TC, c.Extra = true, []fakenode.Extra{native(fakenode.Extra{Name: "cil_from_netdev", Hook: "ingress", Attach: "tc", Prio: 2})}
		}, values: []string{legacyTC}, fails: []string{"prog.enp0s5.ingress.duplicate"}},
		{name: "stale tcx link Cilium did not pin", node: func(c *fakenode.Config) {
			c.Skip, c.Extra = []string{"cilium_net/ingress"}, []fakenode.Extra{{Name: "cil_to_host", Dev: "cilium_net", Hook: "ingress"}}
		}, fails: []string{"prog.cilium_net.ingress.stale"}},
		{name: "look-alike on legacy tc using none of Cilium's maps", node: func(c *fakenode.Config) {
			c.TC, c.Skip = true, []string{"native/ingress"}
			c.Extra = []fakenode.Extra{native(fakenode.Extra{Name: "cil_from_netdev", Hook: "ingress", Attach: "tc", NoMaps: true})}
		}, values: []string{legacyTC}, fails: []string{"prog.enp0s5.ingress.maps"}},
		{name: "look-alike on legacy tc after the tcx one was removed", node: func(c *fakenode.Config) {
			c.Skip = []string{"native/ingress"}
			c.Extra = []fakenode.Extra{native(fakenode.Extra{Name: "cil_from_netdev", Hook: "ingress", Attach: "tc", NoMaps: true})}
		}, fails: []string{"prog.enp0s5.ingress.maps", "prog.enp0s5.ingress.stale"}},
		{name: "endpoint program missing", node: func(c *fakenode.Config) { c.Skip = []string{"endpoint/ingress"} }, fails: []string{"prog." + fakenode.Endpoint + ".ingress"}},
		{name: "socket-LB program missing", node: func(c *fakenode.Config) { c.Skip = []string{"socketlb/cil_sock4_connect"} }, fails: []string{"socketlb.cil_sock4_connect"}},
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
			o.ValuesFile = patchValues(t, tt.values...)
			o.Allowed = tt.allowed
			r, err := Verify(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			seen := map[string]bool{}
			for _, c := range r.Checks {
				if seen[c.Name] {
					t.Errorf("two checks named %s", c.Name)
				}
				seen[c.Name] = true
				if c.Status == datapath.Fail {
					failed = append(failed, c.Name)
					t.Logf("FAIL %s: expected %s, observed %s; evidence: %s", c.Name, c.Expected, c.Observed, c.Evidence)
				}
			}
			want := slices.Sorted(slices.Values(tt.fails))
			if slices.Sort(failed); !slices.Equal(failed, want) {
				t.Errorf("failed checks %v, want exactly %v", failed, want)
			}
			if code := ExitCode(r); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
		})
	}
}

// patchValues writes values-prod.yaml with each "dotted.key=value" set ("-" deletes the key;
// true/false and integers are typed).
func patchValues(t *testing.T, patches ...string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/values-prod.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range patches {
		k, v, _ := strings.Cut(p, "=")
		keys := strings.Split(k, ".")
		m := doc
		for _, key := range keys[:len(keys)-1] {
			next, ok := m[key].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[key] = next
			}
			m = next
		}
		last := keys[len(keys)-1]
		var val any = v
		if n, err := strconv.Atoi(v); err == nil {
			val = n
		} else if v == "true" || v == "false" {
			val = v == "true"
		}
		if v == "-" {
			delete(m, last)
		} else {
			m[last] = val
		}
	}
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
	if err := sendUDPErr(netns, addr, count); err != nil {
		t.Fatal(err)
	}
}

func sendUDPErr(netns, addr string, count int) error {
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
	return <-done
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
	stats, err := probe.EnableStats()
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	a, err := probe.Attach(dev)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	_, _ = a, stats
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
	// The statistics switch died with the process too: Cilium's program runs uncounted again
	// (unless the host turned statistics on with the sysctl).
	if b, err := os.ReadFile("/proc/sys/kernel/bpf_stats_enabled"); err == nil && strings.TrimSpace(string(b)) == "0" {
		target := ciliumIngress(t, n.Native)
		before, err := probe.RunCount(target.ID)
		if err != nil {
			t.Fatal(err)
		}
		sendUDP(t, n.PeerNS, fakenode.NodeAddr+":9", 10)
		time.Sleep(100 * time.Millisecond)
		if after, _ := probe.RunCount(target.ID); after != before {
			t.Errorf("after kill -9, cil_from_netdev's run count still moves (%d -> %d): BPF statistics stayed on", before, after)
		}
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
	o := opts(n, "values-defaults-kpr.yaml")
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
	target := ciliumIngress(b, n.Native)
	for b.Loop() {
		if r := probe.Run(context.Background(), n.Native, time.Microsecond, target); r.Err != "" {
			b.Fatal(r.Err)
		}
	}
}

// ciliumIngress is the cil_from_netdev program on dev's tcx ingress chain.
func ciliumIngress(t testing.TB, dev string) datapath.Program {
	t.Helper()
	res, err := link.QueryPrograms(link.QueryOptions{Target: fakenode.Ifindex(t, dev), Attach: ebpf.AttachTCXIngress})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Programs {
		prog, err := ebpf.NewProgramFromID(p.ID)
		if err != nil {
			t.Fatal(err)
		}
		info, err := prog.Info()
		prog.Close()
		if err == nil && info.Name == "cil_from_netdev" {
			return datapath.Program{ID: uint32(p.ID), Name: info.Name}
		}
	}
	t.Fatalf("no cil_from_netdev on %s", dev)
	return datapath.Program{}
}

// TestProbeReachesCilium runs verify --probe while the peer sends datagrams: the probe passes
// only when the packets reach Cilium's program, not merely the device.
func TestProbeReachesCilium(t *testing.T) {
	tests := []struct {
		name    string
		extra   []fakenode.Extra
		allowed []string
		pass    bool
	}{
		{name: "packets reach cil_from_netdev", pass: true},
		{name: "declared pass-through program ahead", extra: []fakenode.Extra{{Name: "secagent_tc", Dev: "native", Hook: "ingress", Head: true, Next: true}},
			allowed: []string{"secagent_tc"}, pass: true},
		{name: "declared dropper ahead", extra: []fakenode.Extra{{Name: "dropper", Dev: "native", Hook: "ingress", Head: true, Drop: true}},
			allowed: []string{"dropper"}},
		{name: "undeclared dropper ahead",
			extra: []fakenode.Extra{{Name: "dropper", Dev: "native", Hook: "ingress", Head: true, Drop: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireNode(t)
			cfg := fakenode.Defaults()
			cfg.Extra = tt.extra
			n := fakenode.Build(t, cfg)
			o := opts(n, "values-defaults-kpr.yaml")
			o.Probe, o.ProbeWindow, o.Allowed = true, 1500*time.Millisecond, tt.allowed
			sent := make(chan error, 1)
			go func() {
				time.Sleep(200 * time.Millisecond)
				sent <- sendUDPErr(n.PeerNS, fakenode.NodeAddr+":9", 50)
			}()
			r, err := Verify(context.Background(), o)
			if serr := <-sent; serr != nil {
				t.Fatal(serr)
			}
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(r.Checks, func(c datapath.Check) bool { return c.Name == "probe."+n.Native })
			if i < 0 {
				t.Fatal("no probe check")
			}
			c := r.Checks[i]
			t.Logf("%s %s: %s (%s)", c.Status, c.Name, c.Observed, c.Evidence)
			if got := c.Status == datapath.Pass; got != tt.pass {
				t.Errorf("probe %s, want pass=%v", c.Status, tt.pass)
			}
		})
	}
}
