package manifest

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v2"
)

// appendYAML appends m as block YAML, byte for byte as go.yaml.in/yaml/v2 marshals it, and
// reports whether it could. yaml.v2 queues every event of a document and re-analyses every
// scalar, which made it most of a large render's time; this writes JSON-shaped data directly.
// It handles maps with string keys, lists, strings, booleans, int, int64, float64 and nil.
// Anything else, a key that would need quoting or a multi-line string makes it return false,
// and the caller marshals the object with yaml.v2. Single-line strings that need quoting are
// quoted by yaml.v2 itself. FuzzAppendYAML keeps the two identical.
func appendYAML(b []byte, m map[string]any) ([]byte, bool) {
	if len(m) == 0 {
		return append(b, "{}\n"...), true
	}
	return appendMapping(b, m, 0, false)
}

// appendMapping writes m's entries, sorted as yaml.v2 sorts them, at indent spaces; with
// inline, the first entry continues a line already started (a list item's "- ").
func appendMapping(b []byte, m map[string]any, indent int, inline bool) ([]byte, bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !plainKey(k) {
			return b, false
		}
		keys = append(keys, k)
	}
	sortKeys(keys)
	for i, k := range keys {
		if i > 0 || !inline {
			b = appendIndent(b, indent)
		}
		b = append(b, k...)
		b = append(b, ':')
		var ok bool
		switch v := m[k].(type) {
		case map[string]any:
			if len(v) == 0 {
				b = append(b, " {}\n"...)
				continue
			}
			b = append(b, '\n')
			b, ok = appendMapping(b, v, indent+2, false)
		case []any:
			if len(v) == 0 {
				b = append(b, " []\n"...)
				continue
			}
			b = append(b, '\n')
			b, ok = appendSequence(b, v, indent, false) // yaml.v2 does not indent lists in maps
		default:
			b = append(b, ' ')
			b, ok = appendScalar(b, v, indent+len(k)+2)
			b = append(b, '\n')
		}
		if !ok {
			return b, false
		}
	}
	return b, true
}

// appendSequence writes the items of s as "- item" at indent spaces; inline as for appendMapping.
func appendSequence(b []byte, s []any, indent int, inline bool) ([]byte, bool) {
	for i, item := range s {
		if i > 0 || !inline {
			b = appendIndent(b, indent)
		}
		b = append(b, "- "...)
		var ok bool
		switch v := item.(type) {
		case map[string]any:
			if len(v) == 0 {
				b = append(b, "{}\n"...)
				continue
			}
			b, ok = appendMapping(b, v, indent+2, true)
		case []any:
			if len(v) == 0 {
				b = append(b, "[]\n"...)
				continue
			}
			b, ok = appendSequence(b, v, indent+2, true)
		default:
			b, ok = appendScalar(b, v, indent+2)
			b = append(b, '\n')
		}
		if !ok {
			return b, false
		}
	}
	return b, true
}

func appendIndent(b []byte, n int) []byte {
	for range n {
		b = append(b, ' ')
	}
	return b
}

// appendScalar writes one scalar that starts at column as yaml.v2 does (encode.go: stringv,
// intv, floatv, boolv, nilv).
func appendScalar(b []byte, v any, column int) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), true
	case bool:
		return strconv.AppendBool(b, v), true
	case int:
		return strconv.AppendInt(b, int64(v), 10), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case float64:
		switch {
		case math.IsInf(v, 1):
			return append(b, ".inf"...), true
		case math.IsInf(v, -1):
			return append(b, "-.inf"...), true
		case math.IsNaN(v):
			return append(b, ".nan"...), true
		}
		return strconv.AppendFloat(b, v, 'g', -1, 64), true
	case string:
		if plainString(v) {
			return append(b, v...), true
		}
		return appendQuoted(b, v, column)
	}
	return b, false
}

// appendQuoted lets yaml.v2 write a single-line string that is not plainly safe (it picks
// plain, single- or double-quoted style). Refused: multi-line strings (block style), and
// strings with spaces that would reach past column 80, where yaml.v2 folds them.
func appendQuoted(b []byte, s string, column int) ([]byte, bool) {
	if strings.ContainsAny(s, "\n\r") {
		return b, false
	}
	out, err := yaml.Marshal(map[string]string{"k": s})
	if err != nil {
		return b, false
	}
	scalar, ok := strings.CutPrefix(string(out), "k: ")
	if !ok || strings.IndexByte(scalar, '\n') != len(scalar)-1 {
		return b, false
	}
	if strings.ContainsAny(s, " \t") && column+len(scalar) > foldColumn {
		return b, false
	}
	return append(b, scalar[:len(scalar)-1]...), true
}

// plainString reports whether yaml.v2 certainly writes s plain: it starts with a letter, '/'
// or '_', holds only ASCII letters, digits and "/_.-", and is none of YAML 1.1's words for
// booleans and null (strings that start with a digit, '.', '-' or '+' may read as numbers;
// they go to appendQuoted).
func plainString(s string) bool {
	if s == "" {
		return false
	}
	if c := s[0]; !isASCIILetter(c) && c != '/' && c != '_' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isASCIILetter(c) && !('0' <= c && c <= '9') && c != '/' && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return !yaml11Words[strings.ToLower(s)]
}

// plainKey: a key yaml.v2 writes plain as a simple key (at most 128 bytes).
func plainKey(k string) bool { return len(k) <= 128 && plainString(k) }

// foldColumn is yaml.v2's line width: past it, scalars are folded at spaces.
const foldColumn = 80

var yaml11Words = map[string]bool{
	"y": true, "yes": true, "n": true, "no": true, "true": true, "false": true,
	"on": true, "off": true, "null": true,
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// sortKeys orders string keys as yaml.v2 does (sorter.go, keyList.Less): letters before
// other characters, runs of digits by their numeric value.
func sortKeys(keys []string) {
	sort.Slice(keys, func(i, j int) bool { return keyLess(keys[i], keys[j]) })
}

func keyLess(a, b string) bool {
	ar, br := []rune(a), []rune(b)
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			continue
		}
		al := unicode.IsLetter(ar[i])
		bl := unicode.IsLetter(br[i])
		if al && bl {
			return ar[i] < br[i]
		}
		if al || bl {
			return bl
		}
		var ai, bi int
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an = 1
					bn = 1
					break
				}
			}
		}
		for ai = i; ai < len(ar) && unicode.IsDigit(ar[ai]); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for bi = i; bi < len(br) && unicode.IsDigit(br[bi]); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}
