package engine

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// week is one reporting epoch of the shops below, in Unix ms.
const week = 7 * 24 * hour

// experimentShop is shop() with a boost rule and one experiment on the
// hero slot; the holdout's control is the hero's fallback.
func experimentShop(holdout float64) Ruleset {
	rs := shop()
	rs.Rules = []Rule{{ID: "shoes-up", Items: Selector{Items: []string{"road-shoe"}}, Boost: 5}}
	rs.Experiments = []Experiment{{ID: "hero-lift", Slots: []string{"hero"}, Holdout: holdout, Goals: []string{GoalPurchase, GoalClick}}}
	rs.Reporting = Reporting{EpochDays: 7}
	return rs
}

// measuredEngine loads rs with a seeded randomness and cohorts sharing.
func measuredEngine(t *testing.T, rs Ruleset, seed byte) *Engine {
	t.Helper()
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	e.SetRandom(rand.NewChaCha8([32]byte{seed}))
	setPrefs(t, e, Preferences{Sharing: SharingCohorts})
	return e
}

func at(t *testing.T, e *Engine, now int64) {
	t.Helper()
	if err := e.SetContext(Context{Now: now}); err != nil {
		t.Fatal(err)
	}
}

// inHoldout finds an engine (by seed) whose person is in the holdout
// (want true) or the personalized arm of rs's first experiment.
func inArm(t *testing.T, rs Ruleset, holdout bool) *Engine {
	t.Helper()
	for seed := range byte(100) {
		e := measuredEngine(t, rs, seed)
		at(t, e, t0)
		if h, in := e.arm(0, t0); in && h == holdout {
			return e
		}
	}
	t.Fatalf("no seed of 100 draws holdout=%v", holdout)
	return nil
}

func TestArmSharesFollowTheHoldout(t *testing.T) {
	rs := experimentShop(0.2)
	holdouts := 0
	const n = 2000
	for i := range n {
		e := New()
		if err := e.Load(rs); err != nil {
			t.Fatal(err)
		}
		e.SetRandom(rand.NewChaCha8([32]byte{byte(i), byte(i >> 8), 7}))
		setPrefs(t, e, Preferences{Sharing: SharingCohorts})
		h, in := e.arm(0, t0)
		if !in {
			t.Fatal("a person sharing cohorts is not in the experiment")
		}
		// Drawn once: asking again gives the same arm.
		for range 3 {
			if h2, _ := e.arm(0, t0+week*5); h2 != h {
				t.Fatal("the arm changed between asks")
			}
		}
		if h {
			holdouts++
		}
	}
	// 0.2 ± 4.4 standard errors of a share of 2,000.
	if share := float64(holdouts) / n; share < 0.16 || share > 0.24 {
		t.Errorf("holdout share %.3f, want about 0.2", share)
	}
}

func TestComparisonGroupSeesTheFallback(t *testing.T) {
	rs := experimentShop(0.5)
	hold := inArm(t, rs, true)
	pers := inArm(t, rs, false)
	for _, e := range []*Engine{hold, pers} {
		observe(t, e, "view", "trail-shoe", t0)
	}
	d := decide(t, hold, "hero", "recs")
	if !d[0].Fallback || !slices.Equal(ids(d[0]), []string{"tent"}) || d[0].Experiment != "hero-lift" {
		t.Errorf("holdout hero = %+v, want the fallback tent marked with the experiment", d[0])
	}
	if r := d[0].Items[0].Reason; !strings.Contains(r, "comparison group") {
		t.Errorf("holdout reason %q does not say the person is in the comparison group", r)
	}
	// Slots the experiment does not cover are personalized as usual.
	if d[1].Experiment != "" || d[1].Fallback {
		t.Errorf("recs, outside the experiment, = %+v", d[1])
	}
	p := decide(t, pers, "hero")[0]
	if p.Experiment != "" || !slices.Equal(ids(p), []string{"road-shoe"}) {
		t.Errorf("personalized hero = %+v, want the boosted road shoe", p)
	}
}

func TestComparisonGroupWithoutRules(t *testing.T) {
	rs := experimentShop(0.5)
	rs.Experiments[0].Control = ControlWithoutRules
	rs.Experiments[0].Rules = []string{"shoes-up"}
	hold := inArm(t, rs, true)
	observe(t, hold, "view", "tent", t0)
	// Without the boost the tent, which the person viewed, wins the hero.
	d := decide(t, hold, "hero")[0]
	if !slices.Equal(ids(d), []string{"tent"}) || d.Experiment != "hero-lift" || d.Fallback {
		t.Errorf("holdout hero without shoes-up = %+v, want the tent by affinity", d)
	}
	if r := d.Items[0].Reason; !strings.HasPrefix(r, "Because you viewed Tent") || !strings.Contains(r, "without some of its rules") {
		t.Errorf("reason %q should give the reason and say the group goes without some rules", r)
	}
	// The rule still acts for the personalized arm, and in the same
	// engine once the slot is decided outside the holdout.
	pers := inArm(t, rs, false)
	observe(t, pers, "view", "tent", t0)
	if got := ids(decide(t, pers, "hero")[0]); !slices.Equal(got, []string{"road-shoe"}) {
		t.Errorf("personalized hero = %v, want the boosted road shoe", got)
	}
}

func TestNoArmWithoutConsentToMeasure(t *testing.T) {
	rs := experimentShop(0.99)
	for _, p := range []Preferences{{Sharing: SharingOnDevice}, {Sharing: SharingCohorts, GPC: true}, {Sharing: SharingCohorts, History: bp(false)}} {
		e := New()
		if err := e.Load(rs); err != nil {
			t.Fatal(err)
		}
		setPrefs(t, e, p)
		at(t, e, t0)
		d := decide(t, e, "hero")[0]
		if d.Experiment != "" || len(e.arms) != 0 || len(e.profile.exposures) != 0 {
			t.Errorf("preferences %+v: decision %+v, arms %v, exposures %v; want no experiment", p, d, e.arms, e.profile.exposures)
		}
	}
}

func TestOutcomeGoesWithTheNextEpochsReport(t *testing.T) {
	rs := experimentShop(0.5)
	e := inArm(t, rs, false)
	decide(t, e, "hero")
	observe(t, e, "purchase", "stove", t0+hour)
	if x := e.profile.exposures; len(x) != 1 || !x[0].Goal || x[0].Holdout || x[0].Epoch != t0/week {
		t.Fatalf("exposures = %+v, want one converted personalized exposure in the epoch", x)
	}
	// In the same epoch there is nothing to report: the epoch is not over.
	if r, _, err := e.Report(t0+2*hour, nil); err != nil || r != nil {
		t.Fatalf("report in the exposure's epoch = %+v, %v; want none (no cohorts, no finished epoch)", r, err)
	}
	next := t0 + week
	r, _, err := e.Report(next, nil)
	if err != nil || r == nil {
		t.Fatalf("report = %v, %v", r, err)
	}
	if r.Value != nil || len(r.Outcomes) != 1 {
		t.Fatalf("report = %+v, want only an outcome", r)
	}
	o := r.Outcomes[0]
	if o.Experiment != "hero-lift" || o.Epoch != t0/week || o.Epsilon != DefaultOutcomeEpsilon || o.Value < 0 || o.Value > 3 {
		t.Errorf("outcome = %+v", o)
	}
	// The same report all epoch; the exposure is gone, answered once.
	again, _, _ := e.Report(next+hour, nil)
	if again == nil || !slices.Equal(again.Outcomes, r.Outcomes) || len(e.profile.exposures) != 0 {
		t.Errorf("second call = %+v (exposures %v), want the same report", again, e.profile.exposures)
	}
	ledger, total := e.Ledger()
	if len(ledger) != 1 || ledger[0].Experiment != "hero-lift" || ledger[0].Epoch != t0/week || total != DefaultOutcomeEpsilon {
		t.Errorf("ledger = %+v (ε %v), want the outcome answer", ledger, total)
	}
}

func TestGoalsCount(t *testing.T) {
	rs := experimentShop(0.5)
	cases := []struct {
		name string
		ev   Event
		goal bool
	}{
		{"a purchase after the hero", Event{Type: "purchase", Item: "stove", At: t0 + hour}, true},
		{"a purchase before the hero", Event{Type: "purchase", Item: "stove", At: t0 - hour}, false},
		{"a purchase in the next epoch", Event{Type: "purchase", Item: "stove", At: t0 + week}, false},
		{"a click on an item of the hero", Event{Type: "click", Item: "road-shoe", At: t0 + hour}, true},
		{"a click on an item the hero never shows", Event{Type: "click", Item: "stove", At: t0 + hour}, false},
		{"an add to cart, not a goal here", Event{Type: "add_to_cart", Item: "tent", At: t0 + hour}, false},
	}
	for _, c := range cases {
		e := inArm(t, rs, true)
		decide(t, e, "hero")
		if _, err := e.Observe(c.ev); err != nil {
			t.Fatal(err)
		}
		if got := e.profile.exposures[0].Goal; got != c.goal {
			t.Errorf("%s: goal = %v, want %v", c.name, got, c.goal)
		}
	}
}

func TestOutcomeAnswersAreRandomizedResponse(t *testing.T) {
	// The arm goes as drawn; the goal is kept with p = e/(e+1) ≈ 0.731 at
	// ε = 1. A personalized person who bought answers 3 with p and 2
	// otherwise; one in the holdout who did not, 0 with p and 1 otherwise.
	rs := experimentShop(0.5)
	p := 1 / (1 + 1/2.718281828459045)
	for _, c := range []struct {
		holdout, buys bool
		kept, flipped int
	}{{false, true, 3, 2}, {true, false, 0, 1}} {
		counts := make([]int, 4)
		const n = 4000
		for i := range n {
			e := New()
			if err := e.Load(rs); err != nil {
				t.Fatal(err)
			}
			e.SetRandom(rand.NewChaCha8([32]byte{byte(i), byte(i >> 8), 9}))
			setPrefs(t, e, Preferences{Sharing: SharingCohorts})
			e.arms = []Arm{{Ruleset: "shop", Experiment: "hero-lift", Holdout: c.holdout}}
			at(t, e, t0)
			decide(t, e, "hero")
			if c.buys {
				observe(t, e, "purchase", "stove", t0+hour)
			}
			r, _, err := e.Report(t0+week, nil)
			if err != nil || r == nil || len(r.Outcomes) != 1 {
				t.Fatalf("report = %+v, %v", r, err)
			}
			counts[r.Outcomes[0].Value]++
		}
		if counts[c.kept]+counts[c.flipped] != n {
			t.Errorf("holdout %v: answers %v name the other arm", c.holdout, counts)
		}
		// Within 4.5 standard errors.
		if got := float64(counts[c.kept]) / n; abs(got-p) > 4.5*sqrt(p*(1-p)/n) {
			t.Errorf("holdout %v: the goal kept in %.3f of answers, want %.3f", c.holdout, got, p)
		}
	}
}

func sqrt(x float64) float64 {
	z := x
	for range 30 {
		z = (z + x/z) / 2
	}
	return z
}

func abs(x float64) float64 { return max(x, -x) }

func TestOutcomesRideWithTheCohortReport(t *testing.T) {
	rs := cohortShop()
	rs.Rules = []Rule{{ID: "shoes-up", Items: Selector{Items: []string{"road-shoe"}}, Boost: 5}}
	rs.Experiments = []Experiment{{ID: "hero-lift", Slots: []string{"hero"}, Holdout: 0.5, Goals: []string{GoalPurchase}, Epsilon: 2}}
	e := cohortEngine(t, rs)
	if err := e.SetContext(Context{Now: t0, Visits: ip(3)}); err != nil {
		t.Fatal(err)
	}
	decide(t, e, "hero")
	r, _, err := e.Report(t0+week, nil)
	if err != nil || r == nil || r.Value == nil || len(r.Outcomes) != 1 || r.Outcomes[0].Epsilon != 2 {
		t.Fatalf("report = %+v, %v; want a cohort answer and one outcome at ε 2", r, err)
	}
	_, total := e.Ledger()
	if total != rs.Reporting.Epsilon+2 {
		t.Errorf("ledger total ε = %v, want the cohort's %v and the outcome's 2", total, rs.Reporting.Epsilon)
	}
}

func TestOutcomeOfALongAgoEpochIsDropped(t *testing.T) {
	rs := experimentShop(0.5)
	e := inArm(t, rs, false)
	decide(t, e, "hero")
	if r, reason, _ := e.Report(t0+(MaxOutcomeLag+1)*week, nil); r != nil {
		t.Errorf("report %d epochs later = %+v, want none (%s)", MaxOutcomeLag+1, r, reason)
	}
	if len(e.profile.exposures) != 0 {
		t.Errorf("an exposure too old to answer is kept: %v", e.profile.exposures)
	}
}

func TestForgetMeKeepsTheArmToTheEpochsEnd(t *testing.T) {
	rs := experimentShop(0.5)
	e := inArm(t, rs, true)
	decide(t, e, "hero")
	setPrefs(t, e, Preferences{Sharing: SharingOff})
	setPrefs(t, e, Preferences{Sharing: SharingCohorts})
	if len(e.profile.exposures) != 0 {
		t.Fatalf("Forget me kept exposures: %v", e.profile.exposures)
	}
	at(t, e, t0+hour)
	if h, in := e.arm(0, t0+hour); !in || !h {
		t.Fatal("the arm changed in the epoch Forget me was used in")
	}
	// Nothing to answer about the erased epoch.
	if r, _, _ := e.Report(t0+week, nil); r != nil {
		t.Errorf("report after Forget me = %+v, want none", r)
	}
	// The next epoch draws again: over seeds, both arms come up.
	arms := map[bool]bool{}
	for seed := range byte(40) {
		e := inArm(t, rs, true)
		setPrefs(t, e, Preferences{Sharing: SharingOff})
		setPrefs(t, e, Preferences{Sharing: SharingCohorts})
		e.SetRandom(rand.NewChaCha8([32]byte{seed, 1}))
		h, _ := e.arm(0, t0+week)
		arms[h] = true
	}
	if !arms[true] || !arms[false] {
		t.Errorf("arms drawn in the next epoch: %v, want both", arms)
	}
}

func TestNestedExperimentRunsInThePersonalizedArm(t *testing.T) {
	rs := experimentShop(0.5)
	rs.Experiments = append(rs.Experiments, Experiment{ID: "shoes-rule", Slots: []string{"hero"}, Holdout: 0.5, Within: "hero-lift",
		Control: ControlWithoutRules, Rules: []string{"shoes-up"}, Goals: []string{GoalPurchase}, Epsilon: 1})
	hold := inArm(t, rs, true)
	if _, in := hold.arm(1, t0); in {
		t.Error("a person in the outer holdout has an arm in the inner experiment")
	}
	pers := inArm(t, rs, false)
	if _, in := pers.arm(1, t0); !in {
		t.Error("a person in the outer personalized arm has no arm in the inner experiment")
	}
	decide(t, pers, "hero")
	if n := len(pers.profile.exposures); n != 2 {
		t.Errorf("exposures = %v, want one per experiment", pers.profile.exposures)
	}
}

func TestExperimentsArmsAndExposuresSurviveASnapshot(t *testing.T) {
	rs := experimentShop(0.5)
	e := inArm(t, rs, true)
	decide(t, e, "hero")
	observe(t, e, "purchase", "stove", t0+hour)
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	f := New()
	if err := f.Load(rs); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.arms, e.arms) || !slices.Equal(f.profile.exposures, e.profile.exposures) {
		t.Errorf("restored arms %v exposures %v, want %v %v", f.arms, f.profile.exposures, e.arms, e.profile.exposures)
	}
}

func TestOutcomeEpsilonPolicyOnTheDevice(t *testing.T) {
	rs := experimentShop(0.5)
	rs.Experiments = append(rs.Experiments, Experiment{ID: "other", Slots: []string{"recs"}, Holdout: 0.5, Goals: []string{GoalPurchase}, Epsilon: 1.5})
	err := New().Load(rs)
	if e, ok := err.(*Error); !ok || e.Code != CodePrivacyPolicy || !strings.Contains(e.Message, "$.experiments") {
		t.Errorf("load with outcome answers of ε 2.5 an epoch = %v, want a privacy_policy refusal", err)
	}
}

func TestValidateExperiments(t *testing.T) {
	cases := []struct {
		name, path, msg string
		edit            func(*Ruleset)
	}{
		{"unknown slot", "$.experiments[0].slots[0]", `names slot "heroo"`, func(rs *Ruleset) { rs.Experiments[0].Slots = []string{"heroo"} }},
		{"holdout out of range", "$.experiments[0].holdout", "must be a share between 0 and 1", func(rs *Ruleset) { rs.Experiments[0].Holdout = 1 }},
		{"rules with a fallback control", "$.experiments[0].rules", "lists rules", func(rs *Ruleset) { rs.Experiments[0].Rules = []string{"shoes-up"} }},
		{"without rules naming none", "$.experiments[0].rules", "lists none", func(rs *Ruleset) { rs.Experiments[0].Control = ControlWithoutRules }},
		{"unknown rule", "$.experiments[0].rules[0]", `names rule "shoe-up"`, func(rs *Ruleset) {
			rs.Experiments[0].Control, rs.Experiments[0].Rules = ControlWithoutRules, []string{"shoe-up"}
		}},
		{"no goals", "$.experiments[0].goals", "has no goals", func(rs *Ruleset) { rs.Experiments[0].Goals = nil }},
		{"unknown goal", "$.experiments[0].goals[0]", `"signup" is not one of`, func(rs *Ruleset) { rs.Experiments[0].Goals = []string{"signup"} }},
		{"epsilon over the ceiling", "$.experiments", "spend ε 3 an epoch; the privacy policy allows at most 2", func(rs *Ruleset) { rs.Experiments[0].Epsilon = 3 }},
		{"no history", "$.experiments", "need the history signal", func(rs *Ruleset) { rs.Signals = nil }},
		{"a shared slot", "$.experiments[1].slots", "neither runs within the other", func(rs *Ruleset) {
			rs.Experiments = append(rs.Experiments, Experiment{ID: "b", Slots: []string{"hero"}, Holdout: 0.5, Goals: []string{GoalPurchase}, Epsilon: 0.5})
			rs.Experiments[0].Epsilon = 0.5
		}},
		{"unknown within", "$.experiments[0].within", "not declared under experiments", func(rs *Ruleset) { rs.Experiments[0].Within = "nope" }},
	}
	for _, c := range cases {
		rs := experimentShop(0.5)
		c.edit(&rs)
		found := false
		for _, p := range Validate(&rs, nil) {
			if p.Severity == SeverityError && p.Path == c.path && strings.Contains(p.Message, c.msg) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no error at %s containing %q in %+v", c.name, c.path, c.msg, Validate(&rs, nil))
		}
	}
	rs := experimentShop(0.5)
	for _, p := range Validate(&rs, nil) {
		if p.Severity == SeverityError {
			t.Errorf("the valid experiment has an error: %+v", p)
		}
	}
	// Nesting makes a shared slot valid.
	rs.Experiments = append(rs.Experiments, Experiment{ID: "b", Slots: []string{"hero"}, Holdout: 0.5, Goals: []string{GoalPurchase}, Within: "hero-lift", Epsilon: 0.5})
	rs.Experiments[0].Epsilon = 0.5
	for _, p := range Validate(&rs, nil) {
		if p.Severity == SeverityError {
			t.Errorf("nested experiments have an error: %+v", p)
		}
	}
}

// A year of reports for two shoppers with the default ε (cohort answers 2,
// one experiment's outcome answers 1): one who visits in 12 weeks of the
// year, one who visits every week. The ledger says what each spent; the
// bound is RATIONALE.md's, "How much privacy does a year of reports
// spend?": at most two cohort answers (a year meets at most two answer
// periods) and one outcome answer an epoch.
// go test ./engine -run TestYearOfReports -v prints the figures.
func TestYearOfReports(t *testing.T) {
	rs := cohortShop()
	rs.Reporting.Epsilon = 0 // the defaults
	rs.Rules = []Rule{{ID: "shoes-up", Items: Selector{Items: []string{"road-shoe"}}, Boost: 5}}
	rs.Experiments = []Experiment{{ID: "hero-lift", Slots: []string{"hero"}, Holdout: 0.1, Goals: []string{GoalPurchase}}}
	weeksOf := map[string][]int{"typical": {}, "weekly": {}}
	r := rand.New(rand.NewPCG(4, 2))
	for _, w := range r.Perm(52)[:12] {
		weeksOf["typical"] = append(weeksOf["typical"], w)
	}
	slices.Sort(weeksOf["typical"])
	for w := range 52 {
		weeksOf["weekly"] = append(weeksOf["weekly"], w)
	}
	for _, who := range []string{"typical", "weekly"} {
		e := cohortEngine(t, rs)
		for _, w := range weeksOf[who] {
			now := t0 + int64(w)*week + hour
			if err := e.SetContext(Context{Now: now, Visits: ip(w + 1)}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := e.Report(now, nil); err != nil {
				t.Fatal(err)
			}
			decide(t, e, "hero")
			if w%3 == 0 {
				observe(t, e, "purchase", "stove", now+hour)
			}
		}
		ledger, total := e.Ledger()
		cohort, outcome := 0, 0
		for _, le := range ledger {
			if le.Experiment != "" {
				outcome++
			} else if le.Epsilon > 0 {
				cohort++
			}
		}
		t.Logf("%s shopper, %d weeks with a visit: ε %.0f a year (%d cohort answers at ε %d, %d outcome answers at ε %d)",
			who, len(weeksOf[who]), total, cohort, DefaultEpsilon, outcome, DefaultOutcomeEpsilon)
		bound := 2*DefaultEpsilon + float64(len(weeksOf[who]))*DefaultOutcomeEpsilon
		if total > bound || cohort > 2 || outcome >= len(weeksOf[who]) {
			t.Errorf("%s shopper spent ε %v (%d cohort, %d outcome answers), over the bound %v", who, total, cohort, outcome, bound)
		}
	}
}
