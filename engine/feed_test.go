package engine

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// feedShop is shop() with a weather feed, a holidays feed and a custom feed,
// and rules that read each.
func feedShop() Ruleset {
	rs := shop()
	rs.Signals = append(rs.Signals,
		Signal{ID: "where", Kind: SignalLocation, Purpose: "Your rough region.", RetentionDays: 0},
		Signal{ID: "weather", Kind: SignalWeather, Purpose: "Today's weather in your region.", RetentionDays: 0},
		Signal{ID: "when", Kind: SignalTime, Purpose: "The time of day.", RetentionDays: 0})
	rs.Feeds = []FeedRef{
		{ID: "weather", Kind: FeedWeather, URL: "/feeds/weather.ewf"},
		{ID: "holidays", Kind: FeedHolidays, URL: "/feeds/holidays.ewf"},
		{ID: "stores", Kind: FeedCustom, URL: "/feeds/stores.ewf", Values: []string{"open", "closed"}},
	}
	rs.Rules = []Rule{
		{ID: "rain-tent", Reason: "Because it's raining where you are.", When: Condition{Weather: []string{"rain"}}, Items: Selector{Items: []string{"road-shoe"}}, Boost: 5},
		{ID: "break-stove", Reason: "For the school break.", When: Condition{Feed: map[string][]string{"holidays": {"school_break"}}}, Items: Selector{Items: []string{"stove"}}, Boost: 5},
		{ID: "holiday-boots", Reason: "For the holiday.", When: Condition{Feed: map[string][]string{"holidays": {"public_holiday"}}}, Items: Selector{Items: []string{"boots"}}, Boost: 5},
		{ID: "store-open", Reason: "Your local store is open.", When: Condition{Feed: map[string][]string{"stores": {"open"}}}, Items: Selector{Items: []string{"trail-shoe"}}, Boost: 5},
	}
	return rs
}

var (
	siteKey  = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	otherKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
)

func pubOf(k ed25519.PrivateKey) []byte { return k.Public().(ed25519.PublicKey) }

// sealFeed signs f as edgewise feed build does (msgpack/v5, sorted keys).
func sealFeed(t *testing.T, f Feed, key ed25519.PrivateKey) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	enc.UseCompactInts(true)
	if err := enc.Encode(&f); err != nil {
		t.Fatal(err)
	}
	ewf, err := SealFeed(buf.Bytes(), key)
	if err != nil {
		t.Fatal(err)
	}
	return ewf
}

// weatherFeed says rain in France, clear in Île-de-France's cell u09, snow in
// FR-ARA, from t0 for three hours.
func weatherFeed() Feed {
	cells := make([]byte, FeedCells)
	i, _ := CellIndex("u09")
	cells[i] = 2
	tokyo, _ := CellIndex("xn7")
	cells[tokyo] = 2
	return Feed{ID: "weather", Kind: FeedWeather, Issued: t0, Expires: t0 + 3*hour,
		Values: []string{"rain", "clear", "snow"},
		Places: []FeedPlace{{Key: "FR", Value: 1, Label: "France"}, {Key: "FR-ARA", Value: 3}, {Key: "u09", Value: 2, Label: "Paris"}},
		Cells:  cells}
}

func feedEngine(t *testing.T) *Engine {
	t.Helper()
	e := New()
	if err := e.Load(feedShop()); err != nil {
		t.Fatal(err)
	}
	return e
}

func loadFeed(t *testing.T, e *Engine, f Feed) {
	t.Helper()
	if _, err := e.LoadFeed(sealFeed(t, f, siteKey), pubOf(siteKey)); err != nil {
		t.Fatal(err)
	}
}

func setContext(t *testing.T, e *Engine, c Context) {
	t.Helper()
	if err := e.SetContext(c); err != nil {
		t.Fatal(err)
	}
}

func pickOf(ds []Decision, item string) *Pick {
	for _, d := range ds {
		for i := range d.Items {
			if d.Items[i].Item == item {
				return &d.Items[i]
			}
		}
	}
	return nil
}

// The feed's weather reaches the weather rule, and the pick says which feed,
// which place and when the feed was made.
func TestWeatherFeedFeedsWeatherRules(t *testing.T) {
	e := feedEngine(t)
	setContext(t, e, Context{Now: t0 + 40*60*1000, Country: "FR"})
	if got := ids(decide(t, e, "hero")[0]); slices.Contains(got, "road-shoe") {
		t.Fatalf("before any feed the rain rule fired: %v", got)
	}
	loadFeed(t, e, weatherFeed())
	hero := decide(t, e, "hero")
	p := pickOf(hero, "road-shoe")
	if p == nil || p.Reason != "Because it's raining where you are." {
		t.Fatalf("hero = %+v, want the rain rule's road-shoe", hero)
	}
	want := []FeedSource{{Feed: "weather", Kind: FeedWeather, Value: "rain", Place: "FR", Label: "France", Issued: t0}}
	if !reflect.DeepEqual(p.Feeds, want) {
		t.Errorf("feeds = %+v, want %+v", p.Feeds, want)
	}
	// A pick no feed shaped names none.
	for _, d := range decide(t, e, "recs") {
		for _, pk := range d.Items {
			if pk.Item != "road-shoe" && pk.Feeds != nil {
				t.Errorf("%s names feeds %+v", pk.Item, pk.Feeds)
			}
		}
	}
}

// The most precise key the device knows wins: cell, then subdivision, then
// country.
func TestFeedMostPreciseRegionWins(t *testing.T) {
	for _, tc := range []struct {
		name        string
		ctx         Context
		weather     string
		place       string
		rainRuleSet bool
	}{
		{"country", Context{Country: "FR"}, "rain", "FR", true},
		{"subdivision", Context{Subdivision: "FR-ARA"}, "snow", "FR-ARA", false},
		{"subdivision without a value falls back to the country", Context{Subdivision: "FR-BRE"}, "rain", "FR", true},
		{"cell", Context{Country: "FR", Subdivision: "FR-IDF", Geohash: "u09"}, "clear", "u09", false},
		{"coordinates become the cell", Context{Location: &Coordinates{Lat: 48.86, Lon: 2.35}}, "clear", "u09", false},
		{"a cell with no place entry", Context{Country: "JP", Geohash: "xn7"}, "clear", "xn7", false},
		{"elsewhere", Context{Country: "JP"}, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := feedEngine(t)
			loadFeed(t, e, weatherFeed())
			tc.ctx.Now = t0 + hour
			setContext(t, e, tc.ctx)
			m := e.newMoment()
			if m.Weather != tc.weather {
				t.Fatalf("weather = %q, want %q", m.Weather, tc.weather)
			}
			if tc.weather != "" && m.weatherFrom.Place != tc.place {
				t.Errorf("place = %q, want %q", m.weatherFrom.Place, tc.place)
			}
			if want := map[string]string{"u09": "Paris", "FR": "France"}[tc.place]; tc.weather != "" && m.weatherFrom.Label != want {
				t.Errorf("label = %q, want %q", m.weatherFrom.Label, want)
			}
			if got := pickOf(decide(t, e, "hero"), "road-shoe") != nil; got != tc.rainRuleSet {
				t.Errorf("rain rule fired = %v, want %v", got, tc.rainRuleSet)
			}
		})
	}
}

// An expired feed, one not yet issued, and a moment without a time say
// nothing: a missing value, never a stale one. The page's own weather wins
// over the feed's.
func TestFeedNeverStale(t *testing.T) {
	f := weatherFeed()
	for _, tc := range []struct {
		name string
		ctx  Context
		want string
	}{
		{"fresh", Context{Now: t0, Country: "FR"}, "rain"},
		{"just before expiry", Context{Now: f.Expires - 1, Country: "FR"}, "rain"},
		{"expired", Context{Now: f.Expires, Country: "FR"}, ""},
		{"not yet issued", Context{Now: t0 - 1, Country: "FR"}, ""},
		{"time unknown", Context{Country: "FR"}, ""},
		{"the page's weather wins", Context{Now: t0, Country: "FR", Weather: "hot"}, "hot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := feedEngine(t)
			loadFeed(t, e, f)
			setContext(t, e, tc.ctx)
			m := e.newMoment()
			if m.Weather != tc.want {
				t.Errorf("weather = %q, want %q", m.Weather, tc.want)
			}
			if (m.weatherFrom != nil) != (tc.want == "rain") {
				t.Errorf("weatherFrom = %+v", m.weatherFrom)
			}
		})
	}
}

// Holidays stack across levels and hold on their local dates only; a custom
// feed's value holds at the most precise level that has one.
func TestHolidayAndCustomFeeds(t *testing.T) {
	e := feedEngine(t)
	loadFeed(t, e, Feed{ID: "holidays", Kind: FeedHolidays, Issued: t0 - 30*24*hour, Expires: t0 + 365*24*hour,
		Values: []string{"public_holiday", "school_break"},
		Places: []FeedPlace{
			{Key: "FR", Value: 1, From: 20251225, To: 20251225, Label: "Christmas Day"},
			{Key: "FR-IDF", Value: 2, From: 20251220, To: 20260104, Label: "Christmas school break"},
		}})
	loadFeed(t, e, Feed{ID: "stores", Kind: FeedCustom, Issued: t0 - hour, Expires: t0 + 60*24*hour,
		Values: []string{"open", "closed"},
		Places: []FeedPlace{{Key: "FR", Value: 1}, {Key: "FR-IDF", Value: 2}}})
	day := func(y, m, d int) int64 { return time.Date(y, time.Month(m), d, 12, 0, 0, 0, time.UTC).UnixMilli() }
	for _, tc := range []struct {
		name string
		ctx  Context
		want []string // items the feed rules brought in
	}{
		{"an ordinary day in Lyon", Context{Now: day(2025, 12, 10), Subdivision: "FR-ARA"}, []string{"trail-shoe"}},
		{"the school break in Paris, store closed", Context{Now: day(2025, 12, 22), Subdivision: "FR-IDF"}, []string{"stove"}},
		{"Christmas in Paris: both stack", Context{Now: day(2025, 12, 25), Subdivision: "FR-IDF"}, []string{"stove", "boots"}},
		{"Christmas in Lyon", Context{Now: day(2025, 12, 25), Subdivision: "FR-ARA"}, []string{"boots", "trail-shoe"}},
		{"after the break", Context{Now: day(2026, 1, 5), Subdivision: "FR-IDF"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setContext(t, e, tc.ctx)
			var got []string
			for _, d := range decide(t, e, "recs") {
				for _, p := range d.Items {
					if len(p.Feeds) > 0 {
						got = append(got, p.Item)
					}
				}
			}
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("items shaped by feeds = %v, want %v", got, want)
			}
		})
	}
}

// load_feed takes only feeds the ruleset names, signed with the key it
// names for them (or its own), of the kind it expects.
func TestLoadFeedRefusals(t *testing.T) {
	rs := feedShop()
	rs.Feeds[2].Key = base64.StdEncoding.EncodeToString(pubOf(otherKey))
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	stores := Feed{ID: "stores", Kind: FeedCustom, Issued: t0, Expires: t0 + hour, Values: []string{"open"}, Places: []FeedPlace{{Key: "FR", Value: 1}}}
	for _, tc := range []struct {
		name string
		ewf  []byte
		code Code
		msg  string
	}{
		{"a feed the ruleset does not use", sealFeed(t, Feed{ID: "pollen", Kind: FeedCustom, Issued: t0, Expires: t0 + hour, Values: []string{"high"}}, siteKey), CodeBadFeed, `names no custom feed "pollen"`},
		{"signed by an unknown key", sealFeed(t, weatherFeed(), ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))), CodeBadSignature, "names for none of its feeds"},
		{"signed with the ruleset's key where another is named", sealFeed(t, stores, siteKey), CodeBadFeed, `names no custom feed "stores" with these values, signed with key 34750f98bd59fcfc`},
		{"another kind", sealFeed(t, Feed{ID: "holidays", Kind: FeedCustom, Issued: t0, Expires: t0 + hour, Values: []string{"x"}}, siteKey), CodeBadFeed, `names no custom feed "holidays"`},
		{"a value the ruleset does not list", sealFeed(t, Feed{ID: "stores", Kind: FeedCustom, Issued: t0, Expires: t0 + hour, Values: []string{"busy"}}, otherKey), CodeBadFeed, `names no custom feed "stores" with these values`},
		{"a ruleset file", mustSealRuleset(t), CodeBadFeed, `does not start with "EWFS"`},
		{"changed after signing", flipLast(sealFeed(t, weatherFeed(), siteKey)), CodeBadSignature, "changed or damaged after signing"},
		{"truncated", sealFeed(t, weatherFeed(), siteKey)[:30], CodeBadFeed, "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.LoadFeed(tc.ewf, pubOf(siteKey))
			var ee *Error
			if !errors.As(err, &ee) || ee.Code != tc.code || !strings.Contains(ee.Message, tc.msg) {
				t.Fatalf("err = %v, want %s containing %q", err, tc.code, tc.msg)
			}
		})
	}
	// The named key works.
	if _, err := e.LoadFeed(sealFeed(t, stores, otherKey), pubOf(siteKey)); err != nil {
		t.Fatal(err)
	}
	// A new ruleset forgets the feeds loaded for the old one.
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	if len(e.feeds) != 0 {
		t.Errorf("feeds after Load = %v", e.feeds)
	}
}

func mustSealRuleset(t *testing.T) []byte {
	ewr, err := SealRuleset([]byte{0x80}, siteKey)
	if err != nil {
		t.Fatal(err)
	}
	return ewr
}

func flipLast(b []byte) []byte {
	b = slices.Clone(b)
	b[len(b)-70] ^= 1
	return b
}

// Feed.Check names what is wrong.
func TestFeedCheck(t *testing.T) {
	good := weatherFeed()
	for _, tc := range []struct {
		name string
		edit func(*Feed)
		msg  string
	}{
		{"kind", func(f *Feed) { f.Kind = "pollen" }, `kind "pollen"`},
		{"times", func(f *Feed) { f.Expires = f.Issued }, "expire after"},
		{"weather value", func(f *Feed) { f.Values[0] = "drizzle" }, `"drizzle" is not a weather category`},
		{"place key", func(f *Feed) { f.Places[0].Key = "France" }, `place "France"`},
		{"place value", func(f *Feed) { f.Places[0].Value = 9 }, "names value 9"},
		{"dates", func(f *Feed) { f.Places[0].From, f.Places[0].To = 20261301, 0 }, "YYYYMMDD"},
		{"cells", func(f *Feed) { f.Cells = f.Cells[:100] }, "100 cells"},
		{"cell value", func(f *Feed) { f.Cells[7] = 4 }, "cell 007 names value 4"},
		{"short cell", func(f *Feed) { f.Places[2].Key = "u0" }, `place "u0"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := weatherFeed()
			tc.edit(&f)
			if err := f.Check(); err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Check = %v, want %q", err, tc.msg)
			}
		})
	}
	if err := good.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestCellIndexRoundTrip(t *testing.T) {
	for i := 0; i < FeedCells; i += 97 {
		if j, ok := CellIndex(CellName(i)); !ok || j != i {
			t.Fatalf("cell %d → %q → %d", i, CellName(i), j)
		}
	}
	if i, _ := CellIndex(Geohash(48.86, 2.35, 3)); CellName(i) != "u09" {
		t.Errorf("Paris is %s", CellName(i))
	}
}

func TestDecodeKey(t *testing.T) {
	pub := pubOf(siteKey)
	got, ok := decodeKey(base64.StdEncoding.EncodeToString(pub))
	if !ok || !bytes.Equal(got, pub) {
		t.Fatalf("decodeKey = %x, %v", got, ok)
	}
	for _, bad := range []string{"", "abc", strings.Repeat("A", 44), strings.Repeat("A", 42) + "B=", strings.Repeat("A", 42) + "!="} {
		if _, ok := decodeKey(bad); ok {
			t.Errorf("decodeKey(%q) accepted", bad)
		}
	}
}

// The generated codec reads what msgpack/v5 wrote, field for field.
func FuzzFeedRoundTrip(f *testing.F) {
	f.Add("weather", "u09", "Paris", int64(1), int64(2), 20251225)
	f.Fuzz(func(t *testing.T, id, cell, label string, issued, expires int64, from int) {
		in := weatherFeed()
		in.ID, in.Issued, in.Expires = id, issued, expires
		in.Places[2].Key, in.Places[2].Label = cell, label
		in.Places[1].From = from
		var buf bytes.Buffer
		enc := msgpack.NewEncoder(&buf)
		enc.SetSortMapKeys(true)
		if err := enc.Encode(&in); err != nil {
			t.Fatal(err)
		}
		out, err := decodeFeed(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*out, in) {
			t.Fatalf("decoded %+v\nwant %+v", *out, in)
		}
		// Any bytes: an error or a feed, never a panic.
		_, _ = decodeFeed(buf.Bytes()[:len(buf.Bytes())/2])
		_, _, _ = InspectFeed(append([]byte(EWFMagic), buf.Bytes()...))
	})
}
