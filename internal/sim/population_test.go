package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
)

// smallPopulation is the example's population of 1200 visitors over
// TargetEpochs epochs, without drift, simulated once per test binary.
var smallPopulation = sync.OnceValues(func() (*Population, error) {
	tg := exampleTarget(nil)
	return runner.Population(context.Background(), tg, examplePersonas(nil, tg), PopulationOptions{Visitors: 1200, Seed: 7, Epochs: TargetEpochs})
})

func population(t *testing.T) *Population {
	t.Helper()
	p, err := smallPopulation()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPopulationAccounting(t *testing.T) {
	p := population(t)
	if p.Visitors != 1200 || p.Epochs != TargetEpochs || p.Drift != 0 || p.Shifts != 0 || p.CohortChanged != 0 || p.EpochDays != 7 || p.Epsilon != 2 || p.MinK != 50 || p.Mechanism != "krr" {
		t.Errorf("settings: %+v", p)
	}
	visitors, reporters := 0, 0
	for _, pc := range p.Personas {
		visitors += pc.Visitors
		reporters += pc.Reporters
		if pc.Visitors == 0 {
			t.Errorf("persona %s drew no visitors", pc.ID)
		}
		// Sharing off, and GPC capping sharing at on-device: never a report.
		if (pc.ID == "sharing-off" || pc.ID == "gpc-camper") && pc.Reporters != 0 {
			t.Errorf("persona %s: %d reporters, want 0", pc.ID, pc.Reporters)
		}
		if pc.ID == "weekend-hiker" && pc.Reporters != pc.Visitors {
			t.Errorf("persona %s: %d of %d report", pc.ID, pc.Reporters, pc.Visitors)
		}
	}
	// Every reporter draws at least one answer; without drift a cohort
	// stays, so one answer is all anyone draws.
	if p.EpsilonSpentMean != p.Epsilon || p.EpsilonSpentMax != p.Epsilon {
		t.Errorf("ε spent: mean %v, most %v (ε %v)", p.EpsilonSpentMean, p.EpsilonSpentMax, p.Epsilon)
	}
	if visitors != p.Visitors || reporters != p.Reporters {
		t.Errorf("personas sum to %d visitors, %d reporters; population says %d, %d", visitors, reporters, p.Visitors, p.Reporters)
	}
	reasons := map[string]int{}
	noReport := 0
	for _, r := range p.NoReport {
		reasons[r.Reason] = r.Visitors
		noReport += r.Visitors
	}
	if reasons["sharing level off"] == 0 || reasons["sharing level on-device (Global Privacy Control)"] == 0 {
		t.Errorf("no-report reasons %v lack sharing off and GPC", reasons)
	}
	first := 0
	for _, l := range p.Levels {
		first += l.Reports
		if l.Coarser != (l.Level < 3) {
			t.Errorf("level %+v", l)
		}
	}
	if first+noReport != p.Visitors {
		t.Errorf("%d first-epoch reports + %d without = %d, want %d visitors", first, noReport, first+noReport, p.Visitors)
	}
	if int64(first) != p.EstimatesN {
		t.Errorf("the collector counted %d reports, the engines made %d", p.EstimatesN, first)
	}
	reported, people := 0, 0
	for _, c := range p.Cohorts {
		reported += c.Reported
		if c.Level == 3 {
			people += c.True
		}
		// k-anonymity: no report is about a cohort under min_k.
		if c.Reported > 0 && c.True < p.MinK {
			t.Errorf("cohort %s: %d reports about it, true size %d under min_k", c.ID, c.Reported, c.True)
		}
		if c.Level == 3 && c.Reported != 0 && c.Reported != c.True {
			t.Errorf("full cohort %s of size %d: %d reports about it", c.ID, c.True, c.Reported)
		}
		if !c.Suppressed && (c.Estimate == nil || c.StdErr == nil || *c.Estimate < float64(p.MinK)) {
			t.Errorf("cohort %s published without an estimate of min_k or more: %+v", c.ID, c)
		}
	}
	if reported != first {
		t.Errorf("cohorts hold %d reports, levels %d", reported, first)
	}
	binned := 0
	for _, b := range p.Sizes {
		binned += b.People
	}
	if binned != people || people != p.Reporters {
		t.Errorf("size bins hold %d people, full cohorts %d, reporters %d", binned, people, p.Reporters)
	}
	if p.Coarser() == 0 || p.UnderK() == 0 {
		t.Errorf("expected some k-anonymity fallbacks in a population of 1200: %d coarser, %d cohorts under k", p.Coarser(), p.UnderK())
	}
	for i, u := range p.Unique {
		if u.Of != p.Reporters || u.Fraction < 0 || u.Fraction > 1 || (i > 0 && u.Unique < p.Unique[i-1].Unique) {
			t.Errorf("unique after epoch %d: %+v", u.Epoch, u)
		}
	}
}

// TestPopulationEstimates checks the collector's estimates against the
// counts they estimate: within four standard errors for every published
// cohort, and summing to about the number of reports.
func TestPopulationEstimates(t *testing.T) {
	p := population(t)
	for _, c := range p.Cohorts {
		if c.Suppressed {
			continue
		}
		if d := math.Abs(*c.Estimate - float64(c.Reported)); d > 4**c.StdErr {
			t.Errorf("cohort %s: estimate %.0f ± %.0f, true %d", c.ID, *c.Estimate, *c.StdErr, c.Reported)
		}
	}
}

func TestPopulationIsReproducible(t *testing.T) {
	p := population(t)
	tg := exampleTarget(t)
	ps := examplePersonas(t, tg)
	again, err := runner.Population(context.Background(), tg, ps, PopulationOptions{Visitors: 1200, Seed: 7, Epochs: TargetEpochs})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(p)
	b, _ := json.Marshal(again)
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave a different population")
	}
	other, err := runner.Population(context.Background(), tg, ps, PopulationOptions{Visitors: 1200, Seed: 8, Epochs: 1, Experiments: noRun})
	if err != nil {
		t.Fatal(err)
	}
	if other.Cohorts[0].True == p.Cohorts[0].True && other.Cohorts[1].True == p.Cohorts[1].True && other.Personas[0].Visitors == p.Personas[0].Visitors {
		t.Error("another seed gave the same visitors")
	}
}

// TestKRRPopulation runs a ruleset small enough for randomized response,
// whose reports are cohort indexes, and checks that a second epoch makes
// sequences more unique, never less.
func TestKRRPopulation(t *testing.T) {
	// Keep only the interest dimension: K = 5.
	src := string(mustRead(t, "../../examples/outdoor-shop.yaml"))
	i := strings.Index(src, "    # The person's region, grouped further")
	j := strings.Index(src, "# ---------------------------------------------------------------------------\n# Reporting:")
	if i < 0 || j < i {
		t.Fatal("the example ruleset changed shape; update TestKRRPopulation")
	}
	tg := targetOf(t, []byte(src[:i]+"\n"+src[j:]))
	p, err := runner.Population(context.Background(), tg, examplePersonas(t, tg), PopulationOptions{Visitors: 600, Seed: 3, Epochs: 2, Experiments: noRun})
	if err != nil {
		t.Fatal(err)
	}
	if p.Mechanism != "krr" || len(p.Cohorts) != 5 {
		t.Fatalf("mechanism %s, %d cohorts; want krr, 5", p.Mechanism, len(p.Cohorts))
	}
	// Five values, about 540 reporters: hardly anyone is unique after one epoch.
	if u := p.Unique[0]; u.Unique > 5 || p.Unique[1].Unique < u.Unique {
		t.Errorf("unique: %+v", p.Unique)
	}
}
