package rules

import "k8s.io/apimachinery/pkg/util/validation/field"

// Loc is a field path kept as a value (no allocation) until an error needs it as a
// *field.Path. It holds up to maxLocSteps names, each with an optional index.
type Loc struct {
	n     int
	steps [maxLocSteps]locStep
}

const maxLocSteps = 8

type locStep struct {
	name  string
	index int // -1: no index
}

// NewLoc starts a path at names.
func NewLoc(names ...string) Loc {
	return Loc{}.Child(names...)
}

// Child appends names.
func (l Loc) Child(names ...string) Loc {
	for _, name := range names {
		if l.n < maxLocSteps {
			l.steps[l.n] = locStep{name: name, index: -1}
			l.n++
		}
	}
	return l
}

// Index sets the index of the last name.
func (l Loc) Index(i int) Loc {
	if l.n > 0 {
		l.steps[l.n-1].index = i
	}
	return l
}

// Path builds the *field.Path.
func (l Loc) Path() *field.Path {
	var p *field.Path
	for i := 0; i < l.n; i++ {
		s := l.steps[i]
		if p == nil {
			p = field.NewPath(s.name)
		} else {
			p = p.Child(s.name)
		}
		if s.index >= 0 {
			p = p.Index(s.index)
		}
	}
	return p
}

func (l Loc) String() string { return l.Path().String() }
