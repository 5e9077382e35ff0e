package support

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/model"
)

// Check judges a version lock against the matrix: errors for an unsupported Cilium chart, a
// known-breaking Cilium and Gateway API combination (naming the upstream report and the nearest
// working pin) or a Gateway API minor the Cilium release does not implement; warnings for a
// Kubernetes minor upstream does not test a component on. Paths are below path (the versions
// block). Whether EKS offers the Kubernetes minor, and until when, is checks.KubernetesVersion
// (the calendar in schema/eksdata).
func Check(v model.Versions, path *field.Path) (field.ErrorList, []string) {
	var errs field.ErrorList
	var warns []string
	c, ok := LookupCilium(v.Cilium)
	if !ok {
		errs = append(errs, &field.Error{Type: field.ErrorTypeNotSupported, Field: path.Child("cilium").String(), BadValue: v.Cilium,
			Detail: fmt.Sprintf("chart %q is not supported (allowed: %s, the newest patch of each supported minor)", v.Cilium, strings.Join(CiliumVersions(), ", "))})
	} else {
		if e := gatewayAPI(c, v, path); e != nil {
			errs = append(errs, e)
		}
		if !slices.Contains(c.Kubernetes, v.Kubernetes) {
			warns = append(warns, fmt.Sprintf("%s: Cilium %s is not tested on Kubernetes %s (tested: %s)", path.Child("kubernetes"), c.Version, v.Kubernetes, strings.Join(c.Kubernetes, ", ")))
		}
	}
	warns = append(warns, toolWarnings("eksctl", Eksctl, v.Eksctl, v.Kubernetes, path.Child("eksctl"))...)
	warns = append(warns, toolWarnings("cert-manager", CertManager, v.CertManager, v.Kubernetes, path.Child("certManager"))...)
	return errs, warns
}

// CheckKarpenter warns when a Karpenter release is unknown to the matrix or not tested on the
// Kubernetes minor.
func CheckKarpenter(version, kubernetes string, path *field.Path) []string {
	return toolWarnings("Karpenter", Karpenter, version, kubernetes, path)
}

// gatewayAPI judges the Gateway API release and channel; path is the versions block.
func gatewayAPI(c Cilium, v model.Versions, versions *field.Path) *field.Error {
	path := versions.Child("gatewayAPI")
	gw := Minor(v.GatewayAPI)
	for _, b := range Breakages {
		if b.Cilium == c.Minor() && slices.Contains(b.GatewayAPI, gw) && (b.Channel == "" || b.Channel == v.GatewayAPIChannel) {
			return field.Invalid(path, v.GatewayAPI, fmt.Sprintf("%s (%s channel) with Cilium %s is known to break: %s (upstream: %s; nearest working pin: %s)",
				v.GatewayAPI, v.GatewayAPIChannel, c.Version, b.What, b.Upstream, b.Pin()))
		}
	}
	if !slices.Contains(c.Channels, v.GatewayAPIChannel) {
		return field.NotSupported(versions.Child("gatewayAPIChannel"), v.GatewayAPIChannel, c.Channels)
	}
	if gw != c.GatewayAPI {
		return field.Invalid(path, v.GatewayAPI, fmt.Sprintf("%s is not the Gateway API release Cilium %s implements (allowed: %s.x, pinned %s)",
			v.GatewayAPI, c.Version, c.GatewayAPI, c.GatewayAPIPin))
	}
	return nil
}

func toolWarnings(name string, tools []Tool, version, kubernetes string, path *field.Path) []string {
	t, ok := lookupTool(tools, version)
	switch {
	case !ok:
		return []string{fmt.Sprintf("%s: %s %s is not in the support matrix (known: %s)", path, name, version, strings.Join(toolVersions(tools), ", "))}
	case !slices.Contains(t.Kubernetes, kubernetes):
		return []string{fmt.Sprintf("%s: %s %s is not tested on Kubernetes %s (tested: %s to %s)", path, name, version, kubernetes, t.Kubernetes[0], t.Kubernetes[len(t.Kubernetes)-1])}
	}
	return nil
}
