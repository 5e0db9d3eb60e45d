package ruleset

import (
	"strings"
	"unicode/utf8"
)

// suggest returns the option closest to name, or "" when none is close
// enough to be what the author meant. Case, '-' versus '_' and spaces do
// not count as differences.
func suggest(name string, options []string) string {
	n := normalizeName(name)
	if n == "" {
		return ""
	}
	best, bestDist := "", -1
	for _, o := range options {
		on := normalizeName(o)
		if on == n {
			return o
		}
		d := editDistance(n, on)
		if bestDist < 0 || d < bestDist {
			best, bestDist = o, d
		}
	}
	if best == "" {
		return ""
	}
	limit := utf8.RuneCountInString(normalizeName(best)) / 3
	if limit < 1 {
		limit = 1
	}
	if bestDist <= limit {
		return best
	}
	// A prefix such as "retention" for "retention_days" is close enough
	// when it is long enough to be deliberate.
	for _, o := range options {
		a, b := squash(n), squash(normalizeName(o))
		short, long := a, b
		if len(short) > len(long) {
			short, long = long, short
		}
		if len(short) >= 4 && strings.HasPrefix(long, short) {
			return o
		}
	}
	return ""
}

func normalizeName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer("-", "_", " ", "_").Replace(s)
}

func squash(s string) string { return strings.ReplaceAll(s, "_", "") }

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
