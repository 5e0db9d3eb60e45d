package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abi"
)

// PopulationOptions size a population run.
type PopulationOptions struct {
	Visitors int    // how many synthetic visitors
	Seed     uint64 // the same seed gives the same visitors and the same noise
	Epochs   int    // report epochs to simulate (default DefaultEpochs)
	// Drift is the chance, each epoch after the first, that a visitor's
	// dominant interest shifts (see drift.go); 0 keeps every visitor's
	// behaviour fixed, as every population was before drift. The CLI's
	// --drift defaults to DefaultDrift.
	Drift float64
	// Forged is the adversary: how many forged reports, all naming a
	// full cohort nobody is in, it adds to the first epoch's (see
	// Forgery). The fewest that would publish that cohort are measured
	// whatever it is.
	Forged int
	// Experiments set up the run of the ruleset's experiments and their
	// power figures (experiments.go); a ruleset without experiments
	// ignores them.
	Experiments ExperimentOptions
	// Progress, when set, is called from the workers with the number of
	// steps just done, out of Steps (each visitor is built twice: once
	// for the true cohort sizes, once for its reports; and once more for
	// the experiments' run).
	Progress func(n int)
}

// Steps is how many steps Progress counts for a population of rs.
func (o PopulationOptions) Steps(rs *engine.Ruleset) int {
	if len(rs.Experiments) > 0 && !o.Experiments.Skip {
		return 3 * o.Visitors
	}
	return 2 * o.Visitors
}

// Variation turns personas into a population. Each synthetic visitor is a
// persona drawn by weight, then varied with its own seeded randomness:
const (
	// DropEvent is the chance each of the persona's events is left out
	// (only the first 64 events vary).
	DropEvent = 0.15
	// ExtraView is the chance of one more view, of a catalogue item drawn
	// uniformly, a minute after the persona's last visit.
	ExtraView = 0.3
	// Relocate is the chance the visitor's location signals (country,
	// subdivision, regions, location) are those of another persona drawn
	// uniformly.
	Relocate = 0.2
	// A visit count in the context moves by -1, 0 or +1 (at least 1).
)

// Audit populations: QuickPopulation is audit's default, seconds for an
// edit-and-check loop; FullPopulation is the reference population the
// re-identification target (TargetUnique after TargetEpochs) is stated for.
const (
	QuickPopulation = 10_000
	FullPopulation  = 100_000
)

// Population is what a simulated population's cohort reports reveal.
type Population struct {
	Ruleset  string `json:"ruleset"`
	Visitors int    `json:"visitors"`
	Seed     uint64 `json:"seed"`
	Epochs   int    `json:"epochs"`
	// Drift is the per-epoch chance that a visitor's dominant interest
	// shifts; Shifts counts the shifts over all reporters and epochs, and
	// CohortChanged the reporters whose true cohort changed at least once.
	Drift         float64 `json:"drift"`
	Shifts        int     `json:"interest_shifts"`
	CohortChanged int     `json:"cohort_changed"`
	EpochDays     int     `json:"epoch_days"`
	Epsilon       float64 `json:"epsilon"`
	MinK          int     `json:"min_k"`
	// Mechanism is the local differential privacy mechanism the engine
	// used (krr), as seen in its reports.
	Mechanism string `json:"mechanism"`
	// Start is the first simulated report's time; reports follow every
	// EpochDays.
	Start     time.Time      `json:"start"`
	Personas  []PersonaCount `json:"personas"`
	Reporters int            `json:"reporters"` // visitors whose engine makes cohort reports
	// NoReport counts the visitors who sent no report in the first epoch,
	// by the engine's reason.
	NoReport []ReasonCount `json:"no_report"`
	// Levels counts the first epoch's reports by how many cohort
	// dimensions they kept: fewer than the ruleset's is a k-anonymity
	// fallback to a coarser cohort.
	Levels []LevelCount `json:"levels"`
	// Cohorts is every cohort of the catalogue, in catalogue order.
	Cohorts []CohortStat `json:"cohorts"`
	// Sizes is the distribution of the full cohorts' true sizes.
	Sizes []SizeBin `json:"sizes"`
	// Unique is the re-identification curve: after each epoch, how many
	// reporters' sequences of reports are unique in the population.
	Unique []Uniqueness `json:"unique"`
	// UniqueWithoutNoise is the same for the sequences of the cohorts
	// the reports were about, before noise: what k-anonymity alone gives.
	UniqueWithoutNoise []Uniqueness `json:"unique_without_noise"`
	// EpsilonSpentMean and EpsilonSpentMax are the privacy the reporters
	// spent over all the epochs, from their engines' ledgers: ε for each
	// cohort a person was reported in, since repeated answers spend nothing.
	EpsilonSpentMean float64 `json:"epsilon_spent_mean"`
	EpsilonSpentMax  float64 `json:"epsilon_spent_max"`
	// EstimatesN is how many first-epoch reports the collector counted.
	EstimatesN int64 `json:"estimates_n"`
	// Forgery is what forged reports can do to the published sizes; nil
	// when every full cohort has someone in it.
	Forgery *Forgery `json:"forgery,omitempty"`
	// Experiments are the ruleset's experiments: their power figures and
	// the population's run of them through the collector; nil when it
	// has none.
	Experiments *Experiments `json:"experiments,omitempty"`
	// Elapsed is the wall time of the run (not stable across runs).
	Elapsed time.Duration `json:"-"`
}

// PersonaCount is how many visitors a persona gave.
type PersonaCount struct {
	ID        string `json:"id"`
	Visitors  int    `json:"visitors"`
	Reporters int    `json:"reporters"`
}

// ReasonCount is how many visitors sent no report for one reason.
type ReasonCount struct {
	Reason   string `json:"reason"`
	Visitors int    `json:"visitors"`
}

// LevelCount is how many reports kept Level cohort dimensions.
type LevelCount struct {
	Level   int  `json:"level"`
	Reports int  `json:"reports"`
	Coarser bool `json:"coarser"` // a fallback from the full cohort
}

// CohortStat is one cohort of the catalogue in the first simulated epoch.
type CohortStat struct {
	ID    string `json:"id"`
	Level int    `json:"level"` // its number of dimensions
	// True is how many reporters are in it (for coarser cohorts: in any
	// of its finer cohorts): the size table fed to the engine.
	True int `json:"true"`
	// Reported is how many reports were about it, before noise: the
	// count the collector's estimate is of.
	Reported int `json:"reported"`
	// Estimate and StdErr are the collector's debiased estimate of
	// Reported, from the noised reports; Suppressed when under min_k.
	Estimate   *float64 `json:"estimate,omitempty"`
	StdErr     *float64 `json:"stderr,omitempty"`
	Suppressed bool     `json:"suppressed"`
}

// SizeBin counts full cohorts whose true size is in [Min, Max].
type SizeBin struct {
	Label   string `json:"label"`
	Min     int    `json:"min"`
	Max     int    `json:"max"` // -1: no upper bound
	Cohorts int    `json:"cohorts"`
	People  int    `json:"people"`
	UnderK  bool   `json:"under_k"`
}

// Uniqueness is how many of Of sequences are unique after Epoch epochs.
type Uniqueness struct {
	Epoch    int     `json:"epoch"`
	Unique   int     `json:"unique"`
	Of       int     `json:"of"`
	Fraction float64 `json:"fraction"`
}

// UniqueSequences measures re-identification risk: seqs[v][e] is visitor
// v's report in epoch e ("" for none), and the result's e-th entry counts
// the visitors whose reports of epochs 0..e, as a sequence, no other
// visitor shares. Every visitor must have the same number of epochs.
func UniqueSequences(seqs [][]string) []Uniqueness {
	if len(seqs) == 0 {
		return nil
	}
	epochs := len(seqs[0])
	out := make([]Uniqueness, epochs)
	keys := make([]string, len(seqs))
	for e := 0; e < epochs; e++ {
		count := make(map[string]int, len(seqs))
		for v, s := range seqs {
			if len(s) != epochs {
				panic("sim.UniqueSequences: visitors with different numbers of epochs")
			}
			// Length-prefixed, so no two different sequences share a key.
			keys[v] += strconv.Itoa(len(s[e])) + ":" + s[e]
			count[keys[v]]++
		}
		u := 0
		for _, k := range keys {
			if count[k] == 1 {
				u++
			}
		}
		out[e] = Uniqueness{Epoch: e + 1, Unique: u, Of: len(seqs), Fraction: float64(u) / float64(len(seqs))}
	}
	return out
}

// visitorSpec is one synthetic visitor: everything that makes its engine
// state, so equal specs make equal engines.
type visitorSpec struct {
	persona int
	drop    uint64 // bit i: the persona's i-th event is left out
	extra   int    // catalogue index of an extra view; -1 none
	place   int    // the persona whose location signals the visitor has
	visits  int    // added to the context's visits
}

// plan is a population's fixed inputs.
type plan struct {
	s        *session
	ps       *Personas
	opts     PopulationOptions
	bases    [][]byte // per persona: empty profile, the persona's preferences
	sharing  []engine.EffectivePreferences
	cum      []float64 // cumulative persona weights
	events   [][]engine.Event
	lastAt   []time.Time
	start    time.Time // first report
	epochDur time.Duration
}

// at is the time of epoch e's report.
func (pl *plan) at(e int) time.Time { return pl.start.Add(time.Duration(e) * pl.epochDur) }

func (pl *plan) spec(i int) visitorSpec {
	rng := rand.New(chacha(pl.opts.Seed, i, purposeVisitor))
	u := rng.Float64() * pl.cum[len(pl.cum)-1]
	p := sort.SearchFloat64s(pl.cum, u)
	for p < len(pl.cum)-1 && pl.ps.Personas[p].Weight == 0 {
		p++
	}
	if p >= len(pl.cum) {
		p = len(pl.cum) - 1
	}
	sp := visitorSpec{persona: p, extra: -1, place: p}
	for j := range min(len(pl.events[p]), 64) {
		if rng.Float64() < DropEvent {
			sp.drop |= 1 << j
		}
	}
	if rng.Float64() < ExtraView {
		sp.extra = rng.IntN(len(pl.s.t.Ruleset.Catalogue))
	}
	if rng.Float64() < Relocate {
		sp.place = rng.IntN(len(pl.ps.Personas))
	}
	sp.visits = rng.IntN(3) - 1
	return sp
}

// build gives x the visitor's profile and returns its context (now unset).
func (pl *plan) build(ctx context.Context, x *instance, sp visitorSpec) (engine.Context, error) {
	if err := x.call(ctx, abi.OpRestore, abi.RestoreRequest{Snapshot: pl.bases[sp.persona]}, nil); err != nil {
		return engine.Context{}, err
	}
	if pl.sharing[sp.persona].Sharing != engine.SharingOff && pl.sharing[sp.persona].History {
		for j, ev := range pl.events[sp.persona] {
			if j < 64 && sp.drop&(1<<j) != 0 {
				continue
			}
			if err := x.call(ctx, abi.OpObserve, abi.ObserveRequest{Event: ev}, nil); err != nil {
				return engine.Context{}, err
			}
		}
		if sp.extra >= 0 {
			ev := engine.Event{Type: "view", Item: pl.s.t.Ruleset.Catalogue[sp.extra].ID, At: ms(pl.lastAt[sp.persona].Add(time.Minute))}
			if err := x.call(ctx, abi.OpObserve, abi.ObserveRequest{Event: ev}, nil); err != nil {
				return engine.Context{}, err
			}
		}
	}
	p := pl.ps.Personas[sp.persona]
	c := p.Visits[len(p.Visits)-1].Context
	if sp.place != sp.persona {
		q := pl.ps.Personas[sp.place]
		o := q.Visits[len(q.Visits)-1].Context
		c.Country, c.Subdivision, c.Regions, c.Location = o.Country, o.Subdivision, o.Regions, o.Location
	}
	if c.Visits != nil {
		v := max(*c.Visits+sp.visits, 1)
		c.Visits = &v
	}
	return c, nil
}

// Population simulates opts.Visitors visitors drawn from the personas over
// opts.Epochs report epochs, on a pool of engines.
//
// First, every distinct visitor's true cohort in each epoch (export's
// cohort) gives the true cohort sizes of the first epoch among the
// visitors whose engine reports: the size table, published as the
// collector publishes it (cohorts of min_k or more). Then each visitor is
// built again and, every epoch, sets its context and asks the engine for
// its report against that table; the engine applies k-anonymity and draws
// its noise, and the ledger says which level each report kept. The first
// epoch's reports go through the collector (package collector, in memory)
// for its debiased estimates.
func (r *Runner) Population(ctx context.Context, t Target, ps *Personas, opts PopulationOptions) (*Population, error) {
	began := time.Now()
	if opts.Visitors <= 0 {
		return nil, errors.New("a population needs at least one visitor")
	}
	if opts.Epochs <= 0 {
		opts.Epochs = DefaultEpochs
	}
	s, err := r.session(ctx, t, min(r.workers, opts.Visitors))
	if err != nil {
		return nil, err
	}
	defer s.close(ctx)
	if len(s.catalogue) == 0 {
		return nil, fmt.Errorf("ruleset %s defines no cohorts: nothing is ever reported", t.name())
	}
	pl, err := newPlan(ctx, s, ps, opts)
	if err != nil {
		return nil, err
	}
	n := opts.Visitors
	specs := make([]visitorSpec, n)
	for i := range specs {
		specs[i] = pl.spec(i)
	}

	// Pass 1: true cohorts in the first epoch, once per distinct visitor.
	// Drift starts after it, so this is what the size table is made of.
	var mu sync.Mutex
	truth := map[visitorSpec]string{}
	err = pl.each(ctx, n, func(x *instance, i int) error {
		sp := specs[i]
		mu.Lock()
		_, done := truth[sp]
		mu.Unlock()
		if done || pl.sharing[sp.persona].Sharing != engine.SharingCohorts {
			return nil
		}
		c, err := pl.build(ctx, x, sp)
		if err != nil {
			return err
		}
		c.Now = ms(pl.at(0))
		cohort, err := trueCohort(ctx, x, c)
		if err != nil {
			return err
		}
		mu.Lock()
		truth[sp] = cohort
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	index := map[string]int{}
	for i, id := range s.catalogue {
		index[id] = i
	}
	full := len(t.Ruleset.Cohorts.Dimensions)
	trueCount := map[string]int{}
	for _, sp := range specs {
		if tr := truth[sp]; tr != "" {
			parts := strings.Split(tr, "/")
			for l := 1; l <= len(parts); l++ {
				trueCount[strings.Join(parts[:l], "/")]++
			}
		}
	}
	// The size table devices get: like the collector's /v1/cohort-sizes,
	// only the cohorts of min_k or more (a cohort missing from it has size
	// 0, which is under min_k too).
	sizes := map[string]float64{}
	for id, c := range trueCount {
		if c >= s.policy.MinK {
			sizes[id] = float64(c)
		}
	}

	// Pass 2: every visitor's reports, with their interests drifting.
	type outcome struct {
		keys   []string // per epoch: the report as sent ("" none)
		levels []int    // per epoch: dimensions kept (0 none)
		truth  []string // per epoch: the true cohort
		shifts int      // interest shifts
		first  *engine.Report
		reason string  // the first epoch's reason for no report
		spent  float64 // the ledger's epsilon spent over the epochs
	}
	in := interestsOf(t.Ruleset)
	outs := make([]outcome, n)
	err = pl.each(ctx, n, func(x *instance, i int) error {
		sp := specs[i]
		o := &outs[i]
		if _, ok := truth[sp]; !ok {
			o.reason = noReportReason(pl.sharing[sp.persona])
			return nil
		}
		c, err := pl.build(ctx, x, sp)
		if err != nil {
			return err
		}
		var d *drifter
		if in != nil && opts.Drift > 0 && pl.sharing[sp.persona].History {
			d = &drifter{in: in, rate: opts.Drift, rng: rand.New(chacha(opts.Seed, i, purposeDrift))}
		}
		x.rnd.src = stream(opts.Seed, i, purposeNoise)
		o.keys = make([]string, opts.Epochs)
		o.levels = make([]int, opts.Epochs)
		o.truth = make([]string, opts.Epochs)
		for e := range opts.Epochs {
			now := pl.at(e)
			c.Now = ms(now)
			// The cohort changes only when the events or the context do: it
			// is read from the engine in the first epoch and after a shift,
			// the only events and the only change after the first epoch.
			// (Reading it every epoch would double a population's time.)
			if e == 0 {
				o.truth[e], err = trueCohort(ctx, x, c)
			} else {
				o.truth[e], err = d.step(ctx, x, c, o.truth[e-1])
				if o.truth[e] != "" {
					o.shifts++
				} else {
					o.truth[e] = o.truth[e-1]
					err = x.call(ctx, abi.OpSetContext, abi.SetContextRequest{Context: c}, nil)
				}
			}
			if err != nil {
				return err
			}
			var res abi.ReportResult
			if err := x.call(ctx, abi.OpReport, reportRequest{Now: ms(now), Sizes: sizesFor(sizes, o.truth[e])}, &res); err != nil {
				return err
			}
			if res.Report == nil {
				if e == 0 {
					o.reason = res.Reason
				}
				continue
			}
			o.keys[e] = reportKey(res.Report)
			if e == 0 {
				o.first = res.Report
			}
		}
		var l abi.LedgerResult
		if err := x.call(ctx, abi.OpLedger, struct{}{}, &l); err != nil {
			return err
		}
		o.spent = l.EpsilonSpent
		first := ms(pl.start) / pl.epochDur.Milliseconds()
		for _, le := range l.Entries {
			if e := le.Epoch - first; e >= 0 && e < int64(opts.Epochs) {
				o.levels[e] = le.Level
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Tally.
	out := &Population{
		Ruleset: t.name(), Visitors: n, Seed: opts.Seed, Epochs: opts.Epochs, Drift: opts.Drift,
		EpochDays: s.policy.EpochDays, Epsilon: s.policy.Epsilon, MinK: s.policy.MinK,
		Start: pl.start.UTC(),
	}
	byPersona := make([]PersonaCount, len(ps.Personas))
	for i, p := range ps.Personas {
		byPersona[i].ID = p.ID
	}
	reasons := map[string]int{}
	levels := map[int]int{}
	stats := make([]CohortStat, len(s.catalogue))
	for i, id := range s.catalogue {
		stats[i] = CohortStat{ID: id, Level: strings.Count(id, "/") + 1, True: trueCount[id]}
	}
	var seqs, trueSeqs [][]string
	var firsts []*engine.Report
	for i, o := range outs {
		sp := specs[i]
		byPersona[sp.persona].Visitors++
		if o.keys == nil {
			reasons[o.reason]++
			continue
		}
		out.Reporters++
		byPersona[sp.persona].Reporters++
		out.Shifts += o.shifts
		if slices.ContainsFunc(o.truth, func(c string) bool { return c != o.truth[0] }) {
			out.CohortChanged++
		}
		out.EpsilonSpentMean += o.spent
		out.EpsilonSpentMax = max(out.EpsilonSpentMax, o.spent)
		if o.first == nil {
			reasons[o.reason]++
		} else {
			firsts = append(firsts, o.first)
			out.Mechanism = o.first.Mechanism
		}
		ts := make([]string, opts.Epochs)
		for e, l := range o.levels {
			if parts := strings.Split(o.truth[e], "/"); l > 0 && l <= len(parts) {
				ts[e] = strings.Join(parts[:l], "/")
			}
		}
		if l := o.levels[0]; l > 0 {
			levels[l]++
			stats[index[ts[0]]].Reported++
		}
		seqs = append(seqs, o.keys)
		trueSeqs = append(trueSeqs, ts)
	}
	if out.Reporters > 0 {
		out.EpsilonSpentMean /= float64(out.Reporters)
	}
	out.Personas = byPersona
	for reason, c := range reasons {
		out.NoReport = append(out.NoReport, ReasonCount{reason, c})
	}
	sort.Slice(out.NoReport, func(i, j int) bool {
		a, b := out.NoReport[i], out.NoReport[j]
		return a.Visitors > b.Visitors || a.Visitors == b.Visitors && a.Reason < b.Reason
	})
	for l := full; l >= 1; l-- {
		if levels[l] > 0 || l == full {
			out.Levels = append(out.Levels, LevelCount{Level: l, Reports: levels[l], Coarser: l < full})
		}
	}
	out.Sizes = sizeBins(stats, full, s.policy.MinK)
	out.Unique = UniqueSequences(seqs)
	out.UniqueWithoutNoise = UniqueSequences(trueSeqs)
	if len(firsts) > 0 {
		n, err := estimate(ctx, t.Ruleset, pl.start, firsts, stats)
		if err != nil {
			return nil, fmt.Errorf("collector estimates: %w", err)
		}
		out.EstimatesN = n
		counts := make([]int64, len(stats))
		for _, r := range firsts {
			if r.Value != nil && *r.Value >= 0 && *r.Value < len(counts) {
				counts[*r.Value]++
			}
		}
		if out.Forgery, err = forgery(t.Ruleset, stats, counts, int64(len(firsts)), opts.Forged); err != nil {
			return nil, fmt.Errorf("forged reports: %w", err)
		}
	}
	out.Cohorts = stats
	if len(t.Ruleset.Experiments) > 0 {
		var run *ExperimentsRun
		var runs []ExperimentRun
		if !opts.Experiments.Skip {
			if run, runs, err = pl.runExperiments(ctx, specs, truth, sizes); err != nil {
				return nil, fmt.Errorf("experiments: %w", err)
			}
		}
		measured := 0
		for _, sp := range specs {
			if pr := pl.sharing[sp.persona]; pr.Sharing == engine.SharingCohorts && pr.History {
				measured++
			}
		}
		out.Experiments = experimentsOf(t.Ruleset, s.policy.EpochDays, opts.Experiments, measured, run, runs)
	}
	out.Elapsed = time.Since(began)
	return out, nil
}

// trueCohort sets the context c and returns the visitor's cohort as the
// engine's export gives it.
func trueCohort(ctx context.Context, x *instance, c engine.Context) (string, error) {
	if err := x.call(ctx, abi.OpSetContext, abi.SetContextRequest{Context: c}, nil); err != nil {
		return "", err
	}
	var ex exportResult
	if err := x.call(ctx, abi.OpExport, struct{}{}, &ex); err != nil {
		return "", err
	}
	return ex.Export.Cohort, nil
}

// noReportReason is why a visitor whose preferences allow no reports
// sends none, in the engine's words (engine.ReasonSharing).
func noReportReason(p engine.EffectivePreferences) string {
	r := engine.ReasonSharing + p.Sharing
	if p.GPCApplied {
		r += " (Global Privacy Control)"
	}
	return r
}

// reportRequest is abi.ReportRequest with sizes always sent: an empty
// table (every cohort under min_k) is not the same as none.
type reportRequest struct {
	Now   int64              `msgpack:"now"`
	Sizes map[string]float64 `msgpack:"sizes"`
}

// sizesFor is the part of the size table a report by a person in cohort
// needs. The engine looks up only the cohort and the coarser cohorts it
// falls back to (engine/cohort.go), so the rest of the table cannot change
// the report; and a cohort of min_k or more is used as it is, which is
// what a report with no table does. Decoding a table costs the wasm
// engine about 0.2 ms a report, most of a population's time.
func sizesFor(table map[string]float64, cohort string) map[string]float64 {
	if cohort == "" {
		return nil
	}
	if _, ok := table[cohort]; ok {
		return nil // published, so at least min_k: the full cohort
	}
	out := map[string]float64{}
	for c := cohort; ; {
		if n, ok := table[c]; ok {
			out[c] = n
		}
		i := strings.LastIndexByte(c, '/')
		if i < 0 {
			return out
		}
		c = c[:i]
	}
}

// reportKey is a report as it is sent, as a string.
func reportKey(r *engine.Report) string {
	if r.Value == nil {
		return r.Mechanism
	}
	return r.Mechanism + ":" + strconv.Itoa(*r.Value)
}

func sizeBins(stats []CohortStat, full, minK int) []SizeBin {
	bins := []SizeBin{
		{Label: "empty", Min: 0, Max: 0},
		{Label: fmt.Sprintf("1–%d (under min_k)", minK-1), Min: 1, Max: minK - 1, UnderK: true},
		{Label: fmt.Sprintf("%d–%d", minK, 10*minK-1), Min: minK, Max: 10*minK - 1},
		{Label: fmt.Sprintf("%d–%d", 10*minK, 100*minK-1), Min: 10 * minK, Max: 100*minK - 1},
		{Label: fmt.Sprintf("%d or more", 100*minK), Min: 100 * minK, Max: -1},
	}
	for _, c := range stats {
		if c.Level != full {
			continue
		}
		for i := range bins {
			if c.True >= bins[i].Min && (bins[i].Max < 0 || c.True <= bins[i].Max) {
				bins[i].Cohorts++
				bins[i].People += c.True
				break
			}
		}
	}
	return bins
}

// newPlan fixes the personas' events and times and makes a base snapshot
// per persona: an empty profile with its preferences.
func newPlan(ctx context.Context, s *session, ps *Personas, opts PopulationOptions) (*plan, error) {
	pl := &plan{s: s, ps: ps, opts: opts, epochDur: s.epoch()}
	x := s.pool[0]
	var last time.Time
	total := 0.0
	for _, p := range ps.Personas {
		if err := x.reset(ctx); err != nil {
			return nil, err
		}
		var pr abi.PreferencesResult
		if err := x.call(ctx, abi.OpSetPreferences, abi.SetPreferencesRequest{Preferences: p.Preferences}, &pr); err != nil {
			return nil, placed(p.Pos, err)
		}
		var snap abi.SnapshotResult
		if err := x.call(ctx, abi.OpSnapshot, struct{}{}, &snap); err != nil {
			return nil, err
		}
		pl.bases = append(pl.bases, snap.Snapshot)
		pl.sharing = append(pl.sharing, pr.Preferences)
		var evs []engine.Event
		at := ps.Start
		for _, v := range p.Visits {
			va := ps.Start.Add(v.At)
			if va.After(at) {
				at = va
			}
			for _, ev := range v.Events {
				t := va.Add(ev.After)
				if t.After(at) {
					at = t
				}
				evs = append(evs, engine.Event{Type: ev.Type, Item: ev.Item, At: ms(t)})
			}
		}
		pl.events = append(pl.events, evs)
		pl.lastAt = append(pl.lastAt, at)
		if at.After(last) {
			last = at
		}
		total += p.Weight
		pl.cum = append(pl.cum, total)
	}
	// The first report an hour after the last persona's last visit.
	pl.start = last.Add(time.Hour)
	return pl, nil
}

// placed puts an engine error at a place in the personas file.
func placed(pos Pos, err error) error {
	var ee *EngineError
	if errors.As(err, &ee) {
		return Errors{{Pos: pos, Msg: ee.Message}}
	}
	return err
}

// each runs f for visitors 0..n-1 on the session's engines in parallel,
// reporting progress per visitor.
func (pl *plan) each(ctx context.Context, n int, f func(x *instance, i int) error) error {
	var next atomic.Int64
	const chunk = 32
	errs := make([]error, len(pl.s.pool))
	var wg sync.WaitGroup
	for w := range pl.s.pool {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := pl.s.pool[w]
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				hi := min(lo+chunk, n)
				for i := lo; i < hi; i++ {
					if err := ctx.Err(); err != nil {
						errs[w] = err
						next.Store(int64(n))
						return
					}
					if err := f(x, i); err != nil {
						errs[w] = fmt.Errorf("visitor %d: %w", i, err)
						next.Store(int64(n))
						return
					}
				}
				if pl.opts.Progress != nil {
					pl.opts.Progress(hi - lo)
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
