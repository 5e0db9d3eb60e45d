package feedbuild

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/engine/geo"
	"github.com/edgewise/edgewise/internal/feedsrc"
)

const fixtures = "../../testdata/feeds/"

// issued is a fixed time, so that builds are comparable.
var issued = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// sizeBudget is what a feed may weigh compressed: every visitor fetches it.
const sizeBudget = 20000

func read(t *testing.T, name string) []feedsrc.Entry {
	t.Helper()
	es, _, err := feedsrc.ReadFile(fixtures+name, "")
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func readPlaces(t *testing.T) []feedsrc.Place {
	t.Helper()
	ps, err := feedsrc.ReadPlacesFile("../../examples/weather/places.csv")
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func build(t *testing.T, es []feedsrc.Entry, o Options) (*engine.Feed, Summary) {
	t.Helper()
	if o.Issued.IsZero() {
		o.Issued = issued
	}
	f, s, err := Build(es, o)
	if err != nil {
		t.Fatal(err)
	}
	return f, s
}

// valueOf is what a feed says for a cell, or "" for nothing.
func cellValue(f *engine.Feed, cell string) string {
	ci, ok := engine.CellIndex(cell)
	if !ok || len(f.Cells) == 0 || f.Cells[ci] == 0 {
		return ""
	}
	return f.Values[f.Cells[ci]-1]
}

// place is the first place of key, or nil.
func place(f *engine.Feed, key string) *engine.FeedPlace {
	for i := range f.Places {
		if f.Places[i].Key == key {
			return &f.Places[i]
		}
	}
	return nil
}

func point(lat, lon float64, v string, line int) feedsrc.Entry {
	return feedsrc.Entry{Lat: lat, Lon: lon, HasPoint: true, Value: v, Line: line}
}

func keyed(key, v string, line int) feedsrc.Entry {
	return feedsrc.Entry{Key: key, Value: v, Line: line}
}

// Points set the cell they fall in, by majority, a tie going to the value
// seen first; a keyed cell wins over points.
func TestPointsMajority(t *testing.T) {
	es := []feedsrc.Entry{
		// u09 (Paris): rain 2, clear 1.
		point(48.86, 2.35, "clear", 2), point(48.80, 2.30, "rain", 3), point(48.90, 2.40, "rain", 4),
		// xn7 (Tokyo): a tie, the first seen wins.
		point(35.86, 139.92, "cloudy", 5), point(35.70, 139.70, "clear", 6),
		// Lyon's cell: a point says snow, the keyed row cold.
		point(45.76, 4.84, "snow", 7), keyed(engine.Geohash(45.76, 4.84, 3), "cold", 8),
	}
	f, s := build(t, es, Options{Kind: engine.FeedWeather})
	lyon := engine.Geohash(45.76, 4.84, 3)
	for cell, want := range map[string]string{"u09": "rain", "xn7": "cloudy", lyon: "cold"} {
		if got := cellValue(f, cell); got != want {
			t.Errorf("cell %s = %q, want %q", cell, got, want)
		}
	}
	if s.Cells != 3 || s.Entries != len(es) {
		t.Errorf("summary: %d cells from %d entries, want 3 from %d", s.Cells, s.Entries, len(es))
	}
	// Only the categories used, in the canonical order: the cells', and
	// those of the regions the points are in.
	if want := []string{"cloudy", "rain", "cold"}; !isSubsequence(want, f.Values) || !isSubsequence(f.Values, feedsrc.WeatherCategories()) {
		t.Errorf("values %q: want %q among them, in the order of %q", f.Values, want, feedsrc.WeatherCategories())
	}
}

// isSubsequence reports whether a's elements appear in b in the same order.
func isSubsequence(a, b []string) bool {
	for _, v := range b {
		if len(a) > 0 && a[0] == v {
			a = a[1:]
		}
	}
	return len(a) == 0
}

// A weather feed's countries and subdivisions get the weather most of
// their points have; a subdivision with its country's weather is left
// out (the engine falls back to the country), and a region a row names
// keeps the row's value.
func TestRegionMajority(t *testing.T) {
	es := []feedsrc.Entry{
		point(48.86, 2.35, "rain", 2), point(48.60, 2.60, "rain", 3), // FR-IDF
		point(43.30, 5.37, "clear", 4), point(43.70, 7.27, "clear", 5), point(43.95, 4.80, "clear", 6), // FR-PAC
		point(52.52, 13.40, "snow", 7),                          // DE-BE
		point(40.42, -3.70, "hot", 8), keyed("ES", "cloudy", 9), // ES-MD, but ES is given
	}
	table, err := geo.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es[:7] {
		if _, sub, _ := table.Lookup(e.Lat, e.Lon); sub == "" {
			t.Fatalf("line %d: (%v, %v) has no subdivision", e.Line, e.Lat, e.Lon)
		}
	}
	f, _ := build(t, es, Options{Kind: engine.FeedWeather})
	say := func(key string) string {
		if p := place(f, key); p != nil {
			return f.Values[p.Value-1] + "/" + p.Label
		}
		return ""
	}
	for key, want := range map[string]string{
		"FR": "clear/France", "FR-IDF": "rain/", "FR-PAC": "", // FR-PAC says what FR says
		"DE": "snow/Germany", "DE-BE": "",
		"ES": "cloudy/", "ES-MD": "hot/",
	} {
		if got := say(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	// Not for other kinds.
	f, _ = build(t, es[:2], Options{Kind: engine.FeedCustom, ID: "x"})
	if len(f.Places) != 0 {
		t.Errorf("a custom feed got places %+v", f.Places)
	}
}

// A geohash of 1 or 2 characters sets every cell under it; a longer key
// wins over a shorter one wherever they overlap.
func TestKeyExpansion(t *testing.T) {
	f, s := build(t, []feedsrc.Entry{
		keyed("u09", "clear", 2), keyed("u", "open", 3), keyed("u0", "closed", 4),
	}, Options{Kind: engine.FeedCustom, ID: "stores"})
	if s.Cells != 1024 {
		t.Errorf("%d cells set, want 1024 (all of u)", s.Cells)
	}
	count := map[string]int{}
	for i, v := range f.Cells {
		if v != 0 {
			if !strings.HasPrefix(engine.CellName(i), "u") {
				t.Fatalf("cell %s is set", engine.CellName(i))
			}
			count[f.Values[v-1]]++
		}
	}
	if count["open"] != 1024-32 || count["closed"] != 31 || count["clear"] != 1 {
		t.Errorf("cells by value %v, want open 992, closed 31, clear 1", count)
	}
	if cellValue(f, "u09") != "clear" || cellValue(f, "u0b") != "closed" || cellValue(f, "u1b") != "open" {
		t.Errorf("u09 %q u0b %q u1b %q", cellValue(f, "u09"), cellValue(f, "u0b"), cellValue(f, "u1b"))
	}
	if !slices.Equal(f.Values, []string{"clear", "closed", "open"}) {
		t.Errorf("values %q, want the sorted set seen", f.Values)
	}
	if s.Values["open"] != 992 || s.Values["closed"] != 31 || s.Values["clear"] != 1 {
		t.Errorf("summary values %v", s.Values)
	}
}

// The world fixture: every location's cell has a value, and countries and
// subdivisions get their prevailing weather (France is rain, as the
// fixture's README says), labelled from places.csv.
func TestWorldWeather(t *testing.T) {
	es := read(t, "../../examples/weather/open-meteo-world.json.gz")
	f, s := build(t, es, Options{Kind: engine.FeedWeather, Places: readPlaces(t)})
	cells := map[string]bool{}
	for _, e := range es {
		cell := engine.Geohash(e.Lat, e.Lon, 3)
		cells[cell] = true
		if cellValue(f, cell) == "" {
			t.Fatalf("cell %s of element %d has no value", cell, e.Line)
		}
	}
	if s.Cells != len(cells) {
		t.Errorf("%d cells set, the fixture has %d", s.Cells, len(cells))
	}
	if got := cellValue(f, "u09"); got != "rain" {
		t.Errorf("Paris's cell u09 = %q, want rain", got)
	}
	if p := place(f, "u09"); p == nil || p.Label != "Paris" || f.Values[p.Value-1] != "rain" {
		t.Errorf("u09's place = %+v, want rain labelled Paris", p)
	}
	if got := cellValue(f, "xn7"); got != "clear" {
		t.Errorf("Tokyo's cell xn7 = %q, want clear", got)
	}
	fr := place(f, "FR")
	if fr == nil || f.Values[fr.Value-1] != "rain" || fr.Label != "France" {
		t.Errorf("FR = %+v, want rain labelled France", fr)
	}
	jp := place(f, "JP")
	if jp == nil || jp.Label != "Japan" {
		t.Errorf("JP = %+v, want a value labelled Japan", jp)
	}
	// Île-de-France has France's rain, so the country says it.
	if p := place(f, "FR-IDF"); p != nil {
		t.Errorf("FR-IDF = %+v, want it left to FR", p)
	}
	countries, subdivisions := 0, 0
	for _, p := range f.Places {
		switch placeRank(p.Key) {
		case 1:
			subdivisions++
			if c := place(f, p.Key[:2]); c == nil || c.Value == p.Value {
				t.Errorf("subdivision %s: its country is %+v", p.Key, c)
			}
		case 2:
			countries++
			if p.Label == "" {
				t.Errorf("country %s has no label", p.Key)
			}
		}
	}
	if countries < 150 || subdivisions < 50 {
		t.Errorf("%d countries and %d subdivisions", countries, subdivisions)
	}
	if !slices.Equal(f.Values, feedsrc.WeatherCategories()) {
		t.Errorf("values %q, want every category in order", f.Values)
	}
	// Places sorted: cells, subdivisions, countries.
	rank := -1
	for i, p := range f.Places {
		r := placeRank(p.Key)
		if r < rank || (i > 0 && r == rank && p.Key < f.Places[i-1].Key) {
			t.Fatalf("place %d (%s) is out of order", i, p.Key)
		}
		rank = r
	}
	if len(s.Warnings) != 0 {
		t.Errorf("warnings: %q", s.Warnings)
	}
	checkSize(t, "world weather feed", f, s, true)
}

// checkSize holds an encoded feed to the size budget, gzipped and (when
// the brotli tool is installed) brotli'd, and logs the sizes.
func checkSize(t *testing.T, what string, f *engine.Feed, s Summary, gzipBudget bool) {
	t.Helper()
	raw, err := buildtime.MarshalFeed(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != s.RawBytes || GzipSize(raw) != s.GzipBytes {
		t.Errorf("summary says %d raw, %d gzip; the feed is %d, %d", s.RawBytes, s.GzipBytes, len(raw), GzipSize(raw))
	}
	if gzipBudget && s.GzipBytes > sizeBudget {
		t.Errorf("%s: %d bytes gzipped, more than %d", what, s.GzipBytes, sizeBudget)
	}
	br := "no /usr/bin/brotli"
	if _, err := os.Stat("/usr/bin/brotli"); err == nil {
		cmd := exec.Command("/usr/bin/brotli", "-c", "-q", "11")
		cmd.Stdin = bytes.NewReader(raw)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("brotli: %v", err)
		}
		if len(out) > sizeBudget {
			t.Errorf("%s: %d bytes brotli, more than %d", what, len(out), sizeBudget)
		}
		br = itoa(len(out)) + " brotli (q 11)"
	}
	t.Logf("%s: %d cells, %d places; %d bytes raw, %d gzip (level 9), %s", what, s.Cells, s.Places, s.RawBytes, s.GzipBytes, br)
}

func itoa(n int) string { return strconv.Itoa(n) }

// The worst case: every one of the 32768 cells a uniformly random
// category, every city of places.csv a label, still fits the budget.
func TestWorstCaseSize(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cats := feedsrc.WeatherCategories()
	var es []feedsrc.Entry
	for i := 0; i < engine.FeedCells; i++ {
		es = append(es, keyed(engine.CellName(i), cats[rng.IntN(len(cats))], len(es)+1))
	}
	f, s := build(t, es, Options{Kind: engine.FeedWeather, Places: readPlaces(t)})
	if s.Cells != engine.FeedCells || s.Places < 240 {
		t.Fatalf("%d cells and %d places, want all %d cells and a label per city", s.Cells, s.Places, engine.FeedCells)
	}
	checkSize(t, "worst case", f, s, true)
}

// Worse than the worst case: the random weather comes as a point per
// cell, so every country and subdivision also gets a random value (real
// weather is alike across a region, and most subdivisions are left to
// their country). Brotli, which every browser takes over HTTPS, stays in
// the budget; gzip is logged.
func TestRandomRegionsSize(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cats := feedsrc.WeatherCategories()
	var es []feedsrc.Entry
	for i := 0; i < engine.FeedCells; i++ {
		lat, lon := cellCentre(i)
		if g := engine.Geohash(lat, lon, 3); g != engine.CellName(i) {
			t.Fatalf("the centre of cell %s is in %s", engine.CellName(i), g)
		}
		es = append(es, point(lat, lon, cats[rng.IntN(len(cats))], len(es)+1))
	}
	f, s := build(t, es, Options{Kind: engine.FeedWeather, Places: readPlaces(t)})
	if s.Cells != engine.FeedCells {
		t.Fatalf("%d cells set, want all %d", s.Cells, engine.FeedCells)
	}
	checkSize(t, "random regions", f, s, false)
}

// cellCentre is the centre of the geohash cell of 3 characters at index i
// of Feed.Cells.
func cellCentre(i int) (lat, lon float64) {
	latLo, latHi, lonLo, lonHi := -90.0, 90.0, -180.0, 180.0
	for b := 14; b >= 0; b-- {
		up := i>>b&1 == 1
		if (14-b)%2 == 0 {
			if mid := (lonLo + lonHi) / 2; up {
				lonLo = mid
			} else {
				lonHi = mid
			}
		} else {
			if mid := (latLo + latHi) / 2; up {
				latLo = mid
			} else {
				latHi = mid
			}
		}
	}
	return (latLo + latHi) / 2, (lonLo + lonHi) / 2
}

// Holidays are places with dates and labels; no cells.
func TestHolidays(t *testing.T) {
	f, s := build(t, read(t, "holidays.csv"), Options{Kind: engine.FeedHolidays})
	if len(f.Cells) != 0 || s.Cells != 0 {
		t.Errorf("a holidays feed keyed by region has %d cells", len(f.Cells))
	}
	if !slices.Equal(f.Values, []string{"public_holiday", "school_break"}) {
		t.Errorf("values %q", f.Values)
	}
	if f.ID != "holidays" || f.Expires-f.Issued != HolidaysTTL.Milliseconds() {
		t.Errorf("id %q, lifetime %d ms; want holidays, 30 days", f.ID, f.Expires-f.Issued)
	}
	idf := place(f, "FR-IDF")
	if idf == nil || f.Values[idf.Value-1] != "school_break" || idf.From != 20261219 || idf.To != 20270103 || idf.Label != "Île-de-France" {
		t.Errorf("FR-IDF = %+v", idf)
	}
	var fr []engine.FeedPlace
	for _, p := range f.Places {
		if p.Key == "FR" {
			fr = append(fr, p)
		}
	}
	if len(fr) != 2 || fr[0].From != 20261225 || fr[0].To != 20261225 || fr[1].From != 20270101 || fr[0].Label != "France" {
		t.Errorf("FR's places %+v, want Christmas then New Year's Day", fr)
	}
	if s.Places != len(f.Places) || s.Values["public_holiday"]+s.Values["school_break"] != len(f.Places) {
		t.Errorf("summary %+v for %d places", s, len(f.Places))
	}
	// Subdivisions before countries.
	if i, j := slices.IndexFunc(f.Places, func(p engine.FeedPlace) bool { return p.Key == "FR-IDF" }),
		slices.IndexFunc(f.Places, func(p engine.FeedPlace) bool { return p.Key == "DE" }); i > j {
		t.Errorf("FR-IDF (%d) after DE (%d)", i, j)
	}
}

// A custom feed: the values given, in their order, or the sorted set seen;
// a row with another value is an error naming its line.
func TestCustom(t *testing.T) {
	es := read(t, "store-hours.csv")
	f, _ := build(t, es, Options{Kind: engine.FeedCustom, ID: "stores", Values: []string{"open", "closed"}})
	if !slices.Equal(f.Values, []string{"open", "closed"}) || f.ID != "stores" || f.Expires-f.Issued != CustomTTL.Milliseconds() {
		t.Errorf("values %q id %q lifetime %d", f.Values, f.ID, f.Expires-f.Issued)
	}
	if p := place(f, "FR-PAC"); p == nil || f.Values[p.Value-1] != "closed" || p.Label != "Provence-Alpes-Côte d'Azur" {
		t.Errorf("FR-PAC = %+v", p)
	}
	f, _ = build(t, es, Options{Kind: engine.FeedCustom, ID: "stores"})
	if !slices.Equal(f.Values, []string{"closed", "open"}) {
		t.Errorf("values %q, want the sorted set seen", f.Values)
	}
	_, _, err := Build(es, Options{Kind: engine.FeedCustom, ID: "stores", Values: []string{"open"}, Issued: issued})
	if err == nil || !strings.Contains(err.Error(), `line 6: value "closed" is not one of the feed's values (open)`) {
		t.Errorf("a value not listed: %v", err)
	}
	if _, _, err := Build(es, Options{Kind: engine.FeedCustom}); err == nil || !strings.Contains(err.Error(), "needs an id") {
		t.Errorf("custom without id: %v", err)
	}
}

// The same input gives the same bytes.
func TestDeterministic(t *testing.T) {
	for _, tc := range []struct {
		file string
		o    Options
	}{
		{"../../examples/weather/open-meteo-world.json.gz", Options{Kind: engine.FeedWeather, Places: readPlaces(t)}},
		{"holidays.csv", Options{Kind: engine.FeedHolidays}},
		{"store-hours.csv", Options{Kind: engine.FeedCustom, ID: "stores"}},
	} {
		var prev []byte
		for range 2 {
			f, _ := build(t, read(t, tc.file), tc.o)
			raw, err := buildtime.MarshalFeed(f)
			if err != nil {
				t.Fatal(err)
			}
			if prev != nil && !bytes.Equal(prev, raw) {
				t.Errorf("%s: two builds differ", tc.file)
			}
			prev = raw
		}
	}
}

// Errors name each row's line and what is wrong, all at once (up to 20).
func TestErrors(t *testing.T) {
	es := []feedsrc.Entry{
		keyed("FR", "sunny", 2),
		keyed("DE", "Rain", 3),
		point(48.86, 2.35, "rain", 4),
		{Key: "u09", Value: "rain", From: "2026-12-01", Line: 5},
		{Key: "ES", Value: "rain", From: "2026-12-01", To: "2026-12-31", Line: 6},
		{Key: "ES", Value: "clear", From: "2026-12-24", Line: 7},
		keyed("u0", "rain", 8),
		keyed("u0", "rain", 9),
	}
	_, _, err := Build(es, Options{Kind: engine.FeedWeather, Issued: issued})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`line 2: value "sunny" is not a weather category: want one of clear, cloudy, rain, snow, storm, hot, cold`,
		`line 3: value "Rain" is not a value: lowercase letters, digits, - and _, starting with a letter or digit (did you mean "rain"?)`,
		`line 5: from and to are for country and subdivision keys`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// Conflicts are found once the rows are each fine.
	_, _, err = Build(es[4:], Options{Kind: engine.FeedWeather, Issued: issued})
	for _, want := range []string{
		`line 7: ES is clear from 2026-12-24, but line 6 says rain from 2026-12-01 to 2026-12-31: a weather feed has one value per place and day`,
		`line 9: key u0 is given twice (also line 8)`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// The same key and dates twice, with Source naming the file.
	dup := []feedsrc.Entry{
		{Key: "FR", Value: "public_holiday", From: "2026-12-25", To: "2026-12-25", Line: 3},
		{Key: "FR", Value: "school_break", From: "2026-12-25", To: "2026-12-25", Line: 8},
	}
	_, _, err = Build(dup, Options{Kind: engine.FeedHolidays, Issued: issued, Source: func(i int) string { return "h.csv:" + itoa(dup[i].Line) }})
	if want := "h.csv:8: FR is given twice on 2026-12-25 (also h.csv:3)"; err == nil || err.Error() != want {
		t.Errorf("duplicate: %v, want %q", err, want)
	}
	// More than 20 problems: 20 and a count.
	var many []feedsrc.Entry
	for i := range 25 {
		many = append(many, keyed("FR", "fog", i+2))
	}
	_, _, err = Build(many, Options{Kind: engine.FeedWeather, Issued: issued})
	if err == nil || strings.Count(err.Error(), "\n") != 20 || !strings.HasSuffix(err.Error(), "5 more problems not shown") {
		t.Errorf("25 problems: %v", err)
	}
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Kind: "news"}, `kind "news" is not a feed kind`},
		{Options{Kind: engine.FeedWeather, ID: "Weather"}, `feed id "Weather" is not an id`},
		{Options{Kind: engine.FeedWeather, Values: []string{"rain"}}, "a weather feed has fixed values"},
		{Options{Kind: engine.FeedCustom, ID: "x", Values: []string{"a", "a"}}, `value "a" is listed twice`},
		{Options{Kind: engine.FeedWeather, TTL: -time.Hour}, "negative"},
	} {
		if _, _, err := Build([]feedsrc.Entry{keyed("FR", "rain", 2)}, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
	if _, _, err := Build(nil, Options{Kind: engine.FeedWeather}); err == nil || !strings.Contains(err.Error(), "no rows") {
		t.Errorf("no rows: %v", err)
	}
}

// Warnings: a lowercase key that reads like a country, stale weather, a
// label on a large geohash.
func TestWarnings(t *testing.T) {
	_, s := build(t, []feedsrc.Entry{keyed("fr", "rain", 2), {Key: "u", Value: "clear", Label: "Europe", Line: 3}},
		Options{Kind: engine.FeedWeather, TTL: 48 * time.Hour})
	for _, want := range []string{
		`line 2: key "fr" is read as a geohash (32 cells around fr); did you mean the country FR?`,
		"weather older than a day is stale",
		`line 3: label "Europe" is not used`,
	} {
		if !slices.ContainsFunc(s.Warnings, func(w string) bool { return strings.Contains(w, want) }) {
			t.Errorf("warnings lack %q: %q", want, s.Warnings)
		}
	}
}

// Labels: rows win over the places list, which goes in list order.
func TestLabels(t *testing.T) {
	es := []feedsrc.Entry{
		point(48.86, 2.35, "rain", 2),
		{Key: "u0d", Value: "clear", Label: "Somewhere", Line: 3},
		{Lat: 35.86, Lon: 139.92, HasPoint: true, Value: "clear", Label: "Chiba", Line: 4},
	}
	places := []feedsrc.Place{{Name: "Versailles", Lat: 48.80, Lon: 2.13}, {Name: "Paris", Lat: 48.86, Lon: 2.35}, {Name: "Tokyo", Lat: 35.68, Lon: 139.69}, {Name: "Nowhere", Lat: 0, Lon: 0}}
	f, s := build(t, es, Options{Kind: engine.FeedWeather, Places: places})
	want := map[string]string{"u09": "Versailles", "u0d": "Somewhere", "xn7": "Chiba"}
	if engine.Geohash(48.80, 2.13, 3) != "u09" || engine.Geohash(35.68, 139.69, 3) != "xn7" {
		t.Fatal("the test's places moved cells")
	}
	for cell, label := range want {
		if p := place(f, cell); p == nil || p.Label != label {
			t.Errorf("%s = %+v, want label %q", cell, p, label)
		}
	}
	if place(f, "s00") != nil {
		t.Error("a place in a cell without a value is labelled")
	}
	// A labelled cell counts once: values count cells and regions.
	regions := 0
	for _, p := range f.Places {
		if placeRank(p.Key) > 0 {
			regions++
		}
	}
	if total := s.Values["rain"] + s.Values["clear"]; total != s.Cells+regions || s.Cells != 3 {
		t.Errorf("values %v for %d cells and %d regions", s.Values, s.Cells, regions)
	}
	for _, p := range f.Places {
		if len(p.Key) == 3 && !strings.Contains(p.Key, "-") && cellValue(f, p.Key) != f.Values[p.Value-1] {
			t.Errorf("%s's place says %s, its cell %s", p.Key, f.Values[p.Value-1], cellValue(f, p.Key))
		}
	}
}
