package ruleset

import (
	"fmt"
	"strconv"
	"strings"
)

// seg is one step of a path into the document: a mapping key or a list
// index. Steps from a JSON pointer are ambiguous until the node is seen, so
// a step may carry both a name and an index.
type seg struct {
	name  string // mapping key; for an index step, its decimal text
	index int    // list index, or -1 when the step can only be a key
}

func keySeg(name string) seg { return seg{name: name, index: -1} }

func indexSeg(i int) seg { return seg{name: strconv.Itoa(i), index: i} }

// parsePath reads the JSONPath subset engine.Problem uses: $ followed by
// .name, ['name'], ["name"] and [N] steps.
func parsePath(p string) ([]seg, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("path %q does not start with $", p)
	}
	var segs []seg
	for i := 1; i < len(p); {
		switch p[i] {
		case '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			if j == i+1 {
				return nil, fmt.Errorf("path %q: empty name at %d", p, i)
			}
			segs = append(segs, keySeg(p[i+1:j]))
			i = j
		case '[':
			if i+1 < len(p) && (p[i+1] == '\'' || p[i+1] == '"') {
				name, n, err := quotedName(p[i+1:])
				if err != nil {
					return nil, fmt.Errorf("path %q: %v", p, err)
				}
				j := i + 1 + n
				if j >= len(p) || p[j] != ']' {
					return nil, fmt.Errorf("path %q: missing ] at %d", p, j)
				}
				segs = append(segs, keySeg(name))
				i = j + 1
				continue
			}
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("path %q: missing ]", p)
			}
			n, err := strconv.Atoi(p[i+1 : i+j])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("path %q: bad index %q", p, p[i+1:i+j])
			}
			segs = append(segs, indexSeg(n))
			i += j + 1
		default:
			return nil, fmt.Errorf("path %q: unexpected %q at %d", p, p[i], i)
		}
	}
	return segs, nil
}

// quotedName reads a 'single' or "double" quoted name with backslash
// escapes, returning the name and the bytes consumed.
func quotedName(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == q:
			return b.String(), i + 1, nil
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated quoted name")
}

// pointerSegs turns JSON pointer tokens (already unescaped) into steps.
func pointerSegs(tokens []string) []seg {
	segs := make([]seg, len(tokens))
	for i, t := range tokens {
		segs[i] = keySeg(t)
		if n, err := strconv.Atoi(t); err == nil && n >= 0 && strconv.Itoa(n) == t {
			segs[i].index = n
		}
	}
	return segs
}

// label names the value at the end of a path the way a message refers to
// it: the field name, or name[i] for a list entry.
func label(segs []seg) string {
	if len(segs) == 0 {
		return "the ruleset"
	}
	last := segs[len(segs)-1]
	if last.index >= 0 && len(segs) > 1 {
		return segs[len(segs)-2].name + "[" + last.name + "]"
	}
	return last.name
}
