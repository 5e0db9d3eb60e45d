package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/lift"
)

// truth is what an experiment's people do: the holdout's share, and how
// often each arm reaches the goal.
type truth struct {
	holdout, rateHoldout, ratePersonalized float64
}

// answer draws one person's noised outcome answer at ε, with the
// probabilities lift.Design.Frequencies gives for what devices send (lift's
// own test holds them to the engine's mechanism), so the population is
// the devices' whatever that mechanism is.
func (tr truth) answer(r *rand.Rand, eps float64) int {
	d := lift.Design{Epsilon: eps, Holdout: tr.holdout}
	f := d.Frequencies(lift.Truth{HoldoutRate: tr.rateHoldout, PersonalizedRate: tr.ratePersonalized})
	x := r.Float64()
	for v, p := range f {
		if x < p {
			return v
		}
		x -= p
	}
	return lift.Categories - 1
}

// New refuses a horizon that is not a number of answers.
func TestExperimentHorizonErrors(t *testing.T) {
	for _, h := range []float64{0.5, -10, math.NaN(), math.Inf(1)} {
		if c, err := New(Config{Rulesets: map[string]*engine.Ruleset{"shop": experimentRuleset()}, ExperimentHorizon: h}); err == nil {
			c.Close()
			t.Errorf("horizon %v: accepted", h)
		}
	}
	c := newCollectorWith(t, Config{Rulesets: map[string]*engine.Ruleset{"shop": experimentRuleset()}, ExperimentHorizon: 5000})
	if res, err := c.Experiments(context.Background(), "shop"); err != nil || res.Experiments[0].Horizon != 5000 {
		t.Errorf("horizon 5000: %v %+v", err, res)
	}
}

// GET /v1/experiments over a simulated population: hero-lift has a true
// lift of 10 points (10% against 20%), recs none (an A/A test). Answers
// about six epochs come with reports of the epoch after (a fifth of them
// a epoch later still), some with a cohort answer and some without.
func TestExperimentsEndpoint(t *testing.T) { eachBackend(t, testExperimentsEndpoint) }

func testExperimentsEndpoint(t *testing.T, db string) {
	rs := experimentRuleset()
	c := newCollector(t, db, rs)
	srv := serve(t, c)
	truths := map[string]truth{"hero-lift": {0.5, 0.10, 0.20}, "recs": {0.1, 0.15, 0.15}}
	r := rand.New(rand.NewPCG(16, 2921))
	const perEpoch = 10_000
	first, last := int64(thisEpoch-6), int64(thisEpoch-1)
	sent := map[string]map[int64]*lift.Counts{"hero-lift": {}, "recs": {}}
	byReportEpoch := map[int64][]string{}
	for e := first; e <= last; e++ {
		for i := range perEpoch {
			var outs []string
			for _, x := range rs.Experiments {
				eps := x.Epsilon
				if eps == 0 {
					eps = engine.DefaultOutcomeEpsilon
				}
				v := truths[x.ID].answer(r, eps)
				if sent[x.ID][e] == nil {
					sent[x.ID][e] = new(lift.Counts)
				}
				sent[x.ID][e][v]++
				outs = append(outs, fmt.Sprintf(`{"experiment":%q,"epoch":%d,"value":%d,"epsilon":%g}`, x.ID, e, v, eps))
			}
			re := min(e+1+int64(i%5/4), thisEpoch)
			value := ""
			if i%3 != 0 {
				value = fmt.Sprintf(`"value":%d,`, i%12)
			}
			byReportEpoch[re] = append(byReportEpoch[re], fmt.Sprintf(`{"ruleset":"shop","epoch":%d,"mechanism":"krr",%s"epsilon":2,"outcomes":[%s]}`,
				re, value, strings.Join(outs, ",")))
		}
	}
	for re, bodies := range byReportEpoch {
		acceptAll(t, c, time.UnixMilli(re*7*86_400_000+3*86_400_000).UTC(), bodies)
	}

	get := func() (Experiments, http.Header, []byte) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/v1/experiments?ruleset=shop")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET /v1/experiments: %d %s", resp.StatusCode, body)
		}
		var res Experiments
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&res); err != nil {
			t.Fatal(err)
		}
		return res, resp.Header, body
	}
	res, h, body := get()
	if cc := h.Get("Cache-Control"); cc != "public, max-age=60, stale-if-error=86400" || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("headers while epochs take answers: Cache-Control %q, CORS %q", cc, h.Get("Access-Control-Allow-Origin"))
	}
	// The Go method serves the same, for the demo's dashboard.
	direct, err := c.Experiments(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(direct); strings.TrimSpace(string(body)) != string(b) {
		t.Errorf("Experiments() differs from the endpoint:\n%s\n%s", b, body)
	}
	if res.Ruleset != "shop" || res.Epoch != thisEpoch || len(res.Experiments) != 2 || res.Experiments[0].ID != "hero-lift" || res.Experiments[1].ID != "recs" {
		t.Fatalf("ruleset %q epoch %d, %d experiments", res.Ruleset, res.Epoch, len(res.Experiments))
	}
	hero, recs := res.Experiments[0], res.Experiments[1]
	if hero.Epsilon != 1 || hero.MinLift != 0.1 || hero.Control != "fallback" || hero.Holdout != 0.5 || !slices.Equal(hero.Slots, []string{"s"}) ||
		!slices.Equal(hero.Goals, []string{"purchase"}) || hero.Horizon != lift.DefaultHorizon || hero.Description == "" {
		t.Errorf("hero-lift's design: %+v", hero)
	}
	if recs.Epsilon != 0.5 || recs.MinLift != 0.2 || recs.Holdout != 0.1 {
		t.Errorf("recs's design: %+v", recs)
	}

	for _, x := range res.Experiments {
		tr := truths[x.ID]
		d := lift.Design{Epsilon: x.Epsilon, Holdout: x.Holdout}
		// Every epoch with answers, oldest first, each analysed alone and
		// with the epochs before it, exactly as lift analyses the answers
		// sent.
		if len(x.Epochs) != int(last-first+1) {
			t.Fatalf("%s: %d epochs, want %d", x.ID, len(x.Epochs), last-first+1)
		}
		var sum lift.Counts
		for i, ep := range x.Epochs {
			e := first + int64(i)
			n := *sent[x.ID][e]
			for j := range sum {
				sum[j] += n[j]
			}
			own, _ := lift.Analyze(d, n)
			cum, _ := lift.Analyze(d, sum)
			if ep.Epoch != e || ep.Reports != perEpoch || ep.Result == nil || ep.Cumulative == nil || *ep.Result != own || *ep.Cumulative != cum || ep.Withheld != "" {
				t.Errorf("%s epoch %d: %+v\nwant epoch %d, %d reports, result %+v, cumulative %+v", x.ID, i, ep, e, perEpoch, own, cum)
			}
			// Answers about 2915 and 2916 can no longer come (their last
			// report epochs, 2919 and 2920, are over); about 2917 on they
			// can.
			if want := e+engine.MaxOutcomeLag < thisEpoch; ep.Final != want {
				t.Errorf("%s epoch %d: final %v, want %v", x.ID, e, ep.Final, want)
			}
			// The confidence sequence holds at every look.
			if lo, hi := ep.Cumulative.Lift.CS[0], ep.Cumulative.Lift.CS[1]; tr.ratePersonalized-tr.rateHoldout < lo || tr.ratePersonalized-tr.rateHoldout > hi {
				t.Errorf("%s, epochs to %d: the lift's confidence sequence [%.4f, %.4f] misses the truth", x.ID, e, lo, hi)
			}
		}
		cum := x.Cumulative
		if cum.Reports != perEpoch*(last-first+1) || cum.Result == nil || *cum.Result != *x.Epochs[len(x.Epochs)-1].Cumulative {
			t.Fatalf("%s: cumulative %+v", x.ID, cum)
		}
		// The final epochs 2915 and 2916 had perEpoch answers each; epochs
		// are weeks.
		if cum.PerWeek != perEpoch {
			t.Errorf("%s: %v answers a week, want %d", x.ID, cum.PerWeek, perEpoch)
		}
		res := cum.Result
		trueLift := tr.ratePersonalized - tr.rateHoldout
		for what, iv := range map[string][2]float64{"ci95": res.Lift.CI, "cs95": res.Lift.CS} {
			if trueLift < iv[0] || trueLift > iv[1] {
				t.Errorf("%s: the lift's %s [%.4f, %.4f] misses the true %.2f", x.ID, what, iv[0], iv[1], trueLift)
			}
		}
		for arm, rate := range []float64{tr.rateHoldout, tr.ratePersonalized} {
			if cs := res.Rate[arm].CS; rate < cs[0] || rate > cs[1] {
				t.Errorf("%s: arm %d's rate interval [%.4f, %.4f] misses the true %.2f", x.ID, arm, cs[0], cs[1], rate)
			}
		}
		t.Logf("%s: lift %.4f, cs95 [%.4f, %.4f]; %s", x.ID, res.Lift.Estimate, res.Lift.CS[0], res.Lift.CS[1], cum.Verdict)
	}
	if v := hero.Cumulative.Verdict; !strings.HasPrefix(v, "Personalized picks converted more, with 95% confidence: ") || !hero.Cumulative.Result.Lift.Excludes() {
		t.Errorf("hero-lift, a real lift: %q", v)
	}
	if v := recs.Cumulative.Verdict; !strings.HasPrefix(v, "No difference found") || recs.Cumulative.Result.Lift.Excludes() {
		t.Errorf("recs, an A/A test: %q", v)
	}

	// Once no more answers can come for any epoch shown (four epochs on,
	// 2920's last report epoch, 2924, is over), a day's caching.
	c.now = func() time.Time { return fixedNow.Add(4 * 7 * 24 * time.Hour) }
	res, h, _ = get()
	if cc := h.Get("Cache-Control"); cc != "public, max-age=86400, stale-if-error=86400" {
		t.Errorf("every epoch final: Cache-Control %q", cc)
	}
	for _, x := range res.Experiments {
		// The traffic is now the last four final epochs', 2917–2920.
		if x.Cumulative.PerWeek != perEpoch || !x.Epochs[len(x.Epochs)-1].Final {
			t.Errorf("%s, four weeks on: %v a week, last epoch %+v", x.ID, x.Cumulative.PerWeek, x.Epochs[len(x.Epochs)-1])
		}
	}
}

// An experiment without answers, or a ruleset without experiments, is
// served plainly and cached only for a minute (answers may start at any
// time); errors are those of the other reads.
func TestExperimentsWithoutAnswers(t *testing.T) {
	c := newCollector(t, "", experimentRuleset(), testRuleset("plain", 50, 3))
	srv := serve(t, c)
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/v1/experiments?ruleset=plain", 200, `{"ruleset":"plain","epoch":2921,"experiments":[]}`},
		{"/v1/experiments?ruleset=nope", 404, `{"error":"unknown ruleset"}`},
		{"/v1/experiments", 404, `{"error":"unknown ruleset"}`},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || strings.TrimSpace(string(b)) != tc.want {
			t.Errorf("%s: %d %s, want %d %s", tc.path, resp.StatusCode, b, tc.status, tc.want)
		}
	}
	res, err := c.Experiments(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range res.Experiments {
		cum := x.Cumulative
		if len(x.Epochs) != 0 || x.Epochs == nil || cum.Result != nil || cum.Withheld != "no answers" || cum.Verdict != "No outcome answers yet." || cum.Reports != 0 {
			t.Errorf("%s without answers: %+v", x.ID, x)
		}
	}
	resp, err := http.Get(srv.URL + "/v1/experiments?ruleset=shop")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=60, stale-if-error=86400" {
		t.Errorf("no answers yet: Cache-Control %q", cc)
	}
	if _, err := c.Experiments(context.Background(), "nope"); err != ErrUnknownRuleset {
		t.Errorf("unknown ruleset: %v", err)
	}
	resp, err = http.Post(srv.URL+"/v1/experiments?ruleset=shop", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST /v1/experiments: %d", resp.StatusCode)
	}
}
