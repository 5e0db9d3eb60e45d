// Package lift estimates the lift of personalization from locally noised
// outcome reports: how much more often people in an experiment's
// personalized arm reach its goal than people in its holdout, with
// intervals for one look and confidence sequences that stay valid however
// often a marketer looks.
//
// Each report is one of four categories, 2·arm + goal. The arm is the coin
// the device flipped, sent as drawn; whether a goal happened is noised on
// the device by randomized response at the experiment's ε: kept with
// probability p = e^ε/(e^ε+1), flipped otherwise (RATIONALE.md, "Why
// randomized response on the outcome, with the arm as drawn?"). Arms are
// drawn with known shares, so a debiased goal indicator divided by its
// arm's share estimates the arm's conversion rate. Every estimate here is
// a mean of per-report values, which is what both the normal intervals and
// the asymptotic confidence sequences of Waudby-Smith, Arnold, Wu, Howard
// and Ramdas ("Time-uniform central limit theory and asymptotic confidence
// sequences", Annals of Statistics, 2024) need; the noise of randomized
// response is in those values' variance, so nothing is left out of the
// model.
package lift

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// The four categories of an outcome answer.
const (
	HoldoutNoGoal = iota
	HoldoutGoal
	PersonalizedNoGoal
	PersonalizedGoal
	Categories
)

// Arms.
const (
	Holdout = iota
	Personalized
)

// Design is what the analysis knows of an experiment before any report.
type Design struct {
	// Epsilon is the privacy budget of one outcome answer.
	Epsilon float64
	// Holdout is the share of people drawn into the holdout arm, in (0, 1).
	Holdout float64
	// Horizon is the number of reports at which the confidence sequence is
	// tightest. It must be fixed before the experiment starts (the
	// planned traffic, say, from Plan), never from the data; 0 means
	// DefaultHorizon.
	Horizon float64
}

// DefaultHorizon is Design.Horizon when it is 0.
const DefaultHorizon = 100_000

// alpha is the error rate of every interval here: 95% intervals.
const alpha = 0.05

// z95 is the two-sided 95% normal quantile.
const z95 = 1.959963984540054

// Counts are the noised answers received, by category.
type Counts [Categories]int64

// Interval is an estimate with its standard error, its 95% interval for a
// single look, and its 95% confidence sequence, which holds at every look
// at once.
type Interval struct {
	Estimate float64    `json:"estimate"`
	StdErr   float64    `json:"stderr"`
	CI       [2]float64 `json:"ci95"`
	CS       [2]float64 `json:"cs95"`
}

// Result is the analysis of the reports so far.
type Result struct {
	Reports int64 `json:"reports"`
	// Rate is each arm's debiased conversion rate (Holdout, Personalized).
	Rate [2]Interval `json:"rate"`
	// Lift is the personalized rate minus the holdout's.
	Lift Interval `json:"lift"`
	// Relative is the personalized rate over the holdout's, minus 1. It is
	// the zero Interval while the holdout's rate is not above 0, and JSON
	// leaves it out then, rather than show a relative lift of 0 ± 0.
	Relative Interval `json:"relative,omitzero"`
}

// Errors of Analyze.
var (
	ErrDesign    = errors.New("lift: ε must be positive and the holdout share in (0, 1)")
	ErrNoReports = errors.New("lift: no reports")
)

func (d Design) check() error {
	if !(d.Epsilon > 0) || !(d.Holdout > 0 && d.Holdout < 1) || d.Horizon < 0 {
		return ErrDesign
	}
	return nil
}

// keep is the probability that randomized response keeps the goal bit.
func (d Design) keep() float64 {
	e := math.Exp(d.Epsilon)
	return e / (e + 1)
}

func (d Design) horizon() float64 {
	if d.Horizon > 0 {
		return d.Horizon
	}
	return DefaultHorizon
}

// perReport gives, for an answer of category r, its contribution to the
// estimates of the holdout's rate (v) and the personalized rate (u): the
// debiased goal indicator of the answer's arm over the arm's share.
func (d Design) perReport(r int) (v, u float64) {
	p := d.keep()
	z := (float64(r%2) - (1 - p)) / (2*p - 1)
	if r/2 == Holdout {
		return z / d.Holdout, 0
	}
	return 0, z / (1 - d.Holdout)
}

// moments are the means and (co)variances of the per-report values (v, u)
// under the category frequencies freq (which sum to 1).
type moments struct {
	mv, mu, vv, vu, cov float64
}

func (d Design) moments(freq [Categories]float64) moments {
	var m moments
	for r, f := range freq {
		v, u := d.perReport(r)
		m.mv += f * v
		m.mu += f * u
	}
	for r, f := range freq {
		v, u := d.perReport(r)
		m.vv += f * (v - m.mv) * (v - m.mv)
		m.vu += f * (u - m.mu) * (u - m.mu)
		m.cov += f * (v - m.mv) * (u - m.mu)
	}
	return m
}

// Analyze estimates the arms' rates and the lift from the answers received.
func Analyze(d Design, c Counts) (Result, error) {
	if err := d.check(); err != nil {
		return Result{}, err
	}
	var n int64
	for _, x := range c {
		if x < 0 {
			return Result{}, errors.New("lift: a negative count")
		}
		n += x
	}
	if n == 0 {
		return Result{}, ErrNoReports
	}
	var freq [Categories]float64
	for r, x := range c {
		freq[r] = float64(x) / float64(n)
	}
	m := d.moments(freq)
	t := float64(n)
	res := Result{Reports: n}
	res.Rate[Holdout] = d.interval(m.mv, m.vv, t)
	res.Rate[Personalized] = d.interval(m.mu, m.vu, t)
	res.Lift = d.interval(m.mu-m.mv, m.vu+m.vv-2*m.cov, t)
	if m.mv > 0 {
		// The delta method: the influence of one report on u/v is
		// u/mv - (mu/mv²) v.
		a, b := 1/m.mv, -m.mu/(m.mv*m.mv)
		res.Relative = d.interval(m.mu/m.mv-1, a*a*m.vu+b*b*m.vv+2*a*b*m.cov, t)
	}
	return res, nil
}

// interval is the Interval of a mean of t per-report values with the given
// mean and variance.
func (d Design) interval(mean, variance, t float64) Interval {
	sd := math.Sqrt(math.Max(variance, 0))
	se := sd / math.Sqrt(t)
	cs := csHalfWidth(sd, t, d.horizon())
	return Interval{Estimate: mean, StdErr: se,
		CI: [2]float64{mean - z95*se, mean + z95*se},
		CS: [2]float64{mean - cs, mean + cs}}
}

// csHalfWidth is the half-width of the 95% asymptotic confidence sequence
// (Gaussian mixture) for a mean of t values of standard deviation sd, tuned
// to be tightest at t = horizon: sd·√(2(tρ²+1)/(t²ρ²) · ln(√(tρ²+1)/α)),
// with ρ² = (−2 ln α + ln(1 − 2 ln α))/horizon (Waudby-Smith et al. 2024,
// Theorem 2.2 and Section 3.2).
func csHalfWidth(sd, t, horizon float64) float64 {
	la := math.Log(alpha)
	rho2 := (-2*la + math.Log(1-2*la)) / horizon
	return sd * math.Sqrt(2*(t*rho2+1)/(t*t*rho2)*math.Log(math.Sqrt(t*rho2+1)/alpha))
}

// Excludes says whether iv's confidence sequence excludes 0: the
// difference is real, with 95% confidence, however often one has looked.
func (iv Interval) Excludes() bool { return iv.CS[0] > 0 || iv.CS[1] < 0 }

// Truth is what an experiment would show with every person reporting
// truthfully: each arm's true conversion rate.
type Truth struct {
	HoldoutRate, PersonalizedRate float64
}

// Frequencies are the probabilities of each noised category under d when
// the arms convert at truth's rates.
func (d Design) Frequencies(truth Truth) [Categories]float64 {
	p := d.keep()
	said := func(rate float64) float64 { return rate*p + (1-rate)*(1-p) } // the goal bit reads 1
	h, g := said(truth.HoldoutRate), said(truth.PersonalizedRate)
	return [Categories]float64{
		d.Holdout * (1 - h), d.Holdout * h,
		(1 - d.Holdout) * (1 - g), (1 - d.Holdout) * g,
	}
}

// Plan says how many reports an experiment needs before its confidence
// sequence is expected to exclude 0, with probability power, when the
// holdout converts at base and personalization adds relLift (0.1: ten
// percent more). The sequence's horizon is set to that many reports, as
// an experiment planned with it would set it. The figure is the reports at
// which the sequence, looked at then, excludes 0 with that probability;
// looking earlier as well only finds the lift sooner.
func Plan(d Design, base, relLift, power float64) (reports float64, err error) {
	if err := d.check(); err != nil {
		return 0, err
	}
	if !(base > 0 && base < 1) || relLift == 0 || !(base*(1+relLift) > 0 && base*(1+relLift) < 1) || !(power > 0 && power < 1) {
		return 0, errors.New("lift: the base rate, the lift and the power must make rates in (0, 1)")
	}
	truth := Truth{HoldoutRate: base, PersonalizedRate: base * (1 + relLift)}
	m := d.moments(d.Frequencies(truth))
	sd := math.Sqrt(m.vu + m.vv - 2*m.cov)
	delta := math.Abs(truth.PersonalizedRate - truth.HoldoutRate)
	zp := normalQuantile(power)
	// The smallest t with delta − zp·sd/√t ≥ the half-width at t, the
	// horizon tuned to t itself; both sides move monotonically in t.
	found := func(t float64) bool { return delta-zp*sd/math.Sqrt(t) >= csHalfWidth(sd, t, t) }
	lo, hi := 1.0, 2.0
	for !found(hi) {
		lo, hi = hi, hi*2
		if hi > 1e15 {
			return math.Inf(1), nil
		}
	}
	for hi-lo > 1 && hi/lo > 1.0001 {
		mid := (lo + hi) / 2
		if found(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return math.Ceil(hi), nil
}

// normalQuantile is the standard normal quantile of p.
func normalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// Verdict says in plain words what the reports so far show, for the
// dashboard: a difference found with 95% confidence (however often anyone
// has looked), or none yet and about how much longer the experiment needs
// at its traffic to find the smallest lift worth finding (minRelLift, 0.1
// for ten percent) with 80% probability. perWeek is the reports a week.
func Verdict(d Design, res Result, perWeek, minRelLift float64) string {
	pct := func(x float64) string { return formatPercent(x) }
	if res.Lift.Excludes() {
		from, to := res.Rate[Holdout].Estimate, res.Rate[Personalized].Estimate
		if res.Lift.CS[0] > 0 {
			return "Personalized picks converted more, with 95% confidence: " + pct(to) + " against " + pct(from) + " for the shop's own picks."
		}
		return "The shop's own picks converted more, with 95% confidence: " + pct(from) + " against " + pct(to) + " for personalized picks."
	}
	base := res.Rate[Holdout].Estimate
	if !(base > 0 && base*(1+minRelLift) < 1) || !(perWeek > 0) {
		return "No difference found yet."
	}
	need, err := Plan(d, base, minRelLift, 0.8)
	if err != nil || math.IsInf(need, 1) {
		return "No difference found yet."
	}
	lift := "a lift of " + formatPercent(minRelLift)
	if left := need - float64(res.Reports); left > 0 {
		weeks := math.Ceil(left / perWeek)
		unit := " weeks"
		if weeks == 1 {
			unit = " week"
		}
		return "No difference found yet; about " + formatCount(weeks) + " more" + unit + " at this traffic would find " + lift + " or more."
	}
	return "No difference found: " + lift + " or more would most likely have shown by now, so any difference is smaller."
}

// formatPercent writes a share as a percentage with up to one decimal.
func formatPercent(x float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(math.Round(x*1000)/10, 'f', 1, 64), ".0") + "%"
}

// formatCount writes a whole, non-negative number with thousands
// separators.
func formatCount(x float64) string {
	digits := strconv.FormatUint(uint64(x), 10)
	var out []byte
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, digits[i])
	}
	return string(out)
}
