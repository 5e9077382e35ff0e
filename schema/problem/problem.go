// Package problem renders field errors the one way enigate prints every problem: one line
// each, `path: what is wrong (what is allowed)`.
package problem

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Lines formats errs one per line from each error's Detail (the whole sentence), not the
// verbose field.Error.Error() form; an error without a Detail falls back to that form.
func Lines(errs field.ErrorList) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		if e == nil {
			continue
		}
		detail := e.Detail
		switch {
		case detail == "":
			out = append(out, e.Error())
			continue
		case e.Type == field.ErrorTypeNotFound:
			detail = fmt.Sprintf("%v not found (%s)", e.BadValue, detail)
		}
		out = append(out, e.Field+": "+detail)
	}
	return out
}
