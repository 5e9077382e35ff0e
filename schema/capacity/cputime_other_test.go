//go:build !unix

package capacity

func processCPU() int64 { return 0 }
