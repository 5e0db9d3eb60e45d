package collector

// Experiments: the analysis of the lift of personalization from the
// outcome answers counted (outcomes.go), which GET /v1/experiments serves.
// The statistics are internal/lift's; this file only gathers the counts it
// needs and decides what may be shown, and cached, when.

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/lift"
)

// LiftResult is internal/lift's analysis of a set of outcome answers:
// each arm's debiased conversion rate, the lift (personalized minus
// holdout) and the relative lift, each with a 95% interval for one look
// (ci95) and a 95% confidence sequence valid however often one looks
// (cs95).
type LiftResult = lift.Result

// Experiments is the body of GET /v1/experiments: every experiment of a
// ruleset, in its order.
type Experiments struct {
	Ruleset string `json:"ruleset"`
	// Epoch is the current epoch, whose outcomes are not yet reported.
	Epoch       int64                `json:"epoch"`
	Experiments []ExperimentAnalysis `json:"experiments"`
}

// ExperimentAnalysis is one experiment: its design as the ruleset has it
// (defaults applied), its answers epoch by epoch, and what they show so
// far.
type ExperimentAnalysis struct {
	ID          string   `json:"id"`
	Description string   `json:"description,omitempty"`
	Slots       []string `json:"slots"`
	Holdout     float64  `json:"holdout"`
	Epsilon     float64  `json:"epsilon"`
	MinLift     float64  `json:"min_lift"`
	Control     string   `json:"control"`
	Rules       []string `json:"rules,omitempty"`
	Goals       []string `json:"goals"`
	Within      string   `json:"within,omitempty"`
	// Horizon is the answers at which the confidence sequences are
	// tightest (Config.ExperimentHorizon), fixed before any data.
	Horizon float64 `json:"horizon"`
	// Epochs are the epochs with answers, oldest first.
	Epochs     []ExperimentEpoch    `json:"epochs"`
	Cumulative ExperimentCumulative `json:"cumulative"`
}

// ExperimentEpoch is the answers about one epoch: that epoch's own
// analysis, and the analysis of every answer about it and the epochs
// before, so a dashboard can chart the lift and its interval over time.
type ExperimentEpoch struct {
	Epoch int64 `json:"epoch"`
	// Final says no more answers about it can come: the last report
	// epoch that may carry them has ended, grace included.
	Final   bool  `json:"final"`
	Reports int64 `json:"reports"`
	// Result and Cumulative are left out when lift cannot analyse the
	// answers, and Withheld says why.
	Result     *LiftResult `json:"result,omitempty"`
	Cumulative *LiftResult `json:"cumulative,omitempty"`
	Withheld   string      `json:"withheld,omitempty"`
}

// ExperimentCumulative is what every answer so far shows.
type ExperimentCumulative struct {
	Reports  int64       `json:"reports"`
	Result   *LiftResult `json:"result,omitempty"`
	Withheld string      `json:"withheld,omitempty"`
	// PerWeek is the recent traffic the verdict counts on: the mean
	// answers of the last final epochs (at most trafficEpochs of them),
	// scaled to a week; 0 while no epoch is final.
	PerWeek float64 `json:"per_week"`
	// Verdict says in plain words what the answers show (lift.Verdict).
	Verdict string `json:"verdict"`
}

// trafficEpochs is how many of the last final epochs the verdict's
// traffic is the mean of.
const trafficEpochs = 4

// Experiments is what GET /v1/experiments serves for one ruleset.
func (c *Collector) Experiments(ctx context.Context, ruleset string) (Experiments, error) {
	s, ok := c.sets[ruleset]
	if !ok {
		return Experiments{}, ErrUnknownRuleset
	}
	return c.experimentsOf(ctx, s)
}

func (c *Collector) experimentsOf(ctx context.Context, s *set) (Experiments, error) {
	rows, err := c.store.loadOutcomes(ctx, s.id)
	if err != nil {
		return Experiments{}, &errStore{err}
	}
	byExperiment := map[string]map[int64]*lift.Counts{}
	for _, r := range rows {
		if r.value < 0 || r.value >= lift.Categories {
			continue
		}
		m := byExperiment[r.experiment]
		if m == nil {
			m = map[int64]*lift.Counts{}
			byExperiment[r.experiment] = m
		}
		if m[r.epoch] == nil {
			m[r.epoch] = new(lift.Counts)
		}
		m[r.epoch][r.value] += r.n
	}
	now := c.now()
	res := Experiments{Ruleset: s.id, Epoch: s.epoch(now), Experiments: make([]ExperimentAnalysis, 0, len(s.experiments))}
	for _, x := range s.experiments {
		res.Experiments = append(res.Experiments, c.analyse(s, x, byExperiment[x.ID], now))
	}
	return res, nil
}

// analyse is one experiment's analysis from its counts by epoch.
func (c *Collector) analyse(s *set, x engine.Experiment, byEpoch map[int64]*lift.Counts, now time.Time) ExperimentAnalysis {
	orEmpty := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	a := ExperimentAnalysis{ID: x.ID, Description: x.Description, Slots: orEmpty(x.Slots), Holdout: x.Holdout,
		Epsilon: x.Epsilon, MinLift: x.MinLift, Control: x.Control, Rules: x.Rules, Goals: orEmpty(x.Goals),
		Within: x.Within, Horizon: c.horizon, Epochs: []ExperimentEpoch{}}
	d := lift.Design{Epsilon: x.Epsilon, Holdout: x.Holdout, Horizon: c.horizon}
	epochs := make([]int64, 0, len(byEpoch))
	for e := range byEpoch {
		epochs = append(epochs, e)
	}
	slices.Sort(epochs)
	var sum lift.Counts
	for _, e := range epochs {
		n := *byEpoch[e]
		for i := range sum {
			sum[i] += n[i]
		}
		ep := ExperimentEpoch{Epoch: e, Final: s.outcomeFinal(e, now, c.grace), Reports: reports(n)}
		var errOwn, errSum error
		ep.Result, errOwn = analysed(d, n)
		ep.Cumulative, errSum = analysed(d, sum)
		if err := cmp.Or(errOwn, errSum); err != nil {
			ep.Withheld = withheld(err)
		}
		a.Epochs = append(a.Epochs, ep)
	}
	cum := &a.Cumulative
	cum.Reports = reports(sum)
	if len(epochs) > 0 {
		cum.PerWeek = s.traffic(byEpoch, epochs[0], now, c.grace)
	}
	var err error
	if cum.Result, err = analysed(d, sum); err != nil {
		cum.Withheld = withheld(err)
		cum.Verdict = "No outcome answers yet."
		if len(epochs) > 0 {
			cum.Verdict = "The answers so far cannot be analysed."
		}
		return a
	}
	cum.Verdict = lift.Verdict(d, *cum.Result, cum.PerWeek, x.MinLift)
	return a
}

// analysed is lift.Analyze's result, or nil and its error.
func analysed(d lift.Design, n lift.Counts) (*LiftResult, error) {
	r, err := lift.Analyze(d, n)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// withheld says why lift gave no result, in the words of the response.
func withheld(err error) string {
	if errors.Is(err, lift.ErrNoReports) {
		return "no answers"
	}
	return strings.TrimPrefix(err.Error(), "lift: ")
}

func reports(n lift.Counts) int64 {
	var t int64
	for _, x := range n {
		t += x
	}
	return t
}

// outcomeFinal says whether no more answers about epoch e can come: they
// ride with reports of up to engine.MaxOutcomeLag epochs later, and the
// last of those takes no more reports.
func (s *set) outcomeFinal(e int64, now time.Time, grace time.Duration) bool {
	return s.epochFinal(e+engine.MaxOutcomeLag, now, grace)
}

// traffic is an experiment's recent answers a week: the mean answers of
// its last trafficEpochs final epochs (an epoch without answers counts as
// none), from its first epoch with answers on, scaled to a week. Epochs
// that still take answers would understate it. It is 0 while no epoch is
// final, and the verdict then gives no time.
func (s *set) traffic(byEpoch map[int64]*lift.Counts, first int64, now time.Time, grace time.Duration) float64 {
	last := s.epoch(now.Add(-grace)) - engine.MaxOutcomeLag - 1 // the newest final epoch
	if last < first {
		return 0
	}
	from := max(first, last-trafficEpochs+1)
	var n int64
	for e := from; e <= last; e++ {
		if c := byEpoch[e]; c != nil {
			n += reports(*c)
		}
	}
	return float64(n) / float64(last-from+1) * 7 / float64(s.epochDays)
}

// final says whether the analysis can no longer change: every experiment
// has answers and no more can come for any epoch shown. An experiment
// without answers may start getting them at any time.
func (e Experiments) final() bool {
	if len(e.Experiments) == 0 {
		return false
	}
	for _, x := range e.Experiments {
		if len(x.Epochs) == 0 {
			return false
		}
		for _, ep := range x.Epochs {
			if !ep.Final {
				return false
			}
		}
	}
	return true
}

// serveExperiments serves the analysis of a ruleset's experiments.
func (c *Collector) serveExperiments(w http.ResponseWriter, r *http.Request) {
	s, ok := c.readTarget(w, r, "experiments")
	if !ok {
		return
	}
	res, err := c.experimentsOf(r.Context(), s)
	if err != nil {
		readFailed(w)
		return
	}
	cacheControl(w, res.final())
	writeJSON(w, res)
}
