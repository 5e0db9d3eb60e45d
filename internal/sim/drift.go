package sim

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abi"
)

// Drift: interests that shift from epoch to epoch.
//
// A persona replays the same visits for ever, so without drift a visitor's
// cohort never changes and the engine sends one memoized answer for ever.
// Real interests move: a person researching a tent buys it and goes on to
// boots, and outdoor interests follow the seasons (snowshoes in January,
// trail shoes in May). So, before each epoch's report after the first, a
// visitor's dominant interest shifts with probability Drift to another
// bucket of the ruleset's interest dimension, drawn uniformly: the visitor
// views items of that bucket, one a minute from a day before the report,
// until the engine's own cohort says the interest leads (at most
// MaxDriftViews views). Between shifts the visitor adds no events, which
// keeps the interest where it is: decay scales every affinity alike.
//
// DefaultDrift is 0.1 a week: a dominant interest lasts ten weeks on
// average, about a season, and a weekly visitor's interest moves four to
// five times a year. The example's interests (trail running, hiking and
// camping, climbing, winter sports) are seasonal, and its profile forgets
// with a half-life of 21 days, so a lead that lasts a season is what the
// engine would see of someone who changes activity with the seasons and
// buys gear for each. Faster drift (0.25: a new interest every month) and
// slower (0.02: once a year) are a flag away, and RATIONALE.md gives the
// re-identification figures for both. Region and visit counts stay as the
// persona has them: people move house rarely, and the example's engagement
// buckets are wide.
const (
	DefaultDrift  = 0.1
	MaxDriftViews = 8
)

// interests are the buckets of the ruleset's first interest dimension that
// name tags, with the catalogue items a visitor views to take each up.
type interests struct {
	dim     string     // the dimension's id, as in cohort ids
	buckets []string   // bucket ids
	items   [][]string // per bucket: item ids
}

// interestsOf finds the interest buckets of rs; nil when fewer than two
// have items, so that no shift is possible.
func interestsOf(rs *engine.Ruleset) *interests {
	for _, d := range rs.Cohorts.Dimensions {
		if d.From != engine.DimensionInterest {
			continue
		}
		in := &interests{dim: d.ID}
		owner := map[string]int{} // tag -> how many buckets name it
		for _, b := range d.Buckets {
			for _, t := range b.Tags {
				owner[t]++
			}
		}
		for _, b := range d.Buckets {
			if len(b.Tags) == 0 {
				continue
			}
			// Items of this bucket's tags and no other bucket's, so a view
			// raises this interest alone; any of its tags when none is.
			var only, any []string
			for _, it := range rs.Catalogue {
				mine, other := false, false
				for _, t := range it.Tags {
					if slices.Contains(b.Tags, t) {
						mine = true
					} else if owner[t] > 0 {
						other = true
					}
				}
				if mine {
					any = append(any, it.ID)
					if !other {
						only = append(only, it.ID)
					}
				}
			}
			if len(only) == 0 {
				only = any
			}
			if len(only) > 0 {
				in.buckets = append(in.buckets, b.ID)
				in.items = append(in.items, only)
			}
		}
		if len(in.buckets) < 2 {
			return nil
		}
		return in
	}
	return nil
}

// of is the interest bucket in a cohort id ("" when it has none, or holds
// the catch-all).
func (in *interests) of(cohort string) string {
	for _, part := range strings.Split(cohort, "/") {
		if b, ok := strings.CutPrefix(part, in.dim+"="); ok {
			return b
		}
	}
	return ""
}

// drifter shifts one visitor's interest, from its own seeded stream.
type drifter struct {
	in   *interests
	rate float64
	rng  *rand.Rand
}

// step runs before an epoch's report, after the first, with the engine's
// context c (its Now at the report); cohort is the visitor's cohort in the
// epoch before. When the interest shifts it returns the cohort after the
// shift, as the engine's export gives it, and "" otherwise.
func (d *drifter) step(ctx context.Context, x *instance, c engine.Context, cohort string) (string, error) {
	if d == nil || d.rng.Float64() >= d.rate {
		return "", nil
	}
	cur := d.in.of(cohort)
	var others []int
	for i, b := range d.in.buckets {
		if b != cur {
			others = append(others, i)
		}
	}
	to := others[d.rng.IntN(len(others))]
	items := d.in.items[to]
	at := c.Now - (24 * time.Hour).Milliseconds()
	for v := range MaxDriftViews {
		ev := engine.Event{Type: "view", Item: items[d.rng.IntN(len(items))], At: at + int64(v)*time.Minute.Milliseconds()}
		if err := x.call(ctx, abi.OpObserve, abi.ObserveRequest{Event: ev}, nil); err != nil {
			return "", err
		}
		var err error
		if cohort, err = trueCohort(ctx, x, c); err != nil {
			return "", err
		}
		if d.in.of(cohort) == d.in.buckets[to] {
			break
		}
	}
	return cohort, nil
}
