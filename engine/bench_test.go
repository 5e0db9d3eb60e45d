package engine_test

import (
	"fmt"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abitest"
)

// BenchmarkDecide measures one decide over a 1,000-item catalogue with a
// 500-event profile, natively. The wasm figure is in wasm/bench_test.go.
func BenchmarkDecide(b *testing.B) {
	e := engine.New()
	if err := e.Load(abitest.BenchRuleset(1000)); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		if _, err := e.Observe(engine.Event{Type: "view", Item: fmt.Sprintf("item-%d", (i*37)%1000), At: abitest.BenchStart + int64(i)*60000}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Decide([]string{"recs"}); err != nil {
			b.Fatal(err)
		}
	}
}

// standardEngine loads testdata/bench/standard.json: 1,000 items, 60 rules,
// a 500-event profile, caps' impressions and a full context.
func standardEngine(b *testing.B) (*engine.Engine, abitest.Workload) {
	w, err := abitest.LoadWorkload("../testdata/bench/standard.json")
	if err != nil {
		b.Fatal(err)
	}
	e := engine.New()
	if err := w.Apply(e); err != nil {
		b.Fatal(err)
	}
	return e, w
}

// BenchmarkDecideStandard is the engine issue's target: one decide of the
// standard workload's three slots, natively (target ≤ 50 µs/op).
func BenchmarkDecideStandard(b *testing.B) {
	e, w := standardEngine(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Decide(w.Slots); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObserve records the standard workload's events over and over in
// a profile kept at its 500-event bound (target ≥ 100k events/s).
func BenchmarkObserve(b *testing.B) {
	e, w := standardEngine(b)
	evs := w.Events
	span := evs[len(evs)-1].At - evs[0].At + 3600000
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := evs[i%len(evs)]
		ev.At += int64(i/len(evs)+1) * span
		if _, err := e.Observe(ev); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "events/s")
	}
}

// BenchmarkDecideStandardCold is BenchmarkDecideStandard with the same
// context set again before every decide. That changes nothing, so decide
// reuses the last decide's state; before SetContext skipped an unchanged
// context it derived everything afresh. BenchmarkDecideStandardNewNow and
// BenchmarkDecideStandardNewContext measure contexts that change.
func BenchmarkDecideStandardCold(b *testing.B) {
	e, w := standardEngine(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.SetContext(w.Context); err != nil {
			b.Fatal(err)
		}
		if _, err := e.Decide(w.Slots); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideStandardNewNow is decide after set_context as the SDK
// sends it: now defaults to Date.now(), so every set_context carries a new
// now. It alternates between the workload's now and a second later, so
// decay, dismissals and caps are derived again for every decide.
func BenchmarkDecideStandardNewNow(b *testing.B) {
	e, w := standardEngine(b)
	ctxs := [2]engine.Context{w.Context, w.Context}
	ctxs[1].Now += 1000
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.SetContext(ctxs[i%2]); err != nil {
			b.Fatal(err)
		}
		if _, err := e.Decide(w.Slots); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideStandardNewContext alternates between the workload's
// context and one with other weather, device, page section and country at
// the same now: a change of the context alone, which flips rules and
// availability but not the profile's decay.
func BenchmarkDecideStandardNewContext(b *testing.B) {
	e, w := standardEngine(b)
	ctxs := [2]engine.Context{w.Context, w.Context}
	ctxs[1].Weather, ctxs[1].Device, ctxs[1].PageSection, ctxs[1].Country = "snow", "desktop", "sale", "SE"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.SetContext(ctxs[i%2]); err != nil {
			b.Fatal(err)
		}
		if _, err := e.Decide(w.Slots); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideStandardAfterObserve is decide after one observe (a view
// at the context's now) in the 500-event profile: a change of the profile
// alone.
func BenchmarkDecideStandardAfterObserve(b *testing.B) {
	e, w := standardEngine(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Observe(engine.Event{Type: "view", Item: fmt.Sprintf("item-%d", i%abitest.StandardItems), At: w.Context.Now}); err != nil {
			b.Fatal(err)
		}
		if _, err := e.Decide(w.Slots); err != nil {
			b.Fatal(err)
		}
	}
}
