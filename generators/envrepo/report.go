package envrepo

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Report is the difference between an environment's tree and the rendered files. Its JSON
// form is `enigate diff -o json`.
type Report struct {
	Repo   string `json:"repo"`
	Branch string `json:"branch"`
	Path   string `json:"path"`
	// Base is the commit compared against, "" when the branch does not exist yet.
	Base string `json:"base"`
	// Changed is true when the environment would change (any file differs).
	Changed     bool           `json:"changed"`
	Objects     []ObjectChange `json:"objects"`
	Files       []FileChange   `json:"files"`
	RBACWidened []Widening     `json:"rbacWidened"`
}

// HasChanges reports whether pushing would change the environment.
func (r *Report) HasChanges() bool { return len(r.Files) > 0 }

var changeMark = map[string]string{"added": "+", "removed": "-", "changed": "~"}

// WriteText writes the report for people: objects added (+), removed (-) and changed (~) with
// their changed fields, widened RBAC, then files.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	base := r.Base
	if base == "" {
		base = "new branch"
	} else {
		base = short(base)
	}
	where := fmt.Sprintf("%s branch %s path %s (%s)", r.Repo, r.Branch, r.Path, base)
	if !r.HasChanges() {
		fmt.Fprintf(&b, "no changes: %s holds the rendered files\n", where)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "diff against %s: %s\n", where, r.summary())
	for _, o := range r.Objects {
		fmt.Fprintf(&b, "%s %s", changeMark[o.Change], o.ObjectID)
		if o.In != "" && o.ObjectID.File == "" {
			fmt.Fprintf(&b, "  (%s)", o.In)
		}
		b.WriteString("\n")
		for _, f := range o.Fields {
			fmt.Fprintf(&b, "    %s: %s\n", f.Path, describeField(f))
		}
	}
	if len(r.RBACWidened) > 0 {
		b.WriteString("RBAC widened:\n")
		for _, wd := range r.RBACWidened {
			for _, g := range wd.Grants {
				fmt.Fprintf(&b, "  ! %s: %s\n", wd.Object, g)
			}
		}
	}
	b.WriteString("files:\n")
	for _, f := range r.Files {
		fmt.Fprintf(&b, "  %s %s\n", changeMark[f.Change], f.Path)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// summary counts changes: "2 objects added, 1 changed, 1 removed; 3 files".
func (r *Report) summary() string {
	n := map[string]int{}
	for _, o := range r.Objects {
		n[o.Change]++
	}
	s := fmt.Sprintf("objects %d added, %d changed, %d removed; %d files", n["added"], n["changed"], n["removed"], len(r.Files))
	if len(r.RBACWidened) > 0 {
		s += fmt.Sprintf("; RBAC widened in %d objects", len(r.RBACWidened))
	}
	return s
}

func describeField(f FieldChange) string {
	switch f.Change {
	case "added":
		return "added " + compact(f.New)
	case "removed":
		return "removed " + compact(f.Old)
	}
	return compact(f.Old) + " -> " + compact(f.New)
}

// compact renders a value as one line of JSON, shortened past 80 characters.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// maxMessageObjects caps the object list of a commit message.
const maxMessageObjects = 200

// CommitMessage is the message Push commits: the subject, the source commit, the changed
// objects (+ added, ~ changed, - removed), widened RBAC and the changed files.
func CommitMessage(subject, source string, r *Report) string {
	if subject == "" {
		subject = "enigate: update environment"
	}
	var b strings.Builder
	b.WriteString(strings.TrimSpace(subject))
	b.WriteString("\n\n")
	if source != "" {
		fmt.Fprintf(&b, "Source: %s\n\n", source)
	}
	fmt.Fprintf(&b, "Objects (%s):\n", r.summary())
	for i, o := range r.Objects {
		if i == maxMessageObjects {
			fmt.Fprintf(&b, "  ... and %d more\n", len(r.Objects)-i)
			break
		}
		fmt.Fprintf(&b, "  %s %s\n", changeMark[o.Change], o.ObjectID)
	}
	if len(r.RBACWidened) > 0 {
		b.WriteString("\nRBAC widened:\n")
		for _, wd := range r.RBACWidened {
			for _, g := range wd.Grants {
				fmt.Fprintf(&b, "  ! %s: %s\n", wd.Object, g)
			}
		}
	}
	b.WriteString("\nFiles:\n")
	for i, f := range r.Files {
		if i == maxMessageObjects {
			fmt.Fprintf(&b, "  ... and %d more\n", len(r.Files)-i)
			break
		}
		fmt.Fprintf(&b, "  %s %s\n", changeMark[f.Change], f.Path)
	}
	return b.String()
}
