package collector

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/jackc/pgx/v5"
)

// experimentRuleset is testRuleset("shop", 50, 3, 3) (K = 12, ε = 2) with
// two experiments on slots of their own: hero-lift (holdout 0.5, the
// default ε of 1 and min_lift of 0.1) and recs (holdout 0.1, ε 0.5).
func experimentRuleset() *engine.Ruleset {
	rs := testRuleset("shop", 50, 3, 3)
	rs.Slots = append(rs.Slots, engine.Slot{ID: "t", Limit: 1, Fallback: []string{rs.Catalogue[1].ID}})
	rs.Experiments = []engine.Experiment{
		{ID: "hero-lift", Description: "Personalized hero against the shop's pick", Slots: []string{"s"}, Holdout: 0.5, Goals: []string{engine.GoalPurchase}},
		{ID: "recs", Slots: []string{"t"}, Holdout: 0.1, Epsilon: 0.5, MinLift: 0.2, Goals: []string{engine.GoalClick}},
	}
	return rs
}

// errorOf posts body and returns the status and the error message.
func errorOf(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url+"/v1/reports", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Error
}

// storedOutcomes is every outcome count of the database, as
// "ruleset experiment epoch value count", sorted.
func storedOutcomes(t *testing.T, db string) []string {
	t.Helper()
	return rawQuery(t, db, `SELECT ruleset || ' ' || experiment || ' ' || epoch || ' ' || value || ' ' || count FROM outcomes ORDER BY ruleset, experiment, epoch, value`)
}

// storedReports is the ruleset's reports of an epoch: with a cohort
// answer (totals) and without one (outcome_only).
func storedReports(t *testing.T, db, ruleset string, epoch int64) (cohort, bare int64) {
	t.Helper()
	q := func(query string) int64 {
		var n int64
		fmt.Sscan(rawQuery(t, db, query, ruleset, epoch)[0], &n)
		return n
	}
	if strings.HasPrefix(db, "postgres://") {
		return q(`SELECT COALESCE(sum(n), 0)::text FROM totals WHERE ruleset = $1 AND epoch = $2`),
			q(`SELECT COALESCE(sum(n), 0)::text FROM outcome_only WHERE ruleset = $1 AND epoch = $2`)
	}
	return q(`SELECT CAST(COALESCE(sum(n), 0) AS text) FROM totals WHERE ruleset = ? AND epoch = ?`),
		q(`SELECT CAST(COALESCE(sum(n), 0) AS text) FROM outcome_only WHERE ruleset = ? AND epoch = ?`)
}

// A batch's outcome answers are summed by row in key order, only for the
// reports the cap took, each found through its report's place in its
// group.
func TestOutcomeCounts(t *testing.T) {
	a := func(x string, e int64, v int32) outcome { return outcome{experiment: x, epoch: e, value: v} }
	batch := []*op{
		{ruleset: "b", epoch: 7, value: 1, outcomes: []outcome{a("x", 6, 3), a("y", 5, 0)}},
		{ruleset: "a", epoch: 8, value: noCohort, outcomes: []outcome{a("x", 6, 3)}},
		{ruleset: "b", epoch: 7, value: 2},
		{ruleset: "a", epoch: 7, value: 4, outcomes: []outcome{a("x", 6, 3), a("x", 5, 1)}},
		{ruleset: "b", epoch: 7, value: noCohort, outcomes: []outcome{a("x", 6, 3)}},
	}
	groups, _ := groupBatch(batch)
	var got []string
	for _, r := range outcomeCounts(groups, []int{1, 1, 3}) {
		got = append(got, fmt.Sprintf("%s %s %d %d %d", r.ruleset, r.experiment, r.epoch, r.value, r.n))
	}
	want := []string{"a x 5 1 1", "a x 6 3 2", "b x 6 3 2", "b y 5 0 1"}
	if !slices.Equal(got, want) {
		t.Errorf("all taken:\n got %q\nwant %q", got, want)
	}
	// The cap took only the first report of b/7 and none of a/8.
	got = got[:0]
	for _, r := range outcomeCounts(groups, []int{1, 0, 1}) {
		got = append(got, fmt.Sprintf("%s %s %d %d %d", r.ruleset, r.experiment, r.epoch, r.value, r.n))
	}
	want = []string{"a x 5 1 1", "a x 6 3 1", "b x 6 3 1", "b y 5 0 1"}
	if !slices.Equal(got, want) {
		t.Errorf("some taken:\n got %q\nwant %q", got, want)
	}
	if idx, n, bare := countsOf(groups[2].values); !slices.Equal(idx, []int32{1, 2}) || !slices.Equal(n, []int64{1, 1}) || bare != 1 {
		t.Errorf("countsOf b/7: %v %v %d", idx, n, bare)
	}
}

// Outcome answers in report bodies: what is accepted, and each reason a
// body is refused, by the message that names the place. A refused body
// stores nothing.
func TestOutcomeIntake(t *testing.T) { eachBackend(t, testOutcomeIntake) }

func testOutcomeIntake(t *testing.T, db string) {
	plain := testRuleset("plain", 50, 3)
	c := newCollector(t, db, experimentRuleset(), plain)
	srv := serve(t, c)
	const head = `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":3,"epsilon":2,"outcomes":`
	const bare = `{"ruleset":"shop","epoch":2921,"mechanism":"krr","epsilon":2,"outcomes":`
	hero := func(epoch, value int, eps string) string {
		return fmt.Sprintf(`{"experiment":"hero-lift","epoch":%d,"value":%d,"epsilon":%s}`, epoch, value, eps)
	}
	recs := func(epoch, value int) string {
		return fmt.Sprintf(`{"experiment":"recs","epoch":%d,"value":%d,"epsilon":0.5}`, epoch, value)
	}
	for _, tc := range []struct {
		name, body string
		want       string // the error; "" for accepted
	}{
		{"a cohort answer and one outcome", head + `[` + hero(2920, 3, "1") + `]}`, ""},
		{"two experiments, at the oldest and newest epochs", head + `[` + recs(2917, 0) + `,` + hero(2920, 2, "1.0") + `]}`, ""},
		{"outcomes only", bare + `[` + hero(2919, 1, "1") + `]}`, ""},
		{"outcomes only, two", bare + `[` + hero(2918, 0, "1") + `,` + recs(2918, 3) + `]}`, ""},
		{"no outcomes", head + `[]}`, ""},
		{"outcomes null", head + `null}`, ""},

		{"neither a value nor outcomes", bare + `[]}`, "value is required unless outcomes are given"},
		{"neither a value nor outcomes (null)", bare + `null}`, "value is required unless outcomes are given"},
		{"unknown experiment", head + `[{"experiment":"secret-uid","epoch":2920,"value":1,"epsilon":1}]}`, "outcomes[0].experiment is not one of this ruleset's experiments"},
		{"no experiment", head + `[{"epoch":2920,"value":1,"epsilon":1}]}`, "outcomes[0].experiment is not one of this ruleset's experiments"},
		{"an experiment of another ruleset", `{"ruleset":"plain","epoch":2921,"mechanism":"krr","value":1,"epsilon":2,"outcomes":[` + hero(2920, 1, "1") + `]}`, "outcomes[0].experiment is not one of this ruleset's experiments"},
		{"one experiment twice", head + `[` + hero(2920, 1, "1") + `,` + hero(2919, 1, "1") + `]}`, `outcomes[1] is a second answer for experiment "hero-lift"; a report has one per experiment`},
		{"wrong epsilon", head + `[` + hero(2920, 1, "1") + `,{"experiment":"recs","epoch":2920,"value":1,"epsilon":1}]}`, `outcomes[1].epsilon must be 0.5 for experiment "recs"`},
		{"the cohort's epsilon", head + `[` + hero(2920, 1, "2") + `]}`, `outcomes[0].epsilon must be 1 for experiment "hero-lift"`},
		{"no epsilon", head + `[{"experiment":"hero-lift","epoch":2920,"value":1}]}`, "outcomes[0].epsilon is required"},
		{"too old an epoch", head + `[` + hero(2916, 1, "1") + `]}`, "outcomes[0].epoch must be in [2917, 2920]: an answer is about one of the 4 epochs before the report's"},
		{"the report's own epoch", head + `[` + hero(2921, 1, "1") + `]}`, "outcomes[0].epoch must be in [2917, 2920]: an answer is about one of the 4 epochs before the report's"},
		{"a later epoch", head + `[` + hero(2925, 1, "1") + `]}`, "outcomes[0].epoch must be in [2917, 2920]: an answer is about one of the 4 epochs before the report's"},
		{"no epoch", head + `[{"experiment":"hero-lift","value":1,"epsilon":1}]}`, "outcomes[0].epoch is required"},
		{"value 4", head + `[` + hero(2920, 4, "1") + `]}`, "outcomes[0].value must be in [0, 4)"},
		{"negative value", head + `[` + recs(2920, 0) + `,` + hero(2920, -1, "1") + `]}`, "outcomes[1].value must be in [0, 4)"},
		{"no value", head + `[{"experiment":"hero-lift","epoch":2920,"epsilon":1}]}`, "outcomes[0].value is required"},
		{"unknown key in an outcome", head + `[{"experiment":"hero-lift","epoch":2920,"value":1,"epsilon":1,"uid":"abc123"}]}`, "malformed report: unknown or invalid field"},
		{"a key twice in an outcome", head + `[{"experiment":"hero-lift","epoch":2920,"value":1,"value":2,"epsilon":1}]}`, "malformed report: a key appears twice"},
		{"wrong type in an outcome", head + `[` + recs(2920, 1) + `,{"experiment":"hero-lift","epoch":2920,"value":1,"epsilon":"1"}]}`, "malformed report: field outcomes[1].epsilon has the wrong type"},
		{"outcomes not a list", head + `{"experiment":"hero-lift"}}`, "malformed report: field outcomes has the wrong type"},
		{"an outcome not an object", head + `[1]}`, "malformed report: field outcomes[0] has the wrong type"},
		{"outcomes only, no mechanism", `{"ruleset":"shop","epoch":2921,"epsilon":2,"outcomes":[` + hero(2920, 1, "1") + `]}`, `mechanism must be "krr"`},
		{"outcomes only, no epsilon", `{"ruleset":"shop","epoch":2921,"mechanism":"krr","outcomes":[` + hero(2920, 1, "1") + `]}`, "epsilon is required"},
		{"outcomes only, stale report epoch", `{"ruleset":"shop","epoch":2919,"mechanism":"krr","epsilon":2,"outcomes":[` + hero(2918, 1, "1") + `]}`, "epoch 2919 is not accepted now: reports are for the current epoch, 2921"},
		{"cohort value out of range, with outcomes", strings.Replace(head, `"value":3`, `"value":12`, 1) + `[` + hero(2920, 1, "1") + `]}`, "value must be in [0, 12)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, msg := errorOf(t, srv.URL, tc.body)
			if tc.want == "" {
				if status != 204 {
					t.Fatalf("status %d (%s), want 204", status, msg)
				}
				return
			}
			if status != 400 || msg != tc.want {
				t.Fatalf("%d %q, want 400 %q", status, msg, tc.want)
			}
		})
	}
	// Exactly the accepted bodies' answers and reports were stored.
	want := []string{
		"shop hero-lift 2918 0 1", "shop hero-lift 2919 1 1", "shop hero-lift 2920 2 1", "shop hero-lift 2920 3 1",
		"shop recs 2917 0 1", "shop recs 2918 3 1",
	}
	if got := storedOutcomes(t, db); !slices.Equal(got, want) {
		t.Errorf("outcomes stored:\n got %q\nwant %q", got, want)
	}
	if cohort, bare := storedReports(t, db, "shop", thisEpoch); cohort != 4 || bare != 2 {
		t.Errorf("reports stored: %d with a cohort answer, %d without; want 4 and 2", cohort, bare)
	}
}

// A ruleset with experiments and no cohorts is served: its devices send
// outcome answers alone, and a cohort answer is refused.
func TestExperimentsWithoutCohorts(t *testing.T) {
	rs := testRuleset("shop", 50)
	rs.Experiments = []engine.Experiment{{ID: "hero-lift", Slots: []string{"s"}, Holdout: 0.2, Goals: []string{engine.GoalPurchase}}}
	c := newCollector(t, "", rs)
	srv := serve(t, c)
	outcomes := `"outcomes":[{"experiment":"hero-lift","epoch":2920,"value":2,"epsilon":1}]}`
	if status, msg := errorOf(t, srv.URL, `{"ruleset":"shop","epoch":2921,"mechanism":"krr","epsilon":2,`+outcomes); status != 204 {
		t.Errorf("an outcome-only report: %d %s", status, msg)
	}
	if status, msg := errorOf(t, srv.URL, `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":0,"epsilon":2,`+outcomes); status != 400 || msg != "value must be in [0, 0)" {
		t.Errorf("a cohort answer: %d %s", status, msg)
	}
	res, err := c.Experiments(context.Background(), "shop")
	if err != nil || res.Experiments[0].Cumulative.Reports != 1 {
		t.Errorf("experiments: %v %+v", err, res)
	}
	if est := getEstimates(t, srv, "ruleset=shop&epoch=2921"); est.N != 0 || len(est.Cohorts) != 0 {
		t.Errorf("cohorts: %+v", est)
	}
}

// The largest report a device can send, an answer for each of the most
// experiments a ruleset may have, with the longest ids, fits the default
// body size, which the old 1 KiB did not.
func TestLargestReportFits(t *testing.T) {
	long := func(prefix string) string { return prefix + strings.Repeat("x", engine.MaxIDBytes-len(prefix)) }
	rs := testRuleset(long("shop"), 50, 3, 3)
	rs.Slots = nil
	for i := range engine.MaxExperiments {
		slot := fmt.Sprintf("s%d", i)
		rs.Slots = append(rs.Slots, engine.Slot{ID: slot, Limit: 1, Fallback: []string{rs.Catalogue[0].ID}})
		rs.Experiments = append(rs.Experiments, engine.Experiment{ID: long(fmt.Sprintf("x%d", i)), Slots: []string{slot}, Holdout: 0.1,
			Epsilon: engine.MaxOutcomeEpsilon / 9.0 * 4 / engine.MaxExperiments, Goals: []string{engine.GoalAddToCart}})
	}
	c := newCollector(t, "", rs)
	value := 11
	rep := engine.Report{Ruleset: rs.ID, Epoch: thisEpoch, Mechanism: engine.MechanismKRR, Value: &value, Epsilon: 2}
	for _, x := range rs.Experiments {
		rep.Outcomes = append(rep.Outcomes, engine.Outcome{Experiment: x.ID, Epoch: thisEpoch - engine.MaxOutcomeLag, Value: 3, Epsilon: x.Epsilon})
	}
	body, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the largest report: %d bytes", len(body))
	if len(body) <= 1<<10 || len(body) > DefaultMaxBodyBytes/2 {
		t.Errorf("the largest report is %d bytes; the default limit of %d should leave room and 1 KiB not", len(body), DefaultMaxBodyBytes)
	}
	if status, msg := errorOf(t, serve(t, c).URL, string(body)); status != 204 {
		t.Fatalf("the largest report (%d bytes): %d %s", len(body), status, msg)
	}
}

// acceptAll feeds bodies through Accept from many senders at once (so
// group commit batches them), as if they arrived at now; it returns how
// many were counted and how many the epoch's cap refused.
func acceptAll(t *testing.T, c *Collector, now time.Time, bodies []string) (ok, full int64) {
	t.Helper()
	var okN, fullN atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(len(bodies)); i = next.Add(1) - 1 {
				err := c.AcceptAsOf(context.Background(), []byte(bodies[i]), now)
				switch ie, _ := err.(*intakeError); {
				case err == nil:
					okN.Add(1)
				case ie != nil && ie.status == 429:
					fullN.Add(1)
				default:
					t.Errorf("accept %s: %v", bodies[i], err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return okN.Load(), fullN.Load()
}

// Under the per-epoch cap a report counts whole or not at all: the outcome
// answers stored are exactly those of the reports counted, and reports of
// outcome answers only take their share of the cap.
func TestOutcomesUnderTheCap(t *testing.T) { eachBackend(t, testOutcomesUnderTheCap) }

func testOutcomesUnderTheCap(t *testing.T, db string) {
	var counted sync.Map // body → true
	c, err := New(Config{DB: db, Rulesets: map[string]*engine.Ruleset{"shop": experimentRuleset()}, MaxReportsPerEpoch: 25,
		Now: func() time.Time { return fixedNow }, SourceReportsPerHour: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Every report is different, so which were counted can be told from
	// what was stored.
	var bodies []string
	for i := range 200 {
		outs := fmt.Sprintf(`[{"experiment":"hero-lift","epoch":%d,"value":%d,"epsilon":1},{"experiment":"recs","epoch":%d,"value":%d,"epsilon":0.5}]`,
			2917+i%4, i%4, 2917+(i/4)%4, (i/16)%4)
		if i%3 == 0 {
			bodies = append(bodies, `{"ruleset":"shop","epoch":2921,"mechanism":"krr","epsilon":2,"outcomes":`+outs+`}`)
		} else {
			bodies = append(bodies, fmt.Sprintf(`{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":%d,"epsilon":2,"outcomes":%s}`, i%12, outs))
		}
	}
	var wg sync.WaitGroup
	var ok, full atomic.Int64
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(bodies); i += 20 {
				switch err := c.Accept(context.Background(), []byte(bodies[i])); {
				case err == nil:
					ok.Add(1)
					counted.Store(i, true)
				case strings.Contains(err.Error(), "all the reports it accepts"):
					full.Add(1)
				default:
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 25 || full.Load() != 175 {
		t.Fatalf("%d counted, %d refused; want 25 and 175", ok.Load(), full.Load())
	}
	wantOutcomes := map[string]int{}
	var wantCohort, wantBare int64
	counts := make([]int64, 12)
	counted.Range(func(k, _ any) bool {
		i := k.(int)
		wantOutcomes[fmt.Sprintf("shop hero-lift %d %d", 2917+i%4, i%4)]++
		wantOutcomes[fmt.Sprintf("shop recs %d %d", 2917+(i/4)%4, (i/16)%4)]++
		if i%3 == 0 {
			wantBare++
		} else {
			wantCohort++
			counts[i%12]++
		}
		return true
	})
	var want []string
	for k, n := range wantOutcomes {
		want = append(want, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(want)
	if got := storedOutcomes(t, db); !slices.Equal(got, want) {
		t.Errorf("outcomes stored:\n got %q\nwant %q (those of the reports counted)", got, want)
	}
	if cohort, bare := storedReports(t, db, "shop", thisEpoch); cohort != wantCohort || bare != wantBare {
		t.Errorf("stored %d reports with a cohort answer and %d without, counted %d and %d", cohort, bare, wantCohort, wantBare)
	}
	tl, err := c.load(context.Background(), c.sets["shop"], thisEpoch)
	if err != nil {
		t.Fatal(err)
	}
	if tl[MechanismKRR].n != wantCohort || !slices.Equal(tl[MechanismKRR].counts, counts) {
		t.Errorf("cohort tally %+v, want n %d counts %v", tl[MechanismKRR], wantCohort, counts)
	}
	// The metric counts the answers stored.
	if got := metricValue(t, c, "edgewise_collector_outcome_answers_total"); got != 2*25 {
		t.Errorf("edgewise_collector_outcome_answers_total %v, want 50", got)
	}
}

// rawExec runs statements straight against a database, outside the
// collector.
func rawExec(t *testing.T, db, statements string) {
	t.Helper()
	if strings.HasPrefix(db, "postgres://") {
		conn, err := pgx.Connect(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), statements); err != nil {
			t.Fatalf("%s: %v", statements, err)
		}
		return
	}
	sdb, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(db, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	if _, err := sdb.Exec(statements); err != nil {
		t.Fatalf("%s: %v", statements, err)
	}
}

// metricValue reads one metric without labels from GET /metrics.
func metricValue(t *testing.T, c *Collector, name string) float64 {
	t.Helper()
	resp, err := http.Get(serve(t, c).URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			var v float64
			fmt.Sscan(rest, &v)
			return v
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// Reports of outcome answers only change no cohort estimate: the cohorts'
// n counts cohort answers only.
func TestOutcomeOnlyReportsLeaveCohortsAlone(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		rs := experimentRuleset()
		c := newCollector(t, db, rs)
		truth := []int{900, 600, 300, 200, 0, 0, 0, 0, 0, 0, 100, 0}
		simulate(t, c, rs, thisEpoch, truth, 9)
		srv := serve(t, c)
		read := func() string {
			resp, err := http.Get(srv.URL + "/v1/cohorts?ruleset=shop&epoch=2921")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		before := read()
		var bodies []string
		for i := range 500 {
			bodies = append(bodies, fmt.Sprintf(`{"ruleset":"shop","epoch":2921,"mechanism":"krr","epsilon":2,"outcomes":[{"experiment":"hero-lift","epoch":2920,"value":%d,"epsilon":1}]}`, i%4))
		}
		if ok, _ := acceptAll(t, c, fixedNow, bodies); ok != 500 {
			t.Fatalf("%d of 500 outcome-only reports counted", ok)
		}
		if after := read(); after != before {
			t.Errorf("outcome-only reports changed the cohort estimates:\nbefore %s\nafter  %s", before, after)
		}
		if est := getEstimates(t, srv, "ruleset=shop&epoch=2921"); est.N != 2100 || est.Mechanism[MechanismKRR] != 2100 {
			t.Errorf("n = %d, mechanisms %v; want the 2,100 cohort answers", est.N, est.Mechanism)
		}
		if _, bare := storedReports(t, db, "shop", thisEpoch); bare != 500 {
			t.Errorf("%d outcome-only reports stored, want 500", bare)
		}
	})
}

// A report whose outcome answers cannot be stored is not counted at all:
// its cohort answer is rolled back with them, the sender gets 503 at once,
// and the same report is counted whole once the database takes it again.
func TestReportCountedWholeOrNotAtAll(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		c := newCollector(t, db, experimentRuleset())
		srv := serve(t, c)
		body := `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":5,"epsilon":2,"outcomes":[{"experiment":"hero-lift","epoch":2920,"value":3,"epsilon":1}]}`
		if status, msg := errorOf(t, srv.URL, body); status != 204 {
			t.Fatalf("%d %s", status, msg)
		}
		// Make every write to outcomes fail.
		pg := strings.HasPrefix(db, "postgres://")
		if pg {
			rawExec(t, db, `ALTER TABLE outcomes ADD CONSTRAINT refuse CHECK (value < 0) NOT VALID`)
		} else {
			rawExec(t, db, `CREATE TRIGGER refuse BEFORE INSERT ON outcomes BEGIN SELECT RAISE(ABORT, 'refused'); END;
				CREATE TRIGGER refuse_update BEFORE UPDATE ON outcomes BEGIN SELECT RAISE(ABORT, 'refused'); END`)
		}
		start := time.Now()
		status, _ := errorOf(t, srv.URL, body)
		if status != 503 {
			t.Fatalf("with the outcomes refused: %d, want 503", status)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("the 503 took %v", took)
		}
		if cohort, _ := storedReports(t, db, "shop", thisEpoch); cohort != 1 {
			t.Errorf("%d cohort answers stored, want 1: the refused report's was kept", cohort)
		}
		if pg {
			rawExec(t, db, `ALTER TABLE outcomes DROP CONSTRAINT refuse`)
		} else {
			rawExec(t, db, `DROP TRIGGER refuse; DROP TRIGGER refuse_update`)
		}
		if status, msg := errorOf(t, srv.URL, body); status != 204 {
			t.Fatalf("once the database takes it again: %d %s", status, msg)
		}
		if cohort, _ := storedReports(t, db, "shop", thisEpoch); cohort != 2 {
			t.Errorf("%d cohort answers stored, want 2", cohort)
		}
		if got := storedOutcomes(t, db); !slices.Equal(got, []string{"shop hero-lift 2920 3 2"}) {
			t.Errorf("outcomes %q", got)
		}
	})
}

// KeepEpochs deletes outcome counts by the epoch they are about, and the
// count of outcome-only reports by their report's epoch.
func TestOutcomesPruned(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		now := fixedNow
		c, err := New(Config{DB: db, Rulesets: map[string]*engine.Ruleset{"shop": experimentRuleset()}, KeepEpochs: 3,
			Now: func() time.Time { return now }, SourceReportsPerHour: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for e := int64(thisEpoch - 3); e <= thisEpoch; e++ {
			at := time.UnixMilli(e*7*86_400_000 + 86_400_000).UTC()
			body := fmt.Sprintf(`{"ruleset":"shop","epoch":%d,"mechanism":"krr","epsilon":2,"outcomes":[{"experiment":"hero-lift","epoch":%d,"value":1,"epsilon":1},{"experiment":"recs","epoch":%d,"value":2,"epsilon":0.5}]}`,
				e, e-1, e-4)
			if err := c.AcceptAsOf(context.Background(), []byte(body), at); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.prune(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := []string{"shop hero-lift 2919 1 1", "shop hero-lift 2920 1 1"}
		if got := storedOutcomes(t, db); !slices.Equal(got, want) {
			t.Errorf("outcomes kept %q, want %q", got, want)
		}
		if got := rawQuery(t, db, `SELECT CAST(epoch AS text) FROM outcome_only ORDER BY epoch`); !slices.Equal(got, []string{"2919", "2920", "2921"}) {
			t.Errorf("outcome_only keeps epochs %q", got)
		}
	})
}

// A database at schema version 1 (before experiments) keeps its counts,
// gains the outcome tables, and takes reports with outcomes. On
// PostgreSQL, a collector of version 1 still running during the upgrade
// calls edgewise_add as before, which now also counts reports without a
// cohort answer toward the cap.
func TestMigrationFromVersion1(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		pg := strings.HasPrefix(db, "postgres://")
		if pg {
			rawExec(t, db, `CREATE TABLE edgewise_schema (version integer PRIMARY KEY);`+pgMigrations[0]+`;
				INSERT INTO edgewise_schema VALUES (1);
				INSERT INTO totals VALUES ('shop', 2921, 'krr', 7);
				INSERT INTO counts VALUES ('shop', 2921, 'krr', 1, 7);`)
		} else {
			rawExec(t, db, sqliteMigrations[0]+`
				PRAGMA user_version = 1;
				INSERT INTO totals VALUES ('shop', 2921, 'krr', 7);
				INSERT INTO counts VALUES ('shop', 2921, 'krr', 1, 7);`)
		}
		c, err := New(Config{DB: db, Rulesets: map[string]*engine.Ruleset{"shop": experimentRuleset()}, MaxReportsPerEpoch: 10,
			Now: func() time.Time { return fixedNow }, SourceReportsPerHour: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		tl, err := c.load(context.Background(), c.sets["shop"], thisEpoch)
		if err != nil || tl[MechanismKRR].n != 7 || tl[MechanismKRR].counts[1] != 7 {
			t.Fatalf("counts after the migration: %+v, %v", tl[MechanismKRR], err)
		}
		body := `{"ruleset":"shop","epoch":2921,"mechanism":"krr","epsilon":2,"outcomes":[{"experiment":"hero-lift","epoch":2920,"value":3,"epsilon":1}]}`
		if err := c.Accept(context.Background(), []byte(body)); err != nil {
			t.Fatal(err)
		}
		if got := storedOutcomes(t, db); !slices.Equal(got, []string{"shop hero-lift 2920 3 1"}) {
			t.Errorf("outcomes %q", got)
		}
		// 8 reports stored, one without a cohort answer; the cap is 10.
		if pg {
			if v := rawQuery(t, db, `SELECT string_agg(version::text, ',' ORDER BY version) FROM edgewise_schema`); v[0] != "1,2" {
				t.Errorf("schema versions %q", v)
			}
			// A version 1 collector's call (it never sends -1, but a
			// version 2 one does): 2 of 3 reports fit.
			if got := rawQuery(t, db, `SELECT edgewise_add('shop', 2921, 'krr', ARRAY[2, -1, 2], 10)::text`); got[0] != "2" {
				t.Errorf("edgewise_add took %s of 3 reports, want 2", got[0])
			}
		} else {
			if v := rawQuery(t, db, `PRAGMA user_version`); v[0] != "2" {
				t.Errorf("user_version %q", v)
			}
			for range 2 {
				if err := c.Accept(context.Background(), []byte(okReport)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := c.Accept(context.Background(), []byte(okReport)); err == nil || !strings.Contains(err.Error(), "all the reports it accepts") {
			t.Errorf("the 11th report under a cap of 10: %v", err)
		}
		wantCohort, wantBare := int64(9), int64(1)
		if pg {
			wantCohort, wantBare = 8, 2
		}
		if cohort, bare := storedReports(t, db, "shop", thisEpoch); cohort != wantCohort || bare != wantBare {
			t.Errorf("stored %d reports with a cohort answer and %d without, want %d and %d", cohort, bare, wantCohort, wantBare)
		}
	})
}

// Several collectors on one PostgreSQL database add outcome answers that
// come with reports of two epochs (the previous one in its grace hour) to
// the same rows at once: nothing is lost, none deadlock, and the cap
// holds. Adding each group's answers with the group would lock the shared
// rows in no one order: a batch of both epochs would lock an answer's row
// (with 2920's group) before 2921's rows, one of 2921 alone after them.
func TestCollectorsShareOutcomes(t *testing.T) {
	for _, cap := range []int64{-1, 1500} {
		t.Run(fmt.Sprintf("cap %d", cap), func(t *testing.T) {
			db := pg.Database(t)
			now := time.UnixMilli(2921*7*86_400_000 + 30*60_000).UTC() // half an hour into 2921
			var cs []*Collector
			for range 4 {
				c, err := New(Config{DB: db, Rulesets: map[string]*engine.Ruleset{"shop": experimentRuleset()}, MaxReportsPerEpoch: cap,
					Now: func() time.Time { return now }, SourceReportsPerHour: -1})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				cs = append(cs, c)
			}
			var mu sync.Mutex
			want := map[string]int{}
			var wg sync.WaitGroup
			for ci, c := range cs {
				for g := range 16 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range 50 {
							// Two collectors send reports of both epochs,
							// two of 2921 only: their batches lock 2921's
							// rows without 2920's first.
							epoch := 2921
							if ci < 2 {
								epoch = 2920 + (g+i)%2
							}
							hero, recs := 2917+(i+ci)%3, 2917+(i+g)%3 // about 2917–2919, which reports of both epochs may be about
							vh, vr := (i+g)%4, (i*ci+g)%4
							body := fmt.Sprintf(`{"ruleset":"shop","epoch":%d,"mechanism":"krr","value":%d,"epsilon":2,"outcomes":[{"experiment":"recs","epoch":%d,"value":%d,"epsilon":0.5},{"experiment":"hero-lift","epoch":%d,"value":%d,"epsilon":1}]}`,
								epoch, i%12, recs, vr, hero, vh)
							err := c.Accept(context.Background(), []byte(body))
							if ie, _ := err.(*intakeError); ie != nil && ie.status == 429 {
								continue
							} else if err != nil {
								t.Error(err)
								return
							}
							mu.Lock()
							want[fmt.Sprintf("shop hero-lift %d %d", hero, vh)]++
							want[fmt.Sprintf("shop recs %d %d", recs, vr)]++
							want["reports"]++
							mu.Unlock()
						}
					}()
				}
			}
			wg.Wait()
			// 800 reports of 2920 and 2,400 of 2921 were sent.
			if wantN := min(800, cap) + min(2400, cap); cap > 0 && want["reports"] != int(wantN) {
				t.Errorf("%d reports counted, want %d", want["reports"], wantN)
			}
			var wantRows []string
			for k, n := range want {
				if k != "reports" {
					wantRows = append(wantRows, fmt.Sprintf("%s %d", k, n))
				}
			}
			slices.Sort(wantRows)
			if got := storedOutcomes(t, db); !slices.Equal(got, wantRows) {
				t.Errorf("outcomes stored:\n got %q\nwant %q", got, wantRows)
			}
		})
	}
}

// New refuses experiments the collector could not count or analyse.
func TestExperimentsConfigErrors(t *testing.T) {
	for name, change := range map[string]func(rs *engine.Ruleset, cfg *Config){
		"no id":        func(rs *engine.Ruleset, _ *Config) { rs.Experiments[0].ID = "" },
		"an id twice":  func(rs *engine.Ruleset, _ *Config) { rs.Experiments[1].ID = "hero-lift" },
		"holdout 0":    func(rs *engine.Ruleset, _ *Config) { rs.Experiments[0].Holdout = 0 },
		"holdout 1":    func(rs *engine.Ruleset, _ *Config) { rs.Experiments[1].Holdout = 1 },
		"negative ε":   func(rs *engine.Ruleset, _ *Config) { rs.Experiments[1].Epsilon = -1 },
		"NaN min_lift": func(rs *engine.Ruleset, _ *Config) { rs.Experiments[1].MinLift = math.NaN() },
		"too many": func(rs *engine.Ruleset, _ *Config) {
			for i := range engine.MaxExperiments - 1 {
				rs.Experiments = append(rs.Experiments, engine.Experiment{ID: fmt.Sprint("x", i), Slots: []string{"t"}, Holdout: 0.5, Goals: []string{"click"}})
			}
		},
	} {
		rs := experimentRuleset()
		cfg := Config{Rulesets: map[string]*engine.Ruleset{"shop": rs}}
		change(rs, &cfg)
		if c, err := New(cfg); err == nil {
			c.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}
