package checks

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/schema/crdvalidation"
)

// Object is a rendered in-cluster object and where its problems are reported.
type Object struct {
	// Obj is the object as written (JSON-shaped).
	Obj map[string]any
	// Path is the declaration field the object comes from (routes[web], gateways[shared]), or
	// the overlay file for objects no single field declares.
	Path string
	// Remap turns a path inside the object into the declaration's path for it, when the
	// declaration spells that field (routes[web].spec.rules[0] for spec.rules[0]); without it,
	// or when it returns false, the problem is reported at Path, naming the object and field.
	Remap func(objectPath string) (string, bool)
}

// Objects judges each object as the kube-apiserver would on create, with the pinned CRDs'
// OpenAPI schemas and CEL rules (crdvalidation), objects in parallel. Every problem is one
// error, in object order.
func Objects(set *crdvalidation.Set, objs []Object) Report {
	results := make([]field.ErrorList, len(objs))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(objs)) {
		wg.Go(func() {
			for i := range jobs {
				results[i] = objectErrors(set, objs[i])
			}
		})
	}
	for i := range objs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	var r Report
	for _, errs := range results {
		r.Errors = append(r.Errors, errs...)
	}
	return r
}

func objectErrors(set *crdvalidation.Set, o Object) field.ErrorList {
	var out field.ErrorList
	for _, e := range set.Validate(context.Background(), o.Obj) {
		if o.Remap != nil {
			if p, ok := o.Remap(e.Field); ok {
				out = append(out, &field.Error{Type: field.ErrorTypeInvalid, Field: p, Detail: e.ErrorBody()})
				continue
			}
		}
		out = append(out, &field.Error{Type: field.ErrorTypeInvalid, Field: o.Path, Detail: fmt.Sprintf("%s %s: %s: %s", kindOf(o.Obj), nameOf(o.Obj), e.Field, e.ErrorBody())})
	}
	return out
}

func kindOf(obj map[string]any) string {
	k, _ := obj["kind"].(string)
	return k
}

// nameOf is namespace/name, or name for cluster-scoped objects.
func nameOf(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	if ns, _ := md["namespace"].(string); ns != "" {
		return ns + "/" + name
	}
	return name
}
