package envtest

import (
	"errors"
	"testing"
)

// BenchmarkStart measures starting kube-apiserver and etcd with every CRD installed, and
// stopping them again.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		env, err := newEnvironment(options{})
		if errors.Is(err, ErrNoAssets) {
			b.Skip(err)
		}
		if err != nil {
			b.Fatal(err)
		}
		if _, err := env.Start(); err != nil {
			_ = env.Stop()
			b.Fatal(err)
		}
		if err := env.Stop(); err != nil {
			b.Fatal(err)
		}
	}
}
