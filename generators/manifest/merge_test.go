package manifest

import (
	"reflect"
	"testing"
)

func TestMerge(t *testing.T) {
	dst := map[string]any{"eni": map[string]any{"enabled": true, "tags": map[string]any{"a": "1"}}, "list": []any{1, 2}}
	src := map[string]any{"eni": map[string]any{"tags": map[string]any{"b": "2"}, "iamRole": "r"}, "list": []any{3}, "new": "x"}
	origENI := dst["eni"].(map[string]any)
	got := Merge(dst, src)
	want := map[string]any{
		"eni":  map[string]any{"enabled": true, "iamRole": "r", "tags": map[string]any{"a": "1", "b": "2"}},
		"list": []any{3}, // lists are replaced, never concatenated
		"new":  "x",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Merge = %v, want %v", got, want)
	}
	// The inputs are not modified through shared nested maps.
	src["eni"].(map[string]any)["tags"].(map[string]any)["c"] = "3"
	if _, leaked := got["eni"].(map[string]any)["tags"].(map[string]any)["c"]; leaked {
		t.Error("result shares nested maps with src")
	}
	if _, changed := origENI["iamRole"]; changed {
		t.Error("dst's nested map was modified in place")
	}
}
