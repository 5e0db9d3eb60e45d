package engine

import "testing"

// FuzzRestore feeds arbitrary bytes as a snapshot. Restore must fail cleanly
// (empty profile) or succeed, and a successful restore must round-trip:
// its snapshot restores to the same snapshot.
func FuzzRestore(f *testing.F) {
	e := New()
	if err := e.Load(shop()); err != nil {
		f.Fatal(err)
	}
	e.Observe(Event{Type: "view", Item: "tent", At: t0})
	e.Observe(Event{Type: "purchase", Item: "stove", At: t0 + hour})
	good, err := e.Snapshot()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		e := New()
		if err := e.Load(shop()); err != nil {
			t.Fatal(err)
		}
		n, err := e.Restore(data)
		if err != nil {
			if e.Events() != 0 {
				t.Fatalf("failed restore left %d events", e.Events())
			}
			return
		}
		if n != e.Events() {
			t.Fatalf("Restore reported %d events, profile has %d", n, e.Events())
		}
		snap, err := e.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		f := New()
		f.Load(shop())
		if _, err := f.Restore(snap); err != nil {
			t.Fatalf("a snapshot the engine wrote does not restore: %v", err)
		}
		again, _ := f.Snapshot()
		if string(again) != string(snap) {
			t.Fatalf("snapshot round trip changed the profile")
		}
	})
}
