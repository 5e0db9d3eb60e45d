package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgewise/edgewise/engine"
)

// forgeRuleset is shaped like the example shop's: 84 cohorts (4 coarse,
// 16 finer, 64 finest) at ε = 2, so each report debiases to about 12
// people, and min_k 50.
func forgeRuleset() *engine.Ruleset { return testRuleset("forge", 50, 4, 4, 4) }

// honestCounts draws n randomized-response reports, spread over the
// finest cohorts but for the last one, which nobody is in.
func honestCounts(pub *Publication, n int, seed uint64) (counts []int64, empty int) {
	cat := pub.set.catalogue
	k := len(cat)
	var finest []int
	for i, id := range cat {
		if strings.Count(id, "/") == 2 {
			finest = append(finest, i)
		}
	}
	empty = finest[len(finest)-1]
	counts = make([]int64, k)
	r := rand.New(rand.NewPCG(seed, 7))
	p, _ := pub.set.probabilities()
	for range n {
		v := finest[r.IntN(len(finest)-1)]
		if r.Float64() >= p {
			w := r.IntN(k - 1)
			if w >= v {
				w++
			}
			v = w
		}
		counts[v]++
	}
	return counts, empty
}

// fewestToPublish is the fewest reports for index empty, added to counts,
// that publish that cohort.
func fewestToPublish(pub *Publication, counts []int64, n int64, empty int) int {
	id := pub.set.catalogue[empty]
	for forged := 0; ; forged++ {
		c := append([]int64(nil), counts...)
		c[empty] += int64(forged)
		if _, ok := pub.Sizes(c, n+int64(forged))[id]; ok {
			return forged
		}
	}
}

// The reproduction: without a margin, under a hundred forged reports publish
// a cohort nobody is in, since each counts as about 12 people. With the
// default margin, DefaultForgeryMargin reports never do, whatever the
// noise, and the fewest that do exceed it by about what the noise floor
// and min_k cost.
func TestForgedReportsCannotPublishAnEmptyCohort(t *testing.T) {
	rs := forgeRuleset()
	none, err := NewPublication(rs, -1)
	if err != nil {
		t.Fatal(err)
	}
	def, _ := NewPublication(rs, 0)
	if def.Margin() != DefaultForgeryMargin || none.Margin() != 0 {
		t.Fatalf("margins %d and %d", def.Margin(), none.Margin())
	}
	w := def.ForgedWeight()
	p, q := def.set.probabilities()
	if want := (1 - q) / (p - q); math.Abs(w-want) > 1e-9 || w < 10 {
		t.Fatalf("a forged report weighs %.2f, want %.2f", w, want)
	}
	for seed := range uint64(5) {
		counts, empty := honestCounts(def, 20000, seed)
		if _, ok := none.Sizes(counts, 20000)[def.set.catalogue[empty]]; ok {
			t.Fatalf("seed %d: the empty cohort is published from noise alone", seed)
		}
		before := fewestToPublish(none, counts, 20000, empty)
		after := fewestToPublish(def, counts, 20000, empty)
		t.Logf("seed %d: an empty cohort is published by %d forged reports without a margin, %d with the margin of %d", seed, before, after, def.Margin())
		if before > 100 {
			t.Errorf("seed %d: without a margin %d forged reports were needed; the reproduction expects under a hundred", seed, before)
		}
		if after <= DefaultForgeryMargin || after < before+DefaultForgeryMargin-1 {
			t.Errorf("seed %d: %d forged reports publish an empty cohort with the margin, want more than %d and at least %d", seed, after, DefaultForgeryMargin, before+DefaultForgeryMargin-1)
		}
	}
}

// The collector serves sizes by the same rule: forged reports posted to
// the intake from one address stop at its hourly allowance, and that many
// publish nothing; with no allowance and no margin, the same flood
// publishes the empty cohort, as it did before the intake's layers.
func TestForgedFloodThroughTheIntake(t *testing.T) {
	rs := forgeRuleset()
	prev := thisEpoch - 1
	flood := func(c *Collector) (accepted int, sizes map[string]int64) {
		pub, _ := NewPublication(rs, -1)
		counts, empty := honestCounts(pub, 20000, 1)
		// The honest reports, as if posted over the previous epoch.
		for idx, n := range counts {
			for range n {
				body := fmt.Sprintf(`{"ruleset":"forge","epoch":%d,"mechanism":"krr","value":%d,"epsilon":2}`, prev, idx)
				if err := c.AcceptAsOf(context.Background(), []byte(body), epochStart(prev).Add(24*time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
		}
		// 3,000 forged posts from one address in the epoch's last hour.
		srv := serve(t, c)
		c.now = func() time.Time { return epochStart(thisEpoch).Add(-time.Hour / 2) }
		for range 3000 {
			body := fmt.Sprintf(`{"ruleset":"forge","epoch":%d,"mechanism":"krr","value":%d,"epsilon":2}`, prev, empty)
			resp, err := http.Post(srv.URL+"/v1/reports", "text/plain", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				accepted++
			}
		}
		c.now = func() time.Time { return epochStart(thisEpoch).Add(time.Hour) }
		resp, err := http.Get(srv.URL + "/v1/cohort-sizes?ruleset=forge")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&sizes)
		return accepted, sizes
	}
	target := "d1=b3/d2=b3/d3=b3"
	open := newForgeCollector(t, Config{SourceReportsPerHour: -1, ForgeryMargin: -1})
	if n, sizes := flood(open); n != 3000 || sizes[target] < 10000 {
		t.Errorf("without limits or margin: %d forged reports accepted, %s published as %d; the reproduction expects all 3,000 and a size in the tens of thousands", n, target, sizes[target])
	}
	guarded := newForgeCollector(t, Config{})
	n, sizes := flood(guarded)
	if n != DefaultSourceReportsPerHour {
		t.Errorf("%d forged reports accepted from one address, want its hourly %d", n, DefaultSourceReportsPerHour)
	}
	if size, ok := sizes[target]; ok {
		t.Errorf("with the default limits and margin, %d forged reports published %s as %d", n, target, size)
	}
}

func newForgeCollector(t *testing.T, cfg Config) *Collector {
	t.Helper()
	cfg.Rulesets = map[string]*engine.Ruleset{"forge": forgeRuleset()}
	return newCollectorWith(t, cfg)
}

func epochStart(epoch int) time.Time { return time.UnixMilli(int64(epoch) * 7 * 86_400_000).UTC() }
