package generators

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/enigate/enigate/generators/gateway"
	"github.com/enigate/enigate/generators/manifest"
	"github.com/enigate/enigate/generators/rbac"
	"github.com/enigate/enigate/schema/checks"
	"github.com/enigate/enigate/schema/crdvalidation"
	"github.com/enigate/enigate/schema/model"
)

// objectChecks starts judging the in-cluster objects the overlay renders from the declaration
// (GatewayClass and its CiliumGatewayClassConfig, Gateways, Certificates, HTTPRoutes,
// ReferenceGrants, namespaces, RBAC) against the pinned CRDs, beside the other checks, and
// returns a function that waits for the report. routes are the routes that decoded.
func objectChecks(env model.Environment, routes []*gwv1.HTTPRoute, grants []*gwv1b1.ReferenceGrant) func() checks.Report {
	done := make(chan checks.Report, 1)
	go func() { done <- inClusterReport(env, routes, grants) }()
	return func() checks.Report { return <-done }
}

// declarationChecks are the semantic checks of the declaration, on today's date (the EKS
// support calendar).
func declarationChecks(env model.Environment, routes []*gwv1.HTTPRoute) checks.Report {
	return checks.Declaration(env, routes, time.Now().UTC())
}

// CRDValidationSet is the offline validator render judges an environment's in-cluster objects
// with: the Gateway API CRDs the environment pins (release, channel, and the experimental
// TLSRoute where its Cilium needs it) plus every other vendored CRD. Tests build theirs here too.
func CRDValidationSet(env model.Environment) (*crdvalidation.Set, error) {
	crdFiles, err := gatewayCRDs(env)
	if err != nil {
		return nil, err
	}
	files := crdvalidation.Vendored()
	for _, f := range crdFiles {
		files = append(files, f.Data)
	}
	return crdvalidation.NewSet(files...)
}

func inClusterReport(env model.Environment, routes []*gwv1.HTTPRoute, grants []*gwv1b1.ReferenceGrant) checks.Report {
	if _, err := gatewayCRDs(env); err != nil {
		return checks.Report{} // an unvendored Gateway API version is reported by checks.Environment
	}
	set, err := CRDValidationSet(env)
	if err != nil {
		return checks.Report{Errors: field.ErrorList{problem("crds", err)}}
	}
	objs, errs := inClusterObjects(env, routes, grants)
	r := checks.Objects(set, objs)
	r.Errors = append(errs, r.Errors...)
	return r
}

func inClusterObjects(env model.Environment, routes []*gwv1.HTTPRoute, grants []*gwv1b1.ReferenceGrant) ([]checks.Object, field.ErrorList) {
	var objs []checks.Object
	var errs field.ErrorList
	add := func(obj any, path string, remap func(string) (string, bool)) {
		m, err := manifest.ToMap(obj)
		if err != nil {
			errs = append(errs, problem(path, err))
			return
		}
		objs = append(objs, checks.Object{Obj: m, Path: path, Remap: remap})
	}
	for _, o := range gateway.Class(env) {
		add(o, "gateway/gatewayclass.yaml", nil)
	}
	for _, o := range gateway.DeclaredGateways(env) {
		var remap func(string) (string, bool)
		if gw, ok := o.Obj.(*gwv1.Gateway); ok {
			remap = gatewayRemap(o.From.String(), gw)
		}
		add(o.Obj, o.From.String(), remap)
	}
	for _, g := range grants {
		add(g, "gateway/referencegrants.yaml", nil)
	}
	decoded := map[string]*gwv1.HTTPRoute{}
	for _, r := range routes {
		decoded[r.Name] = r
	}
	for _, decl := range env.Routes {
		r, ok := decoded[decl.Name]
		if !ok {
			continue // its spec did not decode; reported by gateway.Routes
		}
		p := "routes[" + decl.Name + "]"
		add(routeManifest(r, decl.Spec), p, func(f string) (string, bool) { return p + "." + f, true })
	}
	for _, ns := range gateway.Namespaces(env) {
		add(ns, "namespaces.yaml", nil)
	}
	var grantNS []string
	for _, g := range grants {
		grantNS = append(grantNS, g.Namespace)
	}
	for _, o := range rbac.Objects(env, grantNS) {
		add(o, "rbac/rbac.yaml", nil)
	}
	return objs, errs
}

func problem(path string, err error) *field.Error {
	return &field.Error{Type: field.ErrorTypeInvalid, Field: path, Detail: err.Error()}
}

var listenerIndex = regexp.MustCompile(`^spec\.listeners\[(\d+)\](.*)$`)

// gatewayRemap points a Gateway's listener and annotation problems at the declared listener
// (gateways[web].listeners[https].hostname) and annotations.
func gatewayRemap(base string, gw *gwv1.Gateway) func(string) (string, bool) {
	return func(f string) (string, bool) {
		if m := listenerIndex.FindStringSubmatch(f); m != nil {
			var i int
			fmt.Sscan(m[1], &i)
			if i < len(gw.Spec.Listeners) {
				return base + ".listeners[" + string(gw.Spec.Listeners[i].Name) + "]" + m[2], true
			}
		}
		if rest, ok := strings.CutPrefix(f, "spec.infrastructure.annotations"); ok {
			return base + ".annotations" + rest, true
		}
		return "", false
	}
}
