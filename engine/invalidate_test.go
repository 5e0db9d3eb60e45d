package engine

import (
	"reflect"
	"slices"
	"testing"
)

// TestEachChangeReachesTheDecision: decide keeps what it derived and
// derives again only what a change affects (see decider). For every kind
// of change that flips a rule or an item's availability (a context field
// alone, now alone, the time zone alone, the profile alone), one engine
// goes from the setup where the rule or item is in to the one where it is
// out and back, deciding between the steps. Each decide must equal a
// fresh engine's in the same setup, and differ from the step before, so a
// part kept stale across the change fails here.
func TestEachChangeReachesTheDecision(t *testing.T) {
	five, one := 5, 1
	dec5 := int64(1764925200000) // 2025-12-05 09:00 UTC: inside f's schedule
	type state struct {
		events []Event
		ctx    Context
	}
	cases := []struct {
		name    string
		when    Condition // of a rule boosting g in slot s
		in, out state
		item    string // the item that is in, then out; "g" by default
	}{
		{name: "weather", when: Condition{Weather: []string{"rain"}}, in: state{ctx: Context{Weather: "rain"}}, out: state{ctx: Context{Weather: "snow"}}},
		{name: "region by country", when: Condition{Region: []string{"nordics"}}, in: state{ctx: Context{Country: "SE"}}, out: state{ctx: Context{Country: "DE"}}},
		{name: "region by host id", when: Condition{Region: []string{"nordics"}}, in: state{ctx: Context{Regions: []string{"nordics"}}}, out: state{ctx: Context{Regions: []string{"west"}}}},
		{name: "region by subdivision", when: Condition{Region: []string{"west"}}, in: state{ctx: Context{Subdivision: "US-WA"}}, out: state{ctx: Context{Subdivision: "US-NY"}}},
		{name: "daypart by time zone", when: Condition{Daypart: []string{"morning"}}, in: state{ctx: Context{TZOffsetMinutes: 0}}, out: state{ctx: Context{TZOffsetMinutes: 780}}},
		{name: "daypart by now", when: Condition{Daypart: []string{"morning"}}, in: state{ctx: Context{Now: now}}, out: state{ctx: Context{Now: now + 6*hour}}},
		{name: "weekday by time zone", when: Condition{Weekday: []string{"sat"}}, in: state{ctx: Context{TZOffsetMinutes: 840}}, out: state{ctx: Context{TZOffsetMinutes: -600}}},
		{name: "device", when: Condition{Device: []string{"mobile"}}, in: state{ctx: Context{Device: "mobile"}}, out: state{ctx: Context{Device: "desktop"}}},
		{name: "referrer", when: Condition{Referrer: []string{"search"}}, in: state{ctx: Context{Referrer: "search"}}, out: state{ctx: Context{Referrer: "direct"}}},
		{name: "page section", when: Condition{PageSection: []string{"outdoor"}}, in: state{ctx: Context{PageSection: "outdoor"}}, out: state{ctx: Context{PageSection: "kitchen"}}},
		{name: "visits", when: Condition{Visits: &Range{Min: ip(3)}}, in: state{ctx: Context{Visits: &five}}, out: state{ctx: Context{Visits: &one}}},
		{name: "interest by profile", when: Condition{Interest: []InterestTest{{Tag: "x", AtLeast: 1.5}}},
			in: state{events: []Event{{Type: "click", Item: "b", At: now}}}, out: state{events: []Event{view("b", now)}}},
		{name: "interest by now (decay)", when: Condition{Interest: []InterestTest{{Tag: "x", AtLeast: 0.9}}},
			in: state{events: []Event{view("b", now)}, ctx: Context{Now: now}}, out: state{events: []Event{view("b", now)}, ctx: Context{Now: now + 20*dayMillis}}},
		{name: "viewed by now", when: Condition{Viewed: &RecentTest{Selector: Selector{Items: []string{"b"}}, WithinDays: 2}},
			in: state{events: []Event{view("b", now)}, ctx: Context{Now: now + dayMillis}}, out: state{events: []Event{view("b", now)}, ctx: Context{Now: now + 3*dayMillis}}},
		{name: "viewed by profile", when: Condition{Viewed: &RecentTest{Selector: Selector{Items: []string{"b"}}, WithinDays: 2}},
			in: state{events: []Event{view("b", now-dayMillis)}}, out: state{events: []Event{view("c", now-dayMillis)}}},
		{name: "purchased by profile", when: Condition{Purchased: &RecentTest{Selector: Selector{Tags: []string{"x"}}, WithinDays: 7}},
			in: state{events: []Event{{Type: "purchase", Item: "b", At: now - dayMillis}}}, out: state{events: []Event{view("b", now-dayMillis)}}},
		{name: "region item by country", item: "e",
			in: state{events: []Event{view("e", now)}, ctx: Context{Country: "SE"}}, out: state{events: []Event{view("e", now)}, ctx: Context{Country: "DE"}}},
		{name: "scheduled item by now", item: "f",
			in: state{events: []Event{view("f", now)}, ctx: Context{Now: dec5}}, out: state{events: []Event{view("f", now)}, ctx: Context{Now: now}}},
		{name: "scheduled item by time zone", item: "f",
			in:  state{events: []Event{view("f", now)}, ctx: Context{Now: 1764547200000 - hour/2, TZOffsetMinutes: 60}},
			out: state{events: []Event{view("f", now)}, ctx: Context{Now: 1764547200000 - hour/2}}},
		{name: "dismissal by now", item: "a",
			in:  state{events: []Event{view("a", now-3*dayMillis), view("c", now-3*dayMillis), {Type: EventDismiss, Item: "a", At: now - 3*dayMillis}}, ctx: Context{Now: now}},
			out: state{events: []Event{view("a", now-3*dayMillis), view("c", now-3*dayMillis), {Type: EventDismiss, Item: "a", At: now - 3*dayMillis}}, ctx: Context{Now: now - 2*dayMillis}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := with(func(rs *Ruleset) {
				rs.Rules = []Rule{{ID: "r", Reason: "Because of " + tc.name, When: tc.when, Items: Selector{Items: []string{"g"}}, Boost: 10}}
			})
			item := tc.item
			if item == "" {
				item = "g"
			}
			// Context cases decide over a profile (a and c viewed) whose
			// picks fill the slot, so g shows only through the rule.
			for _, st := range []*state{&tc.in, &tc.out} {
				if st.events == nil {
					st.events = abc
				}
			}
			// fresh decides st in an engine that saw nothing else.
			fresh := func(st state) []Decision {
				f := New()
				if err := f.Load(rs); err != nil {
					t.Fatal(err)
				}
				for _, ev := range st.events {
					observe(t, f, ev.Type, ev.Item, ev.At)
				}
				ctx := st.ctx
				if ctx.Now == 0 {
					ctx.Now = now
				}
				if err := f.SetContext(ctx); err != nil {
					t.Fatal(err)
				}
				return decide(t, f, "s", "t")
			}
			e := New()
			if err := e.Load(rs); err != nil {
				t.Fatal(err)
			}
			// enter brings e to st: the profile is restored only when
			// st's events differ from the last state's, so a context
			// change stays a context change alone.
			var last *state
			enter := func(st state) {
				if last == nil || !slices.Equal(last.events, st.events) {
					snap, err := func() ([]byte, error) {
						f := New()
						f.Load(rs)
						for _, ev := range st.events {
							observe(t, f, ev.Type, ev.Item, ev.At)
						}
						return f.Snapshot()
					}()
					if err != nil {
						t.Fatal(err)
					}
					if _, err := e.Restore(snap); err != nil {
						t.Fatal(err)
					}
				}
				ctx := st.ctx
				if ctx.Now == 0 {
					ctx.Now = now
				}
				if err := e.SetContext(ctx); err != nil {
					t.Fatal(err)
				}
				last = &st
			}
			var prev []Decision
			for step, st := range []state{tc.in, tc.out, tc.in, tc.out} {
				enter(st)
				got := decide(t, e, "s", "t")
				if again := decide(t, e, "s", "t"); !reflect.DeepEqual(got, again) {
					t.Fatalf("step %d: a second decide differs:\n%+v\nfirst %+v", step, again, got)
				}
				if want := fresh(st); !reflect.DeepEqual(got, want) {
					t.Fatalf("step %d: %+v\nwant, as a fresh engine decides: %+v", step, got, want)
				}
				if in := slices.Contains(ids(got[0]), item) && !got[0].Fallback; in != (step%2 == 0) {
					t.Fatalf("step %d: %s shown = %v (%v)", step, item, in, ids(got[0]))
				}
				if prev != nil && reflect.DeepEqual(got, prev) {
					t.Fatalf("step %d: the decision did not change", step)
				}
				prev = got
			}
		})
	}
}

// TestSameContext: SetContext skips an unchanged context, so sameContext
// must tell every field apart; a field added to Context without a
// comparison there fails here.
func TestSameContext(t *testing.T) {
	seven := 7
	full := Context{Now: now, TZOffsetMinutes: 60, Daypart: "morning", Weekday: "mon", Weather: "rain",
		Device: "mobile", Referrer: "search", PageSection: "outdoor", Visits: &seven, Country: "SE",
		Subdivision: "SE-AB", Regions: []string{"nordics"}, Geohash: "u6s", TimeZone: "Europe/Stockholm",
		Languages: []string{"sv-SE"}, Location: &Coordinates{Lat: 1, Lon: 2}}
	v := reflect.ValueOf(full)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("the test's full context leaves %s unset", v.Type().Field(i).Name)
		}
	}
	clone := func(c Context) Context {
		c.Regions = slices.Clone(c.Regions)
		if c.Visits != nil {
			n := *c.Visits
			c.Visits = &n
		}
		if c.Location != nil {
			l := *c.Location
			c.Location = &l
		}
		return c
	}
	if !sameContext(full, clone(full)) {
		t.Fatal("a context differs from its copy")
	}
	if !sameContext(Context{}, Context{}) {
		t.Fatal("the empty context differs from itself")
	}
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		other := clone(full)
		reflect.ValueOf(&other).Elem().Field(i).SetZero()
		if sameContext(full, other) || sameContext(other, full) {
			t.Errorf("a context without %s is the same as with it", name)
		}
	}
	eight := 8
	for name, edit := range map[string]func(*Context){
		"visits value":    func(c *Context) { c.Visits = &eight },
		"a region":        func(c *Context) { c.Regions = []string{"west"} },
		"regions, empty":  func(c *Context) { c.Regions = []string{} },
		"location value":  func(c *Context) { c.Location = &Coordinates{Lat: 1, Lon: 3} },
		"now by a millis": func(c *Context) { c.Now++ },
	} {
		other := clone(full)
		edit(&other)
		if sameContext(full, other) {
			t.Errorf("%s: the contexts are the same", name)
		}
	}
	if sameContext(Context{}, Context{Regions: []string{}}) {
		t.Error("nil and empty regions are the same")
	}
}

// TestBlockedFallbackReachesTheDecision: a slot's picks are kept while its
// ranking stays the same (slotMemo). Dismissing a fallback item that is
// not among the slot's candidates, and that dismissal expiring, change no
// score and no candidate; the decision must change all the same, and equal
// a fresh engine's.
func TestBlockedFallbackReachesTheDecision(t *testing.T) {
	rs := with(func(rs *Ruleset) {
		rs.Slots = []Slot{{ID: "s", Limit: 4, Candidates: Selector{Tags: []string{"x", "y"}}, Fallback: []string{"d", "g"}}}
	})
	dismissD := Event{Type: EventDismiss, Item: "d", At: now + hour}
	steps := []struct {
		name   string
		events []Event
		now    int64
		showsD bool
	}{
		{"a viewed", []Event{view("a", now)}, now + hour, true},
		{"d dismissed", []Event{view("a", now), dismissD}, now + hour, false},
		{"a second later", []Event{view("a", now), dismissD}, now + hour + 1000, false},
		{"the dismissal expired", []Event{view("a", now), dismissD}, now + 50*hour, true},
	}
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, st := range steps {
		for _, ev := range st.events[seen:] {
			observe(t, e, ev.Type, ev.Item, ev.At)
		}
		seen = len(st.events)
		if err := e.SetContext(Context{Now: st.now}); err != nil {
			t.Fatal(err)
		}
		got := decide(t, e, "s")
		f := New()
		f.Load(rs)
		for _, ev := range st.events {
			observe(t, f, ev.Type, ev.Item, ev.At)
		}
		f.SetContext(Context{Now: st.now})
		if want := decide(t, f, "s"); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %+v\nwant, as a fresh engine decides: %+v", st.name, got, want)
		}
		if shows := slices.Contains(ids(got[0]), "d"); shows != st.showsD {
			t.Fatalf("%s: d shown = %v (%v)", st.name, shows, ids(got[0]))
		}
	}
}
