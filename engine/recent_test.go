package engine

import (
	"math/rand"
	"slices"
	"testing"
)

// TestRecentMatchesItsDefinition: recent scans from the newest event back
// and stops at the window's start, which relies on the profile keeping
// its events in time order. Over random profiles (events observed out of
// order, some after now, dismissals, hidden interests) it must answer as
// the definition does: any event, purchase or not as asked, on a
// selected item, at most within before now and not after it.
func TestRecentMatchesItsDefinition(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	rs := world()
	types := []string{"view", "click", "add_to_cart", "purchase", EventDismiss}
	for round := range 300 {
		e := New()
		if err := e.Load(rs); err != nil {
			t.Fatal(err)
		}
		if round%3 == 0 {
			if _, err := e.SetPreferences(Preferences{HiddenInterests: []string{"z", "w"}}); err != nil {
				t.Fatal(err)
			}
		}
		for range r.Intn(40) {
			item := rs.Catalogue[r.Intn(len(rs.Catalogue))].ID
			observe(t, e, types[r.Intn(len(types))], item, now-int64(r.Intn(20))*dayMillis+int64(r.Intn(4*int(dayMillis))))
		}
		if !slices.IsSortedFunc(e.profile.events, func(a, b Event) int { return int(a.At - b.At) }) {
			t.Fatalf("round %d: the profile's events are not in time order", round)
		}
		if err := e.SetContext(Context{Now: now}); err != nil {
			t.Fatal(err)
		}
		d := e.decider()
		for range 20 {
			items := make([]bool, len(rs.Catalogue))
			for i := range items {
				items[i] = r.Intn(3) == 0
			}
			within, purchase := int64(r.Intn(10))*dayMillis+int64(r.Intn(int(dayMillis))), r.Intn(2) == 0
			want := false
			for i, ev := range e.profile.events {
				age := d.m.now - ev.At
				if ev.Type != EventDismiss && (!purchase || ev.Type == "purchase") && !e.ignored(&ev, d.evIdx[i]) &&
					age >= 0 && age <= within && items[d.evIdx[i]] {
					want = true
				}
			}
			if got := d.recent(items, within, purchase); got != want {
				t.Fatalf("round %d: recent(within %d, purchase %v) = %v, want %v", round, within, purchase, got, want)
			}
		}
	}
}
