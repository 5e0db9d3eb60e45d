package collector

import (
	"errors"
	"math"

	"github.com/edgewise/edgewise/engine"
)

// DefaultForgeryMargin is how many forged reports, by default, must not be
// enough to publish the size of a cohort that nobody is in (see publish):
// one address's whole hourly allowance at the intake, so that publishing
// an empty cohort takes more than one address for an hour.
const DefaultForgeryMargin = DefaultSourceReportsPerHour

// forgedWeight is the most one report can add to a cohort's debiased
// estimate: a report for index i adds (1-q)/(p-q) to it (about 14 at ε = 2
// over 85 cohorts), which is what makes forging cheap.
func (s *set) forgedWeight() float64 {
	p, q := s.probabilities()
	return (1 - q) / (p - q)
}

// publish picks the cohort sizes to publish from one epoch's estimates.
//
// A cohort's size counts everyone in it, so a coarse cohort's size adds
// the estimates of every finer cohort inside it to its own (cohortSizes):
// people report the finest cohort that is large enough, and a coarse
// cohort would otherwise look empty and never be used.
//
// A size is published only when it certainly reaches min_k, even if
// margin of the epoch's reports were forged: the lower end of its 95%
// interval, less the most that margin reports can add to it (margin ×
// forgedWeight), must reach min_k. The interval keeps noise alone from
// publishing a cohort nobody is in; the margin keeps a forger who slips
// margin reports past the intake's limits from doing it either. Forged
// reports spread over several cohorts add no more to any one size than
// the same reports aimed at it, since each report names one index. The
// published figure itself is the estimate, rounded.
func (s *set) publish(est []estimate, margin int) map[string]int64 {
	shift := float64(margin) * s.forgedWeight()
	sizes := map[string]int64{}
	for id, e := range cohortSizes(s.catalogue, est) {
		if e.value-shift-z95*math.Sqrt(e.variance) >= float64(s.minK) {
			sizes[id] = int64(math.Round(e.value))
		}
	}
	return sizes
}

// Publication is the collector's publication rule for one ruleset, for
// tools that reason about tallies without a running collector (simulate
// and audit): the same debiasing and the same rule as GET
// /v1/cohort-sizes.
type Publication struct {
	set    *set
	margin int
}

// NewPublication is the rule for rs with a forgery margin (0: the
// default; negative: none), as Config.ForgeryMargin.
func NewPublication(rs *engine.Ruleset, margin int) (*Publication, error) {
	cat := Catalogue(rs)
	if len(cat) == 0 {
		return nil, errors.New("collector: the ruleset has no cohorts")
	}
	s := &set{id: rs.ID, catalogue: cat, epochDays: rs.Reporting.EpochDays, epsilon: rs.Reporting.Epsilon, minK: rs.Reporting.MinK}
	s.defaults()
	return &Publication{set: s, margin: resolveMargin(margin)}, nil
}

// Margin is the forgery margin in effect.
func (p *Publication) Margin() int { return p.margin }

// ForgedWeight is the most one report adds to a cohort's estimate.
func (p *Publication) ForgedWeight() float64 { return p.set.forgedWeight() }

// Sizes is what /v1/cohort-sizes would publish for an epoch whose
// randomized-response reports were counts (by catalogue index), n in all.
func (p *Publication) Sizes(counts []int64, n int64) map[string]int64 {
	est, _ := p.set.debias(map[string]*tally{MechanismKRR: {n: n, counts: counts}})
	return p.set.publish(est, p.margin)
}

func resolveMargin(margin int) int {
	switch {
	case margin == 0:
		return DefaultForgeryMargin
	case margin < 0:
		return 0
	}
	return margin
}
