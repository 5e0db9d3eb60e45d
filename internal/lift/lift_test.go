package lift

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// binomial draws Binomial(n, p): exactly while n·min(p, 1−p) is small
// (counting Bernoulli trials, or geometric gaps between successes), by the
// normal approximation once it is at least 30, where it is accurate to
// well under the tests' tolerances.
func binomial(r *rand.Rand, n int64, p float64) int64 {
	switch {
	case n <= 0 || p <= 0:
		return 0
	case p >= 1:
		return n
	case p > 0.5:
		return n - binomial(r, n, 1-p)
	case float64(n)*p < 30:
		if n <= 1000 {
			var x int64
			for range n {
				if r.Float64() < p {
					x++
				}
			}
			return x
		}
		var x, pos int64
		lq := math.Log1p(-p)
		for {
			pos += int64(math.Floor(math.Log(1-r.Float64())/lq)) + 1
			if pos > n {
				return x
			}
			x++
		}
	}
	mean, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
	return min(max(int64(math.Round(mean+sd*r.NormFloat64())), 0), n)
}

// draw is n reports' noised categories under d and truth, as a population
// of people drawing their arms and outcomes and noising their answers
// would send them (each report independent, so the counts are multinomial).
func draw(r *rand.Rand, d Design, truth Truth, n int64) Counts {
	f := d.Frequencies(truth)
	var c Counts
	left, mass := n, 1.0
	for j := range Categories - 1 {
		c[j] = binomial(r, left, math.Min(f[j]/mass, 1))
		left -= c[j]
		mass -= f[j]
	}
	c[Categories-1] = left
	return c
}

func add(a, b Counts) Counts {
	for i := range a {
		a[i] += b[i]
	}
	return a
}

// The 95% interval of one look covers the true lift in 93–97% of
// experiments, for the absolute and the relative lift and each arm's rate.
func TestIntervalCoverage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	d := Design{Epsilon: 1, Holdout: 0.1}
	truth := Truth{HoldoutRate: 0.05, PersonalizedRate: 0.055}
	const experiments = 1000
	var lift, rel, hold, pers int
	for range experiments {
		res, err := Analyze(d, draw(r, d, truth, 2_000_000))
		if err != nil {
			t.Fatal(err)
		}
		in := func(iv Interval, v float64) int {
			if iv.CI[0] <= v && v <= iv.CI[1] {
				return 1
			}
			return 0
		}
		lift += in(res.Lift, truth.PersonalizedRate-truth.HoldoutRate)
		rel += in(res.Relative, truth.PersonalizedRate/truth.HoldoutRate-1)
		hold += in(res.Rate[Holdout], truth.HoldoutRate)
		pers += in(res.Rate[Personalized], truth.PersonalizedRate)
	}
	for name, covered := range map[string]int{"lift": lift, "relative lift": rel, "holdout rate": hold, "personalized rate": pers} {
		c := float64(covered) / experiments
		t.Logf("%s: the 95%% interval covered the truth in %.1f%% of %d experiments", name, 100*c, experiments)
		if c < 0.93 || c > 0.97 {
			t.Errorf("%s: coverage %.3f, want 0.93–0.97", name, c)
		}
	}
}

// An A/A experiment looked at after every epoch declares a difference in
// at most 5% of runs with the confidence sequence; the one-look interval,
// looked at as often, would declare one far more often.
func TestAAExperimentLookedAtEveryEpoch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	d := Design{Epsilon: 1, Holdout: 0.5, Horizon: 400_000}
	truth := Truth{HoldoutRate: 0.05, PersonalizedRate: 0.05}
	const experiments, epochs, perEpoch = 1000, 20, 20_000
	var sequential, naive int
	for range experiments {
		var c Counts
		var foundCS, foundCI bool
		for range epochs {
			c = add(c, draw(r, d, truth, perEpoch))
			res, err := Analyze(d, c)
			if err != nil {
				t.Fatal(err)
			}
			foundCS = foundCS || res.Lift.Excludes()
			foundCI = foundCI || res.Lift.CI[0] > 0 || res.Lift.CI[1] < 0
		}
		if foundCS {
			sequential++
		}
		if foundCI {
			naive++
		}
	}
	fs, fn := float64(sequential)/experiments, float64(naive)/experiments
	t.Logf("A/A, %d looks: a difference declared in %.1f%% of runs by the confidence sequence, %.1f%% by the one-look interval", epochs, 100*fs, 100*fn)
	if fs > 0.05 {
		t.Errorf("the confidence sequence declared a difference in %.3f of A/A runs, want at most 0.05", fs)
	}
	if fn < 2*fs || fn < 0.1 {
		t.Errorf("the one-look interval, peeked at, declared a difference in only %.3f: the test cannot tell the two apart", fn)
	}
}

// Plan's traffic finds a 10% relative lift on a 5% base rate about as
// often as it says: at its power of 80%, looked at every epoch.
func TestPlanFindsTheLift(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	d := Design{Epsilon: 2, Holdout: 0.5}
	truth := Truth{HoldoutRate: 0.05, PersonalizedRate: 0.055}
	need, err := Plan(d, 0.05, 0.10, 0.8)
	if err != nil {
		t.Fatal(err)
	}
	d.Horizon = need
	const epochs = 8
	perEpoch := int64(math.Ceil(need / epochs))
	const experiments = 1000
	found, wrongWay := 0, 0
	for range experiments {
		var c Counts
		for range epochs {
			c = add(c, draw(r, d, truth, perEpoch))
			res, err := Analyze(d, c)
			if err != nil {
				t.Fatal(err)
			}
			if res.Lift.Excludes() {
				if res.Lift.CS[0] > 0 {
					found++
				} else {
					wrongWay++
				}
				break
			}
		}
	}
	f := float64(found) / experiments
	t.Logf("Plan: %.0f reports (%d epochs of %d); the lift was found by then in %.1f%% of %d experiments (%d the wrong way)", need, epochs, perEpoch, 100*f, experiments, wrongWay)
	if f < 0.78 || f > 0.92 {
		t.Errorf("found in %.3f of experiments at the planned traffic, want 0.78–0.92 for a stated 80%%", f)
	}
	if wrongWay > 0 {
		t.Errorf("%d experiments declared the lift the wrong way", wrongWay)
	}
}

// Analyze recovers rates from exact expected counts, and refuses what it
// cannot analyse.
func TestAnalyzeExact(t *testing.T) {
	d := Design{Epsilon: 1.5, Holdout: 0.2}
	truth := Truth{HoldoutRate: 0.04, PersonalizedRate: 0.06}
	f := d.Frequencies(truth)
	var c Counts
	for j := range c {
		c[j] = int64(math.Round(f[j] * 1e9))
	}
	res, err := Analyze(d, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"holdout rate", res.Rate[Holdout].Estimate, 0.04},
		{"personalized rate", res.Rate[Personalized].Estimate, 0.06},
		{"lift", res.Lift.Estimate, 0.02},
		{"relative lift", res.Relative.Estimate, 0.5},
	} {
		if math.Abs(tc.got-tc.want) > 1e-6 {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if iv := res.Lift; !(iv.CS[0] < iv.CI[0] && iv.CI[1] < iv.CS[1]) {
		t.Errorf("at %g reports the confidence sequence %v is not wider than the one-look interval %v", float64(res.Reports), iv.CS, iv.CI)
	}
	for _, bad := range []Design{{Epsilon: 0, Holdout: 0.1}, {Epsilon: 1, Holdout: 0}, {Epsilon: 1, Holdout: 1}, {Epsilon: math.NaN(), Holdout: 0.5}} {
		if _, err := Analyze(bad, c); err != ErrDesign {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := Analyze(d, Counts{}); err != ErrNoReports {
		t.Errorf("no reports: %v", err)
	}
	if _, err := Plan(d, 0.05, 0, 0.8); err == nil {
		t.Error("Plan for no lift")
	}
}

// A relative lift that is not defined (the holdout's estimated rate is not
// above 0, as early in an experiment with a small holdout) is left out of
// the JSON, not shown as 0 ± 0.
func TestRelativeLeftOutWhenUndefined(t *testing.T) {
	d := Design{Epsilon: 1, Holdout: 0.1}
	for _, tc := range []struct {
		counts Counts
		want   bool
	}{
		{Counts{1000, 10, 1000, 1000}, false}, // the holdout's goal answers below the noise
		{d.counts(Truth{HoldoutRate: 0.05, PersonalizedRate: 0.06}, 1e6), true},
	} {
		res, err := Analyze(d, tc.counts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(b), `"relative"`); got != tc.want || got != (res.Rate[Holdout].Estimate > 0) {
			t.Errorf("holdout rate %.3f: relative in the JSON %v, want %v: %s", res.Rate[Holdout].Estimate, got, tc.want, b)
		}
	}
}

// counts are n answers at exactly the expected frequencies.
func (d Design) counts(truth Truth, n float64) Counts {
	var c Counts
	for j, f := range d.Frequencies(truth) {
		c[j] = int64(math.Round(f * n))
	}
	return c
}

// The verdict says what was found, in words, and how long is left.
func TestVerdict(t *testing.T) {
	d := Design{Epsilon: 2, Holdout: 0.5}
	exact := func(truth Truth, n float64) Result {
		f := d.Frequencies(truth)
		var c Counts
		for j := range c {
			c[j] = int64(math.Round(f[j] * n))
		}
		res, err := Analyze(d, c)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	need, _ := Plan(d, 0.05, 0.10, 0.8)
	for _, tc := range []struct {
		name string
		res  Result
		week float64
		want string
	}{
		{"personalized wins", exact(Truth{0.05, 0.06}, 4e6), 1e5,
			"Personalized picks converted more, with 95% confidence: 6% against 5% for the shop's own picks."},
		{"the shop's picks win", exact(Truth{0.052, 0.045}, 4e6), 1e5,
			"The shop's own picks converted more, with 95% confidence: 5.2% against 4.5% for personalized picks."},
		{"not yet, with weeks left", exact(Truth{0.05, 0.05}, 100_000), 100_000,
			"No difference found yet; about " + formatCount(math.Ceil((need-100_000)/100_000)) + " more weeks at this traffic would find a lift of 10% or more."},
		{"not yet, one week left", exact(Truth{0.05, 0.05}, need-50_000), 100_000,
			"No difference found yet; about 1 more week at this traffic would find a lift of 10% or more."},
		{"none, past the planned traffic", exact(Truth{0.05, 0.05}, need+1e6), 100_000,
			"No difference found: a lift of 10% or more would most likely have shown by now, so any difference is smaller."},
		{"no traffic figure", exact(Truth{0.05, 0.05}, 100_000), 0, "No difference found yet."},
	} {
		if got := Verdict(d, tc.res, tc.week, 0.10); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
	if formatCount(1234567) != "1,234,567" || formatCount(999) != "999" || formatPercent(0.0525) != "5.3%" || formatPercent(0.1) != "10%" {
		t.Errorf("formatting: %s %s %s %s", formatCount(1234567), formatCount(999), formatPercent(0.0525), formatPercent(0.1))
	}
}

// Plan's weeks fall with traffic, ε and the lift sought, and rise as the
// holdout shrinks; the table is what the marketer's power calculation
// shows (base rate 5%, 80% power).
func TestPlanTable(t *testing.T) {
	weeks := func(holdout, eps, lift, perWeek float64) float64 {
		need, err := Plan(Design{Epsilon: eps, Holdout: holdout}, 0.05, lift, 0.8)
		if err != nil {
			t.Fatal(err)
		}
		return math.Ceil(need / perWeek)
	}
	traffic := []float64{10_000, 100_000, 1_000_000}
	for _, holdout := range []float64{0.1, 0.5} {
		for _, eps := range []float64{0.5, 1, 2} {
			for _, lift := range []float64{0.05, 0.10, 0.20} {
				row := ""
				prev := math.Inf(1)
				for _, w := range traffic {
					n := weeks(holdout, eps, lift, w)
					row += " " + formatCount(n)
					if n > prev {
						t.Errorf("holdout %g, ε %g, lift %g: more traffic took longer", holdout, eps, lift)
					}
					prev = n
				}
				t.Logf("holdout %3.0f%%  ε %-3g  lift %3.0f%%  weeks at 10k/100k/1M reports a week:%s", holdout*100, eps, lift*100, row)
				if eps > 0.5 && weeks(holdout, eps, lift, 100_000) > weeks(holdout, eps/2, lift, 100_000) {
					t.Errorf("holdout %g, lift %g: a larger ε took longer", holdout, lift)
				}
				if lift > 0.05 && weeks(holdout, eps, lift, 100_000) > weeks(holdout, eps, lift/2, 100_000) {
					t.Errorf("holdout %g, ε %g: a larger lift took longer", holdout, eps)
				}
			}
		}
	}
	if weeks(0.1, 1, 0.1, 100_000) <= weeks(0.5, 1, 0.1, 100_000) {
		t.Error("a 10% holdout should need longer than an even split")
	}
}

// Frequencies is what devices send: people drawing their arm with the
// holdout share and converting at their arm's rate, each answer's goal bit
// kept with probability e^ε/(e^ε+1) and flipped otherwise, as
// engine/experiment.go does.
func TestFrequenciesAreWhatDevicesSend(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	d := Design{Epsilon: 0.8, Holdout: 0.3}
	truth := Truth{HoldoutRate: 0.1, PersonalizedRate: 0.25}
	keep := math.Exp(d.Epsilon) / (math.Exp(d.Epsilon) + 1)
	const n = 200_000
	var c Counts
	for range n {
		arm, rate := Personalized, truth.PersonalizedRate
		if r.Float64() < d.Holdout {
			arm, rate = Holdout, truth.HoldoutRate
		}
		goal := 0
		if r.Float64() < rate {
			goal = 1
		}
		if r.Float64() >= keep {
			goal = 1 - goal
		}
		c[2*arm+goal]++
	}
	for j, f := range d.Frequencies(truth) {
		got := float64(c[j]) / n
		if se := math.Sqrt(f * (1 - f) / n); math.Abs(got-f) > 4.5*se {
			t.Errorf("category %d: devices sent %.4f, Frequencies says %.4f", j, got, f)
		}
	}
}
