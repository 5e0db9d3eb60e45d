package sim

import (
	"context"
	"math"
	"reflect"
	"testing"
)

func TestInterestsOf(t *testing.T) {
	in := interestsOf(exampleTarget(t).Ruleset)
	if in == nil || in.dim != "interest" || !reflect.DeepEqual(in.buckets, []string{"trail-running", "hiking-camping", "climbing", "winter-sports"}) {
		t.Fatalf("interests %+v", in)
	}
	for i, items := range in.items {
		if len(items) == 0 {
			t.Errorf("bucket %s has no items to view", in.buckets[i])
		}
	}
	for cohort, want := range map[string]string{
		"interest=climbing/region=europe/engagement=new": "climbing",
		"interest=other": "other",
		"":               "",
	} {
		if got := in.of(cohort); got != want {
			t.Errorf("of(%q) = %q, want %q", cohort, got, want)
		}
	}
}

// TestDrift checks the drift model in the engine: shifts come at the rate
// asked for, and each moves the visitor's true cohort.
func TestDrift(t *testing.T) {
	tg := exampleTarget(t)
	const rate, epochs = 0.3, 8
	p, err := runner.Population(context.Background(), tg, examplePersonas(t, tg), PopulationOptions{Visitors: 400, Seed: 11, Epochs: epochs, Drift: rate})
	if err != nil {
		t.Fatal(err)
	}
	// Every reporter keeps its history on, so every one may shift.
	n := float64(p.Reporters * (epochs - 1))
	if want, sd := rate*n, math.Sqrt(n*rate*(1-rate)); math.Abs(float64(p.Shifts)-want) > 4*sd {
		t.Errorf("%d shifts, want about %.0f ± %.0f", p.Shifts, want, sd)
	}
	// P(no shift in 7 epochs) = 0.7^7 ≈ 8%.
	if p.CohortChanged < p.Reporters*80/100 || p.CohortChanged > p.Reporters {
		t.Errorf("%d of %d reporters changed cohort", p.CohortChanged, p.Reporters)
	}
	// A new cohort spends ε again: the mean is well above one answer.
	if p.EpsilonSpentMean < 2*p.Epsilon {
		t.Errorf("ε spent: mean %v", p.EpsilonSpentMean)
	}
	if p.Drift != rate || p.DriftSummary() == "" {
		t.Errorf("drift %v, %q", p.Drift, p.DriftSummary())
	}
}
