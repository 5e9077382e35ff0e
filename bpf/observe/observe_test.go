package observe

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/enigate/enigate/test/fakenode"
)

func TestMain(m *testing.M) {
	if code, ok := fakenode.Reexec(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func requireNetns(t *testing.T) {
	t.Helper()
	if !fakenode.InPrivateNetns() {
		if fakenode.Required() {
			t.Fatal("eBPF tests required: needs root (re-runs itself in a private network namespace)")
		}
		t.Skip("needs root (re-runs itself in a private network namespace)")
	}
}

// TestDefaultDevices: Cilium's device directories plus the IPv4 default routes' devices of the
// main table, every nexthop's of a multipath route; other routes and tables are not read.
func TestDefaultDevices(t *testing.T) {
	requireNetns(t)
	idx := map[string]int{}
	for _, name := range []string{"dflt0", "dflt1", "other0"} {
		l := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "p"}
		if err := netlink.LinkAdd(l); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { netlink.LinkDel(l) })
		for _, n := range []string{name, l.PeerName} {
			if err := netlink.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: n}}); err != nil {
				t.Fatal(err)
			}
		}
		idx[name] = l.Attrs().Index
	}
	anyV4 := &net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}
	_, tenNet, _ := net.ParseCIDR("10.0.0.0/8")
	for _, r := range []netlink.Route{
		{Dst: tenNet, LinkIndex: idx["other0"]},
		{Dst: anyV4, LinkIndex: idx["other0"], Table: 100},
	} {
		if err := netlink.RouteAdd(&r); err != nil {
			t.Fatalf("route %s: %v", r, err)
		}
	}
	bpffs := t.TempDir()
	for _, d := range []string{"ens5", "cilium_host", "cilium_net", "lxc00042"} {
		if err := os.MkdirAll(filepath.Join(bpffs, "cilium", "devices", d, "links"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		route *netlink.Route // the main table's default route; nil: none
		want  []string
	}{
		{name: "no default route", want: []string{"ens5"}},
		{name: "default route", route: &netlink.Route{Dst: anyV4, LinkIndex: idx["dflt0"]}, want: []string{"dflt0", "ens5"}},
		{name: "multipath default route", route: &netlink.Route{Dst: anyV4, MultiPath: []*netlink.NexthopInfo{{LinkIndex: idx["dflt0"]}, {LinkIndex: idx["dflt1"]}}},
			want: []string{"dflt0", "dflt1", "ens5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.route != nil {
				if err := netlink.RouteAdd(tt.route); err != nil {
					t.Fatalf("route %s: %v", tt.route, err)
				}
				defer netlink.RouteDel(tt.route)
			}
			if got := DefaultDevices(bpffs); !slices.Equal(got, tt.want) {
				t.Errorf("DefaultDevices = %v, want %v", got, tt.want)
			}
		})
	}
}
