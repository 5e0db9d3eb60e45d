package collector

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/edgewise/edgewise/engine"
)

// coverage simulates many independent epochs of the same population (each
// epoch its own ruleset, so all fall in the intake's epoch window), then
// reads every epoch's estimates through GET /v1/cohorts and returns the
// share of (epoch, cohort) pairs with a true count above min_k whose 95%
// interval covers the truth. A suppressed cohort counts as not covered.
func coverage(t *testing.T, epochs int, minK int, truth []int, buckets ...int) (rate float64, pairs, suppressed int) {
	t.Helper()
	sets := map[string]*engine.Ruleset{}
	for e := range epochs {
		rs := testRuleset(fmt.Sprintf("cov-%d", e), minK, buckets...)
		if k := len(Catalogue(rs)); k != len(truth) {
			t.Fatalf("K = %d, truth has %d", k, len(truth))
		}
		sets[rs.ID] = rs
	}
	c := newCollector(t, "", slicesOf(sets)...)
	// Feed epochs from a few goroutines at once (group commit batches
	// them); each epoch has its own fixed seed, so the result does not
	// depend on the interleaving.
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range next {
				simulate(t, c, sets[fmt.Sprintf("cov-%d", e)], thisEpoch, truth, uint64(1000+e))
			}
		}()
	}
	for e := range epochs {
		next <- e
	}
	close(next)
	wg.Wait()

	h := c.Handler()
	covered := 0
	for e := range epochs {
		rs := sets[fmt.Sprintf("cov-%d", e)]
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", fmt.Sprintf("/v1/cohorts?ruleset=%s&epoch=%d", rs.ID, thisEpoch), nil))
		var est Estimates
		if err := json.Unmarshal(rec.Body.Bytes(), &est); rec.Code != 200 || err != nil {
			t.Fatalf("epoch %d: %d %v", e, rec.Code, err)
		}
		for i, id := range Catalogue(rs) {
			if truth[i] <= minK {
				continue
			}
			pairs++
			ce := est.Cohorts[id]
			if ce.Suppressed {
				suppressed++
				continue
			}
			if lo, hi := ce.Interval[0], ce.Interval[1]; lo <= float64(truth[i]) && float64(truth[i]) <= hi {
				covered++
			}
		}
	}
	return float64(covered) / float64(pairs), pairs, suppressed
}

func slicesOf(m map[string]*engine.Ruleset) []*engine.Ruleset {
	out := make([]*engine.Ruleset, 0, len(m))
	for _, rs := range m {
		out = append(out, rs)
	}
	return out
}

// TestKRRIntervalCoverage: 200 epochs × 2,000 KRR reports (K = 12, ε = 2);
// the nominal 95% intervals must cover the true counts 92–98% of the time.
func TestKRRIntervalCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical simulation")
	}
	truth := []int{400, 300, 250, 200, 150, 150, 100, 100, 150, 100, 100, 0} // 2,000
	rate, pairs, sup := coverage(t, 200, 20, truth, 3, 3)
	t.Logf("krr: 95%% interval coverage %.4f over %d (epoch, cohort) pairs, %d suppressed", rate, pairs, sup)
	if rate < 0.92 || rate > 0.98 {
		t.Errorf("krr coverage %.4f outside [0.92, 0.98]", rate)
	}
}

// TestLargeCatalogueIntervalCoverage: 100 epochs × 2,000 reports over
// K = 60 cohorts, most of them empty (ε = 2).
func TestLargeCatalogueIntervalCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical simulation")
	}
	truth := make([]int, 60) // 8 cohorts of 250 = 2,000; 52 empty
	for i := 0; i < 8; i++ {
		truth[i*7] = 250
	}
	rate, pairs, sup := coverage(t, 100, 20, truth, 4, 2, 6)
	t.Logf("K = 60: 95%% interval coverage %.4f over %d (epoch, cohort) pairs, %d suppressed", rate, pairs, sup)
	if rate < 0.92 || rate > 0.98 {
		t.Errorf("K = 60 coverage %.4f outside [0.92, 0.98]", rate)
	}
}
