package sim

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/lift"
)

// The power figures are lift.Plan's, turned into epochs and weeks: for
// every cell, recomputed here from Plan for the same inputs.
func TestPowerMatchesPlan(t *testing.T) {
	x := engine.Experiment{ID: "x", Holdout: 0.2, Epsilon: 0.5, MinLift: 0.15}
	for _, tc := range []struct {
		epochDays int
		base      float64
		perWeek   float64
	}{{7, 0.05, 100_000}, {14, 0.03, 25_000}, {7, 0.2, 1_000_000}} {
		p := PlanExperiment(x, tc.epochDays, tc.base, tc.perWeek, TrafficGiven)
		if p.Holdout != 0.2 || p.Epsilon != 0.5 || p.MinLift != 0.15 || p.BaseRate != tc.base || p.PerWeek != tc.perWeek || p.EpochDays != tc.epochDays {
			t.Errorf("design %+v", p)
		}
		check := func(n Need) {
			t.Helper()
			want, err := lift.Plan(lift.Design{Epsilon: n.Epsilon, Holdout: 0.2}, tc.base, n.Lift, 0.8)
			if err != nil {
				t.Fatal(err)
			}
			perEpoch := tc.perWeek * float64(tc.epochDays) / 7
			epochs := math.Ceil(want / perEpoch)
			if n.Never || n.Answers != want || n.Epochs != epochs || n.Weeks != math.Ceil(epochs*float64(tc.epochDays)/7) {
				t.Errorf("%d-day epochs, base %g, %g a week: lift %g at ε %g: %+v; Plan says %g answers, %g epochs", tc.epochDays, tc.base, tc.perWeek, n.Lift, n.Epsilon, n, want, epochs)
			}
		}
		check(p.Need)
		if p.Need.Lift != 0.15 || p.Need.Epsilon != 0.5 {
			t.Errorf("need is for lift %g at ε %g, want min_lift 0.15 at ε 0.5", p.Need.Lift, p.Need.Epsilon)
		}
		if got := p.OverAYear; got != (p.Need.Epochs*float64(tc.epochDays) > 365) {
			t.Errorf("over a year %v for %+v", got, p.Need)
		}
		// 5, 10, 15 (min_lift) and 20%, at ε 0.5 and the ceiling.
		if lifts, eps := p.Lifts(), p.Epsilons(); !slices.Equal(lifts, []float64{0.05, 0.1, 0.15, 0.2}) || !slices.Equal(eps, []float64{0.5, engine.MaxOutcomeEpsilon}) || len(p.Table) != 8 {
			t.Errorf("table rows %v, columns %v, %d cells", lifts, eps, len(p.Table))
		}
		for _, n := range p.Table {
			check(n)
		}
		// A larger ε or lift never takes longer.
		if p.Cell(0.1, 2).Answers >= p.Cell(0.1, 0.5).Answers || p.Cell(0.2, 0.5).Answers >= p.Cell(0.1, 0.5).Answers {
			t.Errorf("table %+v", p.Table)
		}
	}
	// Defaults: ε 1 and min_lift 10%, one ε column when at the ceiling.
	p := PlanExperiment(engine.Experiment{ID: "d", Holdout: 0.1}, 7, 0.05, 10_000, TrafficGiven)
	if p.Epsilon != engine.DefaultOutcomeEpsilon || p.MinLift != engine.DefaultMinLift || len(p.Lifts()) != 3 {
		t.Errorf("defaults: %+v", p)
	}
	if p := PlanExperiment(engine.Experiment{ID: "c", Holdout: 0.1, Epsilon: 2}, 7, 0.05, 10_000, TrafficGiven); !slices.Equal(p.Epsilons(), []float64{2}) {
		t.Errorf("at the ceiling: columns %v", p.Epsilons())
	}
	// A lift the base rate cannot take is never found, and said so.
	if p := PlanExperiment(engine.Experiment{ID: "n", Holdout: 0.5, MinLift: 1}, 7, 0.6, 10_000, TrafficGiven); !p.Need.Never || !p.OverAYear || !strings.Contains(p.Warning(), "never") {
		t.Errorf("impossible lift: %+v, %q", p.Need, p.Warning())
	}
}

// Past a year the power figures warn in plain words, and say what would
// finish within one; the weeks are the docs' table's (docs/experiments.md,
// "How long it takes") for the same inputs.
func TestPowerWarnsPastAYear(t *testing.T) {
	x := engine.Experiment{ID: "hero", Holdout: 0.1, Epsilon: 1, MinLift: 0.1}
	short := PlanExperiment(x, 7, 0.05, 1_000_000, TrafficGiven)
	long := PlanExperiment(x, 7, 0.05, 10_000, TrafficGiven)
	if short.Need.Weeks != 7 || short.OverAYear || short.Warning() != "" {
		t.Errorf("a million a week: %+v, warning %q", short.Need, short.Warning())
	}
	if long.Need.Weeks != 649 || !long.OverAYear {
		t.Errorf("10,000 a week: %+v", long.Need)
	}
	w := long.Warning()
	for _, want := range []string{"More than a year", "649 weeks", "a lift of 20% at ε 2 (39 weeks)"} {
		if !strings.Contains(w, want) {
			t.Errorf("the warning lacks %q: %s", want, w)
		}
	}
}

// An experiment within another: the outer's personalized arm holds the
// inner's lift too, so its true lift is larger; the inner's is its own.
func TestTruthOfNestedExperiments(t *testing.T) {
	rs := &engine.Ruleset{Experiments: []engine.Experiment{
		{ID: "outer", Holdout: 0.2, Slots: []string{"a"}, MinLift: 0.1},
		{ID: "inner", Holdout: 0.5, Slots: []string{"a"}, MinLift: 0.2, Within: "outer"},
		{ID: "apart", Holdout: 0.3, Slots: []string{"b"}, MinLift: 0.5},
	}}
	es, err := newExperimentSet(rs, ExperimentOptions{BaseRate: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	tr := es.truth()
	// apart multiplies both arms of the others alike: E[factor] = 0.3 + 0.7·1.5.
	f := 0.3 + 0.7*1.5
	want := [][2]float64{
		{0.1 * f, 0.1 * 1.1 * (0.5 + 0.5*1.2) * f},
		{0.1 * 1.1 * f, 0.1 * 1.1 * 1.2 * f},
		{0.1*1.1*1.1*0.8 + 0.1*0.2, (0.1*1.1*1.1*0.8 + 0.1*0.2) * 1.5},
	}
	for i := range want {
		for a := range 2 {
			if math.Abs(tr[i][a]-want[i][a]) > 1e-12 {
				t.Errorf("%s arm %d: %v, want %v", rs.Experiments[i].ID, a, tr[i][a], want[i][a])
			}
		}
	}
	if l := tr[0][1]/tr[0][0] - 1; math.Abs(l-(1.1*1.1-1)) > 1e-12 {
		t.Errorf("outer's true lift %v, want 21%%", l)
	}
	if _, err := newExperimentSet(rs, ExperimentOptions{BaseRate: 0.5, Lift: ptr(1.0)}); err == nil {
		t.Error("a base rate of 0.5 and lifts of 100% (a chance of 4) were taken")
	}
	if _, err := newExperimentSet(rs, ExperimentOptions{Lift: ptr(-1.0)}); err == nil {
		t.Error("a lift of -100% was taken")
	}
}

func ptr[T any](v T) *T { return &v }

// noRun leaves the experiments' run out of populations whose tests are
// about something else: it costs more than the cohort passes.
var noRun = ExperimentOptions{Skip: true}

// Arms come from what the slots show: a slot names the experiment whose
// comparison group the person is in there.
func TestArmsFromDecisions(t *testing.T) {
	rs := &engine.Ruleset{
		Catalogue:   []engine.Item{{ID: "c0"}},
		Experiments: []engine.Experiment{{ID: "outer", Holdout: 0.2, Slots: []string{"a", "b"}, Goals: []string{"click"}}, {ID: "inner", Holdout: 0.5, Slots: []string{"b"}, Within: "outer", Goals: []string{"add_to_cart", "purchase"}}},
	}
	es, err := newExperimentSet(rs, ExperimentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	shown := func(slot, x string, items ...string) engine.Decision {
		d := engine.Decision{Slot: slot, Experiment: x}
		for _, it := range items {
			d.Items = append(d.Items, engine.Pick{Item: it})
		}
		return d
	}
	arms := make([]int8, 2)
	for _, tc := range []struct {
		decs   []engine.Decision
		want   []int8
		events []engine.Event
	}{
		{[]engine.Decision{shown("a", "", "i1"), shown("b", "", "i2")}, []int8{armPersonalized, armPersonalized},
			[]engine.Event{{Type: "click", Item: "i1", At: 9}, {Type: "add_to_cart", Item: "i2", At: 9}}},
		{[]engine.Decision{shown("a", "outer", "f1"), shown("b", "outer")}, []int8{armHoldout, armOut},
			[]engine.Event{{Type: "click", Item: "f1", At: 9}}},
		// Nothing shown: no click, and an add to cart of the first item shown anywhere.
		{[]engine.Decision{shown("a", ""), shown("b", "inner")}, []int8{armPersonalized, armHoldout},
			[]engine.Event{{Type: "add_to_cart", Item: "c0", At: 9}}},
	} {
		es.arms(tc.decs, arms)
		if !slices.Equal(arms, tc.want) {
			t.Errorf("%+v: arms %v, want %v", tc.decs, arms, tc.want)
		}
		if got := es.goalEvents(rs, tc.decs, arms, 9); !slices.Equal(got, tc.events) {
			t.Errorf("%+v: goal events %v, want %v", tc.decs, got, tc.events)
		}
	}
}

// experimentPopulation runs the example's population with its experiment
// at a true lift, 800 visitors over 7 epochs: about 4,300 answers, where
// Plan needs 2,528 for 99% power at a base rate of 30% and a lift of 100%.
func experimentPopulation(t *testing.T, liftTrue, base float64, seed uint64) (*Population, ExperimentReport) {
	t.Helper()
	tg := exampleTarget(t)
	p, err := runner.Population(context.Background(), tg, examplePersonas(t, tg), PopulationOptions{Visitors: 800, Seed: seed, Epochs: 7,
		Experiments: ExperimentOptions{BaseRate: base, Lift: &liftTrue}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Experiments == nil || p.Experiments.Run == nil || len(p.Experiments.Experiments) != 1 {
		t.Fatalf("experiments %+v", p.Experiments)
	}
	return p, p.Experiments.Experiments[0]
}

// A known true lift, through the engines and the real collector: the
// cumulative confidence sequence covers it and the verdict finds it; the
// answers are exactly the answered exposures, one per participant and
// epoch; and the arm shares and rates before noise are the truth's.
func TestExperimentRunRecoversLift(t *testing.T) {
	p, x := experimentPopulation(t, 1, 0.3, 2)
	run, r := p.Experiments.Run, x.Run
	a := run.Analysis("hero-lift")
	if a == nil || a.Cumulative.Result == nil {
		t.Fatalf("analysis %+v", a)
	}
	if r.TrueRates != [2]float64{0.3, 0.6} || r.TrueLift != 1 || r.Lift != 1 {
		t.Errorf("truth %+v", r)
	}
	res := a.Cumulative.Result
	if !r.InCS || !(res.Lift.CS[0] <= 0.3 && 0.3 <= res.Lift.CS[1]) {
		t.Errorf("the truth, +30 points, is outside the confidence sequence %v", res.Lift.CS)
	}
	if !strings.HasPrefix(a.Cumulative.Verdict, "Personalized picks converted more, with 95% confidence") {
		t.Errorf("verdict %q", a.Cumulative.Verdict)
	}
	answers := r.Exposed[0] + r.Exposed[1]
	if a.Cumulative.Reports != answers || answers != int64(r.Participants*(p.Epochs-1)) || len(a.Epochs) != p.Epochs-1 {
		t.Errorf("%d answers counted, %d answered exposures, %d participants over %d epochs", a.Cumulative.Reports, answers, r.Participants, len(a.Epochs))
	}
	for _, ep := range a.Epochs {
		if !ep.Final || ep.Reports != int64(r.Participants) {
			t.Errorf("epoch %+v", ep)
		}
	}
	// Everyone who shares cohorts and keeps history takes part: the
	// personas' weights make that nine visitors in ten.
	if r.Participants < 650 || r.Participants > p.Reporters {
		t.Errorf("%d participants of %d reporters", r.Participants, p.Reporters)
	}
	if share := float64(r.Held) / float64(r.Participants); math.Abs(share-0.2) > 4*math.Sqrt(0.2*0.8/float64(r.Participants)) {
		t.Errorf("%d of %d in the comparison group, want about 20%%", r.Held, r.Participants)
	}
	for k, want := range r.TrueRates {
		n := float64(r.Exposed[k])
		if got := float64(r.Converted[k]) / n; math.Abs(got-want) > 4*math.Sqrt(want*(1-want)/n) {
			t.Errorf("arm %d converted %v before noise, want about %v", k, got, want)
		}
	}
	// One answer an epoch after the first, at ε 1, by everyone in it.
	if run.People != r.Participants || run.OutcomeEpsilonMean != float64(p.Epochs-1) || run.OutcomeEpsilonMax != float64(p.Epochs-1) {
		t.Errorf("outcome ε: %d people, mean %v, most %v", run.People, run.OutcomeEpsilonMean, run.OutcomeEpsilonMax)
	}
	if run.Reports != int64(run.People*p.Epochs) {
		t.Errorf("the collector counted %d reports, want %d", run.Reports, run.People*p.Epochs)
	}
	// The power figures plan with the population's traffic.
	if x.Power == nil || x.Power.PerWeek != float64(r.Participants) || x.Power.Traffic != TrafficPopulation {
		t.Errorf("power %+v", x.Power)
	}
	var buf bytes.Buffer
	if err := p.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Simulated run. A true lift of +100%", "is inside the 95% confidence sequence", "Verdict: Personalized picks converted more"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the text lacks %q", want)
		}
	}
}

// An A/A run, no true lift: the verdict claims no difference, and the
// confidence sequence holds 0.
func TestExperimentRunAA(t *testing.T) {
	p, x := experimentPopulation(t, 0, 0.3, 3)
	a := p.Experiments.Run.Analysis("hero-lift")
	if a == nil || a.Cumulative.Result == nil {
		t.Fatalf("analysis %+v", a)
	}
	if a.Cumulative.Result.Lift.Excludes() || !strings.HasPrefix(a.Cumulative.Verdict, "No difference found") || !x.Run.InCS {
		t.Errorf("A/A: lift %+v, verdict %q", a.Cumulative.Result.Lift, a.Cumulative.Verdict)
	}
	if x.Run.TrueLift != 0 || x.Run.TrueRates != [2]float64{0.3, 0.3} {
		t.Errorf("truth %+v", x.Run)
	}
}

// --power-only: no run, power figures from the visitors who would take part.
func TestExperimentsPowerOnly(t *testing.T) {
	tg := exampleTarget(t)
	p, err := runner.Population(context.Background(), tg, examplePersonas(t, tg), PopulationOptions{Visitors: 300, Seed: 1, Epochs: 2, Experiments: ExperimentOptions{Skip: true}})
	if err != nil {
		t.Fatal(err)
	}
	x := p.Experiments
	if x == nil || x.Run != nil || x.Experiments[0].Run != nil || x.Experiments[0].Power == nil {
		t.Fatalf("experiments %+v", x)
	}
	if pw := x.Experiments[0].Power.PerWeek; pw <= 0 || pw > float64(p.Reporters) {
		t.Errorf("%v answers a week from %d reporters", pw, p.Reporters)
	}
	// With traffic given, the figures use it.
	pe := PlanExperiments(tg, ExperimentOptions{PerWeek: 1_000_000})
	if pe == nil || pe.Experiments[0].Power.PerWeek != 1_000_000 || pe.Experiments[0].Power.Traffic != TrafficGiven || pe.Run != nil {
		t.Errorf("planned %+v", pe)
	}
}
