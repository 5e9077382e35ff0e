package upgrade

import (
	"fmt"
	"io"
	"strings"
)

// isImage reports whether a chart key is an image reference (tag, digest, repository), which
// every release changes.
func isImage(key string) bool {
	for _, seg := range strings.Split(key, ".") {
		if seg == "image" || seg == "initImage" {
			return true
		}
	}
	return false
}

// WriteText prints the plan for people: steps with their commands, the breakages the order
// avoids, upstream notes, the chart values that change default or meaning (every key enigate
// renders; other keys' default changes and removals; image references and added keys counted),
// the IAM diff and the rendered file diff.
func WriteText(w io.Writer, p *Plan) error {
	var b strings.Builder
	pr := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	pr("Upgrade plan for %s: Cilium %s -> %s, Gateway API %s -> %s (%s), Kubernetes %s -> %s\n",
		p.Environment, p.From.Cilium, p.To.Cilium, p.From.GatewayAPI, p.To.GatewayAPI, p.To.GatewayAPIChannel, p.From.Kubernetes, p.To.Kubernetes)
	if len(p.Blocked) > 0 {
		pr("\nBlocked: the target does not render:\n")
		for _, l := range p.Blocked {
			pr("  %s\n", l)
		}
	}
	if len(p.Warnings) > 0 {
		pr("\nWarnings:\n")
		for _, l := range p.Warnings {
			pr("  %s\n", l)
		}
	}
	pr("\nSteps (run from the overlay directory):\n")
	for i, s := range p.Steps {
		pr("%2d. %s\n", i+1, s.Title)
		if s.Why != "" {
			pr("    why: %s\n", s.Why)
		}
		for _, c := range s.Commands {
			pr("    $ %s\n", c)
		}
	}
	pr("\nKnown breakages on this path (support matrix):\n")
	if len(p.Breakages) == 0 {
		pr("  none recorded\n")
	}
	for _, x := range p.Breakages {
		pr("  - %s: %s (upstream: %s); avoided: %s\n", x.State, x.What, x.Upstream, x.Avoided)
	}
	pr("\nUpstream changes on this path:\n")
	if len(p.Notes) == 0 {
		pr("  none recorded\n")
	}
	for _, n := range p.Notes {
		pr("  - %s (%s)\n", n.What, n.Upstream)
	}

	pr("\nChart values (values.yaml of cilium %s -> %s):\n", p.From.Cilium, p.To.Cilium)
	var rendered, defaults, removed []ValueChange
	images, added, meaning := 0, 0, 0
	for _, v := range p.Values {
		switch {
		case v.Rendered:
			rendered = append(rendered, v)
		case isImage(v.Key) && v.Change == "default":
			images++
		case v.Change == "default":
			defaults = append(defaults, v)
		case v.Change == "removed":
			removed = append(removed, v)
		case v.Change == "added":
			added++
		case v.Change == "meaning":
			meaning++
		}
	}
	pr("  keys enigate renders:\n")
	if len(rendered) == 0 {
		pr("    none changes default or meaning\n")
	}
	for _, v := range rendered {
		pr("    %s\n", describeValue(v))
	}
	if len(defaults) > 0 {
		pr("  other keys whose default changes (they apply unless overridden):\n")
		for _, v := range defaults {
			pr("    %s\n", describeValue(v))
		}
	}
	if len(removed) > 0 {
		pr("  keys removed (an override of one is refused):\n")
		for _, v := range removed {
			pr("    %s\n", v.Key)
		}
	}
	pr("  and %d image references, %d documentation changes, %d added keys (-o json lists them)\n", images, meaning, added)

	pr("\nIAM policy (eksctl/identities.yaml):\n")
	if len(p.IAM) == 0 {
		pr("  unchanged\n")
	}
	for _, c := range p.IAM {
		pr("  %s: +%s -%s\n", c.Identity, strings.Join(c.Added, " +"), strings.Join(c.Removed, " -"))
	}
	pr("\nRendered files:\n")
	if len(p.Files) == 0 && len(p.Blocked) == 0 {
		pr("  unchanged\n")
	}
	for _, f := range p.Files {
		if f.Summary != "" {
			pr("  %s %s: %s\n", f.Change, f.Path, f.Summary)
		} else {
			pr("  %s %s\n", f.Change, f.Path)
		}
	}
	for _, f := range p.Files {
		if f.Diff != "" {
			pr("\n%s", f.Diff)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func describeValue(v ValueChange) string {
	switch v.Change {
	case "default":
		return fmt.Sprintf("%s: default %s -> %s", v.Key, v.From, v.To)
	case "meaning":
		return fmt.Sprintf("%s: documentation now reads %q", v.Key, v.To)
	case "removed":
		return fmt.Sprintf("%s: removed (was %s)", v.Key, v.From)
	}
	return fmt.Sprintf("%s: added (default %s)", v.Key, v.To)
}
