package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
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
// in the previous epoch and in the current one: randomized on "the device"
// exactly as the engine does for optimized unary encoding, and counted
// through the collector's own intake. The dashboard says how many of its
// reports are simulated.

// crowdSeed fixes the simulated crowd, so every run shows the same picture.
const crowdSeed = 7

// crowdWorkers send reports concurrently, so the collector's writer commits
// them in groups.
const crowdWorkers = 16

// seedCrowd sends n simulated reports for each of the previous and the
// current epoch at now. The simulated people fall in the ruleset's full
// cohorts (the first entries of the cohort catalogue) with Zipf-like
// popularity, in an order fixed by crowdSeed.
func seedCrowd(ctx context.Context, c *collector.Collector, rs *engine.Ruleset, n int, now time.Time) error {
	if n <= 0 {
		return nil
	}
	cat := collector.Catalogue(rs)
	full := fullCohorts(rs)
	if len(cat) == 0 || full == 0 {
		return fmt.Errorf("-crowd: ruleset %s has no cohorts", rs.ID)
	}
	rep := displayOf(rs).Reporting
	rng := rand.New(rand.NewPCG(crowdSeed, uint64(n)))
	// Popularity: the cohort at rank r has weight 1/(r+1)^1.2.
	order := rng.Perm(full)
	cum := make([]float64, full)
	total := 0.0
	for r := range order {
		total += 1 / math.Pow(float64(r+1), 1.2)
		cum[r] = total
	}
	pick := func() int {
		x := rng.Float64() * total
		for r, c := range cum {
			if x < c {
				return order[r]
			}
		}
		return order[full-1]
	}
	// k-ary randomized response, as the engine draws it (engine/ldp.go):
	// the true cohort with probability p, else one of the others uniformly.
	k := len(cat)
	p := math.Exp(rep.Epsilon) / (math.Exp(rep.Epsilon) + float64(k) - 1)
	current := epochOf(now, rep.EpochDays)
	bodies := make(chan []byte)
	errs := make(chan error, crowdWorkers)
	var wg sync.WaitGroup
	for range crowdWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range bodies {
				if err := c.Accept(ctx, body); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var sendErr error
send:
	for _, epoch := range []int64{current - 1, current} {
		for range n {
			v := pick()
			if k > 1 && rng.Float64() >= p {
				other := rng.IntN(k - 1)
				if other >= v {
					other++
				}
				v = other
			}
			body, err := json.Marshal(collector.Report{Ruleset: rs.ID, Epoch: &epoch, Mechanism: collector.MechanismKRR, Value: &v, Epsilon: &rep.Epsilon})
			if err != nil {
				sendErr = err
				break send
			}
			select {
			case bodies <- body:
			case sendErr = <-errs:
				break send
			}
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
	if sendErr != nil {
		return fmt.Errorf("-crowd: %w", sendErr)
	}
	return nil
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
