package engine

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// now is Saturday 2025-11-29 09:53:20 UTC.
const now = int64(1764410000000)

func purposes(kind string) Signal {
	return Signal{ID: kind, Kind: kind, Purpose: "Pick what suits you right now (" + kind + ").", RetentionDays: 0}
}

// world declares every signal kind, so each test can use any context field.
func world() Ruleset {
	sigs := []Signal{{ID: "history", Kind: SignalHistory, Purpose: "Recommend gear like what you viewed.", RetentionDays: 30}}
	for _, k := range SignalKinds[1:] {
		sigs = append(sigs, purposes(k))
	}
	return Ruleset{
		ID: "world", Version: "1",
		Signals: sigs,
		Regions: []Region{{ID: "nordics", Name: "Nordics", Countries: []string{"SE", "NO"}}, {ID: "west", Name: "West coast", Subdivisions: []string{"US-WA"}}},
		Catalogue: []Item{
			{ID: "a", Title: "Alpha", Tags: []string{"x", "y"}, Campaign: "c1"},
			{ID: "b", Title: "Bravo", Tags: []string{"x"}, Campaign: "c1"},
			{ID: "c", Title: "Charlie", Tags: []string{"y"}},
			{ID: "d", Title: "Delta", Tags: []string{"z"}},
			{ID: "e", Title: "Echo", Tags: []string{"z", "w"}, Regions: []string{"nordics"}},
			{ID: "f", Title: "Foxtrot", Tags: []string{"w"}, Schedule: []Window{{From: "2025-12-01", Until: "2025-12-26"}}},
			{ID: "g", Title: "Golf", Tags: []string{"q"}},
		},
		// These slots show seen items too, so the tests of ranking can
		// rank what was viewed; exclude_seen has tests of its own.
		Slots: []Slot{
			{ID: "s", Limit: 3, Fallback: []string{"d", "g"}, ExcludeSeen: bp(false)},
			{ID: "t", Limit: 3, Fallback: []string{"d"}, ExcludeSeen: bp(false)},
		},
	}
}

type setup struct {
	events      []Event
	ctx         Context
	impressions []Event // Type unused
}

func view(item string, at int64) Event { return Event{Type: "view", Item: item, At: at} }

func run(t *testing.T, rs Ruleset, su setup, slot string) Decision {
	t.Helper()
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatalf("load: %v", err)
	}
	for _, ev := range su.events {
		if _, err := e.Observe(ev); err != nil {
			t.Fatalf("observe %+v: %v", ev, err)
		}
	}
	for _, im := range su.impressions {
		if _, err := e.RecordImpressions([]string{im.Item}, im.At); err != nil {
			t.Fatalf("record %+v: %v", im, err)
		}
	}
	if su.ctx.Now == 0 {
		su.ctx.Now = now
	}
	if err := e.SetContext(su.ctx); err != nil {
		t.Fatalf("set_context: %v", err)
	}
	return decide(t, e, slot)[0]
}

func with(mut func(*Ruleset)) Ruleset {
	rs := world()
	mut(&rs)
	return rs
}

// Three views make a the top, then c, then b: a (x,y) 2.12, c (y) 2, b (x) 1.
var abc = []Event{view("a", now), view("c", now)}

func TestRuleKinds(t *testing.T) {
	cases := []struct {
		name      string
		rules     []Rule
		slot      string
		want      []string
		wantRules map[string][]string
		wantWhy   map[string]string
	}{
		{name: "no rules", want: []string{"a", "c", "b"}},
		{name: "boost lifts b to the top", rules: []Rule{{ID: "r", Reason: "Boosted for you", Items: Selector{Items: []string{"b"}}, Boost: 3}},
			want: []string{"b", "a", "c"}, wantRules: map[string][]string{"b": {"r"}}, wantWhy: map[string]string{"b": "Boosted for you", "a": "Because you viewed Alpha"}},
		{name: "small boost keeps the affinity reason", rules: []Rule{{ID: "r", Reason: "Boosted", Items: Selector{Items: []string{"b"}}, Boost: 1.5}},
			want: []string{"a", "c", "b"}, wantRules: map[string][]string{"b": {"r"}}, wantWhy: map[string]string{"b": "Because you viewed Alpha"}},
		{name: "boost brings in an item with no affinity", rules: []Rule{{ID: "r", Reason: "For the weekend", Items: Selector{Items: []string{"g"}}, Boost: 5}},
			want: []string{"g", "a", "c"}, wantWhy: map[string]string{"g": "For the weekend"}},
		{name: "bury sinks a", rules: []Rule{{ID: "r", Items: Selector{Items: []string{"a"}}, Bury: 0.1}},
			want: []string{"c", "b", "a"}, wantRules: map[string][]string{"a": {"r"}}},
		{name: "bury does not bring in an item with no affinity", rules: []Rule{{ID: "r", Items: Selector{Items: []string{"g"}}, Bury: 0.5}},
			want: []string{"a", "c", "b"}},
		{name: "pin puts d second", rules: []Rule{{ID: "r", Reason: "Pinned", Items: Selector{Items: []string{"d"}}, Pin: 2}},
			want: []string{"a", "d", "c"}, wantRules: map[string][]string{"d": {"r"}}, wantWhy: map[string]string{"d": "Pinned"}},
		{name: "pin takes the best-ranked match", rules: []Rule{{ID: "r", Items: Selector{Tags: []string{"x"}}, Pin: 3}},
			want: []string{"c", "b", "a"}, wantRules: map[string][]string{"a": {"r"}}},
		{name: "a pin beyond the personal picks keeps its position: fallback items fill before it", rules: []Rule{{ID: "r", Items: Selector{Items: []string{"d"}}, Pin: 3}, {ID: "x", Items: Selector{Tags: []string{"x"}}, Exclude: true}},
			want: []string{"c", "g", "d"}},
		{name: "items a pin selects but does not pin stay out", rules: []Rule{{ID: "r", Items: Selector{Tags: []string{"z", "q"}}, Pin: 1}},
			want: []string{"d", "a", "c"}, wantRules: map[string][]string{"d": {"r"}}},
		{name: "two pins fill two positions", rules: []Rule{
			{ID: "p1", Items: Selector{Items: []string{"g"}}, Pin: 1},
			{ID: "p2", Items: Selector{Items: []string{"d"}}, Pin: 2}},
			want: []string{"g", "d", "a"}, wantWhy: map[string]string{"g": ruleReason}},
		{name: "exclude removes tag y; fallback items fill the slot", rules: []Rule{{ID: "r", Items: Selector{Tags: []string{"y"}}, Exclude: true}},
			want: []string{"b", "d", "g"}},
		{name: "rule limited to another slot does nothing here", rules: []Rule{{ID: "r", Items: Selector{Items: []string{"b"}}, Boost: 3, Slots: []string{"t"}}},
			want: []string{"a", "c", "b"}},
		{name: "rule limited to this slot acts", rules: []Rule{{ID: "r", Items: Selector{Items: []string{"b"}}, Boost: 3, Slots: []string{"t"}}},
			slot: "t", want: []string{"b", "a", "c"}},
		{name: "exclude everything gives the fallback, filtered", rules: []Rule{{ID: "r", Items: Selector{Tags: []string{"x", "y", "z"}}, Exclude: true}},
			want: []string{"g"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := with(func(rs *Ruleset) { rs.Rules = tc.rules })
			slot := tc.slot
			if slot == "" {
				slot = "s"
			}
			d := run(t, rs, setup{events: abc}, slot)
			if got := ids(d); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("items = %v, want %v", got, tc.want)
			}
			for _, p := range d.Items {
				if want := tc.wantRules[p.Item]; tc.wantRules != nil && !reflect.DeepEqual(p.Rules, want) {
					t.Errorf("%s rules = %v, want %v", p.Item, p.Rules, want)
				}
				if want, ok := tc.wantWhy[p.Item]; ok && p.Reason != want {
					t.Errorf("%s reason = %q, want %q", p.Item, p.Reason, want)
				}
			}
		})
	}
}

func TestEveryItemFilteredLeavesTheSlotEmpty(t *testing.T) {
	rs := with(func(rs *Ruleset) {
		rs.Rules = []Rule{{ID: "r", Items: Selector{Tags: []string{"x", "y", "z", "w", "q"}}, Exclude: true}}
	})
	d := run(t, rs, setup{}, "s")
	if !d.Fallback || d.Items == nil || len(d.Items) != 0 {
		t.Fatalf("decision = %+v, want fallback with no items", d)
	}
}

// The fallback is the first filler, not a cap: with its items filtered
// out, the slot's other eligible items fill it, in catalogue order.
func TestFilteredFallbackIsFilledUp(t *testing.T) {
	rs := with(func(rs *Ruleset) {
		rs.Rules = []Rule{{ID: "r", Items: Selector{Tags: []string{"z", "q"}}, Exclude: true}}
	})
	d := run(t, rs, setup{}, "s")
	if !d.Fallback || !slices.Equal(ids(d), []string{"a", "b", "c"}) {
		t.Fatalf("decision = %+v, want fallback a, b, c", d)
	}
}

// The reproduction: limit 2, exclude_seen, a two-item fallback,
// two views. Before, the slot showed one item although unseen ones were
// left; it fills up to its limit whenever enough eligible items exist.
func TestSlotFillsUpToItsLimit(t *testing.T) {
	rs := with(func(rs *Ruleset) {
		rs.Slots = []Slot{{ID: "s", Limit: 2, ExcludeSeen: bp(true), Fallback: []string{"d", "g"}}}
	})
	d := run(t, rs, setup{events: []Event{view("d", now), view("g", now)}}, "s")
	if len(d.Items) != 2 {
		t.Fatalf("decision = %+v, want two items", d)
	}
	for _, p := range d.Items {
		if p.Item == "d" || p.Item == "g" {
			t.Errorf("a seen item %s is shown", p.Item)
		}
	}
	// With one personal pick (e shares tag z with d, but is not available;
	// q's g is seen), the rest is filled the same way.
	d = run(t, rs, setup{events: []Event{view("d", now), view("g", now), view("a", now-hour)}}, "s")
	if len(d.Items) != 2 || d.Fallback {
		t.Fatalf("decision = %+v, want a personal pick and a filler", d)
	}
}

// One decide shows an item once: the slot asked first gets it, and the
// next falls back to other items, whatever the slots' fallbacks repeat.
func TestSlotsOfOneDecideDoNotRepeatItems(t *testing.T) {
	rs := with(func(rs *Ruleset) {
		rs.Slots = []Slot{
			{ID: "hero", Limit: 1, Fallback: []string{"d"}},
			{ID: "s", Limit: 3, Fallback: []string{"d", "g"}},
			{ID: "t", Limit: 3, Fallback: []string{"d"}},
		}
	})
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	for _, su := range []setup{{}, {events: abc}} {
		for _, ev := range su.events {
			if _, err := e.Observe(ev); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 { // the second decide replays the first's memo
			ds, err := e.Decide([]string{"hero", "s", "t"})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]string{}
			for _, d := range ds {
				for _, p := range d.Items {
					if other, ok := seen[p.Item]; ok {
						t.Fatalf("%s shows in %s and %s: %+v", p.Item, other, d.Slot, ds)
					}
					seen[p.Item] = d.Slot
				}
			}
			if len(su.events) == 0 && seen["d"] != "hero" {
				t.Errorf("d went to %q, want the hero, asked first: %+v", seen["d"], ds)
			}
		}
	}
	// Asked alone, a slot still shows what another would have taken.
	if d, _ := e.Decide([]string{"t"}); !slices.Contains(ids(d[0]), "d") && d[0].Fallback {
		t.Errorf("t alone = %+v", d[0])
	}
}

func TestConditionKinds(t *testing.T) {
	five, one := 5, 1
	cases := []struct {
		name     string
		when     Condition
		yes, no  setup
		noReason string
	}{
		{name: "weather", when: Condition{Weather: []string{"rain"}}, yes: setup{ctx: Context{Weather: "rain"}}, no: setup{ctx: Context{Weather: "clear"}}},
		{name: "weather unknown", when: Condition{Weather: []string{"rain"}}, yes: setup{ctx: Context{Weather: "rain"}}, no: setup{}},
		{name: "region by country", when: Condition{Region: []string{"nordics"}}, yes: setup{ctx: Context{Country: "SE"}}, no: setup{ctx: Context{Country: "DE"}}},
		{name: "region by host id", when: Condition{Region: []string{"nordics"}}, yes: setup{ctx: Context{Regions: []string{"nordics"}}}, no: setup{ctx: Context{Regions: []string{"west"}}}},
		{name: "region by subdivision", when: Condition{Region: []string{"west"}}, yes: setup{ctx: Context{Subdivision: "US-WA"}}, no: setup{ctx: Context{Subdivision: "US-NY"}}},
		{name: "region by subdivision's country", when: Condition{Region: []string{"nordics"}}, yes: setup{ctx: Context{Subdivision: "SE-AB"}}, no: setup{ctx: Context{Subdivision: "DE-BY"}}},
		{name: "daypart derived", when: Condition{Daypart: []string{"morning"}}, yes: setup{ctx: Context{TZOffsetMinutes: 0}}, no: setup{ctx: Context{TZOffsetMinutes: 780}}},
		{name: "daypart from host wins", when: Condition{Daypart: []string{"evening"}}, yes: setup{ctx: Context{Daypart: "evening"}}, no: setup{ctx: Context{Daypart: "morning", TZOffsetMinutes: 480}}},
		{name: "weekday derived", when: Condition{Weekday: []string{"sat"}}, yes: setup{ctx: Context{TZOffsetMinutes: 840}}, no: setup{ctx: Context{TZOffsetMinutes: -600}}},
		{name: "weekday from host wins", when: Condition{Weekday: []string{"mon"}}, yes: setup{ctx: Context{Weekday: "mon"}}, no: setup{ctx: Context{Weekday: "tue"}}},
		{name: "device", when: Condition{Device: []string{"mobile"}}, yes: setup{ctx: Context{Device: "mobile"}}, no: setup{ctx: Context{Device: "desktop"}}},
		{name: "referrer", when: Condition{Referrer: []string{"search"}}, yes: setup{ctx: Context{Referrer: "search"}}, no: setup{ctx: Context{Referrer: "direct"}}},
		{name: "page section", when: Condition{PageSection: []string{"outdoor"}}, yes: setup{ctx: Context{PageSection: "outdoor"}}, no: setup{ctx: Context{PageSection: "kitchen"}}},
		{name: "visits min", when: Condition{Visits: &Range{Min: ip(3)}}, yes: setup{ctx: Context{Visits: &five}}, no: setup{ctx: Context{Visits: &one}}},
		{name: "visits max", when: Condition{Visits: &Range{Max: ip(3)}}, yes: setup{ctx: Context{Visits: &one}}, no: setup{ctx: Context{Visits: &five}}},
		{name: "visits unknown", when: Condition{Visits: &Range{Max: ip(3)}}, yes: setup{ctx: Context{Visits: &one}}, no: setup{}},
		{name: "interest", when: Condition{Interest: []InterestTest{{Tag: "x", AtLeast: 1.5}}}, yes: setup{events: []Event{{Type: "click", Item: "b", At: now}}}, no: setup{events: []Event{view("b", now)}}},
		{name: "interest decays", when: Condition{Interest: []InterestTest{{Tag: "x", AtLeast: 0.9}}}, yes: setup{events: []Event{view("b", now)}}, no: setup{events: []Event{view("b", now-20*dayMillis)}}},
		{name: "viewed within days", when: Condition{Viewed: &RecentTest{Selector: Selector{Items: []string{"b"}}, WithinDays: 2}}, yes: setup{events: []Event{view("b", now-dayMillis)}}, no: setup{events: []Event{view("b", now-3*dayMillis)}}},
		{name: "viewed other item", when: Condition{Viewed: &RecentTest{Selector: Selector{Items: []string{"b"}}, WithinDays: 2}}, yes: setup{events: []Event{view("b", now-dayMillis)}}, no: setup{events: []Event{view("c", now-dayMillis)}}},
		{name: "purchased", when: Condition{Purchased: &RecentTest{Selector: Selector{Tags: []string{"x"}}, WithinDays: 7}}, yes: setup{events: []Event{{Type: "purchase", Item: "b", At: now - dayMillis}}}, no: setup{events: []Event{view("b", now-dayMillis)}}},
		{name: "all conditions must hold", when: Condition{Weather: []string{"rain"}, Device: []string{"mobile"}}, yes: setup{ctx: Context{Weather: "rain", Device: "mobile"}}, no: setup{ctx: Context{Weather: "rain", Device: "tablet"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := with(func(rs *Ruleset) {
				rs.Rules = []Rule{{ID: "r", Reason: "Because of " + tc.name, When: tc.when, Items: Selector{Items: []string{"g"}}, Boost: 10}}
			})
			yes := run(t, rs, tc.yes, "s")
			if len(yes.Items) == 0 || yes.Items[0].Item != "g" || !slices.Equal(yes.Items[0].Rules, []string{"r"}) || yes.Items[0].Reason != "Because of "+tc.name {
				t.Errorf("condition should hold: got %+v", yes.Items)
			}
			no := run(t, rs, tc.no, "s")
			if slices.Contains(ids(no), "g") && !no.Fallback {
				t.Errorf("condition should not hold: got %+v", no.Items)
			}
		})
	}
}

func TestAvailability(t *testing.T) {
	dec5 := int64(1764925200000) // 2025-12-05 09:00 UTC
	dec26late := int64(1766790000000)
	cases := []struct {
		name    string
		rs      Ruleset
		su      setup
		item    string
		present bool
	}{
		{"region item in region", world(), setup{events: []Event{view("e", now)}, ctx: Context{Country: "SE"}}, "e", true},
		{"region item by host id", world(), setup{events: []Event{view("e", now)}, ctx: Context{Regions: []string{"nordics"}}}, "e", true},
		{"region item outside", world(), setup{events: []Event{view("e", now)}, ctx: Context{Country: "DE"}}, "e", false},
		{"region item, region unknown", world(), setup{events: []Event{view("e", now)}}, "e", false},
		{"region item, host id not in ruleset", world(), setup{events: []Event{view("e", now)}, ctx: Context{Regions: []string{"mars"}}}, "e", false},
		{"schedule inside", world(), setup{events: []Event{view("f", now)}, ctx: Context{Now: dec5}}, "f", true},
		{"schedule before", world(), setup{events: []Event{view("f", now)}}, "f", false},
		{"schedule last day, UTC", world(), setup{events: []Event{view("f", now)}, ctx: Context{Now: dec26late}}, "f", true},
		{"schedule after, in the person's zone", world(), setup{events: []Event{view("f", now)}, ctx: Context{Now: dec26late, TZOffsetMinutes: 120}}, "f", false},
		{"schedule first day only in the person's zone", world(), setup{events: []Event{view("f", now)}, ctx: Context{Now: 1764547200000 - hour/2, TZOffsetMinutes: 60}}, "f", true},
		{"schedule first day not yet in UTC", world(), setup{events: []Event{view("f", now)}, ctx: Context{Now: 1764547200000 - hour/2}}, "f", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := run(t, tc.rs, tc.su, "s")
			if got := slices.Contains(ids(d), tc.item); got != tc.present {
				t.Errorf("%s present = %v, want %v (%v)", tc.item, got, tc.present, ids(d))
			}
		})
	}
}

func TestDiversity(t *testing.T) {
	events := []Event{view("a", now), view("c", now), view("b", now), view("d", now)}
	cases := []struct {
		name string
		div  Diversity
		want []string
	}{
		{"none", Diversity{}, []string{"a", "b", "c"}},
		{"max per tag 1; the fallback fills the slot", Diversity{MaxPerTag: 1}, []string{"a", "d", "g"}},
		{"max per tag 2 is not reached", Diversity{MaxPerTag: 2}, []string{"a", "b", "c"}},
		{"max per tag 1 in a wider slot: every fallback item that fits", Diversity{MaxPerTag: 1}, []string{"a", "d", "g"}},
		{"max per campaign 1", Diversity{MaxPerCampaign: 1}, []string{"a", "c", "d"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := with(func(rs *Ruleset) { rs.Slots[0].Diversity = tc.div })
			d := run(t, rs, setup{events: events}, "s")
			if got := ids(d); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("items = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCaps(t *testing.T) {
	events := []Event{view("a", now), view("c", now), view("b", now)}
	im := func(item string, ago int64) Event { return Event{Item: item, At: now - ago} }
	cases := []struct {
		name   string
		cap    Cap
		imps   []Event
		absent []string
	}{
		{"item per day reached", Cap{ID: "k", Items: Selector{Items: []string{"a"}}, PerDay: 1}, []Event{im("a", hour)}, []string{"a"}},
		{"item per day not reached", Cap{ID: "k", Items: Selector{Items: []string{"a"}}, PerDay: 2}, []Event{im("a", hour)}, nil},
		{"item per day, yesterday", Cap{ID: "k", Items: Selector{Items: []string{"a"}}, PerDay: 1}, []Event{im("a", 25*hour)}, nil},
		{"item per week reached", Cap{ID: "k", Items: Selector{Items: []string{"a"}}, PerWeek: 2}, []Event{im("a", 3*dayMillis), im("a", 5*dayMillis)}, []string{"a"}},
		{"item per week, one too old", Cap{ID: "k", Items: Selector{Items: []string{"a"}}, PerWeek: 2}, []Event{im("a", 3*dayMillis), im("a", 8*dayMillis)}, nil},
		{"campaign per day reached by two items", Cap{ID: "k", Items: Selector{Campaigns: []string{"c1"}}, PerDay: 2}, []Event{im("a", hour), im("b", hour)}, []string{"a", "b"}},
		{"campaign per week reached", Cap{ID: "k", Items: Selector{Campaigns: []string{"c1"}}, PerWeek: 1}, []Event{im("b", 6*dayMillis)}, []string{"a", "b"}},
		{"other items' impressions do not count", Cap{ID: "k", Items: Selector{Items: []string{"a"}}, PerDay: 1}, []Event{im("c", hour)}, nil},
		// Recorded after the context's time (a showing after the last
		// set_context): time moves on to it, and it counts.
		{"impressions after the context's time count", Cap{ID: "k", Items: Selector{Items: []string{"a"}}, PerDay: 1}, []Event{im("a", -hour)}, []string{"a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := with(func(rs *Ruleset) { rs.Caps = []Cap{tc.cap} })
			d := run(t, rs, setup{events: events, impressions: tc.imps}, "s")
			got := ids(d)
			for _, id := range []string{"a", "b", "c"} {
				if want := !slices.Contains(tc.absent, id); slices.Contains(got, id) != want {
					t.Errorf("%s present = %v, want %v (%v)", id, !want, want, got)
				}
			}
		})
	}
}

func TestImpressionsAreBoundedAndSnapshotted(t *testing.T) {
	rs := with(func(rs *Ruleset) { rs.Caps = []Cap{{ID: "k", Items: Selector{Items: []string{"a"}}, PerDay: 1}} })
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	if n, err := e.RecordImpressions([]string{"a", "c"}, now-8*dayMillis); err != nil || n != 1 {
		t.Fatalf("record = %d, %v; want 1 (c has no cap)", n, err)
	}
	if n, _ := e.RecordImpressions([]string{"a"}, now); n != 1 {
		t.Errorf("after a week the old impression should be dropped; have %d", n)
	}
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	e2 := New()
	e2.Load(rs)
	if _, err := e2.Restore(snap); err != nil || !reflect.DeepEqual(e2.profile.impressions, e.profile.impressions) {
		t.Errorf("restore = %v, impressions %v want %v", err, e2.profile.impressions, e.profile.impressions)
	}
	for i := 0; i < MaxImpressions+10; i++ {
		e.RecordImpressions([]string{"a"}, now+int64(i))
	}
	if len(e.profile.impressions) != MaxImpressions {
		t.Errorf("impressions = %d, want at most %d", len(e.profile.impressions), MaxImpressions)
	}
	if _, err := e.RecordImpressions([]string{"zz"}, now); err == nil || err.(*Error).Code != CodeUnknownItem {
		t.Errorf("unknown item: %v", err)
	}
	if _, err := e.RecordImpressions(nil, now); err == nil || err.(*Error).Code != CodeBadRequest {
		t.Errorf("no items: %v", err)
	}
}

func TestDismiss(t *testing.T) {
	t.Run("hides the item for 48 hours", func(t *testing.T) {
		for _, tc := range []struct {
			ago     int64
			present bool
		}{{hour, false}, {47 * hour, false}, {49 * hour, true}} {
			events := append(slices.Clone(abc), Event{Type: EventDismiss, Item: "a", At: now - tc.ago})
			d := run(t, world(), setup{events: events}, "s")
			if slices.Contains(ids(d), "a") != tc.present {
				t.Errorf("dismissed %dh ago: a present = %v, want %v", tc.ago/hour, !tc.present, tc.present)
			}
		}
	})
	t.Run("repeated dismissals lower the shared tag", func(t *testing.T) {
		weight := func(dismiss ...string) float64 {
			e := New()
			if err := e.Load(world()); err != nil {
				t.Fatal(err)
			}
			observe(t, e, "view", "b", now)
			for _, id := range dismiss {
				observe(t, e, EventDismiss, id, now)
			}
			return e.affinities()[e.rules.tagIndex["x"]].weight
		}
		base, once, twice := weight(), weight("a"), weight("a", "b")
		if once != base {
			t.Errorf("one dismissal changed x: %v, want %v", once, base)
		}
		if twice != base*dismissFactor {
			t.Errorf("two dismissals: x = %v, want %v", twice, base*dismissFactor)
		}
	})
}

func TestMinimization(t *testing.T) {
	rs := world()
	rs.Signals = slices.DeleteFunc(rs.Signals, func(s Signal) bool { return s.Kind == SignalDevice || s.Kind == SignalLocation })
	rs.Regions, rs.Catalogue[4].Regions = nil, nil
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	observe(t, e, "view", "a", now)
	if err := e.SetContext(Context{Now: now, Device: "mobile", Country: "SE", Regions: []string{"nordics"}, Weather: "rain"}); err != nil {
		t.Fatal(err)
	}
	if e.context.Device != "" || e.context.Country != "" || e.context.Regions != nil {
		t.Errorf("undeclared signals were stored: %+v", e.context)
	}
	if e.context.Weather != "rain" {
		t.Errorf("declared weather was dropped: %+v", e.context)
	}
	with := decide(t, e, "s")
	e.SetContext(Context{Now: now, Weather: "rain"})
	without := decide(t, e, "s")
	if !reflect.DeepEqual(with, without) {
		t.Errorf("an undeclared signal changed the decision: %+v vs %+v", with, without)
	}
	// Loading a ruleset that declares less drops what was stored.
	e2 := New()
	e2.Load(world())
	e2.SetContext(Context{Now: now, Device: "mobile"})
	e2.Load(rs)
	if e2.context.Device != "" {
		t.Errorf("device kept after loading a ruleset without it")
	}
}

func TestBadContext(t *testing.T) {
	e := New()
	e.Load(world())
	neg := -1
	for _, tc := range []struct {
		ctx   Context
		field string
	}{
		{Context{Weather: "drizzle"}, "weather"},
		{Context{Daypart: "teatime"}, "daypart"},
		{Context{Weekday: "monday"}, "weekday"},
		{Context{Device: "fridge"}, "device"},
		{Context{Referrer: "tv"}, "referrer"},
		{Context{Country: "se"}, "country"},
		{Context{Subdivision: "USWA"}, "subdivision"},
		{Context{TZOffsetMinutes: 900}, "tz_offset_minutes"},
		{Context{Visits: &neg}, "visits"},
		{Context{Now: -1}, "now"},
	} {
		err := e.SetContext(tc.ctx)
		if err == nil || err.(*Error).Code != CodeBadRequest || !strings.Contains(err.Error(), "context."+tc.field) {
			t.Errorf("%+v: err = %v, want bad_request naming context.%s", tc.ctx, err, tc.field)
		}
	}
}

func TestSnapshotVersion1StillLoads(t *testing.T) {
	e := New()
	e.Load(world())
	v1 := []byte{0x83, 0xa1, 'v', 0x01, 0xa7, 'r', 'u', 'l', 'e', 's', 'e', 't', 0xa1, 'w', 0xa6, 'e', 'v', 'e', 'n', 't', 's', 0x91, 0x93, 0xa4, 'v', 'i', 'e', 'w', 0xa1, 'a', 0xcf, 0, 0, 1, 0x9a, 0xce, 0x6f, 0x6c, 0}
	if n, err := e.Restore(v1); err != nil || n != 1 {
		t.Fatalf("restore v1 = %d, %v", n, err)
	}
}

func ip(n int) *int { return &n }

// randomWorld generates a ruleset with rules and caps from a seed.
func randomWorld(r *rand.Rand) Ruleset {
	rs := world()
	rs.Catalogue = nil
	tags := []string{"t0", "t1", "t2", "t3", "t4"}
	for i := 0; i < 30; i++ {
		it := Item{ID: fmt.Sprintf("i%d", i), Title: fmt.Sprintf("Item %d", i), Tags: []string{tags[r.Intn(5)], tags[r.Intn(5)]}}
		if r.Intn(3) == 0 {
			it.Campaign = fmt.Sprintf("k%d", r.Intn(3))
		}
		rs.Catalogue = append(rs.Catalogue, it)
	}
	rs.Catalogue[0].Tags = tags // every tag and campaign exists
	rs.Catalogue[1].Campaign, rs.Catalogue[2].Campaign = "k0", "k1"
	rs.Slots = []Slot{{ID: "s", Limit: 5, Fallback: []string{"i1", "i2", "i3"}, Diversity: Diversity{MaxPerTag: 3}}, {ID: "t", Limit: 3, Fallback: []string{"i4"}}}
	rs.Rules = []Rule{
		{ID: "ex-rain", When: Condition{Weather: []string{"rain"}}, Items: Selector{Tags: []string{"t0"}}, Exclude: true},
		{ID: "boost-mobile", When: Condition{Device: []string{"mobile"}}, Items: Selector{Tags: []string{"t1"}}, Boost: 4},
		{ID: "pin-night", When: Condition{Daypart: []string{"night"}}, Items: Selector{Campaigns: []string{"k1"}}, Pin: 2},
		{ID: "bury", Items: Selector{Tags: []string{"t3"}}, Bury: 0.3},
	}
	rs.Caps = []Cap{{ID: "k0", Items: Selector{Campaigns: []string{"k0"}}, PerDay: 2}, {ID: "i5", Items: Selector{Items: []string{"i5"}}, PerDay: 1, PerWeek: 3}}
	return rs
}

func TestPropertiesOverRandomProfiles(t *testing.T) {
	weathers := append([]string{""}, weatherValues...)
	devices := append([]string{""}, deviceValues...)
	for seed := int64(0); seed < 200; seed++ {
		r := rand.New(rand.NewSource(seed))
		rs := randomWorld(r)
		build := func() *Engine {
			e := New()
			if err := e.Load(rs); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			return e
		}
		e := build()
		var events []Event
		for i, n := 0, r.Intn(20); i < n; i++ {
			types := []string{"view", "click", "add_to_cart", "purchase", "custom", "dismiss"}
			ev := Event{Type: types[r.Intn(len(types))], Item: rs.Catalogue[r.Intn(len(rs.Catalogue))].ID, At: now - r.Int63n(10*dayMillis)}
			events = append(events, ev)
			if _, err := e.Observe(ev); err != nil {
				t.Fatal(err)
			}
		}
		ctx := Context{Now: now, Weather: weathers[r.Intn(len(weathers))], Device: devices[r.Intn(len(devices))], TZOffsetMinutes: r.Intn(1681) - 840}
		if err := e.SetContext(ctx); err != nil {
			t.Fatal(err)
		}
		first := decide(t, e, "s", "t")
		// Deterministic: again, and on a fresh engine fed the same inputs.
		if again := decide(t, e, "s", "t"); !reflect.DeepEqual(first, again) {
			t.Fatalf("seed %d: decide changed on a second call", seed)
		}
		e2 := build()
		for _, ev := range events {
			e2.Observe(ev)
		}
		e2.SetContext(ctx)
		if other := decide(t, e2, "s", "t"); !reflect.DeepEqual(first, other) {
			t.Fatalf("seed %d: a fresh engine decided differently", seed)
		}
		// Excluded items never appear, even as fallback.
		if ctx.Weather == "rain" {
			for _, d := range first {
				for _, p := range d.Items {
					if slices.Contains(rs.Catalogue[e.rules.itemIndex[p.Item]].Tags, "t0") {
						t.Fatalf("seed %d: %s has tag t0 but rain excludes it", seed, p.Item)
					}
				}
			}
		}
		// Caps hold after recording what was shown, over a day of decides.
		shown := map[string][]int64{}
		for step := int64(0); step < 12; step++ {
			at := now + step*hour
			ctx.Now = at
			e.SetContext(ctx)
			for _, d := range decide(t, e, "s", "t") {
				for _, p := range d.Items {
					if _, err := e.RecordImpressions([]string{p.Item}, at); err != nil {
						t.Fatal(err)
					}
					shown[p.Item] = append(shown[p.Item], at)
				}
			}
		}
		k0 := 0
		for _, it := range rs.Catalogue {
			if it.Campaign == "k0" {
				k0 += len(shown[it.ID])
			}
		}
		if k0 > 2 {
			t.Fatalf("seed %d: campaign k0 shown %d times in 12 hours; cap is 2 per day", seed, k0)
		}
		if n := len(shown["i5"]); n > 1 {
			t.Fatalf("seed %d: i5 shown %d times in 12 hours; cap is 1 per day", seed, n)
		}
	}
}

// TestExp2IsGos holds the engine's exp2 to math.Exp2 bit for bit where
// math.Exp2 is Go's own code rather than assembly (as on wasm and amd64):
// over decay's range (ages up to years at half-lives from an hour to a
// year), at every power of two the result crosses into subnormals and out
// of range, at halves where rounding k turns, and at the special values.
func TestExp2IsGos(t *testing.T) {
	switch runtime.GOARCH {
	case "arm64", "loong64", "s390x":
		t.Skip("math.Exp2 is assembly on " + runtime.GOARCH)
	}
	xs := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, -0.5, 1023, 1024, 1.0239999999999999e+03, -1074,
		-1075, -1022, -1021, -1020, -1023, 1022, 1022.5, -1021.5, -1022.5, math.Inf(1), math.Inf(-1), math.NaN(),
		math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, math.MaxFloat64, -math.MaxFloat64}
	for k := -1080; k <= 1030; k++ {
		for _, f := range []float64{-0.5, -0.4999999999999999, 0, 0.4999999999999999, 0.5, 0.25} {
			xs = append(xs, float64(k)+f)
		}
	}
	r := rand.New(rand.NewSource(1))
	for range 200000 {
		age := float64(r.Int63n(3 * 365 * dayMillis))
		halfLife := float64(1+r.Int63n(365*24)) * 3600000
		xs = append(xs, -age/halfLife, r.Float64()*2200-1100)
	}
	for _, x := range xs {
		if got, want := exp2(x), math.Exp2(x); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("exp2(%v) = %v (%#x), math.Exp2 = %v (%#x)", x, got, math.Float64bits(got), want, math.Float64bits(want))
		}
	}
}

// The export says how each cap stands for the person: showings in the last
// day and week, what the cap allows after the frequency choice, and whether
// it now hides its items, agreeing with what decide shows.
func TestExportCapStatus(t *testing.T) {
	rs := with(func(rs *Ruleset) {
		rs.Caps = []Cap{{ID: "k", Items: Selector{Campaigns: []string{"c1"}}, PerDay: 2, PerWeek: 3}}
	})
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	if err := e.SetContext(Context{Now: now}); err != nil {
		t.Fatal(err)
	}
	status := func() CapStatus {
		t.Helper()
		x, err := e.Export()
		if err != nil || len(x.Caps) != 1 {
			t.Fatalf("export caps %+v, %v", x.Caps, err)
		}
		return x.Caps[0]
	}
	if st := status(); st.ID != "k" || !slices.Equal(st.Items, []string{"a", "b"}) || st.ShownToday != 0 || st.PerDay != 2 || st.PerWeek != 3 || st.Reached {
		t.Errorf("no showings: %+v", st)
	}
	// One showing three days ago, one an hour ago (one of the campaign's two items each).
	if _, err := e.RecordImpressions([]string{"a"}, now-3*dayMillis); err != nil {
		t.Fatal(err)
	}
	if _, err := e.RecordImpressions([]string{"b"}, now-hour); err != nil {
		t.Fatal(err)
	}
	if st := status(); st.ShownToday != 1 || st.ShownThisWeek != 2 || st.Reached {
		t.Errorf("two showings: %+v", st)
	}
	// "Less often" halves the day's limit to 1: reached, and decide agrees.
	if _, err := e.SetPreferences(Preferences{Frequency: FrequencyLow}); err != nil {
		t.Fatal(err)
	}
	st := status()
	if st.PerDay != 1 || st.PerWeek != 1 || st.RulesetPerDay != 2 || st.RulesetPerWeek != 3 || !st.Reached {
		t.Errorf("less often: %+v", st)
	}
	d := decide(t, e, "s")[0]
	if slices.Contains(ids(d), "a") || slices.Contains(ids(d), "b") {
		t.Errorf("a reached cap still shows its items: %v", ids(d))
	}
}

// A decision says what a cap held back: the items the slot would have
// shown, best first, so an explanation can say what the picks replace. The
// memoized replay says the same.
func TestDecisionSaysWhatCapsHeldBack(t *testing.T) {
	rs := with(func(rs *Ruleset) {
		rs.Caps = []Cap{{ID: "k", Items: Selector{Items: []string{"a"}}, PerDay: 1}}
	})
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	for _, ev := range abc {
		if _, err := e.Observe(ev); err != nil {
			t.Fatal(err)
		}
	}
	if d := decide(t, e, "s")[0]; d.Capped != nil || !slices.Contains(ids(d), "a") {
		t.Fatalf("under its cap, a shows and nothing is held back: %+v", d)
	}
	if _, err := e.RecordImpressions([]string{"a"}, now); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second decide replays the memo
		d := decide(t, e, "s")[0]
		if slices.Contains(ids(d), "a") || !slices.Equal(d.Capped, []string{"a"}) {
			t.Errorf("at its cap, a is held back and said to be: %+v", d)
		}
	}
	// A capped fallback item is said too; one only "filling up" is not.
	rs.Caps = []Cap{{ID: "k", Items: Selector{Items: []string{"d"}}, PerDay: 1}}
	f := New()
	if err := f.Load(rs); err != nil {
		t.Fatal(err)
	}
	if _, err := f.RecordImpressions([]string{"d"}, now); err != nil {
		t.Fatal(err)
	}
	if d := decide(t, f, "s")[0]; !d.Fallback || slices.Contains(ids(d), "d") || !slices.Equal(d.Capped, []string{"d"}) {
		t.Errorf("the capped fallback item: %+v", d)
	}
}

// Impressions say what the person was shown, so they follow the history's
// retention when it is shorter than the week caps look back over.
func TestImpressionsFollowTheHistoryRetention(t *testing.T) {
	rs := with(func(rs *Ruleset) {
		rs.Signals[0].RetentionDays = 3
		rs.Caps = []Cap{{ID: "k", Items: Selector{Items: []string{"a"}}, PerWeek: 5}}
	})
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	for _, at := range []int64{now - 5*dayMillis, now - 2*dayMillis, now} {
		if _, err := e.RecordImpressions([]string{"a"}, at); err != nil {
			t.Fatal(err)
		}
	}
	x, err := e.Export()
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Impressions) != 2 || x.Caps[0].ShownThisWeek != 2 {
		t.Errorf("kept %+v, cap %+v; want the two within 3 days", x.Impressions, x.Caps[0])
	}
}
