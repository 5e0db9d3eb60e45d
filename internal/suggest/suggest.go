// Package suggest finds the name an author most likely meant: lint's "did
// you mean" for field names, enum values and references to ids and tags.
// It runs where rulesets are written, never on the device.
package suggest

import (
	"strings"
	"unicode/utf8"
)

// Closest returns the option closest to name, or "" when none is close
// enough to be what the author meant. Case, '-' versus '_' and spaces do
// not count as differences, and swapping two neighbouring letters ("titel",
// "boots") counts as one.
func Closest(name string, options []string) string {
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

// editDistance is the optimal string alignment distance between a and b,
// in runes: Levenshtein's insertions, deletions and substitutions, plus
// the swap of two neighbouring runes, the commonest typing slip.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
