package rules

import (
	"strconv"
	"strings"
)

// CleanPath is the one form every path is judged in (route matches at admission and in CI,
// delegated prefixes at render): repeated slashes collapse and percent-encoded unreserved
// characters are decoded (RFC 3986 section 6.2.2.2, as proxies normalise request paths). When
// the path cannot be judged segment by segment it returns a problem instead: a "." or ".."
// segment (also encoded, e.g. %2e%2e), an encoded slash or backslash (%2F, %5C), a backslash,
// or a malformed escape.
func CleanPath(p string) (clean, problem string) {
	if !strings.HasPrefix(p, "/") {
		return "", "path must start with /"
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			return "", "path must not contain \\ (proxies may read it as /)"
		case c != '%':
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(p) {
			return "", "path has a malformed % escape"
		}
		v, err := strconv.ParseUint(p[i+1:i+3], 16, 8)
		if err != nil {
			return "", "path has a malformed % escape"
		}
		switch d := byte(v); {
		case d == '/' || d == '\\':
			return "", "path must not contain an encoded / or \\ (%2F, %5C): it would be judged as one segment and routed as two"
		case d >= 'a' && d <= 'z', d >= 'A' && d <= 'Z', d >= '0' && d <= '9', d == '-', d == '.', d == '_', d == '~':
			b.WriteByte(d)
		default:
			b.WriteString(strings.ToUpper(p[i : i+3]))
		}
		i += 2
	}
	segs := PathSegments(b.String())
	for _, s := range segs {
		if s == "." || s == ".." {
			return "", "path must not contain . or .. segments (also encoded as %2E): proxies resolve them, so the path would not be the one judged"
		}
	}
	clean = "/" + strings.Join(segs, "/")
	if len(segs) > 0 && strings.HasSuffix(p, "/") {
		clean += "/"
	}
	return clean, ""
}

// PathSegments splits an absolute path into its non-empty segments: "/api/v1/" -> [api v1],
// "/" -> []. Repeated slashes collapse, as Gateway API implementations match them.
func PathSegments(p string) []string {
	parts := strings.Split(p, "/")
	out := parts[:0:0]
	for _, s := range parts {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// PathProblem returns why p cannot be a delegated path prefix, or "" when it can.
func PathProblem(p string) string {
	switch {
	case p == "":
		return "empty path prefix"
	case !strings.HasPrefix(p, "/"):
		return "path prefix must start with /"
	case strings.Contains(p, "//"):
		return "path prefix must not contain //"
	case strings.ContainsAny(p, "?#%"):
		return "path prefix must not contain ?, # or % escapes"
	}
	if _, problem := CleanPath(p); problem != "" {
		return "path prefix: " + strings.TrimPrefix(problem, "path ")
	}
	return ""
}

// PathWithin reports whether every request path matched by the prefix p lies under prefix,
// segment by segment: /api/v1 is within /api, /apiv2 is not, / is within only /.
func PathWithin(p, prefix string) bool {
	for {
		var want, got string
		want, prefix = nextSegment(prefix)
		if want == "" {
			return true
		}
		got, p = nextSegment(p)
		if got != want {
			return false
		}
	}
}

// nextSegment returns the first non-empty segment of p and the rest, without allocating.
func nextSegment(p string) (string, string) {
	p = strings.TrimLeft(p, "/")
	seg, rest, _ := strings.Cut(p, "/")
	return seg, rest
}

// PathPrefixesOverlap reports whether two path prefixes match a common request path, judged
// per segment: /api overlaps /api/v1 but not /apiv2.
func PathPrefixesOverlap(a, b string) bool {
	return PathWithin(a, b) || PathWithin(b, a)
}
