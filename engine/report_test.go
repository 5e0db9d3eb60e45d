package engine

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// cohortShop is shop() with three cohort dimensions (3 × 3 × 2 buckets).
func cohortShop() Ruleset {
	rs := shop()
	rs.Signals = append(rs.Signals,
		Signal{ID: "region", Kind: SignalLocation, Purpose: "Show gear suited to your part of the world.", RetentionDays: 0},
		Signal{ID: "visits", Kind: SignalVisits, Purpose: "Show returning visitors what is new.", RetentionDays: 0})
	rs.Regions = []Region{
		{ID: "pnw", Name: "Pacific Northwest", Subdivisions: []string{"US-WA", "US-OR"}},
		{ID: "alps", Name: "The Alps", Countries: []string{"CH", "AT"}},
	}
	rs.Cohorts = Cohorts{Dimensions: []Dimension{
		{ID: "interest", From: DimensionInterest, Buckets: []Bucket{
			{ID: "runners", Tags: []string{"running"}}, {ID: "campers", Tags: []string{"camping", "cooking"}}, {ID: "other"}}},
		{ID: "area", From: DimensionRegion, Buckets: []Bucket{
			{ID: "pnw", Regions: []string{"pnw"}}, {ID: "alps", Regions: []string{"alps"}}, {ID: "elsewhere"}}},
		{ID: "engagement", From: DimensionEngagement, Buckets: []Bucket{
			{ID: "new", Visits: &Range{Max: ip(1)}}, {ID: "returning", Visits: &Range{Min: ip(2)}}}},
	}}
	rs.Reporting = Reporting{EpochDays: 7, Epsilon: 2, MinK: 50}
	return rs
}

func cohortEngine(t *testing.T, rs Ruleset) *Engine {
	t.Helper()
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	e.SetRandom(rand.NewChaCha8([32]byte{1, 2, 3}))
	setPrefs(t, e, Preferences{Sharing: SharingCohorts})
	return e
}

func assigned(t *testing.T, e *Engine) string {
	t.Helper()
	b, dim := e.assignCohort()
	if b == nil {
		return "unassignable:" + dim
	}
	return cohortID(e.rules.cohorts.Dimensions, b)
}

func TestCohortCatalogue(t *testing.T) {
	rs := cohortShop()
	cat := CohortCatalogue(&rs)
	// K = 3·3·2 + 3·3 + 3 = 18 + 9 + 3.
	if len(cat) != 30 || catalogueSize(rs.Cohorts.Dimensions) != 30 {
		t.Fatalf("catalogue has %d cohorts, want 30", len(cat))
	}
	want := map[int]string{
		0:  "interest=runners/area=pnw/engagement=new",
		1:  "interest=runners/area=pnw/engagement=returning",
		2:  "interest=runners/area=alps/engagement=new",
		6:  "interest=campers/area=pnw/engagement=new",
		17: "interest=other/area=elsewhere/engagement=returning",
		18: "interest=runners/area=pnw",
		19: "interest=runners/area=alps",
		26: "interest=other/area=elsewhere",
		27: "interest=runners",
		29: "interest=other",
	}
	for i, id := range want {
		if cat[i] != id {
			t.Errorf("catalogue[%d] = %q, want %q", i, cat[i], id)
		}
	}
	// cohortIndex and cohortID agree with the catalogue for every prefix.
	dims := rs.Cohorts.Dimensions
	seen := 0
	for a := range 3 {
		if i := cohortIndex(dims, []int{a}); cat[i] != cohortID(dims, []int{a}) {
			t.Errorf("level 1 %d: index %d", a, i)
		}
		for b := range 3 {
			if i := cohortIndex(dims, []int{a, b}); cat[i] != cohortID(dims, []int{a, b}) {
				t.Errorf("level 2 %d %d: index %d", a, b, i)
			}
			for c := range 2 {
				if i := cohortIndex(dims, []int{a, b, c}); cat[i] != cohortID(dims, []int{a, b, c}) {
					t.Errorf("level 3: index %d", i)
				}
				seen++
			}
		}
	}
	if seen != 18 {
		t.Fatal(seen)
	}
	none := shop()
	if CohortCatalogue(&none) != nil || catalogueSize(nil) != 0 {
		t.Error("no dimensions should make no catalogue")
	}
}

func TestCohortAssignment(t *testing.T) {
	e := cohortEngine(t, cohortShop())
	// No interest, no region, no visits: engagement has no catch-all.
	if got := assigned(t, e); got != "unassignable:engagement" {
		t.Errorf("empty person: %s", got)
	}
	if err := e.SetContext(Context{Now: t0, Visits: ip(0)}); err != nil {
		t.Fatal(err)
	}
	if got := assigned(t, e); got != "interest=other/area=elsewhere/engagement=new" {
		t.Errorf("empty person with visits: %s", got)
	}
	observe(t, e, "view", "tent", t0)
	observe(t, e, "click", "trail-shoe", t0)
	if err := e.SetContext(Context{Now: t0 + hour, Subdivision: "US-WA", Visits: ip(5)}); err != nil {
		t.Fatal(err)
	}
	if got := assigned(t, e); got != "interest=runners/area=pnw/engagement=returning" {
		t.Errorf("got %s", got)
	}
	if err := e.SetContext(Context{Now: t0 + hour, Country: "AT", Visits: ip(1)}); err != nil {
		t.Fatal(err)
	}
	if got := assigned(t, e); got != "interest=runners/area=alps/engagement=new" {
		t.Errorf("got %s", got)
	}
	if err := e.SetContext(Context{Now: t0 + hour, Regions: []string{"pnw"}, Visits: ip(0)}); err != nil {
		t.Fatal(err)
	}
	if got := assigned(t, e); got != "interest=runners/area=pnw/engagement=new" {
		t.Errorf("context regions: got %s", got)
	}
	if err := e.SetContext(Context{Now: t0 + hour, Country: "FR", Visits: ip(2)}); err != nil {
		t.Fatal(err)
	}
	if got := assigned(t, e); got != "interest=runners/area=elsewhere/engagement=returning" {
		t.Errorf("catch-all region: got %s", got)
	}
	// A hidden interest never decides the cohort: running is hidden, so
	// camping (weaker) wins.
	setPrefs(t, e, Preferences{Sharing: SharingCohorts, HiddenInterests: []string{"running"}})
	if got := assigned(t, e); !strings.HasPrefix(got, "interest=campers/") {
		t.Errorf("hidden running: got %s", got)
	}
	setPrefs(t, e, Preferences{Sharing: SharingCohorts, HiddenInterests: []string{"running", "camping", "cooking"}})
	if got := assigned(t, e); !strings.HasPrefix(got, "interest=other/") {
		t.Errorf("all hidden: got %s", got)
	}
	// Location off drops the region.
	setPrefs(t, e, Preferences{Sharing: SharingCohorts, Location: bp(false)})
	if err := e.SetContext(Context{Now: t0 + hour, Country: "AT", Visits: ip(2)}); err != nil {
		t.Fatal(err)
	}
	if got := assigned(t, e); got != "interest=runners/area=elsewhere/engagement=returning" {
		t.Errorf("location off: got %s", got)
	}
	// Engagement has no catch-all: without visits the person is unassignable.
	if err := e.SetContext(Context{Now: t0 + hour}); err != nil {
		t.Fatal(err)
	}
	if got := assigned(t, e); got != "unassignable:engagement" {
		t.Errorf("no visits: got %s", got)
	}
	r, reason, err := e.Report(t0+hour, nil)
	if err != nil || r != nil || !strings.Contains(reason, "engagement") {
		t.Errorf("unassignable report: %v %q %v", r, reason, err)
	}
}

func TestReportKAnonymityFallback(t *testing.T) {
	e := cohortEngine(t, cohortShop())
	observe(t, e, "click", "trail-shoe", t0)
	if err := e.SetContext(Context{Now: t0, Subdivision: "US-WA", Visits: ip(5)}); err != nil {
		t.Fatal(err)
	}
	rs := cohortShop()
	dims := rs.Cohorts.Dimensions
	level := func(sizes map[string]float64) (int, string) {
		t.Helper()
		b, _ := e.assignCohort()
		min := e.rules.minK()
		for len(b) > 0 && sizes[cohortID(dims, b)] < min {
			b = b[:len(b)-1]
		}
		return len(b), cohortID(dims, b)
	}
	full := "interest=runners/area=pnw/engagement=returning"
	cases := []struct {
		sizes map[string]float64
		level int
	}{
		{map[string]float64{full: 50, "interest=runners/area=pnw": 500, "interest=runners": 5000}, 3},
		{map[string]float64{full: 49.9, "interest=runners/area=pnw": 500, "interest=runners": 5000}, 2},
		{map[string]float64{"interest=runners/area=pnw": 10, "interest=runners": 5000}, 1},
		{map[string]float64{full: 10, "interest=runners/area=pnw": 10, "interest=runners": 49}, 0},
		{map[string]float64{}, 1}, // nothing published yet: the first dimension alone
	}
	for i, c := range cases {
		if len(c.sizes) == 0 {
			continue // level() models only the published-table case
		}
		if l, _ := level(c.sizes); l != c.level {
			t.Errorf("case %d: level %d, want %d", i, l, c.level)
		}
	}
	// Through Report: each in its own answer period (within one, every
	// report repeats the period's answer), the ledger records the level.
	period := int64(53 * 7 * dayMillis)
	for i, c := range cases {
		r, reason, err := e.Report(t0+int64(i)*period, c.sizes)
		if err != nil {
			t.Fatal(err)
		}
		if c.level == 0 {
			if r != nil || reason != ReasonBelowK {
				t.Errorf("case %d: got %v %q, want no report", i, r, reason)
			}
			continue
		}
		if r == nil {
			t.Fatalf("case %d: no report: %s", i, reason)
		}
		led, _ := e.Ledger()
		if got := led[len(led)-1].Level; got != c.level {
			t.Errorf("case %d: ledger level %d, want %d", i, got, c.level)
		}
	}
	// No sizes: the full cohort.
	if _, _, err := e.Report(t0+10*period, nil); err != nil {
		t.Fatal(err)
	}
	led, spent := e.Ledger()
	// Levels 3, 2 and 1 each drew an answer; the later reports about the
	// level-1 and level-3 cohorts repeated theirs.
	if len(led) != 5 || led[3].Level != 1 || led[4].Level != 3 || spent != 6 || led[3].Epsilon != 0 || led[4].Epsilon != 0 {
		t.Errorf("ledger %+v spent %v", led, spent)
	}
}

// within checks |got-want| ≤ 4σ.
func within(t *testing.T, what string, got, want, sigma float64) {
	t.Helper()
	if math.Abs(got-want) > 4*sigma {
		t.Errorf("%s: got %.1f, want %.1f ± %.1f", what, got, want, 4*sigma)
	}
}

func TestKRRFrequenciesAndEstimator(t *testing.T) {
	const k, eps, n = 5, 2.0, 20000
	p, q := ldpProbs(k, eps)
	if math.Abs(p+(k-1)*q-1) > 1e-12 {
		t.Fatalf("p + (K-1)q = %v", p+(k-1)*q)
	}
	s := randSource{rand.NewChaCha8([32]byte{7})}
	// One true value: frequencies match p and q.
	counts := make([]float64, k)
	for range n {
		counts[s.krr(2, k, eps)]++
	}
	for i, c := range counts {
		pr := q
		if i == 2 {
			pr = p
		}
		within(t, "krr count", c, n*pr, math.Sqrt(n*pr*(1-pr)))
	}
	// A population: the unbiased estimator recovers the true counts.
	truth := []int{8000, 6000, 3000, 2000, 1000}
	counts = make([]float64, k)
	for v, m := range truth {
		for range m {
			counts[s.krr(v, k, eps)]++
		}
	}
	for v, c := range counts {
		est := (c - n*q) / (p - q)
		m := float64(truth[v])
		sd := math.Sqrt(m*p*(1-p)+(n-m)*q*(1-q)) / (p - q)
		within(t, "krr estimate", est, m, sd)
	}
}

// TestAnswersAreMemoized: reports about the same true cohort repeat one
// answer, epoch after epoch, spending ε once; another cohort draws its own;
// the answers survive a snapshot; over many people the first answers are
// distributed as randomized response says.
func TestAnswersAreMemoized(t *testing.T) {
	e := cohortEngine(t, cohortShop())
	observe(t, e, "view", "tent", t0)
	if err := e.SetContext(Context{Now: t0, Country: "CH", Visits: ip(3)}); err != nil {
		t.Fatal(err)
	}
	week := int64(7 * dayMillis)
	first, _, err := e.Report(t0, nil)
	if err != nil || first == nil {
		t.Fatal(first, err)
	}
	for i := 1; i < 10; i++ {
		r, _, err := e.Report(t0+int64(i)*week, nil)
		if err != nil || r == nil || *r.Value != *first.Value || r.Epoch != first.Epoch+int64(i) {
			t.Fatalf("epoch +%d: %+v, want the answer %d again", i, r, *first.Value)
		}
	}
	led, spent := e.Ledger()
	if len(led) != 10 || spent != 2 || led[0].Epsilon != 2 || led[9].Epsilon != 0 {
		t.Fatalf("ledger %+v spent %v: ε is spent once for one cohort", led, spent)
	}
	// Another cohort (no longer returning: visits 1) in the same answer
	// period repeats the period's answer; in the next it draws a new one.
	if err := e.SetContext(Context{Now: t0, Country: "CH", Visits: ip(1)}); err != nil {
		t.Fatal(err)
	}
	if r, _, err := e.Report(t0+10*week, nil); err != nil || r == nil || *r.Value != *first.Value {
		t.Fatalf("another cohort in the same period: %+v %v, want %d", r, err, *first.Value)
	}
	next := (t0/week/53 + 1) * 53 * week
	second, _, err := e.Report(next, nil)
	if err != nil || second == nil {
		t.Fatal(second, err)
	}
	if _, spent := e.Ledger(); spent != 4 {
		t.Fatalf("spent %v after a second cohort, want 4", spent)
	}
	// Back in the first cohort, through a snapshot: the period's answer,
	// and in the period after, the first cohort's own.
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	e2 := cohortEngine(t, cohortShop())
	if _, err := e2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if err := e2.SetContext(Context{Now: t0, Country: "CH", Visits: ip(3)}); err != nil {
		t.Fatal(err)
	}
	r, _, err := e2.Report(next+week, nil)
	if err != nil || r == nil || *r.Value != *second.Value {
		t.Fatalf("after restore: %+v, want %d", r, *second.Value)
	}
	r, _, err = e2.Report(next+53*week, nil)
	if err != nil || r == nil || *r.Value != *first.Value {
		t.Fatalf("a period later: %+v, want %d", r, *first.Value)
	}
	if _, spent := e2.Ledger(); spent != 4 {
		t.Fatalf("spent %v after restore, want still 4", spent)
	}

	// Many people in one cohort: their answers follow p and q.
	const n = 4000
	counts := map[int]float64{}
	var truth, k int
	for i := range n {
		e := New()
		if err := e.Load(cohortShop()); err != nil {
			t.Fatal(err)
		}
		e.SetRandom(rand.NewChaCha8([32]byte{byte(i), byte(i >> 8), 9}))
		setPrefs(t, e, Preferences{Sharing: SharingCohorts})
		if err := e.SetContext(Context{Now: t0, Country: "CH", Visits: ip(3)}); err != nil {
			t.Fatal(err)
		}
		r, _, _ := e.Report(t0, nil)
		counts[*r.Value]++
		b, _ := e.assignCohort()
		truth, k = cohortIndex(e.rules.cohorts.Dimensions, b), catalogueSize(e.rules.cohorts.Dimensions)
	}
	p, q := ldpProbs(k, 2)
	within(t, "true answers", counts[truth], n*p, math.Sqrt(n*p*(1-p)))
	other := (truth + 1) % k
	within(t, "another answer", counts[other], n*q, math.Sqrt(n*q*(1-q)))
}

func TestReportOncePerEpochAndLedger(t *testing.T) {
	rs := cohortShop()
	e := cohortEngine(t, rs)
	observe(t, e, "view", "tent", t0)
	if err := e.SetContext(Context{Now: t0, Country: "CH", Visits: ip(3)}); err != nil {
		t.Fatal(err)
	}
	week := int64(7 * dayMillis)
	epoch := t0 / week
	r1, reason, err := e.Report(t0, nil)
	if err != nil || r1 == nil {
		t.Fatalf("%v %q %v", r1, reason, err)
	}
	if r1.Ruleset != "shop" || r1.Epoch != epoch || r1.Mechanism != MechanismKRR || r1.Value == nil || *r1.Value < 0 || *r1.Value >= 30 || r1.Epsilon != 2 {
		t.Fatalf("report %+v", r1) // K = 30
	}
	// Same epoch, even with other sizes: the same report, not redrawn.
	for i := range 20 {
		r, _, err := e.Report(t0+int64(i)*hour, map[string]float64{"interest=campers": 1e6})
		if err != nil || !reflect.DeepEqual(r, r1) {
			t.Fatalf("repeat %d: %+v, want %+v", i, r, r1)
		}
	}
	// Next epoch: a new report.
	r2, _, err := e.Report((epoch+1)*week, nil)
	if err != nil || r2 == nil || r2.Epoch != epoch+1 {
		t.Fatalf("next epoch: %+v %v", r2, err)
	}
	// Back in the earlier epoch: refused.
	if r, reason, _ := e.Report(t0, nil); r != nil || reason != ReasonPastEpoch {
		t.Errorf("earlier epoch: %+v %q", r, reason)
	}
	led, spent := e.Ledger()
	// The next epoch's report is about the same cohort: the same answer,
	// and no more ε spent.
	if *r2.Value != *r1.Value {
		t.Errorf("next epoch's answer %d, want the memoized %d", *r2.Value, *r1.Value)
	}
	if len(led) != 2 || spent != 2 || led[0].Epoch != epoch || led[1].Epoch != epoch+1 || led[0].At != t0 || led[0].Mechanism != MechanismKRR || led[0].Level != 3 || led[1].Epsilon != 0 {
		t.Errorf("ledger %+v spent %v", led, spent)
	}

	// KRR with few cohorts.
	small := cohortShop()
	small.Cohorts.Dimensions = small.Cohorts.Dimensions[2:]
	small.Reporting = Reporting{}
	e2 := cohortEngine(t, small)
	if err := e2.SetContext(Context{Now: t0, Visits: ip(0)}); err != nil {
		t.Fatal(err)
	}
	r, _, err := e2.Report(t0, nil)
	if err != nil || r == nil || r.Mechanism != MechanismKRR || r.Value == nil || *r.Value < 0 || *r.Value > 1 || r.Epsilon != DefaultEpsilon {
		t.Fatalf("krr report %+v %v", r, err)
	}
}

func TestReportNeedsCohortSharing(t *testing.T) {
	e := cohortEngine(t, cohortShop())
	if err := e.SetContext(Context{Now: t0, Visits: ip(3)}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []Preferences{{}, {Sharing: SharingOnDevice}, {Sharing: SharingCohorts, GPC: true}, {Sharing: SharingOff}} {
		setPrefs(t, e, p)
		r, reason, err := e.Report(t0, nil)
		if err != nil || r != nil || !strings.HasPrefix(reason, "sharing level ") {
			t.Errorf("%+v: %+v %q %v", p, r, reason, err)
		}
	}
	if led, _ := e.Ledger(); len(led) != 0 {
		t.Errorf("ledger %+v", led)
	}
	// No cohorts, no report; no ruleset, an error; bad now, an error.
	e2 := cohortEngine(t, shop())
	if r, reason, err := e2.Report(t0, nil); err != nil || r != nil || reason != ReasonNoCohorts {
		t.Errorf("no cohorts: %+v %q %v", r, reason, err)
	}
	_, _, err := New().Report(t0, nil)
	wantCode(t, err, CodeNoRuleset)
	_, _, err = e2.Report(0, nil)
	wantCode(t, err, CodeBadRequest)
}

func TestReportSnapshotAndOff(t *testing.T) {
	e := cohortEngine(t, cohortShop())
	if err := e.SetContext(Context{Now: t0, Visits: ip(3)}); err != nil {
		t.Fatal(err)
	}
	r1, _, err := e.Report(t0, nil)
	if err != nil || r1 == nil {
		t.Fatal(r1, err)
	}
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	e2 := cohortEngine(t, cohortShop())
	if _, err := e2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	l1, s1 := e.Ledger()
	l2, s2 := e2.Ledger()
	if !reflect.DeepEqual(l1, l2) || s1 != s2 || len(l2) != 1 {
		t.Errorf("ledger after restore %+v, want %+v", l2, l1)
	}
	// The restored engine repeats the stored report in the same epoch.
	r2, _, err := e2.Report(t0+hour, nil)
	if err != nil || !reflect.DeepEqual(r1, r2) {
		t.Errorf("restored report %+v, want %+v", r2, r1)
	}
	snap2, _ := e2.Snapshot()
	if !bytes.Equal(snap, snap2) {
		t.Error("snapshot changed by restore")
	}
	// A version 3 snapshot with a ledger is corrupt.
	var buf bytes.Buffer
	if err := msgpack.NewEncoder(&buf).Encode(map[string]any{"v": 3, "ruleset": "shop", "events": []any{},
		"ledger": []any{map[string]any{"ruleset": "shop", "epoch": 1, "level": 1, "mechanism": "krr", "epsilon": 2, "at": t0}}}); err != nil {
		t.Fatal(err)
	}
	e3 := cohortEngine(t, cohortShop())
	_, err = e3.Restore(buf.Bytes())
	wantCode(t, err, CodeCorruptSnapshot)
	// Without one, a version 3 snapshot still loads.
	buf.Reset()
	if err := msgpack.NewEncoder(&buf).Encode(map[string]any{"v": 3, "ruleset": "shop", "events": []any{[]any{"view", "tent", t0}}}); err != nil {
		t.Fatal(err)
	}
	if n, err := e3.Restore(buf.Bytes()); err != nil || n != 1 {
		t.Fatalf("v3 snapshot: %d %v", n, err)
	}
	// Sharing off erases the ledger and the stored report.
	setPrefs(t, e2, Preferences{Sharing: SharingOff})
	if led, spent := e2.Ledger(); len(led) != 0 || spent != 0 {
		t.Errorf("ledger after off %+v", led)
	}
	setPrefs(t, e2, Preferences{Sharing: SharingCohorts})
	if err := e2.SetContext(Context{Now: t0, Visits: ip(3)}); err != nil {
		t.Fatal(err)
	}
	// Not in the same answer period (see TestEraseDoesNotRedrawInTheSameEpoch)...
	if r, reason, _ := e2.Report(t0, nil); r != nil || reason != ReasonAlreadyReported {
		t.Errorf("after off, in the same epoch: %+v %q", r, reason)
	}
	// ...but in the next, a new report is drawn.
	next := (t0/(7*86_400_000)/53 + 1) * 53 * 7 * 86_400_000
	if err := e2.SetContext(Context{Now: next, Visits: ip(3)}); err != nil {
		t.Fatal(err)
	}
	r3, _, _ := e2.Report(next, nil)
	if r3 == nil || r3.Value == nil {
		t.Errorf("after off, the next epoch's report is drawn: %+v", r3)
	}
	// Off erased the memoized answers too: the new report spends ε again.
	if led, spent := e2.Ledger(); len(led) != 1 || spent != 2 {
		t.Errorf("ledger %+v spent %v", led, spent)
	}
}

// Erasing the profile (sharing off, as Forget me does) must not let a second
// randomized answer out in the same epoch: two independent noisy answers
// about one cohort can be averaged. The erase keeps only when the epoch of
// the last report ends, and Report sends nothing before then, even after
// the person opts in again; the export says so. A snapshot keeps it, and the
// next epoch reports again.
func TestEraseDoesNotRedrawInTheSameEpoch(t *testing.T) {
	const week = 7 * 86_400_000
	t0 := int64(2921)*week + 3*86_400_000
	e := cohortEngine(t, cohortShop())
	if err := e.SetContext(Context{Now: t0, Visits: ip(0)}); err != nil {
		t.Fatal(err)
	}
	first, _, err := e.Report(t0, nil)
	if err != nil || first == nil {
		t.Fatalf("first report: %+v %v", first, err)
	}
	setPrefs(t, e, Preferences{Sharing: SharingOff}) // Forget me erases the profile
	setPrefs(t, e, Preferences{Sharing: SharingCohorts})
	if err := e.SetContext(Context{Now: t0 + 3_600_000, Visits: ip(0)}); err != nil {
		t.Fatal(err)
	}
	// Answer periods are 53 epochs: 2921 is in the one of 2915 to 2967.
	for _, at := range []int64{t0 + 3_600_000, 2922*week - 1, 2922 * week, 2968*week - 1} {
		if r, reason, err := e.Report(at, nil); r != nil || err != nil || reason != ReasonAlreadyReported {
			t.Fatalf("report at %d after the erase: %+v %q %v, want none: %q", at, r, reason, err, ReasonAlreadyReported)
		}
	}
	x, err := e.Export()
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Reports) != 0 || len(x.Ledger) != 0 || len(x.ReportPauses) != 1 || x.ReportPauses[0] != (ReportPause{Ruleset: "shop", Until: 2968 * week}) {
		t.Fatalf("export after the erase: reports %v, ledger %v, pauses %+v", x.Reports, x.Ledger, x.ReportPauses)
	}
	// A snapshot carries the pause to the next page.
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	e2 := cohortEngine(t, cohortShop())
	if _, err := e2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if err := e2.SetContext(Context{Now: t0 + 7_200_000, Visits: ip(0)}); err != nil {
		t.Fatal(err)
	}
	if r, reason, _ := e2.Report(t0+7_200_000, nil); r != nil || reason != ReasonAlreadyReported {
		t.Fatalf("report from a restored snapshot: %+v %q", r, reason)
	}
	// The next answer period reports again, and the pause is its end.
	if err := e2.SetContext(Context{Now: 2968 * week, Visits: ip(0)}); err != nil {
		t.Fatal(err)
	}
	if r, _, err := e2.Report(2968*week, nil); err != nil || r == nil || r.Epoch != 2968 {
		t.Fatalf("next period: %+v %v", r, err)
	}
	if x, _ := e2.Export(); len(x.ReportPauses) != 1 || x.ReportPauses[0].Until != 3021*week {
		t.Errorf("pauses after the next report: %+v", x.ReportPauses)
	}
}

// TestOneAnswerPerPeriod: a person whose cohort changes every week sends
// one answer for the whole answer period, spending ε once, and draws the
// next only when the next period begins. Before answer periods, each new
// cohort drew a new answer, and the changing sequence singled people out
// (internal/sim's TestDriftReidentification).
func TestOneAnswerPerPeriod(t *testing.T) {
	const week = 7 * dayMillis
	e := cohortEngine(t, cohortShop())
	start := (t0/week/53 + 1) * 53 // the first epoch of a period
	var first *Report
	for i := range int64(53) {
		// visits 1 and 3 alternate the engagement bucket: new, returning.
		if err := e.SetContext(Context{Now: (start + i) * week, Visits: ip(1 + 2*int(i%2))}); err != nil {
			t.Fatal(err)
		}
		r, reason, err := e.Report((start+i)*week, nil)
		if err != nil || r == nil {
			t.Fatalf("epoch %d: %v %q", i, err, reason)
		}
		if first == nil {
			first = r
		}
		if *r.Value != *first.Value || r.Epoch != start+i {
			t.Fatalf("epoch %d: %+v, want the period's answer %d", i, r, *first.Value)
		}
	}
	led, spent := e.Ledger()
	if len(led) != 53 || spent != 2 || led[1].Level != 3 || led[52].Epsilon != 0 {
		t.Fatalf("ledger %d entries, spent %v: %+v", len(led), spent, led[:2])
	}
	// The next period: the current cohort (visits 3, returning) is new, so
	// its answer is drawn; the one after (visits 1, new) has its memoized one.
	for i, visits := range []int{3, 1} {
		at := (start + 53*int64(i+1)) * week
		if err := e.SetContext(Context{Now: at, Visits: ip(visits)}); err != nil {
			t.Fatal(err)
		}
		r, _, err := e.Report(at, nil)
		if err != nil || r == nil || (i == 1 && *r.Value != *first.Value) {
			t.Fatalf("period %d: %+v %v", i+1, r, err)
		}
	}
	if _, spent := e.Ledger(); spent != 4 {
		t.Errorf("spent %v over three periods and two cohorts, want 4", spent)
	}
}

func TestCohortLevel(t *testing.T) {
	dims := cohortShop().Cohorts.Dimensions // 3 × 3 × 2: 18 + 9 + 3
	for idx, want := range map[int]int{0: 3, 17: 3, 18: 2, 26: 2, 27: 1, 29: 1, 30: 0} {
		if got := cohortLevel(dims, idx); got != want {
			t.Errorf("cohortLevel(%d) = %d, want %d", idx, got, want)
		}
	}
	for l := 1; l <= 3; l++ {
		if got := cohortLevel(dims, cohortIndex(dims, make([]int, l))); got != l {
			t.Errorf("level of the first cohort of %d dimensions: %d", l, got)
		}
	}
}
