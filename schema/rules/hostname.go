// Package rules holds enigate's pure admission and render-time rules: route ownership
// (hostnames, paths, parentRefs, cross-namespace references), Gateway placement and ENI/IP
// capacity. Every rule is a function of its inputs only (no I/O, clock, globals or logging) and
// returns every violation as a field.ErrorList with field paths. The renderer and the webhook
// are thin adapters around these functions.
package rules

import (
	"strings"
)

// NormalizeHostname lowercases h and drops one trailing dot, the forms DNS treats as equal.
func NormalizeHostname(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.TrimSuffix(h, ".")
}

// IsWildcard reports whether h (normalised) is a leftmost-label wildcard such as *.example.com.
func IsWildcard(h string) bool { return strings.HasPrefix(h, "*.") }

// HostnameProblem returns why h cannot be a delegated or route hostname, or "" when it can.
// h must already be normalised. Bare "*", wildcards not in the leftmost label and empty labels
// are refused; the full RFC 1123 syntax is left to the Gateway API CRDs.
func HostnameProblem(h string) string {
	switch {
	case h == "":
		return "empty hostname"
	case h == "*":
		return "bare * matches every hostname (use a wildcard under a delegated domain, e.g. *.team.example.com)"
	case strings.HasPrefix(h, "*") && !IsWildcard(h):
		return "wildcard must be the whole leftmost label (*.example.com)"
	case strings.Contains(strings.TrimPrefix(h, "*."), "*"):
		return "wildcard allowed only as the leftmost label (*.example.com)"
	}
	rest := strings.TrimPrefix(h, "*.")
	for _, label := range strings.Split(rest, ".") {
		if label == "" {
			return "empty DNS label"
		}
	}
	if IsWildcard(h) && !strings.Contains(rest, ".") {
		return "wildcard over a top-level domain (use *.domain.tld or narrower)"
	}
	return ""
}

// HostnameCovers reports whether every name matched by name is also matched by pattern.
// Both must be normalised. Gateway API wildcard semantics: *.example.com matches
// a.example.com and a.b.example.com, never example.com itself.
func HostnameCovers(pattern, name string) bool {
	if pattern == name {
		return true
	}
	if !IsWildcard(pattern) {
		return false
	}
	suffix := pattern[1:] // ".example.com"
	if IsWildcard(name) {
		// *.a.example.com is covered by *.example.com; *.example.com by itself only.
		return strings.HasSuffix(name[1:], suffix) && len(name[1:]) > len(suffix)
	}
	return strings.HasSuffix(name, suffix) && len(name) > len(suffix)
}

// HostnamesOverlap reports whether some concrete hostname is matched by both a and b
// (normalised). Two wildcards overlap when one covers the other.
func HostnamesOverlap(a, b string) bool {
	return HostnameCovers(a, b) || HostnameCovers(b, a)
}
