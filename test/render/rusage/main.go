//go:build unix

// Command rusage runs a command and prints its peak RSS (KiB) and user and system CPU time
// (µs) as one line: "maxrss_kib user_us sys_us". The render benchmarks start their children
// through it: Go starts a child with vfork, and the kernel counts the forking process's
// memory in the child's peak RSS, so a child of the large test process would report at
// least the test process's RSS. This process stays small.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rusage COMMAND [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr // stdout carries the measurement
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "rusage:", err)
		os.Exit(2)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		fmt.Fprintln(os.Stderr, "rusage: no resource usage")
		os.Exit(2)
	}
	fmt.Printf("%d %d %d\n", ru.Maxrss, ru.Utime.Nano()/1e3, ru.Stime.Nano()/1e3)
	os.Exit(cmd.ProcessState.ExitCode())
}
