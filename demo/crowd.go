package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/edgewise/edgewise/collector"
	"github.com/edgewise/edgewise/engine"
)

// A simulated crowd. One visitor's report is never published: every cohort
// under min_k is suppressed, and a device reports only a cohort whose
// published size reaches min_k. So on a fresh collector the dashboard would
// stay empty and report() would have nothing to report into. -crowd N has
// the server send, at startup, the reports N simulated devices would have
// sent over the last crowdEpochs epochs: each device visits the shop in an
// epoch with probability crowdVisit, and every visit's report goes through
// the collector's own intake, as of a moment in its epoch.
//
// A report carries what the engine would put in it. Its cohort, in the
// previous and the current epoch: randomized on "the device" as the engine
// does (memoized k-ary randomized response draws the same way for a first
// answer). Its experiments' outcome answers: every device is in each of
// the ruleset's experiments (those not run within another), with an arm
// drawn once with the experiment's holdout share, sees the experiment's
// slots on every visit, and reaches a goal in a visited epoch with its
// arm's rate: -crowd-base in the comparison group, -crowd-base × (1 +
// -crowd-lift) with personalized picks. Its next visit, if it comes within
// engine.MaxOutcomeLag epochs, answers about that epoch, as the engine
// does (outcomeAnswer). Before the previous epoch the crowd's reports carry
// their outcome answers only, as a device's do when none of its cohorts
// is published: the cohort part of the story starts, as it always did, with
// nothing published in the previous epoch. The dashboard says which of its
// figures are simulated, and the true lift they should find.

// crowdSeed fixes the simulated crowd, so every run shows the same picture.
const crowdSeed = 7

// crowdWorkers send reports concurrently, so the collector's writer commits
// them in groups.
const crowdWorkers = 16

// The crowd's visits: the epochs before the current one whose outcomes
// its devices answer about, and the chance a device visits in an epoch.
const (
	crowdEpochs = 10
	crowdVisit  = 0.8
)

// The defaults of -crowd-base and -crowd-lift: with the demo's crowd of
// 30,000 (make demo) the dashboard finds the lift within crowdEpochs.
const (
	defaultCrowdBase = 0.2
	defaultCrowdLift = 0.15
)

// crowdConfig is what -crowd, -crowd-base and -crowd-lift ask for.
type crowdConfig struct {
	// devices is -crowd N; 0 sends nothing.
	devices int
	// base is the conversion rate of the comparison group in a visited
	// epoch, and lift the true relative lift of personalized picks: they
	// convert at base × (1 + lift).
	base, lift float64
}

// check refuses rates outside [0, 1].
func (c crowdConfig) check() error {
	if c.devices <= 0 {
		return nil
	}
	if !(c.base > 0 && c.base < 1) || !(c.lift > -1) || !(c.base*(1+c.lift) <= 1) {
		return fmt.Errorf("-crowd-base %g and -crowd-lift %g must make both conversion rates in (0, 1]: base in (0, 1), base × (1 + lift) at most 1", c.base, c.lift)
	}
	return nil
}

// crowdResult is what the crowd sent, for the dashboard.
type crowdResult struct {
	crowdConfig
	// cohorts is how many reports with a cohort answer it sent per epoch.
	cohorts map[int64]int
	// answers is how many outcome answers it sent per experiment.
	answers map[string]int
	// experiments are the experiments it answered for.
	experiments []string
}

// seedCrowd sends the reports cfg.devices simulated devices would have sent
// over the crowdEpochs epochs before the one holding now and in it. The
// simulated people fall in the ruleset's full cohorts (the first entries
// of the cohort catalogue) with Zipf-like popularity, in an order fixed by
// crowdSeed, and report as the engine does: the finest cohort of theirs
// that the collector's published sizes show to hold at least min_k
// people, randomized with k-ary randomized response. In the previous epoch
// nothing was published yet, so each reports the cohort of the first
// dimension alone (see RATIONALE, "Why does an empty size table start
// reports at the coarsest cohort?"); in the current epoch each reads the
// sizes the previous epoch's reports published, from the collector
// itself, and sends no cohort when none of its cohorts is published.
func seedCrowd(ctx context.Context, c *collector.Collector, rs *engine.Ruleset, cfg crowdConfig, now time.Time) (*crowdResult, error) {
	res := &crowdResult{crowdConfig: cfg, cohorts: map[int64]int{}, answers: map[string]int{}}
	n := cfg.devices
	if n <= 0 {
		return res, nil
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cat := collector.Catalogue(rs)
	full := fullCohorts(rs)
	if len(cat) == 0 || full == 0 {
		return nil, fmt.Errorf("-crowd: ruleset %s has no cohorts", rs.ID)
	}
	index := make(map[string]int, len(cat))
	for i, id := range cat {
		index[id] = i
	}
	rep := displayOf(rs).Reporting
	rng := rand.New(rand.NewPCG(crowdSeed, uint64(n)))
	// Popularity: the cohort at rank r has weight 1/(r+1)^1.2, ranked in a
	// seeded order within each first-dimension group and round-robin across
	// the groups, so every group is popular enough to be published even
	// through the noise.
	order := spreadOrder(rng, full, full/len(rs.Cohorts.Dimensions[0].Buckets))
	cum := make([]float64, full)
	total := 0.0
	for r := range order {
		total += 1 / math.Pow(float64(r+1), 1.2)
		cum[r] = total
	}
	people := make([]int, n)
	for i := range people {
		x := rng.Float64() * total
		people[i] = order[full-1]
		for r, c := range cum {
			if x < c {
				people[i] = order[r]
				break
			}
		}
	}
	// Visits, arms and goals come from a stream of their own, so the
	// cohorts above stay those of every earlier version of the crowd.
	visits := rand.New(rand.NewPCG(crowdSeed, uint64(n)^0x6f7574636f6d65))
	xs := crowdExperiments(rs)
	for _, x := range xs {
		res.experiments = append(res.experiments, x.ID)
	}
	devices := make([]crowdDevice, n)
	for i := range devices {
		d := &devices[i]
		d.last = math.MinInt64
		d.holdout = make([]bool, len(xs))
		d.goal = make([]bool, len(xs))
		for xi, x := range xs {
			d.holdout[xi] = visits.Float64() < x.Holdout
		}
	}
	current, err := c.Epoch(rs.ID, now)
	if err != nil {
		return nil, fmt.Errorf("-crowd: %w", err)
	}
	epochLen := time.Duration(rep.EpochDays) * 24 * time.Hour
	for epoch := current - crowdEpochs; epoch <= current; epoch++ {
		var sizes map[string]int64
		if epoch == current {
			if sizes, err = c.CohortSizes(ctx, rs.ID); err != nil {
				return nil, fmt.Errorf("-crowd: %w", err)
			}
		}
		var reports []collector.Report
		for i, person := range people {
			if visits.Float64() >= crowdVisit {
				continue
			}
			d := &devices[i]
			r := collector.Report{Ruleset: rs.ID, Epoch: &epoch, Mechanism: collector.MechanismKRR, Epsilon: &rep.Epsilon}
			// The answers about the last visit, if it is recent enough.
			if d.last != math.MinInt64 && epoch-d.last <= engine.MaxOutcomeLag {
				for xi, x := range xs {
					v := outcomeAnswer(visits, d.holdout[xi], d.goal[xi], x.Epsilon)
					about := d.last
					r.Outcomes = append(r.Outcomes, collector.OutcomeAnswer{Experiment: x.ID, Epoch: &about, Value: &v, Epsilon: &x.Epsilon})
					res.answers[x.ID]++
				}
			}
			// This visit: the experiments' slots are seen, and a goal
			// follows with the arm's rate.
			for xi := range xs {
				rate := cfg.base * (1 + cfg.lift)
				if d.holdout[xi] {
					rate = cfg.base
				}
				d.goal[xi] = visits.Float64() < rate
			}
			d.last = epoch
			if epoch >= current-1 {
				if v, ok := reported(cat[person], sizes, rep.MinK, index); ok {
					v = krr(rng, v, len(cat), rep.Epsilon)
					r.Value = &v
					res.cohorts[epoch]++
				}
			}
			if r.Value != nil || len(r.Outcomes) > 0 {
				reports = append(reports, r)
			}
		}
		// The intake takes a report only in its epoch: a past epoch's are
		// sent as of the same moment of the week in it.
		at := now.Add(-time.Duration(current-epoch) * epochLen)
		if err := sendReports(ctx, c, at, reports); err != nil {
			return nil, fmt.Errorf("-crowd: %w", err)
		}
	}
	return res, nil
}

// crowdDevice is one simulated device's part in the experiments: its arm
// in each (holdout: the comparison group), the epoch it last visited in,
// and whether it reached each experiment's goal then.
type crowdDevice struct {
	holdout []bool
	last    int64
	goal    []bool
}

// crowdExperiments are the ruleset's experiments the crowd takes part
// in, with the defaults the collector applies: those not run within
// another (whose arms would depend on the outer one's).
func crowdExperiments(rs *engine.Ruleset) []engine.Experiment {
	var out []engine.Experiment
	for _, x := range rs.Experiments {
		if x.Within != "" || !(x.Holdout > 0 && x.Holdout < 1) {
			continue
		}
		if !(x.Epsilon > 0) {
			x.Epsilon = engine.DefaultOutcomeEpsilon
		}
		out = append(out, x)
	}
	return out
}

// krr is k-ary randomized response as the engine draws it (engine/ldp.go,
// randSource.krr): v, in [0, k), with probability e^ε/(e^ε+k−1), else one
// of the k−1 other values, uniformly.
func krr(rng *rand.Rand, v, k int, epsilon float64) int {
	p := math.Exp(epsilon) / (math.Exp(epsilon) + float64(k) - 1)
	if k == 1 || rng.Float64() < p {
		return v
	}
	other := rng.IntN(k - 1)
	if other >= v {
		other++
	}
	return other
}

// outcomeAnswer is an experiment's outcome answer as the engine draws it
// (engine/experiment.go, Engine.outcomes): 2·arm + goal, the arm as drawn
// (0 the comparison group, 1 personalized) and the goal noised by
// randomized response over its two values, kept with probability
// e^ε/(e^ε+1) and flipped otherwise.
func outcomeAnswer(rng *rand.Rand, holdout, goal bool, epsilon float64) int {
	g := 0
	if goal {
		g = 1
	}
	v := krr(rng, g, 2, epsilon)
	if !holdout {
		v += 2
	}
	return v
}

// reported is the catalogue index of the cohort a person in cohort id
// reports: the finest prefix of id (cohort ids extend their coarser
// cohorts' ids, "a/b/c" inside "a/b" inside "a") whose published size is
// at least minK; with nothing published (sizes nil or empty), the first
// dimension alone. ok is false when none of them is published.
func reported(id string, sizes map[string]int64, minK int, index map[string]int) (v int, ok bool) {
	parts := strings.Split(id, "/")
	if len(sizes) == 0 {
		v, ok = index[parts[0]]
		return v, ok
	}
	for n := len(parts); n > 0; n-- {
		prefix := strings.Join(parts[:n], "/")
		if sizes[prefix] >= int64(minK) {
			v, ok = index[prefix]
			return v, ok
		}
	}
	return 0, false
}

// sendReports sends reports through the collector's intake as of at (a
// moment in their epoch), from crowdWorkers goroutines so the collector's
// writer commits them in groups. It returns once every report was
// acknowledged, that is committed.
func sendReports(ctx context.Context, c *collector.Collector, at time.Time, reports []collector.Report) error {
	bodies := make(chan []byte)
	errs := make(chan error, crowdWorkers)
	var wg sync.WaitGroup
	for range crowdWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range bodies {
				if err := c.AcceptAsOf(ctx, body, at); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var sendErr error
send:
	for _, r := range reports {
		body, err := json.Marshal(r)
		if err != nil {
			sendErr = err
			break
		}
		select {
		case bodies <- body:
		case sendErr = <-errs:
			break send
		}
	}
	close(bodies)
	wg.Wait()
	if sendErr == nil {
		select {
		case sendErr = <-errs:
		default:
		}
	}
	return sendErr
}

// fullCohorts is how many cohorts have a bucket in every dimension.
func fullCohorts(rs *engine.Ruleset) int {
	n := 1
	for _, d := range rs.Cohorts.Dimensions {
		n *= len(d.Buckets)
	}
	if len(rs.Cohorts.Dimensions) == 0 {
		return 0
	}
	return n
}

// spreadOrder ranks the full cohorts 0..full-1: each block of size group
// (one first-dimension bucket) shuffled by rng, then the blocks interleaved,
// so the most popular ranks go to a cohort of every bucket in turn.
func spreadOrder(rng *rand.Rand, full, group int) []int {
	if group < 1 || full%group != 0 {
		return rng.Perm(full)
	}
	blocks := full / group
	perms := make([][]int, blocks)
	for b := range perms {
		perms[b] = rng.Perm(group)
	}
	order := make([]int, 0, full)
	for r := range group {
		for b := range blocks {
			order = append(order, b*group+perms[b][r])
		}
	}
	return order
}
