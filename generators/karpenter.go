package generators

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/generators/karpenter"
	"github.com/enigate/enigate/generators/manifest"
	"github.com/enigate/enigate/schema/capacity"
	"github.com/enigate/enigate/schema/checks"
	"github.com/enigate/enigate/schema/crdvalidation"
	"github.com/enigate/enigate/schema/model"
)

// poolMaxPods is a pool's rendered kubelet maxPods (0 when the pool is in error: reported by
// karpenterChecks).
func poolMaxPods(env model.Environment) func(model.NodePool) int {
	return func(p model.NodePool) int {
		n, err := capacity.MaxPodsForPool(env, p)
		if err != nil {
			return 0
		}
		return n
	}
}

// karpenterChecks are the node pools' checks: the pinned Karpenter vendored, every pool's
// instance set and bound, what the objects need from the VPC, and the rendered EC2NodeClasses
// and NodePools judged offline against the pinned CRDs' schemas and CEL rules.
func karpenterChecks(env model.Environment) checks.Report {
	var r checks.Report
	if !karpenter.Enabled(env) {
		return r
	}
	if !karpenter.Vendored(env.Versions.Karpenter) {
		r.Errors = append(r.Errors, field.NotSupported(field.NewPath("versions", "karpenter"), env.Versions.Karpenter, karpenter.VendoredVersions()))
		return r
	}
	errs, warnings := capacity.ValidateNodePools(env, nil)
	r.Errors = append(r.Errors, errs...)
	r.Warnings = append(r.Warnings, warnings...)
	r.Errors = append(r.Errors, karpenter.Validate(env, nil)...)
	if len(r.Errors) > 0 {
		return r
	}
	objs, err := karpenter.Objects(env, poolMaxPods(env))
	if err != nil {
		r.Errors = append(r.Errors, problem(karpenter.NodePoolsFile, err))
		return r
	}
	crds, err := karpenter.CRDs(env.Versions.Karpenter)
	if err != nil {
		r.Errors = append(r.Errors, problem("crds", err))
		return r
	}
	files := make([][]byte, len(crds))
	for i, c := range crds {
		files[i] = c.Data
	}
	set, err := crdvalidation.NewSet(files...)
	if err != nil {
		r.Errors = append(r.Errors, problem("crds", err))
		return r
	}
	for _, o := range objs {
		m, err := manifest.ToMap(o)
		if err != nil {
			r.Errors = append(r.Errors, problem(karpenter.NodePoolsFile, err))
			continue
		}
		md, _ := m["metadata"].(map[string]any)
		for _, e := range set.Validate(context.Background(), m) {
			r.Errors = append(r.Errors, &field.Error{Type: e.Type, Field: fmt.Sprintf("karpenter.nodePools[%v]", md["name"]), BadValue: e.BadValue,
				Detail: fmt.Sprintf("rendered %v %s: %s", m["kind"], e.Field, e.Detail)})
		}
	}
	return r
}

// karpenterFiles adds Karpenter's files to the overlay: CRD names for crds/, the chart's
// values, the CloudFormation template, and the pools' objects (a root resource, so GitOps
// owns them).
func karpenterFiles(env model.Environment, s *fileSet) (crdNames []string, resources []string, err error) {
	if !karpenter.Enabled(env) {
		return nil, nil, nil
	}
	crds, err := karpenter.CRDs(env.Versions.Karpenter)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range crds {
		s.raw("crds/"+c.Name, append([]byte(manifest.Header(env.Source)), c.Data...))
		crdNames = append(crdNames, c.Name)
	}
	cfn, err := karpenter.CloudFormation(env.Versions.Karpenter)
	if err != nil {
		return nil, nil, err
	}
	s.raw(karpenter.CloudFormationFile, append([]byte(manifest.Header(env.Source)), cfn...))
	s.yaml(karpenter.ValuesFile, karpenter.Values(env))
	objs, err := karpenter.Objects(env, poolMaxPods(env))
	if err != nil {
		return nil, nil, err
	}
	s.yaml(karpenter.NodePoolsFile, objs...)
	return crdNames, []string{karpenter.NodePoolsFile}, nil
}
