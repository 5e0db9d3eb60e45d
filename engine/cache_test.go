package engine_test

import (
	"reflect"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abitest"
)

// TestDecideStateIsRederived: decide keeps what it derives between calls
// (affinities, firing rules, rankings) until the profile, context or
// ruleset changes. After every kind of change, an engine that decided all
// along must decide exactly as a fresh engine given the same inputs.
func TestDecideStateIsRederived(t *testing.T) {
	w := abitest.StandardWorkload(400, 120)
	last := w.Events[len(w.Events)-1]
	visits := 0
	var ops []func(e *engine.Engine)
	steps := []func(e *engine.Engine){
		func(e *engine.Engine) { e.SetContext(engine.Context{}) },
		func(e *engine.Engine) { e.Observe(engine.Event{Type: "dismiss", Item: w.Events[3].Item, At: last.At}) },
		func(e *engine.Engine) { e.Observe(engine.Event{Type: "purchase", Item: "item-5", At: last.At - 5}) },
		func(e *engine.Engine) { e.RecordImpressions([]string{"item-1", "item-2"}, last.At) },
		func(e *engine.Engine) { e.SetContext(w.Context) },
		func(e *engine.Engine) {
			e.SetContext(engine.Context{Now: w.Context.Now + 3*86400000, Weather: "snow", Device: "desktop", Country: "SE", Visits: &visits})
		},
		func(e *engine.Engine) {
			e.Observe(engine.Event{Type: "view", Item: "item-7", At: w.Context.Now + 3*86400000})
		},
		func(e *engine.Engine) {
			snap, _ := e.Snapshot()
			e.Restore(snap[:len(snap)/2]) // corrupt: an empty profile
		},
		func(e *engine.Engine) { e.Load(w.Ruleset) },
	}
	e := engine.New()
	if err := w.Apply(e); err != nil {
		t.Fatal(err)
	}
	for i, step := range steps {
		step(e)
		ops = append(ops, step)
		fresh := engine.New()
		w.Apply(fresh)
		for _, op := range ops {
			op(fresh)
		}
		for rep := 0; rep < 2; rep++ {
			got, err := e.Decide(w.Slots)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := fresh.Decide(w.Slots)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("step %d, decide %d: %+v\nwant %+v", i, rep, got, want)
			}
			e.Decide([]string{"cart"}) // a partial decide in between
		}
	}
}
