//go:build unix

package capacity

import "syscall"

// processCPU is the process's user+system CPU time in nanoseconds. Benchmarks report it per op
// beside wall time, because the shared build machines are often loaded far beyond their cores.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
