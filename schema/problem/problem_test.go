package problem

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestLines(t *testing.T) {
	p := field.NewPath("teams").Key("team-a").Child("hostnames").Index(0)
	tests := []struct {
		name string
		errs field.ErrorList
		want []string
	}{
		{name: "detail is the line", errs: field.ErrorList{field.Invalid(p, "x", "is not a DNS name (a hostname like shop.example.com)")},
			want: []string{"teams[team-a].hostnames[0]: is not a DNS name (a hostname like shop.example.com)"}},
		{name: "not found names the value", errs: field.ErrorList{field.NotFound(p, "web")},
			want: []string{`teams[team-a].hostnames[0]: Not found: "web"`}},
		{name: "not found with a detail", errs: field.ErrorList{{Type: field.ErrorTypeNotFound, Field: p.String(), BadValue: "web", Detail: "gateways: public"}},
			want: []string{"teams[team-a].hostnames[0]: web not found (gateways: public)"}},
		{name: "no detail falls back to the long form", errs: field.ErrorList{field.Required(p, "")},
			want: []string{"teams[team-a].hostnames[0]: Required value"}},
		{name: "nil skipped, order kept", errs: field.ErrorList{nil, field.Invalid(p, 1, "b"), field.Invalid(p, 2, "a")},
			want: []string{"teams[team-a].hostnames[0]: b", "teams[team-a].hostnames[0]: a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Lines(tt.errs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lines = %q, want %q", got, tt.want)
			}
		})
	}
}
