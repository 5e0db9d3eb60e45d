package lexicon

// Glued words and misspellings: the matching that goes beyond a term as
// written (README.md, "Glued words" and "Misspellings"). Both lean on
// words.txt, a list of common words of shops in the four languages: the
// pieces a glued word may be made of, and words that are never read as a
// misspelling of a term.

import "strings"

const (
	// fuzzyMin is the shortest term matched with one letter wrong: below
	// it, one letter turns too many words into others (genetic, generic).
	fuzzyMin = 8
	// minPiece is the shortest piece a glued word is split into.
	minPiece = 3
)

// addFuzzy indexes a term of one word, and its plural in -s, under itself
// and each way of deleting one of its letters: a word one edit away shares
// one of these keys with it (a letter added, dropped, changed, or two
// letters swapped). The forms it adds are in no other index.
func (l *lexicon) addFuzzy(word string, term int32) {
	if len(word) < fuzzyMin-2 {
		return
	}
	for _, text := range [...]string{word, word + "s"} {
		l.forms = append(l.forms, form{text: text, term: term, next: -1})
		l.addFuzzyKeys(int32(len(l.forms) - 1))
	}
}

func (l *lexicon) addFuzzyKeys(form int32) {
	text := l.forms[form].text
	l.fuzzyMax = max(l.fuzzyMax, len(text))
	l.fuzzy[text] = append(l.fuzzy[text], form)
	for i := range len(text) {
		del := text[:i] + text[i+1:]
		if k := l.fuzzy[del]; len(k) == 0 || k[len(k)-1] != form { // "ll": one key
			l.fuzzy[del] = append(k, form)
		}
	}
}

// fuzzyToken matches s, a word or token, against the terms one edit away:
// "pregnacy", "Deppression", "dementa". A word of words.txt is a word, not a
// misspelling: addition is not addiction.
func (m *matcher) fuzzyToken(s string, w, from int) {
	if len(s) < fuzzyMin-3 || len(s) > m.l.fuzzyMax+3 {
		return
	}
	var vs [6]string
	cands := vs[:copy(vs[:], m.variants(s))]
	for _, v := range cands {
		if m.l.vocab[v] {
			return
		}
	}
	for _, v := range cands {
		if len(v) < fuzzyMin-3 {
			continue
		}
		m.fuzzyKey(m.l.fuzzy[v], v, w, from)
		// Deleting the first letter finds nothing new: the term's first
		// letter must be the word's.
		buf := append(m.del[:0], v...)
		for i := 1; i < len(v); i++ {
			buf = append(buf[:0], v[:i]...)
			buf = append(buf, v[i+1:]...)
			m.fuzzyKey(m.l.fuzzy[string(buf)], v, w, from)
		}
		m.del = buf
	}
}

func (m *matcher) fuzzyKey(forms []int32, word string, w, from int) {
	for _, f := range forms {
		fm := &m.l.forms[f]
		if fm.text[0] == word[0] && fm.text != word && shortEdit(word, fm.text) && !m.allowed(w, w+1, from, from+len(word)) {
			m.hits = append(m.hits, hit{fm.term, w, from, true})
		}
	}
}

// shortEdit is oneEdit, narrower for shorter terms, where one edit turns
// more words into others: terms of 8 letters or more take any edit, of 7 a
// letter dropped or two swapped (todler, anxeity), of 6 two swapped
// (musilm).
func shortEdit(word, term string) bool {
	switch {
	case len(term) >= fuzzyMin:
		return oneEdit(word, term)
	case len(term) == fuzzyMin-1 && len(word) == len(term)-1:
		return oneEdit(word, term)
	case len(term) >= fuzzyMin-2 && len(word) == len(term):
		i := 0
		for i < len(term) && word[i] == term[i] {
			i++
		}
		return i+1 < len(term) && word[i] == term[i+1] && word[i+1] == term[i] && word[i+2:] == term[i+2:]
	}
	return false
}

// oneEdit reports whether a and b differ by at most one letter added,
// dropped or changed, or two neighbours swapped.
func oneEdit(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	i := 0
	for i < len(b) && a[i] == b[i] {
		i++
	}
	switch len(a) - len(b) {
	case 0:
		if i >= len(a)-1 {
			return true
		}
		return a[i+1:] == b[i+1:] || (a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:])
	case 1:
		return a[i+1:] == b[i:]
	}
	return false
}

// splitGlued finds a short or whole-word-only term glued to common words:
// "hivtest", "gaydating", "ivfkit", "kidsshoes", "Kirchenchor" (German
// joins with s, n, en or es: "Gebetsteppich"). The rest must be made of
// words.txt or terms, three letters or more each, so "hives", "hivernal",
// "jewelry" and "Gelsenkirchen" are not split.
func (m *matcher) splitGlued(s string, w, from int) {
	for p := 2; p <= min(m.l.gluedMax, len(s)-minPiece); p++ {
		head := m.l.whole[s[:p]]
		if head == 0 {
			continue
		}
		rest := s[p:]
		ok := m.segments(rest)
		for _, link := range [...]string{"s", "n", "en", "es", "e"} {
			ok = ok || (strings.HasPrefix(rest, link) && m.segments(rest[len(link):]))
		}
		if !ok {
			continue
		}
		for f := head - 1; f >= 0; f = m.l.forms[f].next {
			if fm := &m.l.forms[f]; !fm.inside && !m.allowed(w, w+1, from, from+len(s)) {
				m.hits = append(m.hits, hit{fm.term, w, from, false})
			}
		}
	}
}

// segments reports whether s is made of common words and terms, each
// minPiece letters or more, each perhaps in its plural.
func (m *matcher) segments(s string) bool {
	if len(s) < minPiece {
		return false
	}
	var reach [64]bool
	if len(s) >= len(reach) {
		return false
	}
	reach[0] = true
	for i := 0; i < len(s); i++ {
		if !reach[i] {
			continue
		}
		for j := i + minPiece; j <= len(s); j++ {
			if !reach[j] && m.known(s[i:j]) {
				reach[j] = true
			}
		}
	}
	return reach[len(s)]
}

func (m *matcher) known(piece string) bool {
	if m.l.vocab[piece] || m.l.whole[piece] != 0 {
		return true
	}
	n := len(piece)
	return n > minPiece && piece[n-1] == 's' && (m.l.vocab[piece[:n-1]] || m.l.whole[piece[:n-1]] != 0)
}
