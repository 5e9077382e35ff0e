// Package crds holds the Gateway API CRDs enigate renders into overlays, vendored from the
// sigs.k8s.io/gateway-api module by vendor.sh (unmodified upstream files).
package crds

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed data
var data embed.FS

// File is one upstream CRD file.
type File struct {
	Name string // e.g. gateway.networking.k8s.io_httproutes.yaml
	Data []byte
}

// Versions lists the vendored Gateway API versions.
func Versions() []string {
	entries, _ := fs.ReadDir(data, "data/gateway-api")
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// GatewayAPI returns the CRDs to install for a Gateway API version and channel; with the
// standard channel, experimental kinds listed in extra (e.g. "tlsroutes") are added from the
// experimental channel.
func GatewayAPI(version, channel string, extra ...string) ([]File, error) {
	dir := path.Join("data/gateway-api", version, channel)
	entries, err := fs.ReadDir(data, dir)
	if err != nil {
		return nil, fmt.Errorf("gateway api %s %s: not vendored (vendored: %s)", version, channel, strings.Join(Versions(), ", "))
	}
	var out []File
	have := map[string]bool{}
	for _, e := range entries {
		b, err := data.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		have[e.Name()] = true
		out = append(out, File{Name: e.Name(), Data: b})
	}
	for _, kind := range extra {
		name := "gateway.networking.k8s.io_" + kind + ".yaml"
		if have[name] {
			continue
		}
		b, err := data.ReadFile(path.Join("data/gateway-api", version, "experimental", name))
		if err != nil {
			return nil, fmt.Errorf("gateway api %s: no experimental %s CRD", version, kind)
		}
		out = append(out, File{Name: name, Data: b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
