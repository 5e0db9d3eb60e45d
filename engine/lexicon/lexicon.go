// Package lexicon finds the sensitive categories a text reveals (health,
// religion, children as targets and the rest): the privacy policy's
// sensitive-category check. The terms are data, one file per language
// (en.tsv, de.tsv, fr.tsv, es.tsv), documented in README.md.
//
// It runs where rulesets are written and served, never on a visitor's
// device: engine/buildtime passes it to engine.Validate for edgewise lint
// and build, the YAML front end, the demo's playground and the collector.
// The engine's load trusts the signature for it (RATIONALE.md, "Why may
// the device trust the signature for the sensitive-category check?"), so
// neither this package nor its files are linked into edgewise.wasm.
package lexicon

import (
	_ "embed" // the lexicon files
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/edgewise/edgewise/engine/textnorm"
)

// Sensitive categories. No item, tag, rule, region, slot, cohort or signal
// purpose may target or reveal one. The terms that reveal each are data, in
// *.tsv (see README.md); the keys here are the first column.
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

// The lexicon files, one per language, embedded one by one as strings. A new
// language is a new file and a new line here.
var (
	//go:embed en.tsv
	lexiconEN string
	//go:embed de.tsv
	lexiconDE string
	//go:embed fr.tsv
	lexiconFR string
	//go:embed es.tsv
	lexiconES string
	// Common words of shops in the four languages, one a line: what glued
	// words are split into, and words never read as misspellings.
	//go:embed words.txt
	commonWords string
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
// slices: fewer small allocations and map growths when the lexicon is built,
// once per process (lint, build, the playground and the collector pay it).
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
	// phrase holds "=several words" terms, matched only as adjacent words
	// in order, by their first word.
	phrase map[string][]int32
	// fuzzy holds the forms matched with one letter wrong, by themselves
	// and each of their one-letter deletions (compound.go).
	fuzzy    map[string][]int32
	fuzzyMax int // the longest of those forms
	gluedMax int // the longest whole-word-only form, split off glued words
	vocab    map[string]bool
	// crossMax is the longest text words written apart can join into and
	// still match, so most pairs of words are never joined.
	crossMax int
	allow    [][]string // allowlisted phrases, normalized words
	// errs lists lines that did not parse; the matcher ignores them and a
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
		terms:  make([]lexTerm, 0, lines),
		forms:  make([]form, 0, 2*lines),
		whole:  make(map[string]int32, 2*lines),
		infix:  make(map[uint32]int32, lines),
		multi:  make(map[string][]int32, lines/4),
		phrase: map[string][]int32{},
		fuzzy:  make(map[string][]int32, 8*lines),
		vocab:  map[string]bool{},
	}
	for _, w := range strings.Fields(commonWords) {
		if w[0] != '#' {
			l.vocab[w] = true
		}
	}
	slices.Sort(names)
	var n textnorm.Normalizer
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
				l.errs = append(l.errs, name+":"+strconv.Itoa(ln)+": want category<TAB>term")
				continue
			}
			exactOnly := strings.HasPrefix(term, "=")
			text := strings.TrimPrefix(term, "=")
			words := termWords(&n, text)
			if len(words) == 0 {
				l.errs = append(l.errs, name+":"+strconv.Itoa(ln)+": term "+strconv.Quote(text)+" has no letters")
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
				l.errs = append(l.errs, name+":"+strconv.Itoa(ln)+": unknown category "+strconv.Quote(key))
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
func termWords(n *textnorm.Normalizer, text string) []string {
	plain := text != ""
	for i := 0; i < len(text); i++ {
		plain = plain && 'a' <= text[i] && text[i] <= 'z'
	}
	if plain {
		return []string{text} // small, and not kept: add keeps only the string
	}
	var words []string
	for _, w := range n.Words(text) {
		words = append(words, w.Squash)
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
		if !t.exactOnly {
			l.addFuzzy(words[0], id)
		}
		return
	}
	t.words = words
	l.terms = append(l.terms, t)
	if t.exactOnly {
		// "=plan b": adjacent words in order ("Plan-B"), or glued ("planb").
		l.phrase[words[0]] = append(l.phrase[words[0]], id)
		l.addForm(strings.Join(t.words, ""), id, false)
		return
	}
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
		l.gluedMax = max(l.gluedMax, len(text))
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

// A Hit is a sensitive category a text reveals.
type Hit struct {
	Category string // the category's name, for messages
	Term     string // the lexicon term that matched, as written in its file
}

// Sensitive returns the sensitive categories s reveals, each once, in the
// order they first appear in s.
func Sensitive(s string) []Hit {
	var m Matcher
	return m.Sensitive(s)
}

// A Matcher is Sensitive reusing its buffers from one text to the next. The
// zero value is ready to use; it is not safe for concurrent use.
type Matcher struct {
	n textnorm.Normalizer
	m matcher
}

// Sensitive is the package's Sensitive.
func (mt *Matcher) Sensitive(s string) []Hit {
	n := &mt.n
	l := theLexicon()
	m := &mt.m
	m.l, m.words, m.hits = l, n.Words(s), m.hits[:0]
	m.run()
	hits := m.hits
	// German umlauts fold to ae/oe/ue, so "diäbetes" reads "diaebetes".
	// Read such texts once more with the dots dropped, for every term but
	// the German ones: in German the dots matter (schwül, humid, is not
	// schwul).
	if strings.ContainsAny(s, "äöüÄÖÜ") {
		m2 := matcher{l: l, words: n.Words(dropUmlauts(s))}
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
	out := make([]Hit, len(order))
	for i, h := range order {
		t := l.terms[h.term]
		out[i] = Hit{Category: sensitiveCategories[t.cat].name, Term: t.text}
	}
	return out
}

type hit struct {
	term   int32
	word   int  // first word of the match
	offset int  // offset in that word's squashed letters
	fuzzy  bool // one letter wrong: reported after an exact match there
}

func (h hit) before(o hit) bool {
	if h.word != o.word {
		return h.word < o.word
	}
	if h.offset != o.offset {
		return h.offset < o.offset
	}
	if h.fuzzy != o.fuzzy {
		return o.fuzzy
	}
	return h.term < o.term
}

type matcher struct {
	l     *lexicon
	words []textnorm.Word
	hits  []hit
	vars  []string
	stems []string
	del   []byte
	toks  []token
}

// A token is a word's token, or the word itself when it has one: the
// sequence phrases are matched on ("mothers-to-be" is three).
type token struct {
	s        string
	word     int
	from, to int // in the word's squashed letters
}

func (m *matcher) run() {
	m.toks = m.toks[:0]
	for w, word := range m.words {
		// The whole word, and each of its tokens ("anti" "HIV" in "antiHIV").
		m.exact(word.Squash, w, 0, len(word.Squash))
		if len(word.Ends) > 1 {
			start := 0
			for _, end := range word.Ends {
				m.exact(word.Squash[start:end], w, start, end)
				start = end
			}
		}
		for _, c := range word.Caps {
			m.exact(word.Squash[c[0]:c[1]], w, c[0], c[1])
		}
		// Misspelled, or glued to common words: the word and each token.
		start := 0
		for _, end := range word.Ends {
			m.toks = append(m.toks, token{word.Squash[start:end], w, start, end})
			if len(word.Ends) > 1 {
				m.fuzzyToken(word.Squash[start:end], w, start)
				m.splitGlued(word.Squash[start:end], w, start)
			}
			start = end
		}
		m.fuzzyToken(word.Squash, w, 0)
		m.splitGlued(word.Squash, w, 0)
		// Inside the word: "prenatalcare", "anti-depressants".
		sq := word.Squash
		for i := 0; i+3 <= len(sq); i++ {
			for f := m.l.infix[key3(sq, i)] - 1; f >= 0; f = m.l.forms[f].next {
				fm := &m.l.forms[f]
				if strings.HasPrefix(sq[i:], fm.text) && !m.allowed(w, w+1, i, i+len(fm.text)) {
					m.hits = append(m.hits, hit{fm.term, w, i, false})
				}
			}
		}
		// Across words written apart: "pre natal", "pre - natal".
		if len(sq) >= 3 && m.l.infix[key3(sq, 0)] == 0 {
			continue
		}
		joined := sq
		for k := w + 1; k < len(m.words) && k <= w+2; k++ {
			if len(joined)+len(m.words[k].Squash) > m.l.crossMax {
				break
			}
			joined += m.words[k].Squash
			for _, v := range m.variants(joined) {
				for f := m.l.whole[v] - 1; f >= 0; f = m.l.forms[f].next {
					if m.l.forms[f].inside && !m.allowed(w, k+1, 0, 0) {
						m.hits = append(m.hits, hit{m.l.forms[f].term, w, 0, false})
					}
				}
			}
		}
	}
	m.phrases(m.toks)
	// And on whole words: "Worker's union" is the words workers, union.
	m.toks = m.toks[:0]
	for w, word := range m.words {
		m.toks = append(m.toks, token{word.Squash, w, 0, len(word.Squash)})
	}
	m.phrases(m.toks)
	m.multiWord()
}

// phrases matches "=several words" terms: adjacent tokens in order, each
// as written, in a plural or with an ending (meetings, scanner).
func (m *matcher) phrases(toks []token) {
	var first [16]string
	for i, tk := range toks {
		for _, v := range first[:copy(first[:], m.stemsOf(tk.s))] {
			for _, id := range m.l.phrase[v] {
				words := m.l.terms[id].words
				k := i + 1
				for j := 1; j < len(words); j, k = j+1, k+1 {
					if k >= len(toks) || !slices.Contains(m.stemsOf(toks[k].s), words[j]) {
						k = -1
						break
					}
				}
				if k < 0 {
					continue
				}
				last := toks[k-1]
				if !m.allowed(tk.word, last.word+1, tk.from, last.to) {
					m.hits = append(m.hits, hit{id, tk.word, tk.from, false})
				}
			}
		}
	}
}

// exact matches a whole word or token, as written or without a plural ending.
func (m *matcher) exact(s string, w, from, to int) {
	for _, v := range m.variants(s) {
		for f := m.l.whole[v] - 1; f >= 0; f = m.l.forms[f].next {
			if !m.allowed(w, w+1, from, to) {
				m.hits = append(m.hits, hit{m.l.forms[f].term, w, from, false})
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
		for _, v := range m.stemsOf(word.Squash) {
			candidate = candidate || m.l.multi[v] != nil
		}
		start := 0
		for _, end := range word.Ends {
			for _, v := range m.stemsOf(word.Squash[start:end]) {
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
		for _, v := range m.stemsOf(word.Squash) {
			present = append(present, seen{v, w})
		}
		if len(word.Ends) > 1 {
			start := 0
			for _, end := range word.Ends {
				for _, v := range m.stemsOf(word.Squash[start:end]) {
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
		// One letter wrong in a long word: "Crimnal record".
		for _, p := range present {
			if len(s) >= fuzzyMin && p.s[0] == s[0] && oneEdit(p.s, s) && !m.l.vocab[p.s] {
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
				m.hits = append(m.hits, hit{t, p.word, 0, false})
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

// stemsOf returns s's variants and those without an ending of -ing, -ed
// or -er, undoubling a doubled consonant: scanner→scan, monitoring→monitor.
// Terms of several words match their words so.
func (m *matcher) stemsOf(s string) []string {
	v := append(m.stems[:0], m.variants(s)...)
	for _, w := range v {
		n := len(w)
		var base string
		switch {
		case n >= 6 && strings.HasSuffix(w, "ing"):
			base = w[:n-3]
		case n >= 5 && strings.HasSuffix(w, "ed"), n >= 6 && strings.HasSuffix(w, "er"):
			base = w[:n-2]
		default:
			continue
		}
		v = append(v, base)
		if b := len(base); b >= 3 && base[b-1] == base[b-2] {
			v = append(v, base[:b-1])
		}
	}
	m.stems = v
	return v
}

// samePlural reports whether w is a, or a with a plural ending.
func samePlural(w, a string) bool {
	if !strings.HasPrefix(w, a) {
		return len(a) > 1 && a[len(a)-1] == 'y' && w == a[:len(a)-1]+"ies"
	}
	rest := w[len(a):]
	return rest == "" || rest == "s" || rest == "es"
}

// allowed reports whether an allowlisted phrase covers the match: words
// [w0,w1), and within a single word the letters [from,to).
func (m *matcher) allowed(w0, w1, from, to int) bool {
	for _, a := range m.l.allow {
		if len(a) == 1 {
			if w1 != w0+1 {
				continue
			}
			sq := m.words[w0].Squash
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
				if !samePlural(m.words[s+j].Squash, aw) {
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
