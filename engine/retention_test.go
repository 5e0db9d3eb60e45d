package engine

import (
	"math/rand"
	"testing"
)

// TestRetentionNeverExceeded observes events in random order over four months
// and checks after every write that the profile holds nothing older than the
// history signal's retention (measured from the newest event) and no more
// than max_events, and that a snapshot restores within the same bounds.
func TestRetentionNeverExceeded(t *testing.T) {
	for seed := int64(0); seed < 50; seed++ {
		r := rand.New(rand.NewSource(seed))
		rs := shop()
		rs.Signals[0].RetentionDays = 1 + r.Intn(90)
		rs.Profile.MaxEvents = 1 + r.Intn(40)
		e := New()
		if err := e.Load(rs); err != nil {
			t.Fatal(err)
		}
		retention := int64(rs.Signals[0].RetentionDays) * dayMillis
		types := []string{"view", "click", "add_to_cart", "purchase", "custom", "dismiss"}
		for i := 0; i < 300; i++ {
			ev := Event{Type: types[r.Intn(len(types))], Item: rs.Catalogue[r.Intn(len(rs.Catalogue))].ID, At: t0 + r.Int63n(120*dayMillis)}
			if _, err := e.Observe(ev); err != nil {
				t.Fatal(err)
			}
			checkBounds(t, seed, e, retention, rs.Profile.MaxEvents)
		}
		snap, err := e.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		f := New()
		f.Load(rs)
		if _, err := f.Restore(snap); err != nil {
			t.Fatal(err)
		}
		checkBounds(t, seed, f, retention, rs.Profile.MaxEvents)
	}
}

func checkBounds(t *testing.T, seed int64, e *Engine, retention int64, maxEvents int) {
	t.Helper()
	evs := e.profile.events
	if len(evs) > maxEvents {
		t.Fatalf("seed %d: %d events kept, max_events is %d", seed, len(evs), maxEvents)
	}
	newest := e.profile.newest()
	for i, ev := range evs {
		if ev.At < newest-retention {
			t.Fatalf("seed %d: event %d is %d days older than the newest, retention is %d days", seed, i, (newest-ev.At)/dayMillis, retention/dayMillis)
		}
		if i > 0 && evs[i-1].At > ev.At {
			t.Fatalf("seed %d: events out of time order at %d", seed, i)
		}
	}
}
