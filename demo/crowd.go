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
// the server send, at startup, the reports N simulated devices would send
// in the previous epoch and in the current one: the cohort each would
// report, randomized on "the device" as the engine does (memoized k-ary
// randomized response draws the same way for a first answer), counted
// through the collector's own intake. The dashboard says how many of its
// reports are simulated.

// crowdSeed fixes the simulated crowd, so every run shows the same picture.
const crowdSeed = 7

// crowdWorkers send reports concurrently, so the collector's writer commits
// them in groups.
const crowdWorkers = 16

// seedCrowd sends the reports n simulated devices would send in the
// previous and the current epoch at now. The simulated people fall in the
// ruleset's full cohorts (the first entries of the cohort catalogue) with
// Zipf-like popularity, in an order fixed by crowdSeed, and report as the
// engine does: the finest cohort of theirs that the collector's published
// sizes show to hold at least min_k people, randomized with k-ary
// randomized response. In the previous epoch nothing was published yet,
// so each reports the cohort of the first dimension alone (see RATIONALE,
// "Why does an empty size table start reports at the coarsest cohort?");
// in the current epoch each reads the sizes the previous epoch's reports
// published, from the collector itself, and skips reporting when none of
// its cohorts is published. It returns how many reports it sent per epoch.
func seedCrowd(ctx context.Context, c *collector.Collector, rs *engine.Ruleset, n int, now time.Time) (map[int64]int, error) {
	sent := map[int64]int{}
	if n <= 0 {
		return sent, nil
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
	// k-ary randomized response, as the engine draws it (engine/ldp.go):
	// the true cohort with probability p, else one of the others uniformly.
	k := len(cat)
	p := math.Exp(rep.Epsilon) / (math.Exp(rep.Epsilon) + float64(k) - 1)
	current, err := c.Epoch(rs.ID, now)
	if err != nil {
		return nil, fmt.Errorf("-crowd: %w", err)
	}
	for _, epoch := range []int64{current - 1, current} {
		var sizes map[string]int64
		if epoch == current {
			var err error
			if sizes, err = c.CohortSizes(ctx, rs.ID); err != nil {
				return nil, fmt.Errorf("-crowd: %w", err)
			}
		}
		var values []int
		for _, person := range people {
			v, ok := reported(cat[person], sizes, rep.MinK, index)
			if !ok {
				continue
			}
			if k > 1 && rng.Float64() >= p {
				other := rng.IntN(k - 1)
				if other >= v {
					other++
				}
				v = other
			}
			values = append(values, v)
		}
		// The intake takes a report only in its epoch: the past epoch's are
		// sent as of a moment inside it.
		at := now
		for e, _ := c.Epoch(rs.ID, at); e > epoch; e, _ = c.Epoch(rs.ID, at) {
			at = at.Add(-24 * time.Hour)
		}
		if err := sendReports(ctx, c, rs.ID, epoch, at, rep.Epsilon, values); err != nil {
			return nil, fmt.Errorf("-crowd: %w", err)
		}
		sent[epoch] = len(values)
	}
	return sent, nil
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

// sendReports sends one k-ary randomized response report per value for
// epoch, through the collector's intake as of at (a moment in epoch), from crowdWorkers goroutines so
// the collector's writer commits them in groups. It returns once every
// report was acknowledged, that is committed.
func sendReports(ctx context.Context, c *collector.Collector, ruleset string, epoch int64, at time.Time, epsilon float64, values []int) error {
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
	for _, v := range values {
		body, err := json.Marshal(collector.Report{Ruleset: ruleset, Epoch: &epoch, Mechanism: collector.MechanismKRR, Value: &v, Epsilon: &epsilon})
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
