package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/edgewise/edgewise/collector"
	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abi"
)

// Experiments: a simulated population runs the ruleset's experiments with a
// known true lift, and the real collector says what it sees.
//
// After the cohort passes, every visitor who shares cohorts and keeps
// history (the only people in experiments) is built again on an engine of
// its own randomness and, each epoch, visits once at the epoch's report
// time: it sets its context, asks the engine for its report (which carries
// the engine's outcome answers about the epochs before, drawn by
// engine/experiment.go: the arm as drawn, the goal noised), decides the
// experiments' slots (which draws the person's arms and records the
// exposure) and, with the probability the person's arms give, reaches a
// goal: it observes a purchase, an add to cart or a click on an item a
// covered slot showed, whichever the experiment's goals list first, a
// minute later, as the page would. The simulator draws only whether the
// goal happens; everything sent is the engine's.
//
// The chance of a goal is the base rate times (1 + lift) for each
// experiment whose personalized arm the person is in: the base rate in
// the comparison group of a single experiment, base·(1+lift) in its
// personalized arm. Every report goes, as the SDK's body
// (jsbridge/src/report.js reportBody), through an in-memory collector's
// intake (collector.AcceptAsOf at the report's time), and the result is
// GET /v1/experiments as the collector serves it once every answer is
// final, set beside the truth the run was given.
//
// Everyone in the run comes back every epoch, so each exposed epoch but
// the last is answered; real people who do not come back within
// engine.MaxOutcomeLag epochs send no answer about their last one.

// ExperimentOptions set up a population's experiments (PopulationOptions).
type ExperimentOptions struct {
	// BaseRate is the comparison group's true chance of a goal in an
	// epoch (default DefaultBaseRate).
	BaseRate float64
	// Lift is the true relative lift of every experiment's personalized
	// arm; nil gives each experiment its min_lift (engine.DefaultMinLift
	// when it has none).
	Lift *float64
	// PerWeek, when positive, is the outcome answers a week the power
	// figures assume, instead of the simulated population's.
	PerWeek float64
	// Skip leaves the simulated run out: power figures only.
	Skip bool
}

func (o ExperimentOptions) base() float64 {
	if o.BaseRate > 0 {
		return o.BaseRate
	}
	return DefaultBaseRate
}

// Experiments are a ruleset's experiments in a simulation: how long each
// needs (Power) and, for a population, what a run of them through the
// collector showed (Run).
type Experiments struct {
	BaseRate    float64            `json:"base_rate"`
	EpochDays   int                `json:"epoch_days"`
	Experiments []ExperimentReport `json:"experiments"`
	Run         *ExperimentsRun    `json:"run,omitempty"`
}

// ExperimentReport is one experiment: its design (defaults applied), its
// power figures and its simulated run.
type ExperimentReport struct {
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
	// Power is nil when there is no traffic to plan with: the population
	// has nobody in the experiment and none was given.
	Power *Power         `json:"power,omitempty"`
	Run   *ExperimentRun `json:"run,omitempty"`
}

// ExperimentsRun is a simulated population's run of the experiments.
type ExperimentsRun struct {
	// Epochs are the epochs visited; answers are about all but the last.
	Epochs int `json:"epochs"`
	// Reports is how many reports the collector counted.
	Reports int64 `json:"reports"`
	// ReadAt is when GET /v1/experiments was read: once the answers
	// about the last answered epoch are final.
	ReadAt time.Time `json:"read_at"`
	// People is how many visitors were in at least one experiment.
	People int `json:"people"`
	// OutcomeEpsilonMean and OutcomeEpsilonMax are the ε those people
	// spent on outcome answers over the run, from their engines' ledgers.
	OutcomeEpsilonMean float64 `json:"outcome_epsilon_mean"`
	OutcomeEpsilonMax  float64 `json:"outcome_epsilon_max"`
	// Response is the body of GET /v1/experiments.
	Response collector.Experiments `json:"response"`
}

// ExperimentRun is one experiment's run: the truth it was given, what
// happened before noise, and whether the collector's figures hold the
// truth (the figures themselves are in ExperimentsRun.Response).
type ExperimentRun struct {
	// Lift is the relative lift the run gave this experiment's
	// personalized arm; TrueRates are each arm's chance of a goal in an
	// epoch (holdout, personalized), and TrueLift their relative lift,
	// which differs from Lift only when other experiments' arms also
	// change the chance.
	Lift      float64    `json:"lift"`
	TrueRates [2]float64 `json:"true_rates"`
	TrueLift  float64    `json:"true_lift"`
	// Participants are the visitors in the experiment, Held those of them
	// in its comparison group.
	Participants int `json:"participants"`
	Held         int `json:"held"`
	// Exposed and Converted count, by arm, the answered epochs in which a
	// participant saw a covered slot, and those with a goal: the truth
	// before noise.
	Exposed   [2]int64 `json:"exposed"`
	Converted [2]int64 `json:"converted"`
	// InCS and InCI say whether the true lift (TrueRates' difference) is
	// inside the cumulative lift's 95% confidence sequence and one-look
	// interval; both false when the collector withheld a result.
	InCS bool `json:"truth_in_cs95"`
	InCI bool `json:"truth_in_ci95"`
}

// Analysis is the collector's analysis of experiment id, or nil.
func (r *ExperimentsRun) Analysis(id string) *collector.ExperimentAnalysis {
	if r == nil {
		return nil
	}
	for i := range r.Response.Experiments {
		if r.Response.Experiments[i].ID == id {
			return &r.Response.Experiments[i]
		}
	}
	return nil
}

// CheckExperiments says whether o's base rate and lifts give every person
// in rs's experiments a chance of a goal of at most 1.
func CheckExperiments(rs *engine.Ruleset, o ExperimentOptions) error {
	_, err := newExperimentSet(rs, o)
	return err
}

// experimentSet is a ruleset's experiments as the run needs them.
type experimentSet struct {
	xs    []engine.Experiment // defaults applied
	outer []int               // per experiment: the one it runs within, or -1
	slots []string            // every covered slot, in the ruleset's order
	lifts []float64
	base  float64
}

func newExperimentSet(rs *engine.Ruleset, o ExperimentOptions) (*experimentSet, error) {
	es := &experimentSet{base: o.base()}
	covered := map[string]bool{}
	for i, x := range rs.Experiments {
		x = x.WithDefaults()
		es.xs = append(es.xs, x)
		es.outer = append(es.outer, slices.IndexFunc(rs.Experiments[:i], func(y engine.Experiment) bool { return x.Within != "" && y.ID == x.Within }))
		l := x.MinLift
		if o.Lift != nil {
			l = *o.Lift
		}
		es.lifts = append(es.lifts, l)
		for _, s := range x.Slots {
			covered[s] = true
		}
	}
	for _, s := range rs.Slots {
		if covered[s.ID] {
			es.slots = append(es.slots, s.ID)
		}
	}
	if len(es.xs) > 16 {
		return nil, fmt.Errorf("%d experiments: the simulation takes at most 16", len(es.xs))
	}
	for i, l := range es.lifts {
		if !(l > -1) || math.IsInf(l, 1) {
			return nil, fmt.Errorf("experiment %s: a lift of %g: it must be more than -1 (-100%%)", es.xs[i].ID, l)
		}
	}
	var err error
	es.enumerate(func(_ float64, _ []bool, _ []bool, rate float64) {
		if rate > 1 && err == nil {
			err = fmt.Errorf("a base rate of %g with lifts %v gives some people a chance of a goal above 1", es.base, es.lifts)
		}
	})
	return es, err
}

// Arms of a person in an experiment.
const (
	armOut = iota
	armHoldout
	armPersonalized
)

// rate is a person's chance of a goal in an epoch with these arms.
func (es *experimentSet) rate(arms []int8) float64 {
	r := es.base
	for i, a := range arms {
		if a == armPersonalized {
			r *= 1 + es.lifts[i]
		}
	}
	return r
}

// enumerate calls f for every combination of arms a measured person can
// draw, with its probability: held[i] whether experiment i's draw is its
// comparison group, in[i] whether the person is in it at all.
func (es *experimentSet) enumerate(f func(p float64, in, held []bool, rate float64)) {
	n := len(es.xs)
	in, held := make([]bool, n), make([]bool, n)
	arms := make([]int8, n)
	for bits := range 1 << n {
		p := 1.0
		for i, x := range es.xs {
			held[i] = bits&(1<<i) != 0
			if held[i] {
				p *= x.Holdout
			} else {
				p *= 1 - x.Holdout
			}
			o := es.outer[i]
			in[i] = o < 0 || in[o] && !held[o]
			switch {
			case !in[i]:
				arms[i] = armOut
			case held[i]:
				arms[i] = armHoldout
			default:
				arms[i] = armPersonalized
			}
		}
		f(p, in, held, es.rate(arms))
	}
}

// truth is each experiment's arms' chance of a goal (holdout,
// personalized) over every draw of the others' arms.
func (es *experimentSet) truth() [][2]float64 {
	sum := make([][2]float64, len(es.xs))
	w := make([][2]float64, len(es.xs))
	es.enumerate(func(p float64, in, held []bool, rate float64) {
		for i := range es.xs {
			if !in[i] {
				continue
			}
			a := 1
			if held[i] {
				a = 0
			}
			sum[i][a] += p * rate
			w[i][a] += p
		}
	})
	out := make([][2]float64, len(es.xs))
	for i := range out {
		for a := range 2 {
			if w[i][a] > 0 {
				// Rounded off the sums' last bits, so a rate given as 0.2
				// reads 0.2.
				out[i][a] = math.Round(sum[i][a]/w[i][a]*1e12) / 1e12
			}
		}
	}
	return out
}

// arms reads a person's arms from a decide of es.slots: a slot names the
// experiment whose comparison group the person is in there; a person in
// an experiment's comparison group is in none within it.
func (es *experimentSet) arms(decs []engine.Decision, arms []int8) {
	for i, x := range es.xs {
		if o := es.outer[i]; o >= 0 && arms[o] != armPersonalized {
			arms[i] = armOut
			continue
		}
		arms[i] = armPersonalized
		for _, d := range decs {
			if d.Experiment == x.ID && slices.Contains(x.Slots, d.Slot) {
				arms[i] = armHoldout
			}
		}
	}
}

// goalEvents are the events a person who reaches a goal is observed
// with: for each experiment they are in, its first goal that the page
// can record here (a click needs an item its slots showed), on the first
// item its slots showed (for a purchase or an add to cart with nothing
// shown, the first item shown anywhere, or the catalogue's first); each
// distinct event once.
func (es *experimentSet) goalEvents(rs *engine.Ruleset, decs []engine.Decision, arms []int8, at int64) []engine.Event {
	var out []engine.Event
	firstShown := func(slots []string) string {
		for _, d := range decs {
			if (slots == nil || slices.Contains(slots, d.Slot)) && len(d.Items) > 0 {
				return d.Items[0].Item
			}
		}
		return ""
	}
	for i, x := range es.xs {
		if arms[i] == armOut {
			continue
		}
		shown := firstShown(x.Slots)
		for _, g := range x.Goals {
			item := shown
			if g != engine.GoalClick && item == "" {
				if item = firstShown(nil); item == "" && len(rs.Catalogue) > 0 {
					item = rs.Catalogue[0].ID
				}
			}
			if item == "" {
				continue
			}
			ev := engine.Event{Type: g, Item: item, At: at}
			if !slices.Contains(out, ev) {
				out = append(out, ev)
			}
			break
		}
	}
	return out
}

// experimentTally is one visitor's share of an ExperimentRun.
type experimentTally struct {
	arm       []int8 // in the first epoch
	exposed   [][2]int64
	converted [][2]int64
	epsilon   float64 // spent on outcome answers
}

// runExperiments runs the experiments over the population's visitors
// (see the comment at the top of this file).
func (pl *plan) runExperiments(ctx context.Context, specs []visitorSpec, truth map[visitorSpec]string, sizes map[string]float64) (*ExperimentsRun, []ExperimentRun, error) {
	rs := pl.s.t.Ruleset
	opts := pl.opts
	es, err := newExperimentSet(rs, opts.Experiments)
	if err != nil {
		return nil, nil, err
	}
	epochs := opts.Epochs
	epochMs := pl.epochDur.Milliseconds()
	first := ms(pl.start) / epochMs
	readAt := pl.at(epochs - 1)
	if epochs > 1 {
		// The answers about the last answered epoch can come until
		// MaxOutcomeLag epochs after it end, and the grace after that.
		readAt = time.UnixMilli((first + int64(epochs) - 2 + engine.MaxOutcomeLag + 1) * epochMs).Add(collector.DefaultEpochGrace)
	}
	col, err := collector.New(collector.Config{
		Rulesets: map[string]*engine.Ruleset{rs.ID: rs},
		Audience: int64(len(specs)),
		Now:      func() time.Time { return readAt },
	})
	if err != nil {
		return nil, nil, fmt.Errorf("collector: %w", err)
	}
	defer col.Close()

	// Reports go to the collector's intake from senders of their own, as
	// from many devices at once: Accept returns once its report is
	// committed, and those waiting share a commit, so the more senders the
	// fewer commits (32 made the writer a seventh of the run's time, 512
	// about a tenth).
	type post struct {
		body []byte
		at   time.Time
	}
	posts := make(chan post, 1024)
	const senders = 512
	var wg sync.WaitGroup
	sendErrs := make([]error, senders)
	var counted [senders]int64
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range posts {
				if sendErrs[w] != nil {
					continue
				}
				if err := col.AcceptAsOf(ctx, p.body, p.at); err != nil {
					sendErrs[w] = fmt.Errorf("the collector refused a report: %w", err)
					continue
				}
				counted[w]++
			}
		}()
	}

	tallies := make([]experimentTally, len(specs))
	err = pl.each(ctx, len(specs), func(x *instance, i int) error {
		sp := specs[i]
		if pr := pl.sharing[sp.persona]; pr.Sharing != engine.SharingCohorts || !pr.History {
			return nil // in no experiment
		}
		c, err := pl.build(ctx, x, sp)
		if err != nil {
			return err
		}
		x.rnd.src = stream(opts.Seed, i, purposeExperiment)
		rng := rand.New(chacha(opts.Seed, i, purposeGoal))
		tl := &tallies[i]
		tl.arm = make([]int8, len(es.xs))
		tl.exposed = make([][2]int64, len(es.xs))
		tl.converted = make([][2]int64, len(es.xs))
		arms := make([]int8, len(es.xs))
		table := sizesFor(sizes, truth[sp])
		for e := range epochs {
			now := pl.at(e)
			c.Now = ms(now)
			if err := x.call(ctx, abi.OpSetContext, abi.SetContextRequest{Context: c}, nil); err != nil {
				return err
			}
			var res abi.ReportResult
			if err := x.call(ctx, abi.OpReport, reportRequest{Now: c.Now, Sizes: table}, &res); err != nil {
				return err
			}
			if res.Report != nil {
				body, err := reportBody(res.Report)
				if err != nil {
					return err
				}
				select {
				case posts <- post{body, now}:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			var dr abi.DecideResult
			if err := x.call(ctx, abi.OpDecide, abi.DecideRequest{Slots: es.slots}, &dr); err != nil {
				return err
			}
			es.arms(dr.Decisions, arms)
			if e == 0 {
				copy(tl.arm, arms)
			}
			goal := rng.Float64() < es.rate(arms)
			if goal {
				// A minute later, within the epoch.
				at := min(c.Now+time.Minute.Milliseconds(), (c.Now/epochMs+1)*epochMs-1)
				for _, ev := range es.goalEvents(rs, dr.Decisions, arms, at) {
					if err := x.call(ctx, abi.OpObserve, abi.ObserveRequest{Event: ev}, nil); err != nil {
						return err
					}
				}
			}
			if e == epochs-1 {
				continue // never answered
			}
			for j, a := range arms {
				if a == armOut {
					continue
				}
				k := 0
				if a == armPersonalized {
					k = 1
				}
				tl.exposed[j][k]++
				if goal {
					tl.converted[j][k]++
				}
			}
		}
		var l abi.LedgerResult
		if err := x.call(ctx, abi.OpLedger, struct{}{}, &l); err != nil {
			return err
		}
		for _, le := range l.Entries {
			if le.Experiment != "" {
				tl.epsilon += le.Epsilon
			}
		}
		return nil
	})
	close(posts)
	wg.Wait()
	if err != nil {
		return nil, nil, err
	}
	if err := errors.Join(sendErrs...); err != nil {
		return nil, nil, err
	}

	run := &ExperimentsRun{Epochs: epochs, ReadAt: readAt.UTC()}
	for _, n := range counted {
		run.Reports += n
	}
	rec := httptest.NewRecorder()
	col.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1/experiments?ruleset="+rs.ID, nil))
	if rec.Code != http.StatusOK {
		return nil, nil, fmt.Errorf("GET /v1/experiments: %d %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &run.Response); err != nil {
		return nil, nil, fmt.Errorf("GET /v1/experiments: %w", err)
	}

	tr := es.truth()
	runs := make([]ExperimentRun, len(es.xs))
	for i := range es.xs {
		runs[i] = ExperimentRun{Lift: es.lifts[i], TrueRates: tr[i]}
		if tr[i][0] > 0 {
			runs[i].TrueLift = math.Round((tr[i][1]/tr[i][0]-1)*1e12) / 1e12
		}
	}
	for _, tl := range tallies {
		if tl.arm == nil {
			continue
		}
		run.People++
		run.OutcomeEpsilonMean += tl.epsilon
		run.OutcomeEpsilonMax = max(run.OutcomeEpsilonMax, tl.epsilon)
		for j, a := range tl.arm {
			r := &runs[j]
			if a != armOut {
				r.Participants++
			}
			if a == armHoldout {
				r.Held++
			}
			for k := range 2 {
				r.Exposed[k] += tl.exposed[j][k]
				r.Converted[k] += tl.converted[j][k]
			}
		}
	}
	if run.People > 0 {
		run.OutcomeEpsilonMean /= float64(run.People)
	}
	for i := range runs {
		r := &runs[i]
		a := run.Analysis(es.xs[i].ID)
		if a == nil || a.Cumulative.Result == nil {
			continue
		}
		want := r.TrueRates[1] - r.TrueRates[0]
		lf := a.Cumulative.Result.Lift
		r.InCS = lf.CS[0] <= want && want <= lf.CS[1]
		r.InCI = lf.CI[0] <= want && want <= lf.CI[1]
	}
	return run, runs, nil
}

// experimentsOf gives rs's experiments with their power figures, at the
// traffic o gives or else at the population's: each participant sends one
// answer an epoch. A run counts its participants; without one, an
// experiment's are the measured visitors (who share cohorts and keep
// history) times the chance of being in it, which is less than 1 only
// for an experiment within another. runs is nil without a run.
func experimentsOf(rs *engine.Ruleset, epochDays int, o ExperimentOptions, measured int, run *ExperimentsRun, runs []ExperimentRun) *Experiments {
	out := &Experiments{BaseRate: o.base(), EpochDays: epochDays, Run: run}
	for i, x := range rs.Experiments {
		x = x.WithDefaults()
		r := ExperimentReport{ID: x.ID, Description: x.Description, Slots: x.Slots, Holdout: x.Holdout, Epsilon: x.Epsilon,
			MinLift: x.MinLift, Control: x.Control, Rules: x.Rules, Goals: x.Goals, Within: x.Within}
		participants := float64(measured)
		for y := x; y.Within != ""; {
			j := slices.IndexFunc(rs.Experiments[:i], func(z engine.Experiment) bool { return z.ID == y.Within })
			if j < 0 {
				break
			}
			y = rs.Experiments[j]
			participants *= 1 - y.Holdout
		}
		if runs != nil {
			r.Run = &runs[i]
			participants = float64(r.Run.Participants)
		}
		perWeek, traffic := o.PerWeek, TrafficGiven
		if !(perWeek > 0) {
			perWeek, traffic = participants*7/float64(epochDays), TrafficPopulation
		}
		if perWeek > 0 {
			p := PlanExperiment(x, epochDays, o.base(), perWeek, traffic)
			r.Power = &p
		}
		out.Experiments = append(out.Experiments, r)
	}
	return out
}

// Where a Power's traffic comes from.
const (
	TrafficGiven      = "--traffic"
	TrafficPopulation = "the simulated population"
)

// PlanExperiments gives the power figures of t's experiments at o's
// PerWeek answers a week, with no population: nil when the ruleset has
// no experiments.
func PlanExperiments(t Target, o ExperimentOptions) *Experiments {
	if len(t.Ruleset.Experiments) == 0 {
		return nil
	}
	days := t.Ruleset.Reporting.EpochDays
	if days <= 0 {
		days = engine.DefaultEpochDays
	}
	return experimentsOf(t.Ruleset, days, o, 0, nil, nil)
}
