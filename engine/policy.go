package engine

import (
	_ "embed" // the lexicon
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The privacy policy. Validate enforces it, so lint, build and the engine's
// load all refuse a ruleset that breaks it. The limits below are the ones the
// policy promises people; a ruleset cannot loosen them.
const (
	// MaxCohorts bounds the cohort catalogue: the product of the
	// dimensions' bucket counts. More cohorts means smaller ones, and a small
	// cohort comes close to naming a person.
	MaxCohorts = 256
	// WarnCohorts is where Validate starts warning: past it, few cohorts
	// reach min_k people, so most reports are suppressed or noise.
	WarnCohorts = 64
	// MaxCohortDimensions bounds how many properties of a person a cohort
	// combines.
	MaxCohortDimensions = 3
	// DefaultEpsilon is the local differential privacy budget per report
	// when a ruleset sets none; MaxEpsilon is the most a ruleset may set.
	DefaultEpsilon = 2
	MaxEpsilon     = 4
	// MinK is the smallest min_k a ruleset may set; DefaultMinK applies when
	// it sets none.
	MinK        = 10
	DefaultMinK = 50
	// MaxEpochDays bounds reporting.epoch_days.
	MaxEpochDays = 90
	// MinBoxDegrees is the smallest side of a region box, about 100 km.
	MinBoxDegrees = 1
	// MaxGeohashLength is the longest geohash cell a region may name
	// (3 characters is about 156 km).
	MaxGeohashLength = 3
)

// Sensitive categories. No item, tag, rule, region, slot, cohort or signal
// purpose may target or reveal one. The terms that reveal each are data, in
// lexicon/*.tsv (see lexicon/README.md); the keys here are the first column.
var sensitiveCategories = [...]struct{ key, name string }{
	{"health", "health and medical conditions"},
	{"medication", "medication"},
	{"pregnancy", "pregnancy and fertility"},
	{"mental", "mental health and addiction"},
	{"religion", "religion"},
	{"sexuality", "sexual orientation and gender identity"},
	{"politics", "political views"},
	{"ethnicity", "ethnicity"},
	{"union", "trade-union membership"},
	{"finance", "debt or financial hardship"},
	{"criminal", "criminal records"},
	{"children", "children as targets"},
	{"biometric", "biometric or genetic data"},
}

// The lexicon files, one per language. They are embedded one by one, as
// strings: an embed.FS would link in io/fs, which costs the wasm more than
// the lexicon itself. A new language is a new file and a new line here.
var (
	//go:embed lexicon/en.tsv
	lexiconEN string
	//go:embed lexicon/de.tsv
	lexiconDE string
	//go:embed lexicon/fr.tsv
	lexiconFR string
	//go:embed lexicon/es.tsv
	lexiconES string
)

func lexiconFiles() map[string]string {
	return map[string]string{"en.tsv": lexiconEN, "de.tsv": lexiconDE, "fr.tsv": lexiconFR, "es.tsv": lexiconES}
}

// minInfix is the shortest term matched inside longer words ("prenatal" in
// "prenatalcare") and across words written apart ("pre natal"). Shorter
// terms match whole words only, or "jew" would match "jewelry".
const minInfix = 5

type lexTerm struct {
	cat       uint8
	text      string   // as written in the lexicon, for messages
	words     []string // normalized words of a multi-word term; nil for one word
	exactOnly bool     // "=term": whole words only
	german    bool     // from de.tsv, where ä, ö and ü carry meaning
}

// A form is one way of writing a term, normalized: a single word, or the
// words of a multi-word term written together. Forms with the same key are
// chained (the maps hold the first, next the rest) rather than kept in
// slices: the lexicon is built on every page load, and in wasm each small
// allocation and map growth shows.
type form struct {
	text   string
	term   int32
	inside bool  // also matched inside longer words and across words
	next   int32 // the next form in the same chain, or -1
}

type lexicon struct {
	terms []lexTerm
	forms []form
	whole map[string]int32   // forms by text
	infix map[uint32]int32   // inside forms, and their -ies plurals, by first three letters
	multi map[string][]int32 // multi-word terms, by each of their words
	// crossMax is the longest text words written apart can join into and
	// still match, so most pairs of words are never joined.
	crossMax int
	allow    [][]string // allowlisted phrases, normalized words
	// errs lists lines that did not parse; the engine ignores them and a
	// test insists there are none.
	errs []string
}

var (
	lexOnce sync.Once
	lex     *lexicon
)

func theLexicon() *lexicon {
	lexOnce.Do(func() { lex = parseLexicon(lexiconFiles()) })
	return lex
}

func categoryIndex(key string) int {
	for i, c := range sensitiveCategories {
		if c.key == key {
			return i
		}
	}
	return -1
}

// parseLexicon reads lexicon files: "category<TAB>term" lines, # comments.
func parseLexicon(files map[string]string) *lexicon {
	lines := 0
	names := make([]string, 0, len(files))
	for name, data := range files {
		names = append(names, name)
		lines += strings.Count(data, "\n")
	}
	l := &lexicon{
		terms: make([]lexTerm, 0, lines),
		forms: make([]form, 0, 2*lines),
		whole: make(map[string]int32, 2*lines),
		infix: make(map[uint32]int32, lines),
		multi: make(map[string][]int32, lines/4),
	}
	slices.Sort(names)
	var n normalizer
	for _, name := range names {
		rest := files[name]
		for ln := 1; rest != ""; ln++ {
			line, next, _ := strings.Cut(rest, "\n")
			rest = next
			if line != "" && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			if line == "" || line[0] == '#' {
				continue
			}
			key, term, ok := strings.Cut(line, "\t")
			term = strings.TrimSpace(term)
			if !ok || term == "" || strings.Contains(term, "\t") {
				l.errs = append(l.errs, name+":"+itoa(ln)+": want category<TAB>term")
				continue
			}
			exactOnly := strings.HasPrefix(term, "=")
			text := strings.TrimPrefix(term, "=")
			words := termWords(&n, text)
			if len(words) == 0 {
				l.errs = append(l.errs, name+":"+itoa(ln)+": term "+strconv.Quote(text)+" has no letters")
				continue
			}
			if key == "allow" {
				l.allow = append(l.allow, words)
				if len(words) > 1 {
					// "hindu kush" also covers "Hindu-Kush", one word.
					l.allow = append(l.allow, []string{strings.Join(words, "")})
				}
				continue
			}
			cat := categoryIndex(key)
			if cat < 0 {
				l.errs = append(l.errs, name+":"+itoa(ln)+": unknown category "+strconv.Quote(key))
				continue
			}
			t := lexTerm{cat: uint8(cat), text: text, exactOnly: exactOnly, german: name == "de.tsv"}
			l.add(t, words)
			// A German umlaut is folded to ae/oe/ue, as Germans write it
			// without one; the term also matches with the dots dropped.
			if dropped := dropUmlauts(text); dropped != text {
				l.add(t, termWords(&n, dropped))
			}
		}
	}
	return l
}

// termWords normalizes a term into its words. Most terms are one plain
// lowercase word and need no normalizer.
func termWords(n *normalizer, text string) []string {
	plain := text != ""
	for i := 0; i < len(text); i++ {
		plain = plain && 'a' <= text[i] && text[i] <= 'z'
	}
	if plain {
		return []string{text} // small, and not kept: add keeps only the string
	}
	var words []string
	for _, w := range n.words(text) {
		words = append(words, w.squash)
	}
	return words
}

// dropUmlauts writes ä, ö and ü without their dots.
func dropUmlauts(s string) string {
	if !strings.ContainsAny(s, "äöüÄÖÜ") {
		return s
	}
	var b []byte
	for _, r := range s {
		switch r {
		case 'ä', 'Ä':
			r += 'a' - 'ä'
		case 'ö', 'Ö':
			r += 'o' - 'ö'
		case 'ü', 'Ü':
			r += 'u' - 'ü'
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

func (l *lexicon) add(t lexTerm, words []string) {
	id := int32(len(l.terms))
	if len(words) == 1 {
		l.terms = append(l.terms, t)
		l.addForm(words[0], id, !t.exactOnly)
		return
	}
	t.words = words
	l.terms = append(l.terms, t)
	for _, w := range t.words {
		l.multi[w] = append(l.multi[w], id)
	}
	// Written together, in either order for two words: "genderidentity".
	l.addForm(strings.Join(t.words, ""), id, true)
	if len(t.words) == 2 {
		l.addForm(t.words[1]+t.words[0], id, true)
	}
}

func (l *lexicon) addForm(text string, term int32, inside bool) {
	inside = inside && len(text) >= minInfix
	l.whole[text] = l.chain(text, term, inside, l.whole[text])
	if !inside {
		return
	}
	l.crossMax = max(l.crossMax, len(text)+3) // +3: a plural ending
	k := key3(text, 0)
	l.infix[k] = l.chain(text, term, true, l.infix[k])
	if strings.HasSuffix(text, "y") {
		plural := text[:len(text)-1] + "ies"
		l.infix[k] = l.chain(plural, term, true, l.infix[k])
	}
}

// chain adds a form in front of the chain starting at head (stored +1, so
// a missing map entry, 0, is the empty chain) and returns the new head.
func (l *lexicon) chain(text string, term int32, inside bool, head int32) int32 {
	l.forms = append(l.forms, form{text: text, term: term, inside: inside, next: head - 1})
	return int32(len(l.forms))
}

func key3(s string, i int) uint32 {
	return uint32(s[i])<<16 | uint32(s[i+1])<<8 | uint32(s[i+2])
}

// A sensitiveHit is the first place a text matched a category.
type sensitiveHit struct {
	category string // the category's name, for messages
	term     string // the lexicon term that matched, as written there
}

// sensitiveIn returns the sensitive categories s reveals, each once, in the
// order they first appear in s.
func sensitiveIn(s string) []sensitiveHit {
	var n normalizer
	return n.sensitiveIn(s)
}

// sensitiveIn is sensitiveIn reusing n's buffers.
func (n *normalizer) sensitiveIn(s string) []sensitiveHit {
	l := theLexicon()
	m := matcher{l: l, words: n.words(s)}
	m.run()
	hits := m.hits
	// German umlauts fold to ae/oe/ue, so "diäbetes" reads "diaebetes".
	// Read such texts once more with the dots dropped, for every term but
	// the German ones: in German the dots matter (schwül, humid, is not
	// schwul).
	if strings.ContainsAny(s, "äöüÄÖÜ") {
		m2 := matcher{l: l, words: n.words(dropUmlauts(s))}
		m2.run()
		for _, h := range m2.hits {
			if !l.terms[h.term].german {
				hits = append(hits, h)
			}
		}
	}
	if len(hits) == 0 {
		return nil
	}
	// Earliest hit per category, in text order.
	best := map[uint8]hit{}
	for _, h := range hits {
		cat := l.terms[h.term].cat
		if b, ok := best[cat]; !ok || h.before(b) {
			best[cat] = h
		}
	}
	order := make([]hit, 0, len(best))
	for _, h := range best {
		order = append(order, h)
	}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && order[j].before(order[j-1]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	out := make([]sensitiveHit, len(order))
	for i, h := range order {
		t := l.terms[h.term]
		out[i] = sensitiveHit{category: sensitiveCategories[t.cat].name, term: t.text}
	}
	return out
}

type hit struct {
	term   int32
	word   int // first word of the match
	offset int // offset in that word's squashed letters
}

func (h hit) before(o hit) bool {
	if h.word != o.word {
		return h.word < o.word
	}
	if h.offset != o.offset {
		return h.offset < o.offset
	}
	return h.term < o.term
}

type matcher struct {
	l     *lexicon
	words []nword
	hits  []hit
	vars  []string
}

func (m *matcher) run() {
	for w, word := range m.words {
		// The whole word, and each of its tokens ("anti" "HIV" in "antiHIV").
		m.exact(word.squash, w, 0, len(word.squash))
		if len(word.ends) > 1 {
			start := 0
			for _, end := range word.ends {
				m.exact(word.squash[start:end], w, start, end)
				start = end
			}
		}
		for _, c := range word.caps {
			m.exact(word.squash[c[0]:c[1]], w, c[0], c[1])
		}
		// Inside the word: "prenatalcare", "anti-depressants".
		sq := word.squash
		for i := 0; i+3 <= len(sq); i++ {
			for f := m.l.infix[key3(sq, i)] - 1; f >= 0; f = m.l.forms[f].next {
				fm := &m.l.forms[f]
				if strings.HasPrefix(sq[i:], fm.text) && !m.allowed(w, w+1, i, i+len(fm.text)) {
					m.hits = append(m.hits, hit{fm.term, w, i})
				}
			}
		}
		// Across words written apart: "pre natal", "pre - natal".
		if len(sq) >= 3 && m.l.infix[key3(sq, 0)] == 0 {
			continue
		}
		joined := sq
		for k := w + 1; k < len(m.words) && k <= w+2; k++ {
			if len(joined)+len(m.words[k].squash) > m.l.crossMax {
				break
			}
			joined += m.words[k].squash
			for _, v := range m.variants(joined) {
				for f := m.l.whole[v] - 1; f >= 0; f = m.l.forms[f].next {
					if m.l.forms[f].inside && !m.allowed(w, k+1, 0, 0) {
						m.hits = append(m.hits, hit{m.l.forms[f].term, w, 0})
					}
				}
			}
		}
	}
	m.multiWord()
}

// exact matches a whole word or token, as written or without a plural ending.
func (m *matcher) exact(s string, w, from, to int) {
	for _, v := range m.variants(s) {
		for f := m.l.whole[v] - 1; f >= 0; f = m.l.forms[f].next {
			if !m.allowed(w, w+1, from, to) {
				m.hits = append(m.hits, hit{m.l.forms[f].term, w, from})
			}
		}
	}
}

// multiWord matches terms of several words when all appear, in any order.
func (m *matcher) multiWord() {
	if len(m.words) < 2 {
		return
	}
	candidate := false
	for _, word := range m.words {
		for _, v := range m.variants(word.squash) {
			candidate = candidate || m.l.multi[v] != nil
		}
		start := 0
		for _, end := range word.ends {
			for _, v := range m.variants(word.squash[start:end]) {
				candidate = candidate || m.l.multi[v] != nil
			}
			start = end
		}
	}
	if !candidate {
		return
	}
	type seen struct {
		s    string
		word int
	}
	var present []seen
	for w, word := range m.words {
		for _, v := range m.variants(word.squash) {
			present = append(present, seen{v, w})
		}
		if len(word.ends) > 1 {
			start := 0
			for _, end := range word.ends {
				for _, v := range m.variants(word.squash[start:end]) {
					present = append(present, seen{v, w})
				}
				start = end
			}
		}
	}
	has := func(s string) bool {
		for _, p := range present {
			if p.s == s {
				return true
			}
		}
		return false
	}
	for _, p := range present {
		for _, t := range m.l.multi[p.s] {
			all := true
			for _, tw := range m.l.terms[t].words {
				if !has(tw) {
					all = false
					break
				}
			}
			if all {
				m.hits = append(m.hits, hit{t, p.word, 0})
			}
		}
	}
}

// variants returns s and s without a plural ending: pregnancies→pregnancy,
// churches→church, vitamins→vitamin, Kirchen→kirche. The stems stay long
// enough not to turn words into short terms: hives is not hiv.
func (m *matcher) variants(s string) []string {
	v := append(m.vars[:0], s)
	n := len(s)
	if n > 4 && strings.HasSuffix(s, "ies") {
		v = append(v, s[:n-3]+"y")
	}
	if n > 5 && strings.HasSuffix(s, "es") {
		v = append(v, s[:n-2])
	}
	if n > 3 && s[n-1] == 's' && s[n-2] != 's' {
		v = append(v, s[:n-1])
	}
	if n >= 8 && strings.HasSuffix(s, "en") {
		v = append(v, s[:n-2])
	}
	if n >= 7 && s[n-1] == 'n' {
		v = append(v, s[:n-1])
	}
	m.vars = v
	return v
}

// allowed reports whether an allowlisted phrase covers the match: words
// [w0,w1), and within a single word the letters [from,to).
func (m *matcher) allowed(w0, w1, from, to int) bool {
	for _, a := range m.l.allow {
		if len(a) == 1 {
			if w1 != w0+1 {
				continue
			}
			sq := m.words[w0].squash
			for i := 0; ; {
				j := strings.Index(sq[i:], a[0])
				if j < 0 {
					break
				}
				if p := i + j; p <= from && to <= p+len(a[0]) {
					return true
				}
				i += j + 1
			}
			continue
		}
		for s := w1 - len(a); s <= w0; s++ {
			if s < 0 || s+len(a) > len(m.words) {
				continue
			}
			match := true
			for j, aw := range a {
				if m.words[s+j].squash != aw {
					match = false
					break
				}
			}
			if match {
				return true
			}
		}
	}
	return false
}

// Normalizing text for matching: letters are folded to lowercase ASCII
// (é→e, ß→ss, German ä/ö/ü→ae/oe/ue, look-alike Cyrillic and Greek letters
// to Latin), leetspeak inside words is read as letters (pr3gn@nt), zero-width
// characters vanish, and the text is cut into words (at spaces and
// punctuation such as commas) made of tokens (at hyphens, underscores, dots
// and camelCase). A word keeps its tokens' letters squashed together, so
// "Pre-Natal_care" and "prenatalcare" read the same.

type nword struct {
	squash string
	ends   []int    // where each token ends in squash
	caps   [][2]int // runs of capitals inside a token: HIV in HIVtest
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

type normalizer struct {
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

func (n *normalizer) appendRune(r rune) {
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

// words normalizes s into words. The words share one string and one slice
// of token ends, so a text costs a few allocations, not a few per word.
func (n *normalizer) words(s string) []nword {
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
	words := make([]nword, len(merged))
	for k, w := range merged {
		for e := w.ends0; e < w.ends1; e++ {
			rel[e] = ends[e] - w.start
		}
		for c := w.caps0; c < w.caps1; c++ {
			relCaps[c] = [2]int{caps[c][0] - w.start, caps[c][1] - w.start}
		}
		words[k] = nword{squash: str[w.start:w.end], ends: rel[w.ends0:w.ends1:w.ends1]}
		if w.caps1 > w.caps0 {
			words[k].caps = relCaps[w.caps0:w.caps1:w.caps1]
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

// Precise locations. Regions must be coarse, and no text may carry
// coordinates or a postcode.

// locationIn says what precise location s holds ("coordinates", "a
// postcode"), or "". Loose also counts bare 4- and 5-digit numbers, for
// texts that name places (region names, location attributes).
func locationIn(s string, loose bool) string {
	if !strings.ContainsAny(s, "0123456789") {
		return "" // every coordinate and postcode has a digit
	}
	if hasCoordinates(s) {
		return "coordinates"
	}
	if hasPostcode(s, loose) {
		return "a postcode"
	}
	return ""
}

// hasCoordinates finds two decimal numbers with at least three decimals,
// close together, that could be a latitude and a longitude.
func hasCoordinates(s string) bool {
	type num struct {
		v          float64
		start, end int
	}
	var prev *num
	for i := 0; i < len(s); {
		start := i
		j := i
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			j++
		}
		d := j
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == d {
			i++
			continue
		}
		if j < len(s) && s[j] == '.' {
			f := j + 1
			k := f
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			if k-f >= 3 {
				// Degrees: the whole part is enough to tell a latitude.
				v := 0
				for _, c := range []byte(s[d:j]) {
					v = min(v*10+int(c-'0'), 1000)
				}
				n := num{float64(v), start, k}
				if prev != nil && n.start-prev.end <= 6 && prev.v < 90 && n.v < 180 {
					return true
				}
				prev = &n
				i = k
				continue
			}
		}
		i = j
	}
	return false
}

// Not "zip" alone: half-zip fleeces and zip pockets.
var postcodeWords = map[string]bool{"zipcode": true, "postcode": true, "postalcode": true, "plz": true, "postleitzahl": true, "codepostal": true, "codigopostal": true}

// hasPostcode finds US ZIP+4, UK and Canadian postcodes, any number next
// to a word such as "zip" or "postcode", and, when loose, bare 4- and
// 5-digit numbers (most of Europe's postcodes) that are not years.
func hasPostcode(s string, loose bool) bool {
	type tok struct {
		t          string
		start, end int
	}
	var toks []tok
	for i := 0; i < len(s); {
		if !isAlnum(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
		toks = append(toks, tok{s[i:j], i, j})
		i = j
	}
	word := false
	var buf [32]byte
	for i, t := range toks {
		b := appendLower(buf[:0], t.t)
		if postcodeWords[string(b)] {
			word = true
		} else if i+1 < len(toks) && postcodeWords[string(appendLower(b, toks[i+1].t))] {
			word = true
		}
	}
	for i, t := range toks {
		digits := allDigits(t.t)
		// A number inside a decimal (12.50) is not a postcode.
		decimal := (t.start > 0 && (s[t.start-1] == '.' || s[t.start-1] == ',') && t.start > 1 && isDigit(s[t.start-2])) ||
			(t.end+1 < len(s) && (s[t.end] == '.' || s[t.end] == ',') && isDigit(s[t.end+1]))
		if digits && word && len(t.t) >= 3 && len(t.t) <= 6 {
			return true
		}
		var next tok
		gap := ""
		if i+1 < len(toks) {
			next = toks[i+1]
			gap = s[t.end:next.start]
		}
		if digits && len(t.t) == 5 && gap == "-" && allDigits(next.t) && len(next.t) == 4 {
			return true // ZIP+4
		}
		if gap == " " && ukOutward(t.t) && ukInward(next.t) {
			return true
		}
		if gap == " " && caPart(t.t, false) && caPart(next.t, true) {
			return true
		}
		if len(t.t) == 6 && caPart(t.t[:3], false) && caPart(t.t[3:], true) {
			return true
		}
		if !loose || !digits || decimal {
			continue
		}
		if len(t.t) == 5 {
			return true
		}
		if len(t.t) == 4 {
			if y, _ := strconv.Atoi(t.t); y < 1900 || y > 2099 {
				return true
			}
			if gap == " " && len(next.t) == 2 && isUpper(next.t[0]) && isUpper(next.t[1]) {
				return true // Dutch 1234 AB
			}
		}
	}
	return false
}

// ukOutward matches A9, A99, A9A, AA9, AA99, AA9A.
func ukOutward(t string) bool {
	if len(t) < 2 || len(t) > 4 || !isUpper(t[0]) {
		return false
	}
	i := 1
	if isUpper(t[i]) {
		i++
	}
	if i >= len(t) || !isDigit(t[i]) {
		return false
	}
	i++
	if i < len(t) && (isDigit(t[i]) || isUpper(t[i])) {
		i++
	}
	return i == len(t)
}

// ukInward matches 9AA, except clothing sizes like 2XL.
func ukInward(t string) bool {
	return len(t) == 3 && isDigit(t[0]) && isUpper(t[1]) && isUpper(t[2]) && t[1:] != "XL" && t[1:] != "XS"
}

// caPart matches a Canadian postcode half: A9A, or 9A9 for the second.
func caPart(t string, second bool) bool {
	if len(t) != 3 {
		return false
	}
	if second {
		return isDigit(t[0]) && isUpper(t[1]) && isDigit(t[2])
	}
	return isUpper(t[0]) && isDigit(t[1]) && isUpper(t[2])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isUpper(c) || ('a' <= c && c <= 'z') }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// appendLower appends s in lowercase ASCII, or nothing past 32 bytes: no
// postcode word is that long.
func appendLower(b []byte, s string) []byte {
	if len(b)+len(s) > 32 {
		return b[:0]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// locationKeys are attribute keys that name a precise location.
var locationKeys = map[string]bool{
	"zipcode": true, "postcode": true, "postalcode": true, "plz": true, "postleitzahl": true,
	"codepostal": true, "codigopostal": true, "lat": true, "latitude": true, "lon": true, "lng": true,
	"longitude": true, "latlng": true, "latlon": true, "latlong": true, "coords": true, "coordinates": true,
	"geolocation": true,
}

// locationKey reports whether an attribute key names a precise location.
func locationKey(k string) bool {
	var n normalizer
	var b strings.Builder
	for _, w := range n.words(k) {
		b.WriteString(w.squash)
	}
	return locationKeys[b.String()]
}
