package sim

import (
	"math"
	"slices"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/lift"
)

// Power: how long each of a ruleset's experiments needs before it can
// tell a lift, from internal/lift's Plan.

// DefaultBaseRate is the holdout's conversion rate per epoch that power
// figures and simulated experiments assume unless told otherwise: one
// person in twenty reaches a goal in a week they saw the slot.
const DefaultBaseRate = 0.05

// PlanPower is the probability of finding the lift that power figures
// are for: 80%, as lift.Verdict's "more weeks" also counts.
const PlanPower = 0.8

// PlanLifts are the relative lifts every power table shows, beside the
// experiment's min_lift.
var PlanLifts = []float64{0.05, 0.1, 0.2}

// Power is how long one experiment needs to find a lift with PlanPower
// probability, at the traffic given.
type Power struct {
	Experiment string  `json:"experiment"`
	Holdout    float64 `json:"holdout"`
	Epsilon    float64 `json:"epsilon"`
	MinLift    float64 `json:"min_lift"`
	BaseRate   float64 `json:"base_rate"`
	// PerWeek is the outcome answers a week assumed, and Traffic where
	// that figure comes from.
	PerWeek   float64 `json:"answers_per_week"`
	Traffic   string  `json:"traffic"`
	EpochDays int     `json:"epoch_days"`
	// Need is what finding min_lift takes at the experiment's ε.
	Need Need `json:"need"`
	// Table is the same for PlanLifts and min_lift, at the experiment's ε
	// and at engine.MaxOutcomeEpsilon, lifts first.
	Table []Need `json:"table"`
	// OverAYear says Need takes more than a year.
	OverAYear bool `json:"over_a_year"`
}

// Need is how many outcome answers (lift.Plan), and so epochs and weeks
// at the Power's traffic, finding a relative lift takes at an ε. Never is
// set, and the figures are 0, when no number of answers would do: the
// base rate and the lift make a rate outside (0, 1), or Plan gives up.
type Need struct {
	Lift    float64 `json:"lift"`
	Epsilon float64 `json:"epsilon"`
	Answers float64 `json:"answers"`
	Epochs  float64 `json:"epochs"`
	Weeks   float64 `json:"weeks"`
	Never   bool    `json:"never,omitempty"`
}

// PlanExperiment is the power of experiment x (defaults applied here) at
// perWeek outcome answers a week (which must be positive), with epochs of
// epochDays days and a holdout converting at base. traffic says where
// perWeek comes from, in words.
func PlanExperiment(x engine.Experiment, epochDays int, base, perWeek float64, traffic string) Power {
	x = x.WithDefaults()
	if epochDays <= 0 {
		epochDays = engine.DefaultEpochDays
	}
	p := Power{Experiment: x.ID, Holdout: x.Holdout, Epsilon: x.Epsilon, MinLift: x.MinLift, BaseRate: base,
		PerWeek: perWeek, Traffic: traffic, EpochDays: epochDays}
	need := func(relLift, eps float64) Need {
		n := Need{Lift: relLift, Epsilon: eps}
		answers, err := lift.Plan(lift.Design{Epsilon: eps, Holdout: x.Holdout}, base, relLift, PlanPower)
		if err != nil || math.IsInf(answers, 1) || !(perWeek > 0) {
			n.Never = true
			return n
		}
		perEpoch := perWeek * float64(epochDays) / 7
		n.Answers = answers
		n.Epochs = math.Ceil(answers / perEpoch)
		n.Weeks = math.Ceil(n.Epochs * float64(epochDays) / 7)
		return n
	}
	p.Need = need(x.MinLift, x.Epsilon)
	p.OverAYear = p.Need.Never || p.Need.Epochs*float64(epochDays) > 365
	lifts := slices.Clone(PlanLifts)
	if !slices.Contains(lifts, x.MinLift) {
		lifts = append(lifts, x.MinLift)
		slices.Sort(lifts)
	}
	eps := []float64{x.Epsilon}
	if x.Epsilon < engine.MaxOutcomeEpsilon {
		eps = append(eps, engine.MaxOutcomeEpsilon)
	}
	for _, l := range lifts {
		for _, e := range eps {
			p.Table = append(p.Table, need(l, e))
		}
	}
	return p
}

// Epsilons are the ε columns of p's table, in order.
func (p Power) Epsilons() []float64 {
	var out []float64
	for _, n := range p.Table {
		if !slices.Contains(out, n.Epsilon) {
			out = append(out, n.Epsilon)
		}
	}
	return out
}

// Lifts are the lift rows of p's table, in order.
func (p Power) Lifts() []float64 {
	var out []float64
	for _, n := range p.Table {
		if !slices.Contains(out, n.Lift) {
			out = append(out, n.Lift)
		}
	}
	return out
}

// Cell is p's table entry for a lift and an ε.
func (p Power) Cell(relLift, eps float64) Need {
	for _, n := range p.Table {
		if n.Lift == relLift && n.Epsilon == eps {
			return n
		}
	}
	return Need{Lift: relLift, Epsilon: eps, Never: true}
}
