// Package upgrade plans an environment's move from its pinned versions to new ones: the
// ordered steps (operator IAM first, Gateway API CRDs before Cilium, one Cilium minor and one
// Kubernetes minor at a time, node roll), the chart values whose default or documented meaning
// changes (computed from the two vendored charts' values.yaml), the operator IAM policy diff,
// the rendered file diff, and the known breakages of the path from the support matrix. Pure:
// the caller passes the environment and the render function.
package upgrade

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/generators"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/support"
	"github.com/enigate/enigate/schema/upstream"
)

// Target is what --to asks for; empty fields keep the current pin (the Gateway API follows
// the target Cilium when its pin no longer fits).
type Target struct{ Cilium, GatewayAPI, Kubernetes string }

// ParseTarget reads "cilium=X[,gatewayAPI=Y,kubernetes=Z]".
func ParseTarget(s string) (Target, error) {
	var t Target
	var errs []string
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			errs = append(errs, fmt.Sprintf("--to: %q is not key=value (allowed keys: cilium, gatewayAPI, kubernetes)", part))
			continue
		}
		switch k {
		case "cilium":
			t.Cilium = v
		case "gatewayAPI":
			t.GatewayAPI = v
		case "kubernetes":
			t.Kubernetes = v
		default:
			errs = append(errs, fmt.Sprintf("--to: unknown key %q (allowed: cilium, gatewayAPI, kubernetes)", k))
		}
	}
	if len(errs) > 0 {
		return Target{}, errors.New(strings.Join(errs, "\n"))
	}
	if t == (Target{}) {
		return Target{}, errors.New("--to: names no version (allowed keys: cilium, gatewayAPI, kubernetes)")
	}
	return t, nil
}

// Input is one plan request.
type Input struct {
	Env model.Environment
	To  Target
	// Render renders an environment's overlay files, as `enigate render` does.
	Render func(model.Environment) ([]generators.File, error)
}

// Versions are the pins a plan moves.
type Versions struct {
	Kubernetes        string `json:"kubernetes"`
	Cilium            string `json:"cilium"`
	GatewayAPI        string `json:"gatewayAPI"`
	GatewayAPIChannel string `json:"gatewayAPIChannel"`
}

// Step is one ordered action, run from the overlay directory.
type Step struct {
	Title    string   `json:"title"`
	Why      string   `json:"why,omitempty"`
	Commands []string `json:"commands,omitempty"`
}

// PathBreakage is a known breakage an intermediate state of the path would hit, and the step
// that avoids it.
type PathBreakage struct {
	State    string `json:"state"`
	What     string `json:"what"`
	Upstream string `json:"upstream"`
	Avoided  string `json:"avoided"`
}

// IAMChange is the difference of one identity's allowed actions.
type IAMChange struct {
	Identity string   `json:"identity"`
	Added    []string `json:"added,omitempty"`
	Removed  []string `json:"removed,omitempty"`
}

// FileChange is one rendered file that differs.
type FileChange struct {
	Path   string `json:"path"`
	Change string `json:"change"` // added, removed, changed
	// Diff is a unified diff; for vendored CRDs only Summary is given.
	Diff    string `json:"diff,omitempty"`
	Summary string `json:"summary,omitempty"`
}

// Plan is the result.
type Plan struct {
	Environment string   `json:"environment"`
	From        Versions `json:"from"`
	To          Versions `json:"to"`
	// Blocked lists why the target cannot be rendered (matrix refusals, render checks): the
	// plan is then incomplete and the command exits 1.
	Blocked   []string       `json:"blocked,omitempty"`
	Warnings  []string       `json:"warnings,omitempty"`
	Steps     []Step         `json:"steps"`
	Breakages []PathBreakage `json:"breakages"`
	Notes     []support.Note `json:"notes"`
	Values    []ValueChange  `json:"values"`
	IAM       []IAMChange    `json:"iam"`
	Files     []FileChange   `json:"files"`

	newCRDs []string // the target render's crds/ files
}

// Make computes the plan. Errors are bad input (unsupported versions, downgrades); a target
// the matrix or the render checks refuse is reported in Plan.Blocked.
func Make(in Input) (*Plan, error) {
	from := in.Env.Versions
	to := from
	if in.To.Cilium != "" {
		to.Cilium = in.To.Cilium
	}
	if in.To.Kubernetes != "" {
		to.Kubernetes = in.To.Kubernetes
	}
	cur, ok := support.LookupCilium(from.Cilium)
	if !ok {
		return nil, fmt.Errorf("versions.cilium: %q of the environment is not supported (allowed: %s)", from.Cilium, strings.Join(support.CiliumVersions(), ", "))
	}
	target, ok := support.LookupCilium(to.Cilium)
	if !ok {
		return nil, fmt.Errorf("--to cilium: %q is not supported (allowed: %s)", to.Cilium, strings.Join(support.CiliumVersions(), ", "))
	}
	switch {
	case in.To.GatewayAPI != "":
		to.GatewayAPI = in.To.GatewayAPI
	case support.Minor(from.GatewayAPI) != target.GatewayAPI:
		to.GatewayAPI = target.GatewayAPIPin
	}
	if ciliumIndex(target.Version) < ciliumIndex(cur.Version) {
		return nil, fmt.Errorf("--to cilium: %s is older than the pinned %s (downgrades are not planned)", to.Cilium, from.Cilium)
	}
	fk, tk := support.MinorNumber(from.Kubernetes), support.MinorNumber(to.Kubernetes)
	if fk < 0 || tk < 0 || to.Kubernetes != "1."+strconv.Itoa(tk) {
		return nil, fmt.Errorf("--to kubernetes: %q is not a Kubernetes minor like 1.35", to.Kubernetes)
	}
	if tk < fk {
		return nil, fmt.Errorf("--to kubernetes: %s is older than the pinned %s (EKS cannot downgrade a cluster)", to.Kubernetes, from.Kubernetes)
	}
	if to == from {
		return nil, fmt.Errorf("--to: the environment already pins cilium %s, gatewayAPI %s, kubernetes %s", from.Cilium, from.GatewayAPI, from.Kubernetes)
	}

	p := &Plan{Environment: in.Env.Name, From: versionsOf(from), To: versionsOf(to), Breakages: []PathBreakage{}, Notes: []support.Note{}, IAM: []IAMChange{}, Files: []FileChange{}}
	errs, warns := support.Check(to, field.NewPath("versions"))
	for _, e := range errs {
		p.Blocked = append(p.Blocked, e.Field+": "+e.Detail)
	}
	p.Warnings = warns

	next := in.Env
	next.Versions = to
	oldFiles, err := in.Render(in.Env)
	if err != nil {
		return nil, fmt.Errorf("render the current environment: %w", err)
	}
	var newFiles []generators.File
	if len(p.Blocked) == 0 {
		newFiles, err = in.Render(next)
		if f, ok := generators.IsFailed(err); ok {
			for _, e := range f.Errors {
				p.Blocked = append(p.Blocked, e.Field+": "+e.Detail)
			}
		} else if err != nil {
			return nil, fmt.Errorf("render the target environment: %w", err)
		}
	}

	// Values: the two charts' values.yaml.
	fromValues, err := upstream.CiliumChartValues(from.Cilium)
	if err != nil {
		return nil, err
	}
	toValues, err := upstream.CiliumChartValues(to.Cilium)
	if err != nil {
		return nil, err
	}
	rendered := renderedValueKeys(oldFiles, newFiles)
	if p.Values, err = valueChanges(fromValues, toValues, rendered); err != nil {
		return nil, err
	}
	if p.Values == nil {
		p.Values = []ValueChange{}
	}
	if newFiles != nil {
		for _, f := range newFiles {
			if strings.HasPrefix(f.Path, "crds/gateway.networking.") {
				p.newCRDs = append(p.newCRDs, f.Path)
			}
		}
		slices.Sort(p.newCRDs)
		p.IAM = iamDiff(oldFiles, newFiles)
		p.Files = fileDiff(oldFiles, newFiles)
	}
	for _, c := range support.Ciliums[ciliumIndex(cur.Version)+1 : ciliumIndex(target.Version)+1] {
		p.Notes = append(p.Notes, c.UpgradeNotes...)
	}
	p.Steps, p.Breakages = steps(in.Env, from, to, p)
	return p, nil
}

func versionsOf(v model.Versions) Versions {
	return Versions{Kubernetes: v.Kubernetes, Cilium: v.Cilium, GatewayAPI: v.GatewayAPI, GatewayAPIChannel: v.GatewayAPIChannel}
}

func ciliumIndex(version string) int {
	return slices.IndexFunc(support.Ciliums, func(c support.Cilium) bool { return c.Version == version })
}
