package jsonnum

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestNormalize(t *testing.T) {
	dec := json.NewDecoder(bytes.NewReader([]byte(`{"i": 1048576, "neg": -3, "f": 0.25, "big": 1e300,
		"huge": 9223372036854775808, "l": [1, 2.5, {"x": 7}], "s": "8", "n": null, "b": true}`)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"i": int64(1048576), "neg": int64(-3), "f": 0.25, "big": 1e300,
		"huge": 9223372036854775808.0, "l": []any{int64(1), 2.5, map[string]any{"x": int64(7)}},
		"s": "8", "n": nil, "b": true}
	if got := Normalize(v); !reflect.DeepEqual(got, want) {
		t.Errorf("Normalize:\n got %#v\nwant %#v", got, want)
	}
}
