package engine_test

import (
	"math/rand/v2"
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

// TestDecideAgreesWithAFreshEngine runs random sequences of what a page
// does between decides (now advancing by a millisecond to days, now going
// back, observes at, before and after now, dismissals, impressions, other
// weather or country, hidden interests, another frequency) and holds every
// decide to a fresh engine's that replayed the same calls. Most steps are
// small advances of now, as the SDK sends them, so the state decide keeps
// from one now to the next is checked against deriving it afresh.
func TestDecideAgreesWithAFreshEngine(t *testing.T) {
	w := abitest.StandardWorkload(300, 150)
	start := w.Context.Now
	item := func(r *rand.Rand) string { return w.Ruleset.Catalogue[r.IntN(len(w.Ruleset.Catalogue))].ID }
	type op struct {
		name string
		do   func(e *engine.Engine) error
	}
	// next returns a random step; ctx is the context the engine has.
	next := func(r *rand.Rand, ctx *engine.Context) op {
		setNow := func(name string, now int64) op {
			ctx.Now = max(now, 1)
			c := *ctx
			return op{name, func(e *engine.Engine) error { return e.SetContext(c) }}
		}
		switch k := r.IntN(20); {
		case k < 6:
			return setNow("now +ms", ctx.Now+1+r.Int64N(999))
		case k < 9:
			return setNow("now +s", ctx.Now+1000*(1+r.Int64N(59)))
		case k < 11:
			return setNow("now +h", ctx.Now+3600000*(1+r.Int64N(30)))
		case k == 11:
			return setNow("now +days", ctx.Now+86400000*(1+r.Int64N(20)))
		case k == 12:
			return setNow("now back", ctx.Now-1-r.Int64N(3*3600000))
		case k < 16:
			typ := []string{"view", "view", "click", "add_to_cart", "purchase", "dismiss"}[r.IntN(6)]
			ev := engine.Event{Type: typ, Item: item(r), At: ctx.Now + r.Int64N(2*3600000) - 3600000}
			return op{"observe " + typ, func(e *engine.Engine) error { _, err := e.Observe(ev); return err }}
		case k == 16:
			ids, at := []string{item(r), item(r)}, ctx.Now-r.Int64N(86400000)
			return op{"impressions", func(e *engine.Engine) error { _, err := e.RecordImpressions(ids, at); return err }}
		case k == 17:
			ctx.Weather = []string{"rain", "snow", "clear", ""}[r.IntN(4)]
			ctx.Country = []string{"DE", "SE", "US", ""}[r.IntN(4)]
			c := *ctx
			return op{"weather, country", func(e *engine.Engine) error { return e.SetContext(c) }}
		default:
			p := engine.Preferences{Frequency: []string{"low", "normal", "high"}[r.IntN(3)]}
			if r.IntN(2) == 0 {
				p.HiddenInterests = []string{[]string{"running", "camping", "sale", "tent"}[r.IntN(4)]}
			}
			return op{"preferences", func(e *engine.Engine) error { _, err := e.SetPreferences(p); return err }}
		}
	}
	for seed := range uint64(12) {
		r := rand.New(rand.NewPCG(seed, 13))
		e := engine.New()
		if err := w.Apply(e); err != nil {
			t.Fatal(err)
		}
		ctx := w.Context
		ctx.Now = start
		var ops []op
		for step := range 60 {
			o := next(r, &ctx)
			if err := o.do(e); err != nil {
				t.Fatalf("seed %d, step %d (%s): %v", seed, step, o.name, err)
			}
			ops = append(ops, o)
			slots := w.Slots
			if r.IntN(4) == 0 {
				slots = []string{w.Slots[r.IntN(len(w.Slots))]}
			}
			got, err := e.Decide(slots)
			if err != nil {
				t.Fatal(err)
			}
			fresh := engine.New()
			if err := w.Apply(fresh); err != nil {
				t.Fatal(err)
			}
			for _, o := range ops {
				if err := o.do(fresh); err != nil {
					t.Fatal(err)
				}
			}
			want, _ := fresh.Decide(slots)
			if !reflect.DeepEqual(got, want) {
				var names []string
				for _, o := range ops {
					names = append(names, o.name)
				}
				t.Fatalf("seed %d, step %d, after %v:\n got %+v\nwant %+v", seed, step, names, got, want)
			}
		}
	}
}
