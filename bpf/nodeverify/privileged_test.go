package nodeverify

import (
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/enigate/enigate/test/fakenode"
)

// TestPrivileged: the check follows the calling thread's effective CAP_SYS_ADMIN, and only it.
// Each case drops capabilities from the effective set of a locked thread that is never
// unlocked, so the thread exits with its goroutine and the process keeps its capabilities.
func TestPrivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		if fakenode.Required() {
			t.Fatal("eBPF tests required: needs root")
		}
		t.Skip("needs root")
	}
	tests := []struct {
		name string
		drop []uint
		want bool
	}{
		{name: "root", want: true},
		{name: "without CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON", drop: []uint{unix.CAP_BPF, unix.CAP_NET_ADMIN, unix.CAP_PERFMON}, want: true},
		{name: "without CAP_SYS_ADMIN", drop: []uint{unix.CAP_SYS_ADMIN}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type result struct {
				has       bool
				err, priv error
			}
			done := make(chan result)
			go func() {
				runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
				var r result
				if len(tt.drop) > 0 {
					hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
					var data [2]unix.CapUserData
					if r.err = unix.Capget(&hdr, &data[0]); r.err == nil {
						for _, c := range tt.drop {
							data[c/32].Effective &^= 1 << (c % 32)
						}
						r.err = unix.Capset(&hdr, &data[0])
					}
				}
				if r.err == nil {
					r.has, r.err = effective(unix.CAP_SYS_ADMIN)
					r.priv = privileged()
				}
				done <- r
			}()
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.has != tt.want || (r.priv == nil) != tt.want {
				t.Errorf("CAP_SYS_ADMIN %v, privileged() = %v; want %v", r.has, r.priv, tt.want)
			}
		})
	}
	if ok, err := effective(unix.CAP_SYS_ADMIN); err != nil || !ok {
		t.Errorf("this thread after the cases: CAP_SYS_ADMIN %v, %v; want true", ok, err)
	}
}
