package envtest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ObjectError is one object's failure in DryRunApply; errors.As reaches the API error
// (apierrors.IsInvalid, IsForbidden, ...) through Unwrap.
type ObjectError struct {
	Kind, Namespace, Name string
	Err                   error
}

// Error is `kind/namespace/name: message` (`kind/name` when cluster-scoped), on one line.
func (e *ObjectError) Error() string {
	ref := e.Kind + "/" + e.Name
	if e.Namespace != "" {
		ref = e.Kind + "/" + e.Namespace + "/" + e.Name
	}
	return ref + ": " + strings.ReplaceAll(e.Err.Error(), "\n", "; ")
}

func (e *ObjectError) Unwrap() error { return e.Err }

// DryRunApply server-side applies every object with dry-run=All and field manager
// FieldManager, so admission (OpenAPI schema, CEL, webhooks) judges them without storing
// anything. It first creates, for real, the namespaces the objects live in (EnsureNamespaces).
// It returns every failure joined, one *ObjectError per line, or nil.
//
// Objects are judged independently: a CRD in objs is not installed for the objects after it.
func (e *Env) DryRunApply(ctx context.Context, objs []*unstructured.Unstructured) error {
	if err := e.EnsureNamespaces(ctx, objs); err != nil {
		return err
	}
	var errs []error
	for _, obj := range objs {
		err := e.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj.DeepCopy()),
			client.FieldOwner(FieldManager), client.ForceOwnership, client.DryRunAll)
		if err != nil {
			errs = append(errs, &ObjectError{Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName(), Err: err})
		}
	}
	return errors.Join(errs...)
}

// EnsureNamespaces creates each namespace that an object in objs names in
// metadata.namespace, unless it exists.
func (e *Env) EnsureNamespaces(ctx context.Context, objs []*unstructured.Unstructured) error {
	seen := map[string]bool{}
	for _, obj := range objs {
		name := obj.GetNamespace()
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := e.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("namespace %s: %w", name, err)
		}
	}
	return nil
}
