package fakenode

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// envInNetns marks a test binary already re-executed inside a private network namespace.
const envInNetns = "ENIGATE_TEST_NETNS"

// Required reports whether eBPF tests must run (CI sets EBPF_TESTS_REQUIRED=1): then missing
// root or kernel support fails the test instead of skipping it.
func Required() bool { return os.Getenv("EBPF_TESTS_REQUIRED") == "1" }

// Reexec is for TestMain: as root, outside a private network namespace, it re-runs the test
// binary under `unshare --net` (every thread of the child lives in the new namespace, and the
// namespace dies with it) and returns the child's exit code with ok=true. Otherwise it returns
// ok=false and the caller runs the tests in-process (they skip without root).
func Reexec() (code int, ok bool) {
	if os.Geteuid() != 0 || os.Getenv(envInNetns) == "1" {
		return 0, false
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakenode: test binary:", err)
		return 2, true
	}
	cmd := exec.Command("unshare", append([]string{"--net", "--", exe}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), envInNetns+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Exited() {
				return ws.ExitStatus(), true
			}
		}
		fmt.Fprintln(os.Stderr, "fakenode: unshare --net:", err)
		return 2, true
	}
	return 0, true
}

// InPrivateNetns reports whether this process is the re-executed test binary.
func InPrivateNetns() bool { return os.Getenv(envInNetns) == "1" }
