// Package textnorm normalizes text for matching words in it, as the
// privacy policy's text checks do: the attribute keys that name a precise
// location (package engine, on the device) and the sensitive-category
// lexicon (package engine/lexicon, at build time only).
//
// Letters are folded to lowercase ASCII (é→e, ß→ss, German ä/ö/ü→ae/oe/ue,
// look-alike Cyrillic and Greek letters to Latin), leetspeak inside words
// is read as letters (pr3gn@nt), zero-width characters vanish, and the text
// is cut into words (at spaces and punctuation such as commas) made of
// tokens (at hyphens, underscores, dots and camelCase). A word keeps its
// tokens' letters squashed together, so "Pre-Natal_care" and "prenatalcare"
// read the same.
package textnorm

import (
	"strings"
	"sync"
	"unicode"
)

// A Word is one word of a normalized text.
type Word struct {
	Squash string   // its tokens' letters, folded and squashed together
	Ends   []int    // where each token ends in Squash
	Caps   [][2]int // runs of capitals inside a token: HIV in HIVtest
}

const (
	uLower = iota
	uUpper
	uCaseless // letters from a fold's tail or from leetspeak: no camelCase boundary
	uDigit
	uSym // @ and $, letters only inside words
	uTokSep
	uWordSep
)

type unit struct {
	c byte
	k uint8
}

// A Normalizer normalizes texts into words, reusing its buffers from one
// text to the next. The zero value is ready to use; it is not safe for
// concurrent use.
type Normalizer struct {
	units []unit
	buf   []byte
	ends  []int
	caps  [][2]int
	spans []wspan
}

type fold struct {
	s     string
	upper bool
}

var (
	foldOnce  sync.Once
	foldTable map[rune]fold
)

// foldGroups maps lowercase letters to ASCII; uppercase forms are derived.
var foldGroups = [...]string{
	"àáâãåāăąǎạả", "a", "ä", "ae", "æ", "ae", "çćĉċč", "c", "ďđð", "d",
	"èéêëēĕėęěẹẻẽ", "e", "ĝğġģ", "g", "ĥħ", "h", "ìíîïĩīĭįıǐịỉ", "i", "ĵ", "j",
	"ķ", "k", "ĺļľŀł", "l", "ñńņňŉ", "n", "òóôõōŏőǒøọỏ", "o", "ö", "oe", "œ", "oe",
	"ŕŗř", "r", "śŝşšș", "s", "ß", "ss", "ţťŧț", "t", "ùúûũūŭůűųǔụủ", "u", "ü", "ue",
	"ŵ", "w", "ýÿŷỳ", "y", "źżž", "z", "þ", "th",
	// Cyrillic and Greek letters that look Latin.
	"аα", "a", "вβ", "b", "еεё", "e", "һ", "h", "іιї", "i", "ј", "j", "кκ", "k",
	"мμ", "m", "оοο", "o", "рρ", "p", "сϲ", "c", "ѕ", "s", "тτ", "t", "υ", "u",
	"ν", "v", "хχ", "x", "уүγ", "y", "ԁ", "d", "ɡ", "g",
}

func foldRune(r rune) (fold, bool) {
	foldOnce.Do(func() {
		foldTable = map[rune]fold{}
		for i := 0; i < len(foldGroups); i += 2 {
			for _, c := range foldGroups[i] {
				foldTable[c] = fold{foldGroups[i+1], false}
				if u := unicode.ToUpper(c); u != c && u >= 0x80 {
					foldTable[u] = fold{foldGroups[i+1], true}
				}
			}
		}
		foldTable['ẞ'] = fold{"ss", true}
	})
	f, ok := foldTable[r]
	return f, ok
}

func (n *Normalizer) appendRune(r rune) {
	u := n.units
	switch {
	case r < 0x80:
		c := byte(r)
		switch {
		case 'a' <= c && c <= 'z':
			u = append(u, unit{c, uLower})
		case 'A' <= c && c <= 'Z':
			u = append(u, unit{c + 'a' - 'A', uUpper})
		case '0' <= c && c <= '9':
			u = append(u, unit{c, uDigit})
		case c == '@' || c == '$':
			u = append(u, unit{c, uSym})
		case c <= ' ' || strings.IndexByte(",;:!?()[]{}\"<>|", c) >= 0:
			u = append(u, unit{' ', uWordSep})
		default:
			u = append(u, unit{'-', uTokSep})
		}
	case r >= 0x300 && r <= 0x36f, r == 0xad, r >= 0x200b && r <= 0x200d, r == 0x2060, r == 0xfeff:
		// Combining accents and invisible characters vanish.
	case r >= 0xff01 && r <= 0xff5e: // fullwidth ASCII
		n.appendRune(r - 0xfee0)
		return
	default:
		if f, ok := foldRune(r); ok {
			for i := 0; i < len(f.s); i++ {
				k := uint8(uCaseless)
				if i == 0 {
					k = uLower
					if f.upper {
						k = uUpper
					}
				}
				u = append(u, unit{f.s[i], k})
			}
		} else if unicode.IsSpace(r) || unicode.IsLetter(r) || unicode.IsDigit(r) {
			// Spaces, and letters of scripts the lexicon does not cover.
			u = append(u, unit{' ', uWordSep})
		} else {
			// Dashes, quotes, symbols, emoji.
			u = append(u, unit{'-', uTokSep})
		}
	}
	n.units = u
}

var leet = [...]byte{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's'}

// Words normalizes s into words. The words share one string and one slice
// of token ends, so a text costs a few allocations, not a few per word.
func (n *Normalizer) Words(s string) []Word {
	n.units = n.units[:0]
	for _, r := range s {
		n.appendRune(r)
	}
	buf, ends, caps, spans := n.buf[:0], n.ends[:0], n.caps[:0], n.spans[:0]
	cur := wspan{}
	flush := func() {
		if len(buf) > cur.start {
			cur.end, cur.ends1, cur.caps1 = len(buf), len(ends), len(caps)
			spans = append(spans, cur)
		}
		cur = wspan{start: len(buf), ends0: len(ends), caps0: len(caps)}
	}
	units := n.units
	for i := 0; i < len(units); {
		switch units[i].k {
		case uWordSep:
			flush()
			i++
			continue
		case uTokSep:
			i++
			continue
		}
		j := i
		letters := false
		for j < len(units) && units[j].k < uTokSep {
			if units[j].k <= uCaseless {
				letters = true
			}
			j++
		}
		run := units[i:j]
		i = j
		if !letters {
			// A number stays a number; a lone @ or $ is punctuation.
			start := len(buf)
			for _, u := range run {
				if u.k == uDigit {
					buf = append(buf, u.c)
				}
			}
			if len(buf) > start {
				ends = append(ends, len(buf))
			}
			continue
		}
		for x, u := range run {
			if (u.k == uDigit || u.k == uSym) && int(u.c) < len(leet) && leet[u.c] != 0 {
				run[x] = unit{leet[u.c], uCaseless}
			}
		}
		upper := -1
		for x, u := range run {
			if x > 0 && camelBoundary(run, x) {
				ends = append(ends, len(buf))
			}
			if u.k == uUpper {
				if upper < 0 {
					upper = len(buf)
				}
			} else {
				if upper >= 0 && len(buf)-upper >= 2 {
					caps = append(caps, [2]int{upper, len(buf)})
				}
				upper = -1
			}
			buf = append(buf, u.c)
		}
		ends = append(ends, len(buf))
	}
	flush()
	n.buf, n.ends, n.caps, n.spans = buf, ends, caps, spans
	// Letters spelled out one by one, "p r e n a t a l", form one word:
	// their spans are adjacent in buf, so merging is widening.
	merged := spans[:0]
	for i := 0; i < len(spans); {
		j := i
		for j < len(spans) && spans[j].single(buf) {
			j++
		}
		if j-i < 2 {
			merged = append(merged, spans[i])
			i++
			continue
		}
		w := spans[i]
		w.end, w.ends1, w.caps1 = spans[j-1].end, spans[j-1].ends1, spans[j-1].caps1
		merged = append(merged, w)
		i = j
	}
	if len(merged) == 0 {
		return nil
	}
	str := string(buf)
	rel := make([]int, len(ends))
	var relCaps [][2]int
	if len(caps) > 0 {
		relCaps = make([][2]int, len(caps))
	}
	words := make([]Word, len(merged))
	for k, w := range merged {
		for e := w.ends0; e < w.ends1; e++ {
			rel[e] = ends[e] - w.start
		}
		for c := w.caps0; c < w.caps1; c++ {
			relCaps[c] = [2]int{caps[c][0] - w.start, caps[c][1] - w.start}
		}
		words[k] = Word{Squash: str[w.start:w.end], Ends: rel[w.ends0:w.ends1:w.ends1]}
		if w.caps1 > w.caps0 {
			words[k].Caps = relCaps[w.caps0:w.caps1:w.caps1]
		}
	}
	return words
}

// wspan is a word while words builds it: offsets into the shared buffers.
type wspan struct {
	start, end   int // letters in buf
	ends0, ends1 int // token ends in ends
	caps0, caps1 int // capital runs in caps
}

// single reports whether the word is one letter.
func (w wspan) single(buf []byte) bool {
	return w.end-w.start == 1 && buf[w.start] >= 'a' && buf[w.start] <= 'z'
}

// camelBoundary reports whether a new token starts at run[x]: "preNatal",
// "HIVtest" (before the t's capital partner: HIV|test).
func camelBoundary(run []unit, x int) bool {
	cur, prev := run[x].k, run[x-1].k
	if cur == uUpper && prev == uLower {
		return true
	}
	return cur == uUpper && prev == uUpper && x+1 < len(run) && run[x+1].k == uLower
}
