package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/edgewise/edgewise/engine"
)

// e2eRuleset has an interest dimension (trail, camp, extra interests, other)
// and an engagement dimension (new, returning): with no extras K = 3·2 + 3 = 9
// cohorts; each extra interest adds 3.
func e2eRuleset(epsilon float64, extras int) *engine.Ruleset {
	one, two := 1, 2
	rs := &engine.Ruleset{
		ID: "e2e", Version: "1",
		Signals: []engine.Signal{
			{ID: "history", Kind: engine.SignalHistory, Purpose: "Recommend gear like what you viewed.", RetentionDays: 30},
			{ID: "visits", Kind: engine.SignalVisits, Purpose: "Welcome first-time visitors with our best sellers.", RetentionDays: 30},
		},
		Catalogue: []engine.Item{
			{ID: "shoe", Title: "Trail shoe", Tags: []string{"trail"}},
			{ID: "tent", Title: "Tent", Tags: []string{"camp"}},
		},
		Slots: []engine.Slot{{ID: "s", Limit: 1, Fallback: []string{"shoe"}}},
		Cohorts: engine.Cohorts{Dimensions: []engine.Dimension{
			{ID: "interest", From: engine.DimensionInterest, Buckets: []engine.Bucket{{ID: "trail", Tags: []string{"trail"}}, {ID: "camp", Tags: []string{"camp"}}, {ID: "other"}}},
			{ID: "engagement", From: engine.DimensionEngagement, Buckets: []engine.Bucket{{ID: "new", Visits: &engine.Range{Max: &one}}, {ID: "returning", Visits: &engine.Range{Min: &two}}}},
		}},
		Reporting: engine.Reporting{Epsilon: epsilon, MinK: 50},
	}
	interest := &rs.Cohorts.Dimensions[0]
	for i := 0; i < extras; i++ {
		tag := fmt.Sprintf("extra%d", i)
		rs.Catalogue = append(rs.Catalogue, engine.Item{ID: tag, Title: "Extra " + tag, Tags: []string{tag}})
		// Before the catch-all, which must stay last.
		interest.Buckets = append(interest.Buckets[:len(interest.Buckets)-1], engine.Bucket{ID: tag, Tags: []string{tag}}, engine.Bucket{ID: "other"})
	}
	return rs
}

// TestEngineReportsAreCountedRight feeds reports drawn by the engine itself
// (its randomness seeded) through the collector's intake, for a small and a
// larger catalogue, and checks every debiased estimate against the true
// cohort sizes: the two sides agree on the catalogue, the encoding and the
// noise.
func TestEngineReportsAreCountedRight(t *testing.T) {
	for _, tc := range []struct {
		name   string
		extras int // each adds 3 cohorts to K = 9
	}{{"K=9", 0}, {"K=39", 10}} {
		t.Run(tc.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, db string) {
				rs := e2eRuleset(2, tc.extras)
				c := newCollector(t, db, rs)
				rng := rand.New(rand.NewPCG(7, 11))
				now := fixedNow.UnixMilli()
				truth := map[string]int{}
				const people = 4000
				for i := 0; i < people; i++ {
					e := engine.New()
					e.SetRandom(seeded{rng})
					if err := e.Load(*rs); err != nil {
						t.Fatal(err)
					}
					if _, err := e.SetPreferences(engine.Preferences{Sharing: engine.SharingCohorts}); err != nil {
						t.Fatal(err)
					}
					interest := "other"
					switch r := rng.IntN(10); {
					case r < 6:
						interest = "trail"
						e.Observe(engine.Event{Type: "view", Item: "shoe", At: now - 1000})
					case r < 9:
						interest = "camp"
						e.Observe(engine.Event{Type: "view", Item: "tent", At: now - 1000})
					}
					visits, engagement := 1, "new"
					if rng.IntN(2) == 0 {
						visits, engagement = 4, "returning"
					}
					if err := e.SetContext(engine.Context{Now: now, Visits: &visits}); err != nil {
						t.Fatal(err)
					}
					rep, reason, err := e.Report(now, nil)
					if err != nil || rep == nil {
						t.Fatalf("person %d: no report (%q, %v)", i, reason, err)
					}
					if rep.Mechanism != engine.MechanismKRR {
						t.Fatalf("mechanism %s, want krr", rep.Mechanism)
					}
					body, err := json.Marshal(rep)
					if err != nil {
						t.Fatal(err)
					}
					if err := c.Accept(context.Background(), body); err != nil {
						t.Fatalf("person %d: the collector refused the engine's report %s: %v", i, body, err)
					}
					truth[fmt.Sprintf("interest=%s/engagement=%s", interest, engagement)]++
				}
				est := getEstimates(t, serve(t, c), fmt.Sprintf("ruleset=e2e&epoch=%d", now/(7*86_400_000)))
				if est.N != people {
					t.Fatalf("n = %d, want %d", est.N, people)
				}
				for id, want := range truth {
					got := est.Cohorts[id]
					if got.Suppressed || got.Estimate == nil || got.StdErr == nil {
						t.Fatalf("%s: %+v, want an estimate near %d", id, got, want)
					}
					if dev := math.Abs(*got.Estimate-float64(want)) / *got.StdErr; dev > 4 {
						t.Errorf("%s: estimate %.0f ± %.0f, true %d (%.1f standard errors off)", id, *got.Estimate, *got.StdErr, want, dev)
					}
				}
			})
		})
	}
}

// seeded adapts math/rand to the io.Reader the engine draws from.
type seeded struct{ r *rand.Rand }

func (s seeded) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s.r.Uint32())
	}
	return len(p), nil
}
