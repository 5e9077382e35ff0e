// Package editdist is the Levenshtein distance behind every "did you mean" enigate prints
// (unknown instance types, unknown upstream fields).
package editdist

// Distance is the Levenshtein distance of a and b in bytes (the names compared are ASCII),
// giving up once it must exceed limit: then it returns limit+1. A negative limit never gives up.
func Distance(a, b string, limit int) int {
	if limit < 0 {
		limit = max(len(a), len(b))
	}
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
