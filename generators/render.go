package generators

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/enigate/enigate/generators/cilium"
	"github.com/enigate/enigate/generators/crds"
	"github.com/enigate/enigate/generators/eksctl"
	"github.com/enigate/enigate/generators/envrepo"
	"github.com/enigate/enigate/generators/gateway"
	"github.com/enigate/enigate/generators/lbc"
	"github.com/enigate/enigate/generators/manifest"
	"github.com/enigate/enigate/generators/origin"
	"github.com/enigate/enigate/generators/promcrds"
	"github.com/enigate/enigate/generators/rbac"
	"github.com/enigate/enigate/schema/capacity"
	"github.com/enigate/enigate/schema/checks"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/support"
)

// Result is a successful render: the overlay's files and what the summary prints.
type Result struct {
	Files    []File
	Warnings []string
	// Capacity rows per node group and per AZ, for the summary table.
	NodeGroups []capacity.NodeGroupRow
	Subnets    []capacity.SubnetRow
}

// Failed is a render stopped by its checks: every problem, with field paths.
type Failed struct {
	Errors   field.ErrorList
	Warnings []string
	// From maps the paths of problems found in rendered artifacts (cilium.values.*, eksctl.*)
	// to where the user declared the value; From.Of(path) is the declaration path.
	From origin.Map
}

func (f *Failed) Error() string {
	return fmt.Sprintf("%d problems", len(f.Errors))
}

// Extra generators for enigate's own components, wired by the caller (cmd) so this package
// does not depend on their implementations.
type Extra struct {
	// Name is the file under enigate/ (e.g. "webhook.yaml").
	Name string
	// Objects renders the component's objects for an environment.
	Objects func(model.Environment) ([]any, error)
}

// Render runs every check, and only if all pass, renders the overlay's files. Rendering is
// deterministic: the same environment gives the same bytes.
func Render(env model.Environment, extras ...Extra) (*Result, error) {
	// The Cilium values check (the chart's schema, compiled on first use) runs beside the
	// others; checks are pure, so the order of their reports is all that is kept.
	values, valuesFrom := cilium.Render(env)
	valuesPath := field.NewPath("cilium", "values")
	var ciliumReport checks.Report
	ciliumDone := make(chan struct{})
	go func() {
		defer close(ciliumDone)
		ciliumReport = checks.CiliumValues(env, values, valuesPath)
	}()

	var rep checks.Report
	rep.Add(checks.Environment(env, crds.Versions()))
	if want := strings.TrimPrefix(eksctl.LBCVersion, "v"); env.Versions.AWSLoadBalancerController != want {
		rep.Errors = append(rep.Errors, &field.Error{Type: field.ErrorTypeInvalid, Field: "versions.awsLoadBalancerController",
			Detail: fmt.Sprintf("chart %q is not the one enigate vendors the IAM policy of (allowed: %s)", env.Versions.AWSLoadBalancerController, want)})
	}

	clusterCfg := eksctl.Cluster(env)
	clusterPath := field.NewPath("eksctl", "cluster")
	rep.Add(checks.EksctlCluster(env, clusterCfg, clusterPath))
	maxPods := func(ng model.NodeGroup) int {
		n, err := capacity.MaxPodsFor(env, ng)
		if err != nil {
			return 0 // reported by checks.Environment
		}
		return n
	}
	nodeCfg := eksctl.NodeGroups(env, maxPods)
	nodePath := field.NewPath("eksctl", "nodegroups")
	rep.Add(checks.EksctlNodeGroups(env, nodeCfg, nodePath))
	idCfg := eksctl.Identities(env)
	idPath := field.NewPath("eksctl", "identities")
	rep.Add(checks.EksctlIdentities(env, idCfg, idPath))
	karp := make(chan checks.Report, 1) // the Karpenter CRDs compile beside the other checks
	go func() { karp <- karpenterChecks(env) }()

	routes, errs := gateway.Routes(env, field.NewPath("routes"))
	rep.Errors = append(rep.Errors, errs...)
	grants := gateway.ReferenceGrants(env, routes)
	objects := objectChecks(env, routes, grants) // the pinned CRDs' schemas and CEL rules
	rep.Add(declarationChecks(env, routes))
	if len(errs) == 0 {
		rep.Add(checks.Routes(env, routes, grants))
	}
	<-ciliumDone
	rep.Add(ciliumReport)
	rep.Add(objects())
	rep.Add(<-karp)
	if len(rep.Errors) > 0 {
		from := origin.Map{}
		from.Under(valuesPath.String(), valuesFrom)
		// the eksctl configs are rendered, then the overrides deep-merged over them
		from.Override(clusterPath.String(), "overrides.eksctlCluster", env.Overrides.EksctlCluster)
		from.Override(nodePath.String(), "overrides.eksctlNodeGroups", env.Overrides.EksctlNodeGroups)
		from.Override(idPath.String(), "overrides.eksctlIdentities", env.Overrides.EksctlIdentities)
		return nil, &Failed{Errors: rep.Errors, Warnings: checks.SortedWarnings(rep.Warnings), From: from}
	}

	r := &Result{Warnings: checks.SortedWarnings(rep.Warnings), NodeGroups: capacity.NodeGroupUsage(env)}
	r.Subnets, _, _ = capacity.SubnetUsage(env, nil)
	files, err := renderFiles(env, clusterCfg, idCfg, nodeCfg, values, routes, grants, extras)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", env.Name, err)
	}
	// Render never writes what push would refuse (key material, Secret data, placeholders):
	// one check, the environment repository's.
	if unsafe := envrepo.Check(files); len(unsafe) > 0 {
		return nil, &Failed{Errors: unsafe}
	}
	r.Files = files
	return r, nil
}

// fileSet collects the overlay's files in order; YAML files are marshalled by finish, in
// parallel (marshalling is most of a large render's time).
type fileSet struct {
	source string
	files  []File
	objs   map[int][]any // index in files -> objects still to marshal
}

func (s *fileSet) yaml(path string, objs ...any) {
	if s.objs == nil {
		s.objs = map[int][]any{}
	}
	s.objs[len(s.files)] = objs
	s.files = append(s.files, File{Path: path})
}

func (s *fileSet) raw(path string, data []byte) {
	s.files = append(s.files, File{Path: path, Data: data})
}

// finish marshals the pending YAML files on every CPU and returns the files in order.
func (s *fileSet) finish() ([]File, error) {
	jobs := make(chan int)
	errs := make([]error, len(s.files))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range jobs {
				s.files[i].Data, errs[i] = manifest.YAML(s.source, s.objs[i]...)
				if errs[i] != nil {
					errs[i] = fmt.Errorf("%s: %w", s.files[i].Path, errs[i])
				}
			}
		})
	}
	for i := range s.objs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return s.files, errors.Join(errs...)
}

func renderFiles(env model.Environment, clusterCfg, idCfg, nodeCfg, values map[string]any, routes []*gwv1.HTTPRoute, grants []*gwv1b1.ReferenceGrant, extras []Extra) ([]File, error) {
	s := &fileSet{source: env.Source}
	s.yaml(eksctl.ClusterFile, clusterCfg)
	s.yaml(eksctl.IdentitiesFile, idCfg)
	s.yaml(eksctl.NodeGroupsFile, nodeCfg)
	s.yaml("cilium/values.yaml", values)
	s.yaml(lbc.ValuesFile, lbc.Values(env))
	if cilium.NeedsCustomCNI(env) {
		s.yaml("cilium/cni-configuration.yaml", cniConfigMap(env))
	}
	s.yaml("versions.yaml", versions(env))

	// CRDs: applied before Cilium (phase 2) and kept in the overlay so GitOps owns them.
	crdFiles, err := gatewayCRDs(env)
	if err != nil {
		return nil, err
	}
	var crdNames []string
	for _, f := range crdFiles {
		s.raw("crds/"+f.Name, append([]byte(manifest.Header(env.Source)), f.Data...))
		crdNames = append(crdNames, f.Name)
	}
	if env.Cilium.ServiceMonitors {
		names := []string{promcrds.ServiceMonitorFile}
		if env.Enigate.NodeVerify {
			// the node verifier's PodMonitor and PrometheusRule (generators/deploy)
			names = append(names, promcrds.PodMonitorFile, promcrds.PrometheusRuleFile)
		}
		for _, name := range names {
			b, err := promcrds.File(name)
			if err != nil {
				return nil, err
			}
			s.raw("crds/"+name, append([]byte(manifest.Header(env.Source)), b...))
			crdNames = append(crdNames, name)
		}
	}
	karpenterCRDs, karpenterResources, err := karpenterFiles(env, s)
	if err != nil {
		return nil, err
	}
	crdNames = append(crdNames, karpenterCRDs...)
	s.yaml("crds/kustomization.yaml", kustomization(crdNames, nil))

	var nsObjs []any
	for _, ns := range gateway.Namespaces(env) {
		nsObjs = append(nsObjs, ns)
	}
	s.yaml("namespaces.yaml", nsObjs...)
	s.yaml("gateway/gatewayclass.yaml", gateway.Class(env)...)
	if gws := gateway.Gateways(env); len(gws) > 0 {
		s.yaml("gateway/gateways.yaml", gws...)
	}
	resources := []string{"crds", "namespaces.yaml", "gateway/gatewayclass.yaml"}
	resources = append(resources, karpenterResources...)
	if len(env.Gateways) > 0 {
		resources = append(resources, "gateway/gateways.yaml")
	}
	if len(grants) > 0 {
		objs := make([]any, len(grants))
		for i, g := range grants {
			objs[i] = g
		}
		s.yaml("gateway/referencegrants.yaml", objs...)
		resources = append(resources, "gateway/referencegrants.yaml")
	}
	byTeam := map[string][]any{}
	var teams []string
	for i, r := range routes {
		team := env.Routes[i].Team
		if _, ok := byTeam[team]; !ok {
			teams = append(teams, team)
		}
		byTeam[team] = append(byTeam[team], routeManifest(r, env.Routes[i].Spec))
	}
	for _, t := range teams {
		p := "routes/" + t + ".yaml"
		s.yaml(p, byTeam[t]...)
		resources = append(resources, p)
	}
	var grantNS []string
	for _, g := range grants {
		grantNS = append(grantNS, g.Namespace)
	}
	s.yaml("rbac/rbac.yaml", rbac.Objects(env, grantNS)...)
	resources = append(resources, "rbac/rbac.yaml")

	var generators []map[string]any
	for _, x := range extras {
		objs, err := x.Objects(env)
		if err != nil {
			return nil, fmt.Errorf("enigate/%s: %w", x.Name, err)
		}
		if len(objs) == 0 {
			continue
		}
		s.yaml("enigate/"+x.Name, objs...)
		resources = append(resources, "enigate/"+x.Name)
	}
	if env.Enigate.NodeVerify {
		generators = append(generators, map[string]any{
			"name":      NodeVerifyValuesConfigMap,
			"namespace": env.Enigate.Namespace,
			"files":     []any{"values.yaml=cilium/values.yaml", "versions.yaml=versions.yaml"},
		})
	}
	s.yaml("kustomization.yaml", kustomization(resources, generators))
	s.raw("ROLLOUT.md", []byte(Rollout(env)))
	return s.finish()
}

// routeManifest is a route as written: its metadata and the declared spec, which
// gateway.Routes has already decoded strictly (no reflection round trip for 1,000 routes).
func routeManifest(r *gwv1.HTTPRoute, spec map[string]any) map[string]any {
	labels := map[string]any{}
	for k, v := range r.Labels {
		labels[k] = v
	}
	return map[string]any{
		"apiVersion": r.APIVersion,
		"kind":       r.Kind,
		"metadata":   map[string]any{"name": r.Name, "namespace": r.Namespace, "labels": labels},
		"spec":       spec,
	}
}

// NodeVerifyValuesConfigMap carries the rendered values to the node verify job (kustomize
// configMapGenerator, so a values change rolls the DaemonSet).
const NodeVerifyValuesConfigMap = "enigate-node-verify-values"

// gatewayCRDs are the pinned Gateway API CRDs, plus the experimental TLSRoute where the pinned
// Cilium operator watches it at v1alpha2 (the support matrix: 1.18, 1.19).
func gatewayCRDs(env model.Environment) ([]crds.File, error) {
	var extra []string
	if support.ExperimentalTLSRoute(env.Versions.Cilium) {
		extra = append(extra, "tlsroutes")
	}
	return crds.GatewayAPI(env.Versions.GatewayAPI, env.Versions.GatewayAPIChannel, extra...)
}

func kustomization(resources []string, generators []map[string]any) map[string]any {
	res := make([]any, len(resources))
	for i, r := range resources {
		res[i] = r
	}
	k := map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1",
		"kind":       "Kustomization",
		"resources":  res,
	}
	if len(generators) > 0 {
		g := make([]any, len(generators))
		for i, x := range generators {
			g[i] = x
		}
		k["configMapGenerator"] = g
	}
	return k
}

func versions(env model.Environment) map[string]any {
	v := env.Versions
	return map[string]any{
		"kubernetes":                v.Kubernetes,
		"cilium":                    v.Cilium,
		"gatewayAPI":                v.GatewayAPI,
		"gatewayAPIChannel":         v.GatewayAPIChannel,
		"eksctl":                    v.Eksctl,
		"certManager":               v.CertManager,
		"enigate":                   v.Enigate,
		"enigateImage":              env.EnigateImage(),
		"awsLoadBalancerController": v.AWSLoadBalancerController,
		"karpenter":                 v.Karpenter,
	}
}

func cniConfigMap(env model.Environment) map[string]any {
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": cilium.CustomCNIConfigMap, "namespace": "kube-system"},
		"data":       map[string]any{"cni-config": cilium.CNIConfig(env)},
	}
}

// IsFailed reports whether err is a render stopped by checks, and returns it.
func IsFailed(err error) (*Failed, bool) {
	var f *Failed
	ok := errors.As(err, &f)
	return f, ok
}
