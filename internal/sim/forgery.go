package sim

import (
	"fmt"
	"strconv"

	"github.com/edgewise/edgewise/collector"
	"github.com/edgewise/edgewise/engine"
)

// Forgery is what an adversary who posts forged reports can do to the
// published cohort sizes, which gate k-anonymity on every device: the
// first epoch's real reports, plus forged ones all naming a full cohort
// that nobody in the population is in, under the collector's own
// publication rule (collector.Publication, as GET /v1/cohort-sizes).
type Forgery struct {
	// Target is the empty full cohort the forged reports name.
	Target string `json:"target"`
	// Weight is how many people one forged report counts as once
	// debiased.
	Weight float64 `json:"weight"`
	// Margin is the collector's forgery margin (collector.DefaultForgeryMargin).
	Margin int `json:"margin"`
	// Needed is the fewest forged reports that publish Target with the
	// margin; NeededWithoutMargin the same without it.
	Needed              int `json:"needed"`
	NeededWithoutMargin int `json:"needed_without_margin"`
	// Withheld is what the margin costs: cohorts the real reports alone
	// would publish without it, and do not with it, and Published how
	// many they publish with it.
	Withheld  int `json:"withheld"`
	Published int `json:"published"`
	// Forged is the adversary of --forge N: how many forged reports it
	// sent, whether they published Target, and at what size.
	Forged          int   `json:"forged,omitempty"`
	TargetPublished bool  `json:"target_published,omitempty"`
	TargetSize      int64 `json:"target_size,omitempty"`
}

// maxForged bounds the search for Needed: past it a target counts as
// unreachable (Needed -1), as a collector's per-epoch cap would make it.
const maxForged = 1 << 24

// forgery measures the adversary against the first epoch's reports
// (their catalogue index counts, n in all). It returns nil when every
// full cohort has someone in it.
func forgery(rs *engine.Ruleset, stats []CohortStat, counts []int64, n int64, forged int) (*Forgery, error) {
	target := -1
	full := len(rs.Cohorts.Dimensions)
	for i, c := range stats {
		if c.Level == full && c.True == 0 {
			target = i
			break
		}
	}
	if target < 0 {
		return nil, nil
	}
	with, err := collector.NewPublication(rs, 0)
	if err != nil {
		return nil, err
	}
	without, err := collector.NewPublication(rs, -1)
	if err != nil {
		return nil, err
	}
	id := stats[target].ID
	f := &Forgery{Target: id, Weight: with.ForgedWeight(), Margin: with.Margin()}
	publishes := func(pub *collector.Publication, k int) (int64, bool) {
		c := append([]int64(nil), counts...)
		c[target] += int64(k)
		size, ok := pub.Sizes(c, n+int64(k))[id]
		return size, ok
	}
	f.Needed = fewest(func(k int) bool { _, ok := publishes(with, k); return ok })
	f.NeededWithoutMargin = fewest(func(k int) bool { _, ok := publishes(without, k); return ok })
	real, plain := with.Sizes(counts, n), without.Sizes(counts, n)
	f.Published = len(real)
	for c := range plain {
		if _, ok := real[c]; !ok {
			f.Withheld++
		}
	}
	if forged > 0 {
		f.Forged = forged
		f.TargetSize, f.TargetPublished = publishes(with, forged)
	}
	return f, nil
}

// fewest is the smallest k in [0, maxForged] for which ok(k) holds, ok
// being monotone, or -1.
func fewest(ok func(int) bool) int {
	if ok(0) {
		return 0
	}
	hi := 1
	for !ok(hi) {
		if hi >= maxForged {
			return -1
		}
		hi *= 2
	}
	lo := hi / 2 // !ok(lo)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// ForgeryIntro explains the audit's forged-reports section.
const ForgeryIntro = "Reports are anonymous, so anyone can post one, and debiasing makes each count as many people. " +
	"The published cohort sizes decide which cohorts devices report, so a forger who publishes a cohort nobody is in weakens k-anonymity for whoever joins it. " +
	"The collector publishes a size only when it reaches min_k with its forgery margin's worth of reports taken off; " +
	"the figures below are the first simulated epoch's real reports plus forged ones naming the first full cohort nobody is in, under the collector's own rule. " +
	"The intake bounds forging further: the current epoch only, a per-epoch cap, the site's origins, and an hourly allowance per address."

// Summary says in one line what it takes to publish the empty cohort.
func (f *Forgery) Summary() string {
	return fmt.Sprintf("each counts as %s people: %s publish %s, a cohort nobody is in, with the collector's margin of %d (%s without it); the margin withholds %d real cohorts, %d stay published",
		num(f.Weight), reports(f.Needed), f.Target, f.Margin, reports(f.NeededWithoutMargin), f.Withheld, f.Published)
}

// Outcome says what the adversary's --forge reports did.
func (f *Forgery) Outcome() string {
	if f.TargetPublished {
		return fmt.Sprintf("%s forged reports published %s as %d people.", strconv.Itoa(f.Forged), f.Target, f.TargetSize)
	}
	return fmt.Sprintf("%s forged reports did not publish %s.", strconv.Itoa(f.Forged), f.Target)
}

func reports(n int) string {
	if n < 0 {
		return "no number of reports up to " + strconv.Itoa(maxForged) + " would"
	}
	return strconv.Itoa(n) + " forged reports"
}
