package engine

import "slices"

// Reporting defaults.
const (
	DefaultEpochDays = 7
	// MaxLedgerEntries bounds the ledger; the oldest entries go first.
	MaxLedgerEntries = 1000
	// maxStoredReports bounds the per-ruleset reports kept for their epoch.
	maxStoredReports = 64
	// maxAnswers bounds the memoized answers (see ldp.go); the oldest go
	// first, and a cohort whose answer was dropped draws a new one.
	maxAnswers = 64
	// AnswerPeriodDays: a device sends one answer per ruleset for a whole
	// answer period, ceil(AnswerPeriodDays / epoch_days) epochs counted
	// from the Unix epoch (53 weekly epochs), whatever its cohort does
	// meanwhile; see ldp.go.
	AnswerPeriodDays = 366
	// MaxOutcomeLag is how many epochs back an outcome answer may be
	// about: an epoch's outcome is known only once it ends, and is sent
	// with the person's next report, if that comes within this many
	// epochs of it.
	MaxOutcomeLag = 4
)

// Report is one epoch's report (see ldp.go and cohort.go): Value is the
// noised cohort catalogue index, and Epsilon the mechanism's ε, which the
// collector needs to debias the counts. Value is nil when no cohort is
// reported but Outcomes are.
type Report struct {
	Ruleset   string  `msgpack:"ruleset" json:"ruleset"`
	Epoch     int64   `msgpack:"epoch" json:"epoch"`
	Mechanism string  `msgpack:"mechanism" json:"mechanism"`
	Value     *int    `msgpack:"value,omitempty" json:"value,omitempty"`
	Epsilon   float64 `msgpack:"epsilon" json:"epsilon"`
	// Outcomes are the experiments' noised outcome answers about an
	// earlier epoch, one per experiment the person was in then.
	Outcomes []Outcome `msgpack:"outcomes,omitempty" json:"outcomes,omitempty"`
}

// Outcome is one experiment's answer about one epoch: Value is 2·arm +
// goal, arm 0 the holdout and 1 personalized, as drawn, and goal 1 when a
// goal happened, noised by randomized response at Epsilon: kept with
// probability e^ε/(e^ε+1), flipped otherwise (see experiment.go).
type Outcome struct {
	Experiment string  `msgpack:"experiment" json:"experiment"`
	Epoch      int64   `msgpack:"epoch" json:"epoch"`
	Value      int     `msgpack:"value" json:"value"`
	Epsilon    float64 `msgpack:"epsilon" json:"epsilon"`
}

// ReportPause is the one thing erasing the profile keeps about reports: that
// a report for Ruleset went out in the answer period that ends at Until
// (Unix ms), so none may go out again before then. The report, its answer
// and the ledger are erased; without this, the next report would draw a
// fresh noisy answer in the same period: about the same cohort, one to
// average with the first, or about another, a change that singles the
// person out.
type ReportPause struct {
	Ruleset string `msgpack:"ruleset" json:"ruleset"`
	Until   int64  `msgpack:"until" json:"until"`
}

// maxPauses bounds the pauses kept (one per ruleset; expired ones go).
const maxPauses = 16

// pauseUntil is when the pause for ruleset ends, or 0, dropping pauses
// that ended by now.
func (e *Engine) pauseUntil(ruleset string, now int64) int64 {
	e.pauses = slices.DeleteFunc(e.pauses, func(p ReportPause) bool { return p.Until <= now })
	for _, p := range e.pauses {
		if p.Ruleset == ruleset {
			return p.Until
		}
	}
	return 0
}

// pause records that a report for ruleset went out in the epoch ending at until.
func (e *Engine) pause(ruleset string, until int64) {
	e.pauses = slices.DeleteFunc(e.pauses, func(p ReportPause) bool { return p.Ruleset == ruleset })
	e.pauses = append(e.pauses, ReportPause{Ruleset: ruleset, Until: until})
	if n := len(e.pauses); n > maxPauses {
		e.pauses = slices.Delete(e.pauses, 0, n-maxPauses)
	}
}

// answer is a memoized noised answer about one true cohort (see ldp.go).
type answer struct {
	Ruleset string  `msgpack:"ruleset"`
	K       int     `msgpack:"k"`
	Epsilon float64 `msgpack:"epsilon"`
	Cohort  int     `msgpack:"cohort"`
	Value   int     `msgpack:"value"`
}

// LedgerEntry records one report the device produced; the ledger never
// leaves the device.
type LedgerEntry struct {
	Ruleset string `msgpack:"ruleset" json:"ruleset"`
	Epoch   int64  `msgpack:"epoch" json:"epoch"`
	// Level is how many dimensions the reported cohort has (fewer than the
	// ruleset's when k-anonymity made it coarser).
	Level     int    `msgpack:"level" json:"level"`
	Mechanism string `msgpack:"mechanism" json:"mechanism"`
	// Epsilon is the privacy this report spent: the ruleset's ε when its
	// answer was drawn, 0 when it repeated the answer already given about
	// the same cohort (see ldp.go).
	Epsilon float64 `msgpack:"epsilon" json:"epsilon"`
	At      int64   `msgpack:"at" json:"at"`
	// Experiment is set for an experiment's outcome answer, whose Epoch is
	// the epoch it is about; Level is then 0.
	Experiment string `msgpack:"experiment,omitempty" json:"experiment,omitempty"`
}

// Reasons a report is null.
const (
	ReasonSharing      = "sharing level "
	ReasonNoCohorts    = "the ruleset defines no cohorts"
	ReasonUnassignable = "no bucket fits the person in dimension "
	ReasonBelowK       = "every cohort the person fits is below min_k"
	ReasonPastEpoch    = "a report was already made for a later epoch"
	// ReasonAlreadyReported: the profile was erased (Forget me) after a
	// report of this answer period went out, and a second, freshly noised
	// answer in the same period could be averaged with the first, or single
	// the person out by its change.
	ReasonAlreadyReported = "an answer was already sent in this answer period; the next can go when it ends"
)

func (c *compiledRuleset) epochMillis() int64 {
	d := c.reporting.EpochDays
	if d <= 0 {
		d = DefaultEpochDays
	}
	return int64(d) * dayMillis
}

// periodEpochs is how many epochs an answer period holds.
func (c *compiledRuleset) periodEpochs() int64 {
	d := c.epochMillis() / dayMillis
	return (AnswerPeriodDays + d - 1) / d
}

func (c *compiledRuleset) epsilon() float64 {
	if e := c.reporting.Epsilon; e > 0 {
		return e
	}
	return DefaultEpsilon
}

func (c *compiledRuleset) minK() float64 {
	if k := c.reporting.MinK; k > 0 {
		return float64(k)
	}
	return DefaultMinK
}

// Report returns the person's noised cohort report for the epoch holding
// now (Unix ms), or nil and the reason there is none. sizes are the
// collector's published cohort size estimates by cohort id, for
// k-anonymity (nil: use the full cohort).
//
// A report is made only when the effective sharing is cohorts. The first
// call in an epoch draws the report, stores it and records it in the
// ledger; later calls in the same epoch return that same report. Within an
// answer period every report repeats the period's first answer, whatever
// the person's cohort has become (see ldp.go). After the profile is erased,
// none is made until the answer period of the last one ends (ReportPause).
func (e *Engine) Report(now int64, sizes map[string]float64) (*Report, string, error) {
	if e.rules == nil {
		return nil, "", errNoRuleset()
	}
	if now <= 0 {
		return nil, "", &Error{Code: CodeBadRequest, Message: "report needs now: a positive Unix time in milliseconds"}
	}
	if s := e.prefs.effectiveSharing(); s != SharingCohorts {
		return nil, ReasonSharing + s, nil
	}
	c := e.rules
	epoch := now / c.epochMillis()
	var last *Report
	for _, r := range e.profile.reports {
		if r.Ruleset != c.id {
			continue
		}
		if r.Epoch == epoch {
			return &r, "", nil
		}
		if r.Epoch > epoch {
			return nil, ReasonPastEpoch, nil
		}
		last = &r
	}
	value, level, fresh, reason := e.cohortAnswer(epoch, now, sizes, last)
	outcomes := e.outcomes(epoch, now)
	if value < 0 && len(outcomes) == 0 {
		return nil, reason, nil
	}
	return e.keepReport(epoch, value, level, fresh, outcomes, now), "", nil
}

// cohortAnswer is the noised cohort answer of a report of epoch: the
// period's answer again, or a new one (fresh); value is -1 with the
// reason when there is none. last is the ruleset's last report, if any.
func (e *Engine) cohortAnswer(epoch, now int64, sizes map[string]float64, last *Report) (value, level int, fresh bool, reason string) {
	c := e.rules
	dims := c.cohorts.Dimensions
	if len(dims) == 0 {
		return -1, 0, false, ReasonNoCohorts
	}
	pe := c.periodEpochs()
	if last != nil && last.Value != nil && last.Epoch/pe == epoch/pe {
		if a, ok := e.profile.periodAnswer(c.id, catalogueSize(dims), c.epsilon(), *last); ok {
			return a.Value, cohortLevel(dims, a.Cohort), false, ""
		}
	} else if e.pauseUntil(c.id, now) > now {
		// No answer went in this period yet, unless one went before the
		// profile was erased (or only outcomes went since).
		return -1, 0, false, ReasonAlreadyReported
	}
	buckets, dim := e.assignCohort()
	if buckets == nil {
		return -1, 0, false, ReasonUnassignable + quote(dim)
	}
	if sizes != nil && len(sizes) == 0 {
		// The collector has published no sizes yet (a new ruleset, or a
		// new deployment): start with the coarsest cohort, so that reports
		// can build the first table at all.
		buckets = buckets[:1]
	} else if sizes != nil {
		minK := c.minK()
		for len(buckets) > 0 && sizes[cohortID(dims, buckets)] < minK {
			buckets = buckets[:len(buckets)-1]
		}
		if len(buckets) == 0 {
			return -1, 0, false, ReasonBelowK
		}
	}
	k := catalogueSize(dims)
	v := cohortIndex(dims, buckets)
	value, fresh = e.profile.answerFor(c.id, k, c.epsilon(), v, func() int { return e.random.krr(v, k, c.epsilon()) })
	return value, len(buckets), fresh, ""
}

// keepReport makes the report of epoch with the cohort answer value (-1
// for none) and outcomes, and keeps it for the epoch. A cohort answer is
// recorded in the ledger (level: the dimensions of the cohort it is
// about; fresh: its answer was drawn now) and pauses reports until the
// answer period ends.
func (e *Engine) keepReport(epoch int64, value, level int, fresh bool, outcomes []Outcome, now int64) *Report {
	c := e.rules
	eps := c.epsilon()
	r := Report{Ruleset: c.id, Epoch: epoch, Mechanism: MechanismKRR, Epsilon: eps, Outcomes: outcomes}
	if value >= 0 {
		r.Value = &value
	}
	e.profile.reports = slices.DeleteFunc(e.profile.reports, func(o Report) bool { return o.Ruleset == c.id })
	e.profile.reports = append(e.profile.reports, r)
	if n := len(e.profile.reports); n > maxStoredReports {
		e.profile.reports = slices.Delete(e.profile.reports, 0, n-maxStoredReports)
	}
	if value < 0 {
		return &r
	}
	spent := 0.0
	if fresh {
		spent = eps
	}
	e.profile.addLedger(LedgerEntry{Ruleset: c.id, Epoch: epoch, Level: level, Mechanism: MechanismKRR, Epsilon: spent, At: now})
	pe := c.periodEpochs()
	e.pause(c.id, (epoch/pe+1)*pe*c.epochMillis())
	return &r
}

// periodAnswer finds the memoized answer that the report last sent (of K
// cohorts at ε, in ruleset), the newest when two cohorts share its value;
// none when the catalogue or ε changed since, or the answer was dropped.
func (p *profile) periodAnswer(ruleset string, k int, eps float64, last Report) (answer, bool) {
	if last.Value == nil || last.Epsilon != eps {
		return answer{}, false
	}
	for i := len(p.answers) - 1; i >= 0; i-- {
		if a := p.answers[i]; a.Ruleset == ruleset && a.K == k && a.Epsilon == eps && a.Value == *last.Value {
			return a, true
		}
	}
	return answer{}, false
}

// answerFor returns the memoized answer about true cohort v (of K, at ε, in
// ruleset), drawing and keeping one with draw when there is none; fresh
// says it was drawn now.
func (p *profile) answerFor(ruleset string, k int, eps float64, v int, draw func() int) (value int, fresh bool) {
	for _, a := range p.answers {
		if a.Ruleset == ruleset && a.K == k && a.Epsilon == eps && a.Cohort == v {
			return a.Value, false
		}
	}
	value = draw()
	p.answers = append(p.answers, answer{Ruleset: ruleset, K: k, Epsilon: eps, Cohort: v, Value: value})
	if n := len(p.answers); n > maxAnswers {
		p.answers = slices.Delete(p.answers, 0, n-maxAnswers)
	}
	return value, true
}

func (p *profile) addLedger(le LedgerEntry) {
	p.ledger = append(p.ledger, le)
	if n := len(p.ledger); n > MaxLedgerEntries {
		p.ledger = slices.Delete(p.ledger, 0, n-MaxLedgerEntries)
	}
}

// Ledger returns every report the device produced, oldest first, and the
// total epsilon they spent. It works with or without a ruleset loaded.
func (e *Engine) Ledger() ([]LedgerEntry, float64) {
	out := slices.Clone(e.profile.ledger)
	if out == nil {
		out = []LedgerEntry{}
	}
	total := 0.0
	for _, le := range out {
		total += le.Epsilon
	}
	return out, total
}
