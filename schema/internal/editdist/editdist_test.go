package editdist

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		name  string
		a, b  string
		limit int
		want  int
	}{
		{"equal", "m7g.xlarge", "m7g.xlarge", -1, 0},
		{"one deletion", "m7g.xlarge", "m7g.xlarg", -1, 1},
		{"substitution and insertion", "kitten", "sitting", -1, 3},
		{"empty", "", "abc", -1, 3},
		{"within limit", "kitten", "sitting", 3, 3},
		{"over limit gives up", "kitten", "sitting", 2, 3},
		{"length difference over limit", "a", "abcdef", 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Distance(tt.a, tt.b, tt.limit); got != tt.want {
				t.Errorf("Distance(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.limit, got, tt.want)
			}
			if got := Distance(tt.b, tt.a, tt.limit); got != tt.want {
				t.Errorf("Distance(%q, %q, %d) = %d, want %d (symmetry)", tt.b, tt.a, tt.limit, got, tt.want)
			}
		})
	}
}
