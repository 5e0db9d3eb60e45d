package engine

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const t0 = int64(1764400000000) // 2025-11-29, Unix ms
const hour = int64(3600 * 1000)

func shop() Ruleset {
	return Ruleset{
		ID: "shop", Version: "1",
		Signals: []Signal{{ID: "history", Kind: SignalHistory, Purpose: "Recommend gear like what you viewed.", RetentionDays: 90}},
		Catalogue: []Item{
			{ID: "trail-shoe", Title: "Trail running shoes", Tags: []string{"running", "trail"}},
			{ID: "road-shoe", Title: "Road running shoes", Tags: []string{"running", "road"}},
			{ID: "tent", Title: "Tent", Tags: []string{"camping"}},
			{ID: "stove", Title: "Stove", Tags: []string{"camping", "cooking"}},
			{ID: "boots", Title: "Hiking boots", Tags: []string{"hiking", "trail"}},
		},
		// Seen items may show here, so the tests of affinity can rank them;
		// TestSeenItemsStayOutByDefault has the default.
		Slots: []Slot{
			{ID: "recs", Limit: 3, Fallback: []string{"tent", "boots"}, ExcludeSeen: bp(false)},
			{ID: "hero", Limit: 1, Candidates: Selector{Items: []string{"tent", "road-shoe"}}, Fallback: []string{"tent"}, ExcludeSeen: bp(false)},
		},
	}
}

// The reproduction: after viewing the tent, the hero showed that
// same tent. A slot leaves out what the person viewed or bought unless the
// ruleset says otherwise (for "buy again").
func TestSeenItemsStayOutByDefault(t *testing.T) {
	rs := shop()
	for i := range rs.Slots {
		rs.Slots[i].ExcludeSeen = nil
	}
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	observe(t, e, "view", "tent", t0)
	observe(t, e, "purchase", "stove", t0)
	for _, d := range decide(t, e, "hero", "recs") {
		if slices.Contains(ids(d), "tent") || slices.Contains(ids(d), "stove") {
			t.Errorf("%s shows what was just viewed or bought: %v", d.Slot, ids(d))
		}
	}
	// A "buy again" slot turns it off.
	rs.Slots[1].ExcludeSeen = bp(false)
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	observe(t, e, "view", "tent", t0)
	if got := ids(decide(t, e, "hero")[0]); !slices.Equal(got, []string{"tent"}) {
		t.Errorf("hero with exclude_seen false = %v, want the viewed tent", got)
	}
}

func loaded(t *testing.T) *Engine {
	t.Helper()
	e := New()
	if err := e.Load(shop()); err != nil {
		t.Fatal(err)
	}
	return e
}

func observe(t *testing.T, e *Engine, typ, item string, at int64) {
	t.Helper()
	if _, err := e.Observe(Event{Type: typ, Item: item, At: at}); err != nil {
		t.Fatal(err)
	}
}

func ids(d Decision) []string {
	var out []string
	for _, p := range d.Items {
		out = append(out, p.Item)
	}
	return out
}

func decide(t *testing.T, e *Engine, slots ...string) []Decision {
	t.Helper()
	d, err := e.Decide(slots)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestEmptyProfileGetsFallback(t *testing.T) {
	e := loaded(t)
	d := decide(t, e, "hero", "recs")
	if !d[0].Fallback || !reflect.DeepEqual(ids(d[0]), []string{"tent"}) {
		t.Errorf("hero = %+v, want fallback tent", d[0])
	}
	// The fallback comes first, the slot's other items fill it up, and the
	// tent the hero shows is not shown twice.
	if !d[1].Fallback || !reflect.DeepEqual(ids(d[1]), []string{"boots", "trail-shoe", "road-shoe"}) {
		t.Errorf("recs = %+v, want fallback boots, then trail-shoe and road-shoe in catalogue order", d[1])
	}
	if d[0].Items[0].Reason != fallbackReason {
		t.Errorf("fallback reason = %q", d[0].Items[0].Reason)
	}
}

func TestAffinityRanksSharedTagsFirst(t *testing.T) {
	e := loaded(t)
	observe(t, e, "view", "tent", t0)
	observe(t, e, "view", "trail-shoe", t0+hour)
	observe(t, e, "view", "boots", t0+2*hour)
	d := decide(t, e, "recs")[0]
	if d.Fallback {
		t.Fatal("personalized slot fell back")
	}
	// boots and trail-shoe share "trail" (two views); tent matches its one
	// view fully, road-shoe only half its tags.
	if got := ids(d); !reflect.DeepEqual(got, []string{"boots", "trail-shoe", "tent"}) {
		t.Errorf("order = %v", got)
	}
	for i := 1; i < len(d.Items); i++ {
		if d.Items[i].Score > d.Items[i-1].Score {
			t.Errorf("scores not descending: %+v", d.Items)
		}
	}
	if r := d.Items[1].Reason; r != "Because you viewed Trail running shoes" {
		t.Errorf("trail-shoe reason = %q", r)
	}
}

func TestCandidatesRestrictASlot(t *testing.T) {
	e := loaded(t)
	observe(t, e, "view", "trail-shoe", t0)
	d := decide(t, e, "hero")[0]
	if got := ids(d); !reflect.DeepEqual(got, []string{"road-shoe"}) {
		t.Errorf("hero = %v, want road-shoe (the only candidate sharing a tag)", got)
	}
}

func TestExcludeSeen(t *testing.T) {
	rs := shop()
	rs.Slots[0].ExcludeSeen = bp(true)
	// The fallback fills the slot, skipping the seen trail-shoe and boots,
	// which is already shown.
	rs.Slots[0].Fallback = []string{"trail-shoe", "boots", "tent"}
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	observe(t, e, "view", "trail-shoe", t0)
	d := decide(t, e, "recs")[0]
	if got := ids(d); !reflect.DeepEqual(got, []string{"road-shoe", "boots", "tent"}) {
		t.Errorf("recs = %v, want the two unseen items sharing a tag, tied, in catalogue order, then the first unseen fallback item", got)
	}
	for i, p := range d.Items {
		want := "Because you viewed Trail running shoes"
		if i == 2 {
			want = fallbackReason
		}
		if p.Reason != want || (i == 2) != (p.Score == 0) {
			t.Errorf("%s reason = %q score %v", p.Item, p.Reason, p.Score)
		}
	}
	if d.Fallback {
		t.Error("a slot with personal picks is not marked fallback")
	}
}

func TestStrongerEventsWeighMore(t *testing.T) {
	e := loaded(t)
	observe(t, e, "view", "trail-shoe", t0)
	observe(t, e, "purchase", "tent", t0)
	if got := decide(t, e, "recs")[0].Items[0]; got.Item != "tent" || got.Reason != "Because you bought Tent" {
		t.Errorf("top pick = %+v, want the bought tent", got)
	}
}

func TestInterestDecaysWithHalfLife(t *testing.T) {
	e := loaded(t)
	observe(t, e, "purchase", "tent", t0)
	observe(t, e, "view", "road-shoe", t0+60*24*hour)
	// 60 days at a 14-day half-life leave the purchase worth 5/2^4.3 < 1 view.
	if got := decide(t, e, "recs")[0].Items[0].Item; got != "road-shoe" {
		t.Errorf("after 60 days top pick = %s, want road-shoe", got)
	}
	if err := e.SetContext(Context{Now: t0}); err != nil {
		t.Fatal(err)
	}
	// Time does not go back: a context from before the newest event is
	// read at that event, so the purchase has still faded.
	if got := decide(t, e, "recs")[0].Items[0].Item; got != "road-shoe" {
		t.Errorf("with an older context top pick = %s, want road-shoe", got)
	}
}

// The reproduction: set_context, then a view, then decide. The view
// is stamped after the context's time, and once counted for nothing in a
// "viewed within_days" rule until the next set_context; the SDK's script
// tag mode calls setContext({}) before it observes the page's product, so
// viewed rules never applied on the product page itself.
func TestWhatJustHappenedCounts(t *testing.T) {
	rs := with(func(rs *Ruleset) {
		rs.Rules = []Rule{{ID: "r", Reason: "Because you just looked", When: Condition{Viewed: &RecentTest{Selector: Selector{Items: []string{"b"}}, WithinDays: 1}},
			Items: Selector{Items: []string{"g"}}, Boost: 10}}
	})
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	if err := e.SetContext(Context{Now: now}); err != nil {
		t.Fatal(err)
	}
	observe(t, e, "view", "b", now+2*60_000)
	got := decide(t, e, "s")[0]
	if len(got.Items) == 0 || got.Items[0].Item != "g" || !slices.Equal(got.Items[0].Rules, []string{"r"}) {
		t.Errorf("after set_context, a view and decide: %+v; want the viewed rule to apply", got.Items)
	}
}

func TestDecideIsDeterministic(t *testing.T) {
	run := func() []Decision {
		e := loaded(t)
		for i, item := range []string{"tent", "stove", "trail-shoe", "boots", "road-shoe", "tent"} {
			observe(t, e, "view", item, t0+int64(i)*hour)
		}
		return decide(t, e, "recs", "hero")
	}
	first := run()
	for i := 0; i < 20; i++ {
		if got := run(); !reflect.DeepEqual(got, first) {
			t.Fatalf("run %d differs:\n%+v\n%+v", i, got, first)
		}
	}
}

func TestRetentionAndMaxEvents(t *testing.T) {
	rs := shop()
	rs.Signals[0].RetentionDays = 10
	rs.Profile.MaxEvents = 3
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	observe(t, e, "view", "tent", t0)
	observe(t, e, "view", "tent", t0+11*24*hour) // pushes the first one out of retention
	if n := e.Events(); n != 1 {
		t.Fatalf("events after retention = %d, want 1", n)
	}
	for i := 0; i < 5; i++ {
		observe(t, e, "view", "stove", t0+12*24*hour+int64(i))
	}
	if n := e.Events(); n != 3 {
		t.Fatalf("events after max_events = %d, want 3", n)
	}
	// An event older than the newest still lands in time order.
	observe(t, e, "view", "boots", t0+11*24*hour+1)
	if n := e.Events(); n != 3 {
		t.Fatalf("events = %d, want 3", n)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	e := loaded(t)
	observe(t, e, "view", "trail-shoe", t0)
	observe(t, e, "add_to_cart", "stove", t0+hour)
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	want := decide(t, e, "recs")

	f := loaded(t)
	if n, err := f.Restore(snap); err != nil || n != 2 {
		t.Fatalf("Restore = %d, %v", n, err)
	}
	if got := decide(t, f, "recs"); !reflect.DeepEqual(got, want) {
		t.Errorf("restored decisions differ:\n%+v\n%+v", got, want)
	}
	again, err := f.Snapshot()
	if err != nil || string(again) != string(snap) {
		t.Errorf("snapshot of a restored profile differs")
	}
}

func TestBadSnapshotResetsProfile(t *testing.T) {
	e := loaded(t)
	observe(t, e, "view", "trail-shoe", t0)
	good, _ := e.Snapshot()
	for name, data := range map[string][]byte{
		"truncated": good[:len(good)-3],
		"garbage":   []byte("not msgpack at all"),
		"trailing":  append(append([]byte{}, good...), 0xc0),
		"empty":     nil,
	} {
		observe(t, e, "view", "tent", t0)
		_, err := e.Restore(data)
		var ee *Error
		if !errors.As(err, &ee) || (ee.Code != CodeCorruptSnapshot && ee.Code != CodeSnapshotVersion) {
			t.Errorf("%s: err = %v, want a snapshot error", name, err)
		}
		if e.Events() != 0 {
			t.Errorf("%s: %d events survived a bad restore", name, e.Events())
		}
	}
}

func TestLoadKeepsOnlyDeclaredItems(t *testing.T) {
	e := loaded(t)
	observe(t, e, "view", "tent", t0)
	observe(t, e, "view", "stove", t0)
	rs := shop()
	rs.Catalogue = rs.Catalogue[:3] // drops stove and boots
	rs.Slots = []Slot{{ID: "recs", Limit: 2, Fallback: []string{"tent"}}}
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	if n := e.Events(); n != 1 {
		t.Errorf("events after loading a smaller catalogue = %d, want 1", n)
	}
}

func TestInvalidRulesetKeepsPrevious(t *testing.T) {
	e := loaded(t)
	bad := shop()
	bad.Reporting.EpochDays = -1
	err := e.Load(bad)
	var ee *Error
	if !errors.As(err, &ee) || ee.Code != CodeInvalidRuleset || !strings.Contains(ee.Message, "epoch_days is -1") {
		t.Fatalf("err = %v", err)
	}
	if info, _ := e.Ruleset(); info.ID != "shop" || info.Items != 5 {
		t.Errorf("active ruleset after failed load = %+v", info)
	}
}

func TestNoHistorySignalNoEvents(t *testing.T) {
	rs := shop()
	rs.Signals = []Signal{{ID: "weather", Kind: SignalWeather, Purpose: "Show gear for today's weather.", RetentionDays: 0}}
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	_, err := e.Observe(Event{Type: "view", Item: "tent", At: t0})
	var ee *Error
	if !errors.As(err, &ee) || ee.Code != CodeUndeclaredSignal {
		t.Fatalf("Observe without a history signal = %v, want undeclared_signal", err)
	}
	if e.Events() != 0 {
		t.Errorf("an event was stored without a declared history signal")
	}
}

func TestSlotCandidatesByTag(t *testing.T) {
	rs := shop()
	rs.Slots[1].Candidates = Selector{Tags: []string{"camping"}}
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	observe(t, e, "view", "stove", t0)
	if got := ids(decide(t, e, "hero")[0]); !reflect.DeepEqual(got, []string{"stove"}) {
		t.Errorf("hero = %v, want stove, the top camping item", got)
	}
}

func TestObserveRejects(t *testing.T) {
	e := loaded(t)
	for _, tc := range []struct {
		ev   Event
		code Code
	}{
		{Event{Type: "stare", Item: "tent", At: t0}, CodeBadRequest},
		{Event{Type: "view", Item: "yacht", At: t0}, CodeUnknownItem},
		{Event{Type: "view", Item: "tent", At: 0}, CodeBadRequest},
	} {
		_, err := e.Observe(tc.ev)
		var ee *Error
		if !errors.As(err, &ee) || ee.Code != tc.code {
			t.Errorf("Observe(%+v) = %v, want %s", tc.ev, err, tc.code)
		}
	}
	if e.Events() != 0 {
		t.Errorf("rejected events were stored")
	}
}
