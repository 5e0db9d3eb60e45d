package engine

// Signed context feeds (.ewf).
//
// A feed maps coarse regions to a context value, such as today's weather by
// region. `edgewise feed build` makes one and signs it; the page fetches it
// from the URL the ruleset names (the same file for every visitor) and hands
// it over with load_feed; decide joins it with the person's region on the
// device. So the weather where the person is becomes known without anyone
// learning where that is.
//
// The file is the .ewr layout (see ewr.go) with the magic "EWFS" (Edgewise
// Feed, Signed), format version 1, and a Feed as its payload. It is signed
// with the key the ruleset names for the feed, or with the ruleset's own
// key when it names none.
//
// A person's region is joined with a feed at three precisions, the most
// precise first: the geohash cell of 3 characters, the subdivision, the
// country. The first that has a value today wins; for holidays, which
// stack (a national holiday is one in every region), every level counts.
// A feed says nothing before it is issued, after it expires, or when the
// time is unknown: a missing value, never a stale one.

import (
	"slices"

	"github.com/edgewise/edgewise/internal/mp"
	"github.com/edgewise/edgewise/internal/wire"
)

// The .ewf format.
const (
	EWFMagic   = "EWFS"
	EWFVersion = 1
	// FeedCells is the length of Feed.Cells: one byte per geohash cell of
	// 3 characters (15 bits), in geohash order.
	FeedCells = 1 << 15
	// MaxFeedValues bounds a feed's value table: a cell is one byte.
	MaxFeedValues = 255
	// MaxFeedPlaces bounds a feed's country and subdivision entries.
	MaxFeedPlaces = 20000
	// maxFeedLabel bounds a place label in bytes.
	maxFeedLabel = 64
)

var feedFormat = signedFormat{EWFMagic, EWFVersion, "the feed file", CodeBadFeed, "edgewise feed build",
	"feed", [2]string{"the ruleset names key ", " for it"}}

// Feed is a context feed: what a .ewf file's payload holds.
type Feed struct {
	ID   string `msgpack:"id" json:"id"`
	Kind string `msgpack:"kind" json:"kind"`
	// Issued and Expires are Unix milliseconds; the feed holds from Issued
	// until just before Expires.
	Issued  int64 `msgpack:"issued" json:"issued"`
	Expires int64 `msgpack:"expires" json:"expires"`
	// Values is the value table; places and cells name a value by its
	// number, counted from 1.
	Values []string    `msgpack:"values" json:"values"`
	Places []FeedPlace `msgpack:"places,omitempty" json:"places,omitempty"`
	// Cells is empty or FeedCells bytes: per geohash cell of 3 characters,
	// in geohash order, a value number, or 0 for none. A place keyed by a
	// cell wins over the cell's byte; that is how a cell gets a label.
	Cells []byte `msgpack:"cells,omitempty" json:"cells,omitempty"`
}

// FeedPlace is a value for a geohash cell of 3 characters (u09), a
// subdivision (FR-IDF) or a country (FR), on the local dates From to To
// (YYYYMMDD, inclusive; 0 leaves a side open). Label is the name people
// know the place by ("Paris").
type FeedPlace struct {
	Key   string `msgpack:"key" json:"key"`
	Value int    `msgpack:"value" json:"value"`
	From  int    `msgpack:"from,omitempty" json:"from,omitempty"`
	To    int    `msgpack:"to,omitempty" json:"to,omitempty"`
	Label string `msgpack:"label,omitempty" json:"label,omitempty"`
}

// FeedInfo is what load_feed answers.
type FeedInfo struct {
	ID      string `msgpack:"id" json:"id"`
	Kind    string `msgpack:"kind" json:"kind"`
	Issued  int64  `msgpack:"issued" json:"issued"`
	Expires int64  `msgpack:"expires" json:"expires"`
}

// SealFeed wraps payload bytes in an .ewf header and signs them, as they
// are; engine/buildtime.EncodeFeed validates first. Inside edgewise.wasm it
// refuses, as SealRuleset does.
func SealFeed(payload []byte, priv []byte) ([]byte, error) {
	return seal(feedFormat, payload, priv)
}

// ReadFeedHeader checks an .ewf file's structure and returns its header.
func ReadFeedHeader(ewf []byte) (EWRInfo, error) {
	info, _, err := parseSigned(feedFormat, ewf)
	return info, err
}

// InspectFeed reads an .ewf file without checking its key or signature,
// for tools that show what a file holds. Never load what it returns.
func InspectFeed(ewf []byte) (EWRInfo, *Feed, error) {
	info, payload, err := parseSigned(feedFormat, ewf)
	if err != nil {
		return info, nil, err
	}
	f, err := decodeFeed(payload)
	return info, f, err
}

// DecodeFeed verifies an .ewf file against pub and decodes its feed.
// Errors are bad_feed, or bad_signature for a wrong key or a changed file.
// Like a ruleset, the feed is checked in full (Check) where it is signed;
// the engine only keeps every lookup in range.
func DecodeFeed(ewf []byte, pub []byte) (*Feed, error) {
	payload, err := verifySigned(feedFormat, ewf, pub)
	if err != nil {
		return nil, err
	}
	return decodeFeed(payload)
}

func decodeFeed(payload []byte) (*Feed, error) {
	f := new(Feed)
	if err := wire.Read(payload, func(r *mp.Reader) error { return mpDecodeFeed(r, f) }); err != nil {
		return nil, &Error{Code: CodeBadFeed, Message: "the signed feed does not decode (made by a newer edgewise?): " + err.Error()}
	}
	return f, nil
}

// Check reports the first thing wrong with a feed on its own, without a
// ruleset: its kind, times, value table, places and cells.
func (f *Feed) Check() error {
	bad := func(msg string) error { return &Error{Code: CodeBadFeed, Message: "feed " + quote(f.ID) + ": " + msg} }
	if !validID(f.ID, false) {
		return &Error{Code: CodeBadFeed, Message: "the feed's id " + quote(f.ID) + " is not an id (lowercase letters, digits, - and _)"}
	}
	if !slices.Contains(FeedKinds, f.Kind) {
		return bad("kind " + quote(f.Kind) + " is not one of " + quoteList(FeedKinds))
	}
	if f.Issued <= 0 || f.Expires <= f.Issued {
		return bad("it must be issued at a positive time and expire after it")
	}
	if len(f.Values) == 0 || len(f.Values) > MaxFeedValues {
		return bad("it must have between 1 and " + itoa(MaxFeedValues) + " values")
	}
	for i, v := range f.Values {
		if !validID(v, false) {
			return bad("value " + quote(v) + " is not a value (lowercase letters, digits, - and _)")
		}
		if slices.Contains(f.Values[:i], v) {
			return bad("value " + quote(v) + " is listed twice")
		}
		if f.Kind == FeedWeather && !slices.Contains(weatherValues, v) {
			return bad("value " + quote(v) + " is not a weather category (" + quoteList(weatherValues) + ")")
		}
		if f.Kind == FeedHolidays && !slices.Contains(holidayValues, v) {
			return bad("value " + quote(v) + " is not one of " + quoteList(holidayValues))
		}
	}
	if len(f.Places) > MaxFeedPlaces {
		return bad("it has " + itoa(len(f.Places)) + " places; at most " + itoa(MaxFeedPlaces))
	}
	for _, p := range f.Places {
		if _, cell := CellIndex(p.Key); !cell && !validCountry(p.Key) && !validSubdivision(p.Key) {
			return bad("place " + quote(p.Key) + " is not a geohash cell of 3 characters (u09), a subdivision (FR-IDF) or a country (FR)")
		}
		if p.Value < 1 || p.Value > len(f.Values) {
			return bad("place " + quote(p.Key) + " names value " + itoa(p.Value) + ", but the feed has " + itoa(len(f.Values)))
		}
		if (p.From != 0 && !validDate(p.From)) || (p.To != 0 && !validDate(p.To)) || (p.From != 0 && p.To != 0 && p.From > p.To) {
			return bad("place " + quote(p.Key) + " has dates " + itoa(p.From) + " to " + itoa(p.To) + "; they must be YYYYMMDD, from before to")
		}
		if len(p.Label) > maxFeedLabel {
			return bad("place " + quote(p.Key) + " has a label longer than " + itoa(maxFeedLabel) + " bytes")
		}
	}
	if len(f.Cells) != 0 {
		if len(f.Cells) != FeedCells {
			return bad("it has " + itoa(len(f.Cells)) + " cells; a feed has none or " + itoa(FeedCells) + ", one per geohash cell of 3 characters")
		}
		for i, v := range f.Cells {
			if int(v) > len(f.Values) {
				return bad("cell " + CellName(i) + " names value " + itoa(int(v)) + ", but the feed has " + itoa(len(f.Values)))
			}
		}
	}
	return nil
}

// holidayValues are the values of a holidays feed.
var holidayValues = []string{"public_holiday", "school_break"}

// HolidayValues lists the values of a holidays feed.
func HolidayValues() []string { return slices.Clone(holidayValues) }

// validDate reports whether d is a plausible YYYYMMDD date.
func validDate(d int) bool {
	y, m, day := d/10000, d/100%100, d%100
	return y >= 1970 && y <= 9999 && m >= 1 && m <= 12 && day >= 1 && day <= daysIn(y, m)
}

// CellIndex returns the index in Feed.Cells of a geohash of 3 characters.
func CellIndex(cell string) (int, bool) {
	if len(cell) != 3 {
		return 0, false
	}
	i := 0
	for k := 0; k < 3; k++ {
		d := geohashDigit(cell[k])
		if d < 0 {
			return 0, false
		}
		i = i<<5 | d
	}
	return i, true
}

// CellName is the geohash of 3 characters at index i of Feed.Cells.
func CellName(i int) string {
	return string([]byte{geohashAlphabet[i>>10&31], geohashAlphabet[i>>5&31], geohashAlphabet[i&31]})
}

func geohashDigit(c byte) int {
	for d := 0; d < len(geohashAlphabet); d++ {
		if geohashAlphabet[d] == c {
			return d
		}
	}
	return -1
}

// compiledFeedRef is a ruleset's feed as the engine uses it.
type compiledFeedRef struct {
	FeedRef
	key []byte // the public key it must be signed with; nil: the ruleset's
}

// LoadFeed verifies a signed feed file and makes it the ruleset's feed of
// that id, replacing any loaded before. rulesKey is the key the active
// ruleset was verified with; the feed must be signed with the key the
// ruleset names for it, or with rulesKey. A feed the ruleset does not name,
// or of another kind, is refused; on any error the feed loaded before
// stays.
func (e *Engine) LoadFeed(ewf []byte, rulesKey []byte) (FeedInfo, error) {
	if e.rules == nil {
		return FeedInfo{}, errNoRuleset()
	}
	// Parsed, hashed and verified once, whichever of the ruleset's feeds
	// it turns out to be.
	info, payload, err := parseSigned(feedFormat, ewf)
	if err != nil {
		return FeedInfo{}, err
	}
	// The header's key id says which key to check it with; the id inside
	// is trusted only once the signature is.
	var key []byte
	for i := range e.rules.feeds {
		if k := e.rules.feeds[i].keyFor(rulesKey, info.KeyID); k != nil {
			key = k
			break
		}
	}
	if key == nil {
		return FeedInfo{}, badSignature("the feed is signed with key " + info.KeyID.String() + ", which ruleset " + quote(e.rules.id) + " names for none of its feeds")
	}
	if err := checkSigned(feedFormat, ewf, &info, key); err != nil {
		return FeedInfo{}, err
	}
	f, err := decodeFeed(payload)
	if err != nil {
		return FeedInfo{}, err
	}
	for i := range e.rules.feeds {
		r := &e.rules.feeds[i]
		if r.keyFor(rulesKey, info.KeyID) == nil || f.ID != r.ID || f.Kind != r.Kind || (f.Kind == FeedCustom && !allIn(f.Values, r.Values)) {
			continue // signed with this key, but not this feed
		}
		if e.feeds == nil {
			e.feeds = make([]*Feed, len(e.rules.feeds))
		}
		e.feeds[i] = f
		e.gen++
		return FeedInfo{ID: f.ID, Kind: f.Kind, Issued: f.Issued, Expires: f.Expires}, nil
	}
	return FeedInfo{}, &Error{Code: CodeBadFeed, Message: "ruleset " + quote(e.rules.id) + " names no " + f.Kind + " feed " + quote(f.ID) + " with these values, signed with key " + info.KeyID.String()}
}

// keyFor is the key r must be signed with (its own, else rulesKey) when
// its key id is id, else nil.
func (r *compiledFeedRef) keyFor(rulesKey []byte, id KeyID) []byte {
	k := r.key
	if k == nil {
		k = rulesKey
	}
	if len(k) != publicKeySize || KeyIDOf(k) != id {
		return nil
	}
	return k
}

func allIn(list, set []string) bool {
	for _, v := range list {
		if !slices.Contains(set, v) {
			return false
		}
	}
	return true
}

// feedValues are what one feed says for the person now: values, and where
// each came from.
type feedValues struct {
	values []string
	source []FeedSource
}

func (fv *feedValues) add(f *Feed, v int, place, label string) {
	if v < 1 || v > len(f.Values) || slices.Contains(fv.values, f.Values[v-1]) {
		return // out of range only in a feed its signer failed to check
	}
	fv.values = append(fv.values, f.Values[v-1])
	fv.source = append(fv.source, FeedSource{Feed: f.ID, Kind: f.Kind, Value: f.Values[v-1], Place: place, Label: label, Issued: f.Issued})
}

// lookupFeeds joins the person's region with every loaded feed of the
// ruleset, by ruleset feed number. A feed that is not loaded, not yet
// issued or expired, or a moment without a time, says nothing.
func (e *Engine) lookupFeeds(m *moment) []feedValues {
	if len(e.feeds) == 0 || m.now <= 0 {
		return nil
	}
	out := make([]feedValues, len(e.rules.feeds))
	country := m.Country
	if country == "" && len(m.Subdivision) > 2 {
		country = m.Subdivision[:2]
	}
	for i, f := range e.feeds {
		if f == nil || m.now < f.Issued || m.now >= f.Expires {
			continue
		}
		fv := &out[i]
		// Holidays stack: a national holiday is one in every region.
		for level, key := range [3]string{m.Geohash, m.Subdivision, country} {
			if key == "" || (len(fv.values) > 0 && f.Kind != FeedHolidays) {
				continue
			}
			if ci, ok := CellIndex(key); level == 0 && ok && len(f.Cells) == FeedCells && f.Cells[ci] != 0 &&
				!slices.ContainsFunc(f.Places, func(p FeedPlace) bool { return p.Key == key }) {
				fv.add(f, int(f.Cells[ci]), key, "")
				continue
			}
			for _, p := range f.Places {
				if p.Key == key && (p.From == 0 || m.date >= p.From) && (p.To == 0 || (m.date != 0 && m.date <= p.To)) {
					fv.add(f, p.Value, p.Key, p.Label)
				}
			}
		}
	}
	return out
}

// feedSources lists the feed values that the fired rules shaping a pick
// tested: the weather, when a feed supplied it, and feed conditions.
func (d *decider) feedSources(rk *ranked, idx, pin int) []FeedSource {
	m := &d.m
	if m.weatherFrom == nil && m.feeds == nil {
		return nil
	}
	var out []FeedSource
	for _, n := range rk.fired {
		r := &d.rules.ruleList[n]
		if !r.selected[idx] || (r.action == actPin && n != pin) || r.when == nil {
			continue
		}
		if len(r.when.Weather) > 0 && m.weatherFrom != nil {
			out = addSource(out, m.weatherFrom)
		}
		for _, t := range r.when.feeds {
			fv := &m.feeds[t.feed]
			for i, v := range fv.values {
				if slices.Contains(t.values, v) {
					out = addSource(out, &fv.source[i])
				}
			}
		}
	}
	return out
}

// addSource appends s unless out has it; values are unique within a feed,
// so (feed, value) names a source.
func addSource(out []FeedSource, s *FeedSource) []FeedSource {
	for i := range out {
		if out[i].Feed == s.Feed && out[i].Value == s.Value {
			return out
		}
	}
	return append(out, *s)
}
