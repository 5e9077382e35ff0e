//go:build !linux

package webhook_test

import "time"

func threadCPU() (time.Duration, bool) { return 0, false }
