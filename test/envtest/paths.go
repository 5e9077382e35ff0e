package envtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNoAssets means kube-apiserver or etcd is not where Start looks for it.
var ErrNoAssets = errors.New("envtest binaries missing")

const gatewayAPIModule = "sigs.k8s.io/gateway-api"

// ModuleRoot returns the directory of the nearest go.mod at or above the working directory
// (for a test: the enigate module root).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// AssetsDir returns $KUBEBUILDER_ASSETS, else root/bin/k8s/<KubernetesVersion>, after
// checking that kube-apiserver and etcd are in it (ErrNoAssets otherwise).
func AssetsDir(root string) (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(root, "bin", "k8s", KubernetesVersion)
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("%w: no %s in %s", ErrNoAssets, name, dir)
		}
	}
	return dir, nil
}

// DefaultCRDPaths lists the CRDs Start installs: the Gateway API standard channel, the
// experimental TLSRoute, and the vendored CRDs in root/test/testdata/crds.
func DefaultCRDPaths(root string) ([]string, error) {
	gw, err := GatewayAPIDir(root)
	if err != nil {
		return nil, err
	}
	return []string{
		filepath.Join(gw, "config", "crd", "standard"),
		filepath.Join(gw, "config", "crd", "experimental", "gateway.networking.k8s.io_tlsroutes.yaml"),
		filepath.Join(root, "test", "testdata", "crds"),
	}, nil
}

// GatewayAPIDir returns the directory of the sigs.k8s.io/gateway-api module that root's
// go.mod selects (`go list -m`), so the CRDs match the Go types tests compile against.
// (Test binaries carry no dependency build info, hence the go command.)
func GatewayAPIDir(root string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", gatewayAPIModule)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(exitErr.Stderr)))
		}
		return "", fmt.Errorf("gateway-api module: go list: %w", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", errors.New("gateway-api module: not downloaded (run `go mod download " + gatewayAPIModule + "`)")
	}
	return dir, nil
}
