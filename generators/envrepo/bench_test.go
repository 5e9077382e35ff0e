package envrepo

import (
	"fmt"
	"strings"
	"testing"

	"github.com/enigate/enigate/generators/manifest"
)

// largeOverlay renders n tenants, each a Namespace, Role, RoleBinding and HTTPRoute in its own
// file; bump changes every route's port.
func largeOverlay(n int, bump bool) []manifest.File {
	var out []manifest.File
	port := 8080
	if bump {
		port = 9090
	}
	for i := range n {
		team := fmt.Sprintf("team-%03d", i)
		doc := strings.NewReplacer("team-b", team).Replace(teamB) + "---\n" +
			strings.NewReplacer("team-a", team, "8080", fmt.Sprint(port)).Replace(routeV1)
		out = append(out, manifest.File{Path: "tenants/" + team + ".yaml", Data: []byte(doc)})
	}
	return out
}

// BenchmarkCompare diffs 300 tenants (1200 objects) where every route changed.
func BenchmarkCompare(b *testing.B) {
	old, new := largeOverlay(300, false), largeOverlay(300, true)
	for b.Loop() {
		r, err := Compare(old, new)
		if err != nil || len(r.Objects) != 300 {
			b.Fatalf("%v, %d objects changed", err, len(r.Objects))
		}
	}
}

// BenchmarkCheck scans the same 300 tenant files for keys and Secret data.
func BenchmarkCheck(b *testing.B) {
	files := largeOverlay(300, false)
	for b.Loop() {
		if errs := Check(files); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

// BenchmarkPush pushes alternating renders of 300 tenants to a bare repository: one commit
// per iteration, the git CLI end to end.
func BenchmarkPush(b *testing.B) {
	isolateGit(b)
	bare := bareRepo(b)
	renders := [][]manifest.File{largeOverlay(300, false), largeOverlay(300, true)}
	i := 0
	for b.Loop() {
		if _, err := Push(ctx, Remote{URL: bare}, PushRequest{Files: renders[i%2]}, Options{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
