package upstream

import (
	"embed"
	"fmt"
	"strings"
)

// The charts' values.yaml, beside their schemas (data/PROVENANCE.md): the upgrade plan diffs
// two of them; node verify takes its chart defaults from them.
//
//go:embed data/cilium/*-values.yaml
var valuesFS embed.FS

// CiliumChartValues returns the values.yaml of a supported chart version.
func CiliumChartValues(version string) ([]byte, error) {
	if _, ok := ciliumCharts[version]; !ok {
		return nil, fmt.Errorf("cilium chart version %q: not supported (supported: %s)", version, strings.Join(ciliumVersions, ", "))
	}
	return valuesFS.ReadFile("data/cilium/" + version + "-values.yaml")
}
