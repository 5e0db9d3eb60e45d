// Package feedbuild turns the rows of a context feed's inputs (read by
// internal/feedsrc) into an engine.Feed, ready for buildtime.EncodeFeed to
// sign: `edgewise feed build` is this package plus reading and signing.
//
// Rows keyed by a country ("FR") or a subdivision ("FR-IDF") become the
// feed's places, with their dates and labels. Rows keyed by a geohash of 3
// characters set that cell; 1 or 2 characters set every cell under them, and
// a longer key wins over a shorter one. Rows with a point set the geohash
// cell of 3 characters the point falls in, by majority when several points
// fall in one cell; a keyed cell wins over points. A weather feed also gets a
// value for every country and subdivision its points fall in that no row
// names: the weather most of those points have, for a visitor whose region
// is known only that coarsely (from the browser's time zone, say).
//
// The same rows and options always give the same feed, byte for byte once
// encoded: places are sorted, and ties are broken by input order.
//
// This package is for build tools; the engine and the wasm never use it.
package feedbuild

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/engine/geo"
	"github.com/edgewise/edgewise/internal/feedsrc"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Options say what feed to build from the rows.
type Options struct {
	// Kind is engine.FeedWeather, FeedHolidays or FeedCustom.
	Kind string
	// ID is the feed id the ruleset names; default: Kind. Required for
	// a custom feed.
	ID string
	// Issued is when the feed starts to hold; default: time.Now().
	Issued time.Time
	// TTL is how long it holds: Expires = Issued + TTL. Default: DefaultTTL.
	TTL time.Duration
	// Values are a custom feed's allowed values, in the order of its value
	// table; default: the values the rows use, sorted. Weather and holidays
	// feeds have fixed values and take none.
	Values []string
	// Places, optional, name cells: a cell that has a value gets the name
	// of the first place (in list order, so the list is a priority) inside
	// it as its label, unless a row gave it one.
	Places []feedsrc.Place
	// Source, optional, says where entries[i] came from in errors and
	// warnings, such as "weather.csv:7"; default: "line N" from
	// Entry.Line.
	Source func(i int) string
}

// Summary says what Build made.
type Summary struct {
	Entries int // rows read
	Cells   int // geohash cells of 3 characters with a value
	Places  int // len(Feed.Places): labelled cells, subdivisions, countries
	// Values counts, per value, the cells and the subdivision and country
	// places that have it (a labelled cell counts once).
	Values map[string]int
	// RawBytes and GzipBytes are the size of the encoded feed
	// (buildtime.MarshalFeed), as it is and gzipped at level 9.
	RawBytes, GzipBytes int
	// Warnings are things that are allowed but probably not meant.
	Warnings []string
}

// Default lifetimes of a feed, by kind: weather is rebuilt hourly and
// holds 3 hours (so one missed rebuild costs nothing), holidays monthly
// with 30 days, custom values daily.
const (
	WeatherTTL  = 3 * time.Hour
	HolidaysTTL = 720 * time.Hour
	CustomTTL   = 24 * time.Hour
)

// StaleWeather is the age beyond which weather says little about now.
const StaleWeather = 24 * time.Hour

// DefaultTTL is the lifetime of a feed of kind when Options.TTL is 0.
func DefaultTTL(kind string) time.Duration {
	switch kind {
	case engine.FeedWeather:
		return WeatherTTL
	case engine.FeedHolidays:
		return HolidaysTTL
	}
	return CustomTTL
}

// maxErrors is how many problems Build reports before it only counts the
// rest, as the feedsrc readers do.
const maxErrors = 20

// maxIDBytes bounds a feed id, as a ruleset's feeds entry does.
const maxIDBytes = 64

// row is an entry as Build uses it.
type row struct {
	i     int // index in entries
	e     feedsrc.Entry
	kind  string // "point", "geohash", "country", "subdivision"
	from  int    // YYYYMMDD or 0
	to    int
	cells []int // geohash: the cells it sets
}

// tally counts votes for values, remembering the order they came in, so
// that a tie goes to the value seen first.
type tally struct {
	vals []string
	n    []int
}

func (t *tally) add(v string) {
	if i := slices.Index(t.vals, v); i >= 0 {
		t.n[i]++
		return
	}
	t.vals = append(t.vals, v)
	t.n = append(t.n, 1)
}

func (t *tally) winner() string {
	best := 0
	for i := range t.n {
		if t.n[i] > t.n[best] {
			best = i
		}
	}
	return t.vals[best]
}

// problems collects Build's errors, keeping the first maxErrors.
type problems struct {
	errs []error
	more int
}

func (p *problems) add(format string, args ...any) {
	if len(p.errs) >= maxErrors {
		p.more++
		return
	}
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	errs := p.errs
	if p.more > 0 {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("%d more problems not shown", p.more))
	}
	return errors.Join(errs...)
}

// Build makes a feed from rows. Its errors name the rows (Options.Source)
// and what is wrong with each, up to 20 of them, joined.
func Build(entries []feedsrc.Entry, o Options) (*engine.Feed, Summary, error) {
	sum := Summary{Entries: len(entries), Values: map[string]int{}}
	if err := o.check(); err != nil {
		return nil, sum, err
	}
	if o.ID == "" {
		o.ID = o.Kind
	}
	if o.Issued.IsZero() {
		o.Issued = time.Now()
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL(o.Kind)
	}
	where := func(i int) string {
		if o.Source != nil {
			return o.Source(i)
		}
		return "line " + strconv.Itoa(entries[i].Line)
	}
	if len(entries) == 0 {
		return nil, sum, errors.New("no rows: a feed needs at least one value for a place")
	}
	if o.Kind == engine.FeedWeather && o.TTL > StaleWeather {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("the feed holds for %s: weather older than a day is stale (rebuild hourly with a TTL of a few hours)", o.TTL))
	}

	// Check every row, and sort them by what they name.
	var probs problems
	var rows []row
	for i, e := range entries {
		bad := false
		fail := func(format string, args ...any) {
			probs.add("%s: %s", where(i), fmt.Sprintf(format, args...))
			bad = true
		}
		if err := e.Validate(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				fail("%s", line)
			}
			continue
		}
		if msg := o.valueProblem(e.Value); msg != "" {
			fail("%s", msg)
		}
		r := row{i: i, e: e}
		var err error
		if r.from, err = yyyymmdd(e.From); err != nil {
			fail("from %q is not a date YYYY-MM-DD", e.From)
		}
		if r.to, err = yyyymmdd(e.To); err != nil {
			fail("to %q is not a date YYYY-MM-DD", e.To)
		}
		if e.HasPoint {
			r.kind = "point"
		} else {
			r.kind = feedsrc.KeyKind(e.Key)
		}
		switch r.kind {
		case "point", "geohash":
			if e.From != "" || e.To != "" {
				fail("from and to are for country and subdivision keys (FR, FR-IDF): a geohash cell holds one value for the feed's whole life; leave them empty or key the row by its region")
			}
		case "country", "subdivision":
		default:
			fail("key %q is not a country, subdivision or geohash", e.Key)
		}
		if bad {
			continue
		}
		if r.kind == "geohash" {
			r.cells = expand(e.Key)
			if len(e.Key) == 2 {
				if c, ok := lookalikeCountry(e.Key); ok {
					sum.Warnings = append(sum.Warnings, fmt.Sprintf("%s: key %q is read as a geohash (%d cells around %s); did you mean the country %s?", where(i), e.Key, len(r.cells), e.Key, c))
				}
			}
			if len(e.Key) < 3 && e.Label != "" {
				sum.Warnings = append(sum.Warnings, fmt.Sprintf("%s: label %q is not used: a geohash of %d characters covers %d cells; label cells of 3 characters, or pass places", where(i), e.Label, len(e.Key), len(r.cells)))
			}
		}
		rows = append(rows, r)
	}
	if err := probs.err(); err != nil {
		return nil, sum, err
	}

	// Cells: points by majority, then keyed cells, the longest key
	// winning. Countries and subdivisions: a key once per dates, and, but
	// for holidays, which stack, one value per key and day.
	type span struct {
		from, to int
		i        int
	}
	spans := map[string][]span{}
	explicit := map[string]bool{}
	var (
		votes     = map[int]*tally{}
		keyed     = map[int]*row{}
		seenKey   = map[string]int{} // geohash key → entry index
		cellValue = map[int]string{}
		cellLabel = map[int]string{}
		places    []*row // countries and subdivisions
	)
	for k := range rows {
		r := &rows[k]
		switch r.kind {
		case "point":
			ci, _ := engine.CellIndex(engine.Geohash(r.e.Lat, r.e.Lon, 3))
			t := votes[ci]
			if t == nil {
				t = new(tally)
				votes[ci] = t
			}
			t.add(r.e.Value)
		case "geohash":
			if j, dup := seenKey[r.e.Key]; dup {
				probs.add("%s: key %s is given twice (also %s)", where(r.i), r.e.Key, where(j))
				continue
			}
			seenKey[r.e.Key] = r.i
			for _, ci := range r.cells {
				if prev := keyed[ci]; prev == nil || len(prev.e.Key) < len(r.e.Key) {
					keyed[ci] = r
				}
			}
		default:
			places = append(places, r)
			explicit[r.e.Key] = true
			for _, sp := range spans[r.e.Key] {
				if sp.from == r.from && sp.to == r.to {
					probs.add("%s: %s is given twice %s (also %s)", where(r.i), r.e.Key, datesText(r.from, r.to), where(sp.i))
					break
				}
				if o.Kind != engine.FeedHolidays && overlap(sp.from, sp.to, r.from, r.to) && entries[sp.i].Value != r.e.Value {
					probs.add("%s: %s is %s %s, but %s says %s %s: a %s feed has one value per place and day", where(r.i), r.e.Key, r.e.Value, datesText(r.from, r.to), where(sp.i), entries[sp.i].Value, datesText(sp.from, sp.to), o.Kind)
					break
				}
			}
			spans[r.e.Key] = append(spans[r.e.Key], span{r.from, r.to, r.i})
		}
	}
	if err := probs.err(); err != nil {
		return nil, sum, err
	}
	for ci, t := range votes {
		cellValue[ci] = t.winner()
	}
	for ci, r := range keyed {
		cellValue[ci] = r.e.Value
		if len(r.e.Key) == 3 && r.e.Label != "" {
			cellLabel[ci] = r.e.Label
		}
	}
	// A labelled point names its cell when the cell has its value.
	for _, r := range rows {
		if r.kind != "point" || r.e.Label == "" {
			continue
		}
		ci, _ := engine.CellIndex(engine.Geohash(r.e.Lat, r.e.Lon, 3))
		if _, ok := cellLabel[ci]; !ok && keyed[ci] == nil && cellValue[ci] == r.e.Value {
			cellLabel[ci] = r.e.Label
		}
	}
	// Then the places list, in its order.
	for _, p := range o.Places {
		ci, ok := engine.CellIndex(engine.Geohash(p.Lat, p.Lon, 3))
		if !ok {
			continue
		}
		if _, has := cellValue[ci]; has {
			if _, labelled := cellLabel[ci]; !labelled {
				cellLabel[ci] = p.Name
			}
		}
	}

	if err := probs.err(); err != nil {
		return nil, sum, err
	}

	// Weather: the prevailing weather of every country and subdivision
	// the points fall in, unless a row names it.
	var derived []engine.FeedPlace // Value unset yet; derivedValue holds it
	var derivedValue []string
	if o.Kind == engine.FeedWeather && len(votes) > 0 {
		table, err := geo.Default()
		if err != nil {
			return nil, sum, fmt.Errorf("the region table: %w", err)
		}
		byRegion := map[string]*tally{}
		var order []string
		for _, r := range rows {
			if r.kind != "point" {
				continue
			}
			country, sub, ok := table.Lookup(r.e.Lat, r.e.Lon)
			if !ok {
				continue
			}
			for _, key := range []string{sub, country} {
				if key == "" || explicit[key] {
					continue
				}
				t := byRegion[key]
				if t == nil {
					t = new(tally)
					byRegion[key] = t
					order = append(order, key)
				}
				t.add(r.e.Value)
			}
		}
		// What each country says on every date, explicit or derived.
		countryValue := map[string]string{}
		for _, r := range places {
			if r.kind == "country" && r.from == 0 && r.to == 0 {
				countryValue[r.e.Key] = r.e.Value
			}
		}
		for key, t := range byRegion {
			if len(key) == 2 {
				countryValue[key] = t.winner()
			}
		}
		sort.Strings(order)
		for _, key := range order {
			v := byRegion[key].winner()
			if len(key) > 2 && countryValue[key[:2]] == v {
				// The country says the same, and a visitor's subdivision
				// falls back to it: leave it out, the feed is smaller.
				continue
			}
			p := engine.FeedPlace{Key: key}
			if len(key) == 2 {
				p.Label = countryName(key)
			}
			derived = append(derived, p)
			derivedValue = append(derivedValue, v)
		}
	}

	// The value table.
	used := map[string]bool{}
	for _, v := range cellValue {
		used[v] = true
	}
	for _, r := range places {
		used[r.e.Value] = true
	}
	for _, v := range derivedValue {
		used[v] = true
	}
	var values []string
	switch o.Kind {
	case engine.FeedWeather:
		values = keep(feedsrc.WeatherCategories(), used)
	case engine.FeedHolidays:
		values = keep(engine.HolidayValues(), used)
	default:
		if len(o.Values) > 0 {
			values = slices.Clone(o.Values)
		} else {
			for v := range used {
				values = append(values, v)
			}
			sort.Strings(values)
		}
	}
	if len(values) > engine.MaxFeedValues {
		return nil, sum, fmt.Errorf("the rows use %d values; a feed has at most %d", len(values), engine.MaxFeedValues)
	}
	number := make(map[string]int, len(values))
	for i, v := range values {
		number[v] = i + 1
	}

	f := &engine.Feed{
		ID:      o.ID,
		Kind:    o.Kind,
		Issued:  o.Issued.UnixMilli(),
		Expires: o.Issued.Add(o.TTL).UnixMilli(),
		Values:  values,
	}
	if len(cellValue) > 0 {
		f.Cells = make([]byte, engine.FeedCells)
		for ci, v := range cellValue {
			f.Cells[ci] = byte(number[v])
			sum.Values[v]++
		}
		sum.Cells = len(cellValue)
	}
	for ci, label := range cellLabel {
		f.Places = append(f.Places, engine.FeedPlace{Key: engine.CellName(ci), Value: number[cellValue[ci]], Label: label})
	}
	for _, r := range places {
		f.Places = append(f.Places, engine.FeedPlace{Key: r.e.Key, Value: number[r.e.Value], From: r.from, To: r.to, Label: r.e.Label})
		sum.Values[r.e.Value]++
	}
	for k, p := range derived {
		p.Value = number[derivedValue[k]]
		f.Places = append(f.Places, p)
		sum.Values[derivedValue[k]]++
	}
	sortPlaces(f.Places)
	sum.Places = len(f.Places)
	if len(f.Places) > engine.MaxFeedPlaces {
		return nil, sum, fmt.Errorf("the feed has %d places (labelled cells, subdivisions and countries); at most %d", len(f.Places), engine.MaxFeedPlaces)
	}
	if err := f.Check(); err != nil {
		return nil, sum, err
	}
	raw, err := buildtime.MarshalFeed(f)
	if err != nil {
		return nil, sum, err
	}
	sum.RawBytes = len(raw)
	sum.GzipBytes = GzipSize(raw)
	return f, sum, nil
}

// check checks the options on their own.
func (o *Options) check() error {
	if !slices.Contains(engine.FeedKinds, o.Kind) {
		return fmt.Errorf("kind %q is not a feed kind: want %s", o.Kind, strings.Join(engine.FeedKinds, ", "))
	}
	switch {
	case o.ID == "" && o.Kind == engine.FeedCustom:
		return errors.New("a custom feed needs an id: the one the ruleset's feeds entry names")
	case o.ID != "" && (!validID(o.ID) || len(o.ID) > maxIDBytes):
		return fmt.Errorf("feed id %q is not an id: at most %d lowercase letters, digits, - and _, starting with a letter or digit", o.ID, maxIDBytes)
	}
	if o.TTL < 0 {
		return fmt.Errorf("the TTL %s is negative", o.TTL)
	}
	if o.TTL > 0 && o.TTL < time.Minute {
		return fmt.Errorf("the TTL %s is shorter than a minute", o.TTL)
	}
	if !o.Issued.IsZero() && o.Issued.UnixMilli() <= 0 {
		return fmt.Errorf("issued %s is before 1970", o.Issued.UTC().Format(time.RFC3339))
	}
	if len(o.Values) > 0 && o.Kind != engine.FeedCustom {
		return fmt.Errorf("a %s feed has fixed values (%s); values are for custom feeds", o.Kind, strings.Join(fixedValues(o.Kind), ", "))
	}
	for i, v := range o.Values {
		switch {
		case !validID(v) || len(v) > feedsrc.MaxValueBytes:
			return fmt.Errorf("value %q is not a value: at most %d lowercase letters, digits, - and _, starting with a letter or digit", v, feedsrc.MaxValueBytes)
		case slices.Contains(o.Values[:i], v):
			return fmt.Errorf("value %q is listed twice", v)
		}
	}
	if len(o.Values) > engine.MaxFeedValues {
		return fmt.Errorf("%d values; a feed has at most %d", len(o.Values), engine.MaxFeedValues)
	}
	return nil
}

func fixedValues(kind string) []string {
	if kind == engine.FeedWeather {
		return feedsrc.WeatherCategories()
	}
	return engine.HolidayValues()
}

// valueProblem says what is wrong with a row's value for this feed, or "".
func (o *Options) valueProblem(v string) string {
	if !validID(v) {
		msg := fmt.Sprintf("value %q is not a value: lowercase letters, digits, - and _, starting with a letter or digit", v)
		if l := strings.ToLower(v); validID(l) {
			msg += fmt.Sprintf(" (did you mean %q?)", l)
		}
		return msg
	}
	switch {
	case o.Kind == engine.FeedWeather && !feedsrc.IsWeatherCategory(v):
		return fmt.Sprintf("value %q is not a weather category: want one of %s", v, strings.Join(feedsrc.WeatherCategories(), ", "))
	case o.Kind == engine.FeedHolidays && !slices.Contains(engine.HolidayValues(), v):
		return fmt.Sprintf("value %q is not a holidays value: want %s", v, strings.Join(engine.HolidayValues(), " or "))
	case o.Kind == engine.FeedCustom && len(o.Values) > 0 && !slices.Contains(o.Values, v):
		return fmt.Sprintf("value %q is not one of the feed's values (%s)", v, strings.Join(o.Values, ", "))
	}
	return ""
}

// validID is the engine's id syntax: lowercase letters and digits, and
// after the first character also - and _.
func validID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || i > 0 && (c == '-' || c == '_')) {
			return false
		}
	}
	return true
}

// yyyymmdd turns YYYY-MM-DD into the engine's YYYYMMDD; "" is 0, an open
// side.
func yyyymmdd(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, err
	}
	if t.Year() < 1970 {
		return 0, errors.New("before 1970")
	}
	return t.Year()*10000 + int(t.Month())*100 + t.Day(), nil
}

// datesText describes a range of YYYYMMDD dates for errors.
func datesText(from, to int) string {
	d := func(x int) string { return fmt.Sprintf("%04d-%02d-%02d", x/10000, x/100%100, x%100) }
	switch {
	case from == 0 && to == 0:
		return "on every date"
	case from == 0:
		return "until " + d(to)
	case to == 0:
		return "from " + d(from)
	case from == to:
		return "on " + d(from)
	}
	return "from " + d(from) + " to " + d(to)
}

// overlap reports whether two ranges of dates share a day; 0 is open.
func overlap(af, at, bf, bt int) bool {
	if at == 0 {
		at = 99999999
	}
	if bt == 0 {
		bt = 99999999
	}
	return af <= bt && bf <= at
}

// expand lists the cells of 3 characters under a geohash of 1 to 3.
func expand(key string) []int {
	prefix, ok := 0, true
	for k := 0; k < len(key); k++ {
		d := strings.IndexByte(geohashAlphabet, key[k])
		if d < 0 {
			ok = false
			break
		}
		prefix = prefix<<5 | d
	}
	if !ok || len(key) < 1 || len(key) > 3 {
		return nil
	}
	shift := 5 * (3 - len(key))
	cells := make([]int, 1<<shift)
	for i := range cells {
		cells[i] = prefix<<shift | i
	}
	return cells
}

const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// lookalikeCountry reports whether a lowercase geohash of 2 characters
// reads as a country code when upper-cased, and which.
func lookalikeCountry(key string) (string, bool) {
	r, err := language.ParseRegion(strings.ToUpper(key))
	if err != nil || !r.IsCountry() {
		return "", false
	}
	return r.String(), true
}

// countryName is a country's English name, or "" when it has none.
func countryName(code string) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return ""
	}
	name := display.English.Regions().Name(r)
	if len(name) > feedsrc.MaxLabelBytes {
		return ""
	}
	return name
}

// keep returns the values of order that are used.
func keep(order []string, used map[string]bool) []string {
	var out []string
	for _, v := range order {
		if used[v] {
			out = append(out, v)
		}
	}
	return out
}

// placeRank orders cells, then subdivisions, then countries.
func placeRank(key string) int {
	switch {
	case len(key) == 3 && !strings.Contains(key, "-") && strings.ToLower(key) == key:
		return 0
	case strings.Contains(key, "-"):
		return 1
	}
	return 2
}

// sortPlaces sorts places into their canonical order: cells, then
// subdivisions, then countries, each by key, then dates, then value.
func sortPlaces(ps []engine.FeedPlace) {
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if ra, rb := placeRank(a.Key), placeRank(b.Key); ra != rb {
			return ra < rb
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if a.From != b.From {
			return a.From < b.From
		}
		if a.To != b.To {
			return a.To < b.To
		}
		return a.Value < b.Value
	})
}

// GzipSize is the size of data gzipped at level 9, as a server would
// send it precompressed.
func GzipSize(data []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	return buf.Len()
}
