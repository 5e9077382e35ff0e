package rules

import "strings"

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
	for _, s := range PathSegments(p) {
		if s == "." || s == ".." {
			return "path prefix must not contain . or .. segments"
		}
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
