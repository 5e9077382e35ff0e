package envrepo

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/enigate/enigate/generators/manifest"
	"github.com/enigate/enigate/schema/checks"
)

// Check returns every reason the files must not be pushed to an environment repository:
// private key material anywhere (PEM "PRIVATE KEY" blocks, also base64-encoded, at any depth
// up to three encodings, inside YAML values, comments or other files), Secrets that carry data
// or stringData, kustomize secretGenerators (which put secret values in git), and placeholders
// left for a human to fill in (REPLACE-WITH-..., k8sServiceHost: auto). Paths are
// the file, the document index when a file has several, then the field.
func Check(files []manifest.File) field.ErrorList {
	var errs field.ErrorList
	for _, f := range files {
		root := field.NewPath(f.Path)
		var fileErrs field.ErrorList
		if isYAML(f.Path) {
			if docs, err := splitDocuments(f.Data); err == nil {
				for i, doc := range docs {
					p := root
					if len(docs) > 1 {
						p = root.Index(i)
					}
					fileErrs = append(fileErrs, checkDocument(p, doc)...)
				}
			}
		}
		if len(fileErrs) == 0 && hasPrivateKey(f.Data, maxDecodeDepth) {
			fileErrs = append(fileErrs, field.Forbidden(root, privateKeyLine(f.Data)+noKeys))
		}
		errs = append(errs, fileErrs...)
	}
	return errs
}

const (
	noKeys    = "private key material (keys never go to git: certificates come from cert-manager or an existing Secret)"
	noSecrets = "(Secrets never go to git: reference an existing Secret, or use cert-manager, External Secrets or SealedSecrets)"
	// maxDecodeDepth bounds nested base64 (a kubeconfig inside a Secret value is two levels).
	maxDecodeDepth = 3
)

func checkDocument(p *field.Path, doc any) field.ErrorList {
	var errs field.ErrorList
	id := identify(doc, "", 0)
	switch {
	case id.Group == "" && id.Kind == "Secret":
		for _, key := range []string{"data", "stringData"} {
			if m, ok := get(doc, key).(map[string]any); ok && len(m) > 0 {
				errs = append(errs, field.Forbidden(p.Child(key), fmt.Sprintf("Secret %s carries %s %s", nsName(id), key, noSecrets)))
			}
		}
	case id.Group == "kustomize.config.k8s.io" && id.Kind == "Kustomization":
		if len(list(get(doc, "secretGenerator"))) > 0 {
			errs = append(errs, field.Forbidden(p.Child("secretGenerator"), "kustomize secretGenerator puts secret values in git "+noSecrets))
		}
	}
	walkStrings(p, doc, func(fp *field.Path, s string) {
		switch {
		case hasPrivateKey([]byte(s), maxDecodeDepth):
			errs = append(errs, field.Forbidden(fp, noKeys))
		case checks.Placeholder(s):
			errs = append(errs, field.Forbidden(fp, fmt.Sprintf("placeholder %q (a cluster would run with it: declare the real value in environment.cue and render)", s)))
		case s == "auto" && strings.HasSuffix(fp.String(), ".k8sServiceHost"):
			errs = append(errs, field.Forbidden(fp, "auto (a Helm lookup that fails under `helm template`, as Argo CD renders: declare cluster.apiServerHost or leave it empty for k8sServiceHostRef)"))
		}
	})
	return errs
}

func nsName(id ObjectID) string {
	if id.Namespace == "" {
		return id.Name
	}
	return id.Namespace + "/" + id.Name
}

// walkStrings calls fn for every string value (and map key) below v.
func walkStrings(p *field.Path, v any, fn func(*field.Path, string)) {
	switch t := v.(type) {
	case string:
		fn(p, t)
	case map[string]any:
		for k, x := range t {
			kp := p.Key(k)
			if plainKey(k) {
				kp = p.Child(k)
			}
			fn(kp, k)
			walkStrings(kp, x, fn)
		}
	case []any:
		for i, x := range t {
			walkStrings(p.Index(i), x, fn)
		}
	}
}

var (
	pemPrivateKey = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----`)
	// base64Token matches runs long enough to hold an encoded PEM header (27 bytes, 36 chars).
	base64Token = regexp.MustCompile(`[A-Za-z0-9+/_-]{36,}={0,2}`)
	whitespace  = regexp.MustCompile(`\s+`)
)

// hasPrivateKey reports whether data holds a PEM private key block, directly or base64-encoded
// up to depth times (line-wrapped encodings included).
func hasPrivateKey(data []byte, depth int) bool {
	if pemPrivateKey.Match(data) {
		return true
	}
	if depth == 0 {
		return false
	}
	candidates := base64Token.FindAll(data, -1)
	if joined := whitespace.ReplaceAll(data, nil); len(joined) != len(data) && base64Token.Match(joined) {
		candidates = append(candidates, base64Token.FindAll(joined, -1)...)
	}
	for _, c := range candidates {
		if decoded, ok := decodeBase64(c); ok && hasPrivateKey(decoded, depth-1) {
			return true
		}
	}
	return false
}

func decodeBase64(tok []byte) ([]byte, bool) {
	s := strings.TrimRight(string(tok), "=")
	if len(s)%4 == 1 {
		s = s[:len(s)-1]
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	out, err := enc.DecodeString(s)
	return out, err == nil
}

// containsPrivateKey reports whether a decoded YAML value holds private key material.
func containsPrivateKey(v any) bool {
	found := false
	walkStrings(field.NewPath(""), v, func(_ *field.Path, s string) {
		found = found || hasPrivateKey([]byte(s), maxDecodeDepth)
	})
	return found
}

// privateKeyLine names the first line holding key material, "" when it spans lines.
func privateKeyLine(data []byte) string {
	for i, line := range bytes.Split(data, []byte("\n")) {
		if hasPrivateKey(line, maxDecodeDepth) {
			return fmt.Sprintf("line %d: ", i+1)
		}
	}
	return ""
}
