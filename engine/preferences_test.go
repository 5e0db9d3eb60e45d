package engine

import (
	"errors"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func bp(b bool) *bool { return &b }

func setPrefs(t *testing.T, e *Engine, p Preferences) EffectivePreferences {
	t.Helper()
	eff, err := e.SetPreferences(p)
	if err != nil {
		t.Fatal(err)
	}
	return eff
}

func wantCode(t *testing.T, err error, code Code) {
	t.Helper()
	var ee *Error
	if !errors.As(err, &ee) || ee.Code != code {
		t.Fatalf("got %v, want code %s", err, code)
	}
}

func TestPreferencesDefaultsAndSurviveLoad(t *testing.T) {
	e := New()
	want := EffectivePreferences{Sharing: SharingOnDevice, History: true, Location: true, HiddenInterests: []string{}, Frequency: FrequencyNormal}
	if got := e.Preferences(); !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults %+v, want %+v", got, want)
	}
	setPrefs(t, e, Preferences{Frequency: FrequencyLow, HiddenInterests: []string{"trail", "trail", "nope"}})
	if err := e.Load(shop()); err != nil {
		t.Fatal(err)
	}
	got := e.Preferences()
	if got.Frequency != FrequencyLow || !reflect.DeepEqual(got.HiddenInterests, []string{"trail", "nope"}) {
		t.Fatalf("after load %+v", got)
	}
	// Replacing: fields left out take their defaults.
	if got := setPrefs(t, e, Preferences{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("after reset %+v", got)
	}
	for _, p := range []Preferences{{Sharing: "public"}, {Frequency: "often"}, {HiddenInterests: []string{""}}} {
		_, err := e.SetPreferences(p)
		wantCode(t, err, CodeBadRequest)
	}
}

func TestSharingOffErasesRefusesAndFallsBack(t *testing.T) {
	rs := with(func(rs *Ruleset) {
		rs.Rules = []Rule{{ID: "boost-d", Items: Selector{Items: []string{"c"}}, Boost: 3}}
		rs.Caps = []Cap{{ID: "cap-a", Items: Selector{Items: []string{"a"}}, PerDay: 5}}
	})
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	observe(t, e, "view", "a", now)
	if _, err := e.RecordImpressions([]string{"a"}, now); err != nil {
		t.Fatal(err)
	}
	e.SetContext(Context{Now: now})
	if d := decide(t, e, "s")[0]; d.Fallback {
		t.Fatalf("personalized decide fell back: %+v", d)
	}
	eff := setPrefs(t, e, Preferences{Sharing: SharingOff})
	if eff.Sharing != SharingOff {
		t.Fatalf("effective %+v", eff)
	}
	if e.Events() != 0 || len(e.profile.impressions) != 0 {
		t.Fatalf("profile not erased: %d events, %d impressions", e.Events(), len(e.profile.impressions))
	}
	_, err := e.Observe(view("a", now))
	wantCode(t, err, CodeConsent)
	_, err = e.RecordImpressions([]string{"a"}, now)
	wantCode(t, err, CodeConsent)
	for _, d := range decide(t, e, "s", "t") {
		if !d.Fallback {
			t.Fatalf("slot %s not fallback with sharing off: %+v", d.Slot, d)
		}
	}
	if got := ids(decide(t, e, "s")[0]); !reflect.DeepEqual(got, []string{"d", "g", "a"}) {
		t.Fatalf("fallback %v", got)
	}
	// The snapshot keeps the choice and nothing else.
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	e2 := New()
	e2.Load(rs)
	if _, err := e2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if e2.Events() != 0 || e2.Preferences().Sharing != SharingOff {
		t.Fatalf("restored %d events, %+v", e2.Events(), e2.Preferences())
	}
	// Raising the level again does not bring anything back, but stores anew.
	setPrefs(t, e, Preferences{})
	if e.Events() != 0 {
		t.Fatal("events came back")
	}
	observe(t, e, "view", "a", now)
}

func TestGPCCapsSharing(t *testing.T) {
	e := New()
	cases := []struct {
		p          Preferences
		sharing    string
		gpcApplied bool
	}{
		{Preferences{Sharing: SharingCohorts}, SharingCohorts, false},
		{Preferences{Sharing: SharingCohorts, GPC: true}, SharingOnDevice, true},
		{Preferences{GPC: true}, SharingOnDevice, false},
		{Preferences{Sharing: SharingOff, GPC: true}, SharingOff, false},
	}
	for _, c := range cases {
		got := setPrefs(t, e, c.p)
		if got.Sharing != c.sharing || got.GPCApplied != c.gpcApplied || got.GPC != c.p.GPC {
			t.Errorf("%+v: got %+v", c.p, got)
		}
	}
}

func TestHistoryOff(t *testing.T) {
	rs := with(func(rs *Ruleset) {
		rs.Rules = []Rule{
			{ID: "likes-x", When: Condition{Interest: []InterestTest{{Tag: "x", AtLeast: 0.5}}}, Items: Selector{Items: []string{"g"}}, Boost: 2},
			{ID: "viewed-a", When: Condition{Viewed: &RecentTest{Selector: Selector{Items: []string{"a"}}, WithinDays: 7}}, Items: Selector{Items: []string{"d"}}, Boost: 2},
		}
	})
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	observe(t, e, "view", "a", now)
	e.SetContext(Context{Now: now})
	before := decide(t, e, "s")[0]
	if len(before.Items[0].Rules) == 0 && !slices.Contains(ids(before), "g") {
		t.Fatalf("rules did not fire with history: %+v", before)
	}
	eff := setPrefs(t, e, Preferences{History: bp(false)})
	if eff.History || e.Events() != 0 {
		t.Fatalf("history off: %+v, %d events", eff, e.Events())
	}
	_, err := e.Observe(view("a", now))
	wantCode(t, err, CodeConsent)
	after := decide(t, e, "s")[0]
	fresh := New()
	fresh.Load(rs)
	fresh.SetContext(Context{Now: now})
	if want := decide(t, fresh, "s")[0]; !reflect.DeepEqual(after, want) {
		t.Fatalf("history off decided %+v, an empty profile %+v", after, want)
	}
	for _, p := range after.Items {
		if len(p.Rules) > 0 {
			t.Fatalf("a history rule fired: %+v", p)
		}
	}
	// A version 2 snapshot with events restores none while history is off.
	if n, err := e.Restore(v2Snapshot(t, "world", view("a", now))); err != nil || n != 0 {
		t.Fatalf("restore: %d, %v", n, err)
	}
}

func v2Snapshot(t *testing.T, ruleset string, evs ...Event) []byte {
	t.Helper()
	s := struct {
		V       int        `msgpack:"v"`
		Ruleset string     `msgpack:"ruleset"`
		Events  []rawEvent `msgpack:"events"`
	}{V: 2, Ruleset: ruleset}
	for _, ev := range evs {
		s.Events = append(s.Events, rawEvent{Type: ev.Type, Item: ev.Item, At: ev.At})
	}
	b, err := msgpack.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLocationOff(t *testing.T) {
	e := New()
	if err := e.Load(world()); err != nil {
		t.Fatal(err)
	}
	observe(t, e, "view", "e", now)
	if err := e.SetContext(Context{Now: now, Country: "SE"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ids(decide(t, e, "s")[0]), "e") {
		t.Fatal("e not shown in the Nordics")
	}
	setPrefs(t, e, Preferences{Location: bp(false)})
	if e.context.Country != "" || slices.Contains(ids(decide(t, e, "s")[0]), "e") {
		t.Fatalf("location kept: %+v", e.context)
	}
	if err := e.SetContext(Context{Now: now, Country: "SE", Regions: []string{"nordics"}, Location: &Coordinates{Lat: 59.3, Lon: 18.1}}); err != nil {
		t.Fatal(err)
	}
	if c := e.context; c.Country != "" || c.Subdivision != "" || c.Regions != nil || c.Location != nil {
		t.Fatalf("location stored while off: %+v", c)
	}
	if slices.Contains(ids(decide(t, e, "s")[0]), "e") {
		t.Fatal("e shown with location off")
	}
}

func TestHiddenInterest(t *testing.T) {
	rs := with(func(rs *Ruleset) {
		rs.Rules = []Rule{{ID: "likes-y", When: Condition{Interest: []InterestTest{{Tag: "y", AtLeast: 0.5}}}, Items: Selector{Items: []string{"g"}}, Boost: 2}}
	})
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	observe(t, e, "view", "c", now) // c is only y
	observe(t, e, "view", "a", now) // a is x and y
	observe(t, e, "view", "b", now-hour)
	e.SetContext(Context{Now: now})
	before := decide(t, e, "s")[0]
	if !slices.Contains(ids(before), "c") || !slices.Contains(ids(before), "g") {
		t.Fatalf("before hiding: %+v", before)
	}
	setPrefs(t, e, Preferences{HiddenInterests: []string{"y"}})
	after := decide(t, e, "s")[0]
	if aff := e.affinities(); aff[e.rules.tagIndex["y"]].weight != 0 {
		t.Fatal("hidden tag has affinity")
	}
	for _, p := range after.Items {
		if p.Item == "c" || p.Item == "g" || strings.Contains(p.Reason, "Charlie") {
			t.Fatalf("hidden interest y still shows: %+v", after)
		}
	}
	if !slices.Contains(ids(after), "b") {
		t.Fatalf("x interest lost: %+v", after)
	}
	// Unhiding brings it back: the cache follows preferences.
	setPrefs(t, e, Preferences{})
	if got := decide(t, e, "s")[0]; !reflect.DeepEqual(got, before) {
		t.Fatalf("after unhiding %+v, want %+v", got, before)
	}
}

func TestFrequencyScalesCaps(t *testing.T) {
	for _, c := range []struct {
		freq    string
		n, want int
	}{
		{FrequencyLow, 1, 1}, {FrequencyLow, 2, 1}, {FrequencyLow, 3, 1}, {FrequencyLow, 5, 2},
		{FrequencyNormal, 3, 3}, {"", 3, 3},
		{FrequencyHigh, 1, 1}, {FrequencyHigh, 2, 3}, {FrequencyHigh, 3, 4}, {FrequencyHigh, 4, 6},
	} {
		p := prefs{frequency: c.freq}
		if got := p.scaleCap(c.n); got != c.want {
			t.Errorf("%s × %d = %d, want %d", c.freq, c.n, got, c.want)
		}
	}
	rs := with(func(rs *Ruleset) {
		rs.Caps = []Cap{{ID: "c1", Items: Selector{Campaigns: []string{"c1"}}, PerDay: 2}}
	})
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	observe(t, e, "view", "a", now)
	e.RecordImpressions([]string{"a"}, now-hour)
	e.SetContext(Context{Now: now})
	count := func() int {
		n := 0
		for _, id := range ids(decide(t, e, "s")[0]) {
			if id == "a" || id == "b" {
				n++
			}
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("normal: %d c1 items, want 1", n)
	}
	setPrefs(t, e, Preferences{Frequency: FrequencyLow})
	if n := count(); n != 0 {
		t.Fatalf("low: %d c1 items, want 0", n)
	}
	setPrefs(t, e, Preferences{Frequency: FrequencyHigh})
	if n := count(); n != 2 {
		t.Fatalf("high: %d c1 items, want 2", n)
	}
}

func TestPreferencesInSnapshot(t *testing.T) {
	e := loaded(t)
	observe(t, e, "view", "tent", t0)
	setPrefs(t, e, Preferences{Sharing: SharingCohorts, GPC: true, Location: bp(false), HiddenInterests: []string{"trail"}, Frequency: FrequencyHigh})
	want := e.Preferences()
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	e2 := New()
	e2.Load(shop())
	if n, err := e2.Restore(snap); err != nil || n != 1 {
		t.Fatalf("restore: %d, %v", n, err)
	}
	if got := e2.Preferences(); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored %+v, want %+v", got, want)
	}
	// An older snapshot keeps the preferences in effect.
	if _, err := e2.Restore(v2Snapshot(t, "shop", view("tent", t0))); err != nil {
		t.Fatal(err)
	}
	if got := e2.Preferences(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a v2 restore %+v", got)
	}
	// A refused snapshot leaves them too.
	e2.Restore([]byte{0xc1})
	if got := e2.Preferences(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a bad restore %+v", got)
	}
}

// TestHiddenInterestNeverInfluences checks, over random rulesets, profiles
// and contexts, that while tag X is hidden:
//
//  1. adding interest events (all but dismiss) on items whose only tag is X
//     leaves every decision exactly as it was, and
//  2. no pick's reason names an item whose only tag is X, and an item whose
//     only tag is X is picked only by a rule or as a fallback, and
//  3. a rule on interest in X never fires.
//
// Events stay within retention and max_events, so adding some drops none.
func TestHiddenInterestNeverInfluences(t *testing.T) {
	weathers := append([]string{""}, weatherValues...)
	devices := append([]string{""}, deviceValues...)
	tags := []string{"t0", "t1", "t2", "t3", "t4"}
	interest := []string{"view", "click", "add_to_cart", "purchase", "custom"}
	for seed := int64(0); seed < 300; seed++ {
		r := rand.New(rand.NewSource(seed))
		rs := randomWorld(r)
		x := tags[r.Intn(len(tags))]
		// Some items carry only X, and rules test X by interest and by views.
		for _, i := range []int{6, 7, 8} {
			rs.Catalogue[i].Tags = []string{x}
		}
		rs.Rules = append(rs.Rules,
			Rule{ID: "likes-x", When: Condition{Interest: []InterestTest{{Tag: x, AtLeast: 0.5}}}, Items: Selector{Tags: []string{tags[r.Intn(5)]}}, Boost: 3},
			Rule{ID: "viewed-x", When: Condition{Viewed: &RecentTest{Selector: Selector{Tags: []string{x}}, WithinDays: 14}}, Items: Selector{Items: []string{"i9"}}, Pin: 1},
		)
		var only []string
		for _, it := range rs.Catalogue {
			if len(it.Tags) > 0 && !slices.ContainsFunc(it.Tags, func(t string) bool { return t != x }) {
				only = append(only, it.ID)
			}
		}
		types := append(slices.Clone(interest), "dismiss")
		var base []Event
		for i, n := 0, r.Intn(20); i < n; i++ {
			base = append(base, Event{Type: types[r.Intn(len(types))], Item: rs.Catalogue[r.Intn(len(rs.Catalogue))].ID, At: now - r.Int63n(10*dayMillis)})
		}
		extra := slices.Clone(base)
		for i, n := 0, 1+r.Intn(8); i < n; i++ {
			// Some extra events are newer than every other, which would move
			// the time when the context has none.
			extra = append(extra, Event{Type: interest[r.Intn(len(interest))], Item: only[r.Intn(len(only))], At: now - r.Int63n(10*dayMillis) + r.Int63n(2*hour)})
		}
		ctx := Context{Weather: weathers[r.Intn(len(weathers))], Device: devices[r.Intn(len(devices))], TZOffsetMinutes: r.Intn(1681) - 840}
		if r.Intn(4) > 0 {
			ctx.Now = now
		}
		run := func(evs []Event) []Decision {
			e := New()
			if _, err := e.SetPreferences(Preferences{HiddenInterests: []string{x}}); err != nil {
				t.Fatal(err)
			}
			if err := e.Load(rs); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			for _, ev := range evs {
				if _, err := e.Observe(ev); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.SetContext(ctx); err != nil {
				t.Fatal(err)
			}
			return decide(t, e, "s", "t")
		}
		got, want := run(extra), run(base)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: events on items tagged only %s changed decisions while it is hidden:\n got %+v\nwant %+v", seed, x, got, want)
		}
		for _, d := range got {
			for _, p := range d.Items {
				for _, id := range only {
					title := rs.Catalogue[slices.IndexFunc(rs.Catalogue, func(it Item) bool { return it.ID == id })].Title
					if strings.HasPrefix(p.Reason, "Because") && strings.Contains(p.Reason, title+" ") || strings.HasSuffix(p.Reason, title) {
						t.Fatalf("seed %d: reason %q names %s, tagged only with hidden %s", seed, p.Reason, id, x)
					}
				}
				if slices.Contains(p.Rules, "likes-x") {
					t.Fatalf("seed %d: a rule on interest in hidden %s fired: %+v", seed, x, p)
				}
				if slices.Contains(only, p.Item) && !d.Fallback && strings.HasPrefix(p.Reason, "Because") {
					t.Fatalf("seed %d: %s, tagged only with hidden %s, picked for affinity: %+v", seed, p.Item, x, p)
				}
			}
		}
	}
}
