package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgewise/edgewise/internal/lift"
)

// crowdNow is the clock of the crowd tests: Wednesday 2 December 2026,
// in epoch 2969.
var crowdNow = time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)

// shared is one server with the demo's default crowd (make demo's -crowd
// 30000), seeded once for the tests that only read it.
var shared struct {
	once sync.Once
	dist string
	s    *server
	ts   *httptest.Server
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.ts != nil {
		shared.s.close()
		shared.ts.Close()
		if err := shared.s.closeCollector(); err != nil && code == 0 {
			fmt.Fprintln(os.Stderr, "closing the shared crowd's collector:", err)
			code = 1
		}
	}
	if shared.dist != "" {
		os.RemoveAll(shared.dist)
	}
	os.Exit(code)
}

// crowdServer is the shared server with a crowd of 30,000 at crowdNow.
func crowdServer(t *testing.T) (*server, *httptest.Server) {
	t.Helper()
	shared.once.Do(func() {
		if shared.dist, shared.err = os.MkdirTemp("", "edgewise-demo-dist-"); shared.err != nil {
			return
		}
		if shared.err = writeFakeDist(shared.dist); shared.err != nil {
			return
		}
		start := time.Now()
		shared.s, shared.err = newServer(serverConfig{dist: shared.dist, crowd: defaultCrowd(30000), now: func() time.Time { return crowdNow }})
		if shared.err == nil {
			shared.ts = httptest.NewServer(shared.s)
			t.Logf("seeded the shared crowd of 30000 in %v", time.Since(start))
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.s, shared.ts
}

// An outcome answer is drawn as internal/lift models what devices send:
// over many people, with arms drawn at the holdout share and goals at
// each arm's rate, the four values come at lift.Design.Frequencies. Two
// designs, so that an arm swapped, a goal not noised or noised at the
// wrong ε would show in one of them.
func TestOutcomeAnswersAreWhatLiftModels(t *testing.T) {
	for _, tc := range []struct {
		d     lift.Design
		truth lift.Truth
	}{
		{lift.Design{Epsilon: 1, Holdout: 0.2}, lift.Truth{HoldoutRate: 0.2, PersonalizedRate: 0.23}},
		{lift.Design{Epsilon: 0.5, Holdout: 0.35}, lift.Truth{HoldoutRate: 0.05, PersonalizedRate: 0.6}},
	} {
		rng := rand.New(rand.NewPCG(11, 12))
		const n = 200_000
		var c lift.Counts
		for range n {
			holdout := rng.Float64() < tc.d.Holdout
			rate := tc.truth.PersonalizedRate
			if holdout {
				rate = tc.truth.HoldoutRate
			}
			v := outcomeAnswer(rng, holdout, rng.Float64() < rate, tc.d.Epsilon)
			if v < 0 || v >= lift.Categories {
				t.Fatalf("answer %d is not one of lift's categories", v)
			}
			c[v]++
		}
		for j, f := range tc.d.Frequencies(tc.truth) {
			got := float64(c[j]) / n
			if se := math.Sqrt(f * (1 - f) / n); math.Abs(got-f) > 4.5*se {
				t.Errorf("%+v, %+v: value %d came %.4f of the time, lift.Design.Frequencies says %.4f", tc.d, tc.truth, j, got, f)
			}
		}
	}
}

// krr is the engine's k-ary randomized response: the true value with
// probability e^ε/(e^ε+k−1), each other value equally often.
func TestKRR(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, k, v, eps = 200_000, 5, 2, 1.5
	counts := make([]int, k)
	for range n {
		counts[krr(rng, v, k, eps)]++
	}
	p := math.Exp(eps) / (math.Exp(eps) + k - 1)
	for j, got := range counts {
		want := (1 - p) / (k - 1)
		if j == v {
			want = p
		}
		if se := math.Sqrt(want * (1 - want) / n); math.Abs(float64(got)/n-want) > 4.5*se {
			t.Errorf("value %d came %.4f of the time, want %.4f", j, float64(got)/n, want)
		}
	}
	if krr(rng, 0, 1, eps) != 0 {
		t.Error("with one value there is nothing to say but it")
	}
}

// The crowd's answers reach the collector as the engine would send them,
// and the collector's figures, which the dashboard shows, recover the lift
// the crowd was given: every epoch's interval (a confidence sequence, valid
// at every look at once) holds the true lift, and by the last epoch the
// verdict has found it. The seed is fixed, so this is one draw: a true
// lift outside a 95% interval would fail it about one time in twenty, over
// seeds; this seed's does not.
func TestCrowdFindsTheLift(t *testing.T) {
	s, ts := crowdServer(t)
	ex, err := s.collector.Experiments(context.Background(), "outdoor-shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Experiments) != 1 || ex.Experiments[0].ID != "hero-lift" {
		t.Fatalf("experiments %+v, want the example's hero-lift", ex.Experiments)
	}
	x := ex.Experiments[0]
	current := epochOf(crowdNow, 7)
	if len(x.Epochs) != crowdEpochs || x.Epochs[0].Epoch != current-crowdEpochs || x.Epochs[len(x.Epochs)-1].Epoch != current-1 {
		t.Fatalf("answers about %d epochs from %d, want %d epochs from %d to %d", len(x.Epochs), x.Epochs[0].Epoch, crowdEpochs, current-crowdEpochs, current-1)
	}
	// Every answer the crowd sent was counted, no more.
	if x.Cumulative.Reports != int64(s.crowd.answers["hero-lift"]) || x.Cumulative.Reports < crowdEpochs*30000*crowdVisit*0.9 {
		t.Errorf("the collector counted %d answers, the crowd sent %d", x.Cumulative.Reports, s.crowd.answers["hero-lift"])
	}
	const truth = defaultCrowdLift
	base := defaultCrowdBase
	for i, ep := range x.Epochs {
		// Answers about an epoch come with reports up to four epochs
		// later: those about the last four epochs are still coming.
		if want := ep.Epoch < current-4; ep.Final != want {
			t.Errorf("epoch %d: final = %v, want %v", ep.Epoch, ep.Final, want)
		}
		if ep.Cumulative == nil {
			t.Fatalf("epoch %d: no cumulative result (%s)", ep.Epoch, ep.Withheld)
		}
		rel := ep.Cumulative.Relative
		if !(rel.CS[0] <= truth && truth <= rel.CS[1]) {
			t.Errorf("epoch %d: the relative lift's confidence sequence [%.3f, %.3f] misses the true lift %g", ep.Epoch, rel.CS[0], rel.CS[1], truth)
		}
		if i == 0 && ep.Cumulative.Lift.Excludes() {
			t.Errorf("epoch %d: one epoch's answers already found the lift: %+v", ep.Epoch, ep.Cumulative.Lift)
		}
	}
	res := x.Cumulative.Result
	for arm, rate := range []float64{base, base * (1 + truth)} {
		if r := res.Rate[arm]; !(r.CS[0] <= rate && rate <= r.CS[1]) {
			t.Errorf("arm %d converts at %g, its interval is [%.4f, %.4f]", arm, rate, r.CS[0], r.CS[1])
		}
	}
	if !strings.HasPrefix(x.Cumulative.Verdict, "Personalized picks converted more, with 95% confidence") {
		t.Errorf("the verdict after %d epochs: %q", crowdEpochs, x.Cumulative.Verdict)
	}

	// The dashboard shows the collector's figures and says they are simulated.
	_, page := get(t, ts.URL+"/dashboard")
	els := panelOf(t, parseHTML(t, page), "hero-lift")
	if got := text(els, "data-verdict"); got != x.Cumulative.Verdict {
		t.Errorf("the dashboard's verdict %q, the collector's %q", got, x.Cumulative.Verdict)
	}
	if v := withAttr(els, "data-verdict"); len(v) != 1 || v[0].attrs["data-found"] != "more" {
		t.Error("the verdict is not marked as a difference found")
	}
	if !strings.Contains(string(page), "Simulated: true lift 15%.") || attr(els, "data-crowd-lift") != "0.15" {
		t.Error("the dashboard does not say the answers are simulated, with a true lift of 15%")
	}
	if got := attr(els, "data-answers"); got != strconv.FormatInt(x.Cumulative.Reports, 10) {
		t.Errorf("answers %s, want %d", got, x.Cumulative.Reports)
	}
	if got := text(els, "data-answers"); got != formatCount(x.Cumulative.Reports) {
		t.Errorf("answers shown as %q", got)
	}
	for name, iv := range map[string]lift.Interval{"comparison": res.Rate[lift.Holdout], "personalized": res.Rate[lift.Personalized]} {
		el := withValue(els, "data-rate", name)
		if el == nil || el.attrs["data-estimate"] != exactOf(iv.Estimate) || el.attrs["data-cs-low"] != exactOf(iv.CS[0]) || strings.TrimSpace(el.text) != percent(iv.Estimate) {
			t.Errorf("the %s rate is not the collector's %+v: %+v", name, iv, el)
		}
	}
	if l := withAttr(els, "data-lift"); len(l) != 1 || l[0].attrs["data-estimate"] != exactOf(res.Relative.Estimate) || strings.TrimSpace(l[0].text) != signedPercent(res.Relative.Estimate) {
		t.Errorf("the lift shown is not the collector's relative lift %+v", res.Relative)
	}
	rows := withAttr(els, "data-lift-epoch")
	if len(rows) != crowdEpochs {
		t.Fatalf("%d weeks in the table, want %d", len(rows), crowdEpochs)
	}
	for i, row := range rows {
		ep := x.Epochs[i]
		if row.attrs["data-lift-epoch"] != strconv.FormatInt(ep.Epoch, 10) || row.attrs["data-estimate"] != exactOf(ep.Cumulative.Relative.Estimate) ||
			row.attrs["data-cs-high"] != exactOf(ep.Cumulative.Relative.CS[1]) {
			t.Errorf("week %d of the table is not the collector's epoch %d: %v", i, ep.Epoch, row.attrs)
		}
	}
	for _, size := range []string{"wide", "narrow"} {
		chart := withValue(els, "data-lift-chart", size)
		if chart == nil {
			t.Fatalf("no %s lift chart", size)
		}
	}
	if n := countClass(els, "circle", "dot"); n != 2*crowdEpochs {
		t.Errorf("%d dots in the two charts, want %d", n, 2*crowdEpochs)
	}
	if n := countClass(els, "line", "truth"); n != 2 {
		t.Errorf("%d true-lift lines, want one in each chart", n)
	}
}

// A crowd given no lift (an A/A test: both groups convert alike) finds
// none: no epoch's interval leaves out 0, and the verdict says no
// difference was found.
func TestCrowdWithoutLiftFindsNone(t *testing.T) {
	s, ts := newTestServerWith(t, serverConfig{crowd: crowdConfig{devices: 30000, base: defaultCrowdBase, lift: 0}, now: func() time.Time { return crowdNow }})
	ex, err := s.collector.Experiments(context.Background(), "outdoor-shop")
	if err != nil {
		t.Fatal(err)
	}
	x := ex.Experiments[0]
	if len(x.Epochs) != crowdEpochs {
		t.Fatalf("%d epochs with answers, want %d", len(x.Epochs), crowdEpochs)
	}
	for _, ep := range x.Epochs {
		if c := ep.Cumulative; c == nil || c.Lift.Excludes() || c.Relative.Excludes() {
			t.Errorf("epoch %d: an A/A crowd found a difference: %+v", ep.Epoch, c)
		}
	}
	if !strings.HasPrefix(x.Cumulative.Verdict, "No difference found") {
		t.Errorf("the verdict of an A/A crowd: %q", x.Cumulative.Verdict)
	}
	_, page := get(t, ts.URL+"/dashboard")
	els := panelOf(t, parseHTML(t, page), "hero-lift")
	if v := withAttr(els, "data-verdict"); len(v) != 1 || v[0].attrs["data-found"] != "" || strings.TrimSpace(v[0].text) != x.Cumulative.Verdict {
		t.Errorf("the dashboard's verdict: %+v", v)
	}
	if !strings.Contains(string(page), "Simulated: true lift 0%.") {
		t.Error("the dashboard does not say the simulated lift is 0")
	}
	if n := countClass(els, "circle", "dot found"); n != 0 {
		t.Errorf("%d dots are marked as a difference found", n)
	}
}

// Without a crowd or any answer the panel says so, and draws nothing.
func TestDashboardExperimentWithoutAnswers(t *testing.T) {
	_, ts := newTestServerWith(t, serverConfig{now: func() time.Time { return crowdNow }})
	_, page := get(t, ts.URL+"/dashboard")
	els := panelOf(t, parseHTML(t, page), "hero-lift")
	if got := text(els, "data-empty"); !strings.HasPrefix(got, "No outcome answers yet.") {
		t.Errorf("the empty panel says %q", got)
	}
	if len(withAttr(els, "data-lift-chart")) != 0 || len(withAttr(els, "data-crowd-lift")) != 0 || len(withAttr(els, "data-answers")) != 0 {
		t.Error("a panel without answers shows a chart, figures or a simulation note")
	}
	// The answers of a real device are shown, and not called simulated.
	epoch := epochOf(crowdNow, 7)
	for i := range 40 {
		body := fmt.Sprintf(`{"ruleset":"outdoor-shop","epoch":%d,"mechanism":"krr","epsilon":2,"outcomes":[{"experiment":"hero-lift","epoch":%d,"value":%d,"epsilon":1}]}`, epoch, epoch-1, i%4)
		if resp, out := postJSON(t, ts.URL+"/v1/reports", body); resp.StatusCode != 204 {
			t.Fatalf("POST /v1/reports: %s %s", resp.Status, out)
		}
	}
	_, page = get(t, ts.URL+"/dashboard")
	els = panelOf(t, parseHTML(t, page), "hero-lift")
	if attr(els, "data-answers") != "40" || len(withAttr(els, "data-crowd-lift")) != 0 || strings.Contains(string(page), "Simulated") {
		t.Errorf("40 real answers: answers %q, and the page calls them simulated: %v", attr(els, "data-answers"), strings.Contains(string(page), "Simulated"))
	}
}

func TestLayoutLift(t *testing.T) {
	truth := 0.15
	points := []liftPoint{
		{label: "1 Oct", ok: true, est: 0.05, lo: -0.3, hi: 0.4},
		{label: "8 Oct", ok: true, est: 0.08, lo: -0.1, hi: 0.26},
		{label: "15 Oct"}, // withheld: a gap
		{label: "22 Oct", ok: true, est: 0.14, lo: 0.04, hi: 0.24},
		{label: "29 Oct", ok: true, est: 0.15, lo: 0.06, hi: 0.25},
	}
	c := layoutLift(points, &truth, liftNarrow)
	if len(c.Segments) != 2 || len(c.Dots) != 4 {
		t.Fatalf("%d segments and %d dots, want 2 (split by the gap) and 4", len(c.Segments), len(c.Dots))
	}
	if !c.Dots[2].Found || c.Dots[0].Found {
		t.Error("a dot is filled exactly when its band is clear of 0")
	}
	top, bottom := c.PlotY, c.PlotY+c.PlotH
	if !(c.ZeroY > top && c.ZeroY < bottom) || !(c.TruthY > top && c.TruthY < c.ZeroY) {
		t.Errorf("zero at %v and the truth at %v, in a plot from %v to %v", c.ZeroY, c.TruthY, top, bottom)
	}
	// The y ticks cover every band, from −30% to +40%, and the zero tick
	// is where the zero line is.
	if first, last := c.YTicks[0], c.YTicks[len(c.YTicks)-1]; first.Label != "−30%" || last.Label != "+40%" || first.X != bottom || last.X != top {
		t.Errorf("y ticks %+v", c.YTicks)
	}
	for _, tk := range c.YTicks {
		if tk.Label == "0%" && tk.X != c.ZeroY {
			t.Errorf("the 0%% tick at %v, the zero line at %v", tk.X, c.ZeroY)
		}
	}
	// x labels never closer than the room one needs, the last always there.
	for i := 1; i < len(c.XLabels); i++ {
		if d := c.XLabels[i].X - c.XLabels[i-1].X; d < liftNarrow.labelRoom {
			t.Errorf("x labels %q and %q are %v apart", c.XLabels[i-1].Label, c.XLabels[i].Label, d)
		}
	}
	if c.XLabels[len(c.XLabels)-1].Label != "29 Oct" {
		t.Errorf("the last x label is %q", c.XLabels[len(c.XLabels)-1].Label)
	}
	many := make([]liftPoint, 30)
	for i := range many {
		many[i] = liftPoint{label: strconv.Itoa(i), ok: true, est: 0.1, lo: 0, hi: 0.2}
	}
	if c := layoutLift(many, nil, liftNarrow); len(c.XLabels) >= 30 || c.XLabels[len(c.XLabels)-1].Label != "29" || c.HasTruth {
		t.Errorf("30 epochs on a phone: %d labels, last %q", len(c.XLabels), c.XLabels[len(c.XLabels)-1].Label)
	}
	// A band past the range is cut at its edge, and said to be.
	wild := []liftPoint{{label: "a", ok: true, est: 0.5, lo: -4, hi: 9}}
	c = layoutLift(wild, nil, liftWide)
	if !c.Clipped || c.YTicks[0].Label != "−100%" || c.YTicks[len(c.YTicks)-1].Label != "+200%" {
		t.Errorf("a band from −400%% to +900%%: clipped %v, ticks %+v", c.Clipped, c.YTicks)
	}
	if c := layoutLift([]liftPoint{{label: "a"}}, &truth, liftWide); len(c.Segments) != 0 || len(c.YTicks) != 0 {
		t.Error("nothing to draw draws something")
	}
}

func TestPercent(t *testing.T) {
	for v, want := range map[float64]string{0.2: "20%", 0.2334: "23.3%", -0.0083: "−0.8%", 0: "0%", -0.0001: "0%", 1.5: "150%"} {
		if got := percent(v); got != want {
			t.Errorf("percent(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{0.151: "+15.1%", -0.03: "−3%", 0: "0%", 0.00001: "0%"} {
		if got := signedPercent(v); got != want {
			t.Errorf("signedPercent(%v) = %q, want %q", v, got, want)
		}
	}
	if got := formatCount(234145); got != "234,145" {
		t.Errorf("formatCount = %q", got)
	}
	if got := goalWords([]string{"purchase", "click"}); got != "a purchase or a click on one of its picks" {
		t.Errorf("goalWords = %q", got)
	}
}

// The crowd's rates must make sense before anything is sent.
func TestCrowdConfigCheck(t *testing.T) {
	for _, c := range []crowdConfig{{devices: 10, base: 0, lift: 0.1}, {devices: 10, base: 1, lift: 0}, {devices: 10, base: 0.6, lift: 1}, {devices: 10, base: 0.2, lift: -1}} {
		if c.check() == nil {
			t.Errorf("%+v passes", c)
		}
	}
	if (crowdConfig{devices: 10, base: 0.2, lift: 0}).check() != nil || (crowdConfig{base: -1}).check() != nil {
		t.Error("a sound crowd, or none, is refused")
	}
	var stderr strings.Builder
	if err := run(context.Background(), []string{"-crowd", "10", "-crowd-base", "1.5"}, &strings.Builder{}, &stderr); err == nil || !strings.Contains(err.Error(), "-crowd-base") {
		t.Errorf("-crowd-base 1.5: %v", err)
	}
	if err := run(context.Background(), []string{"-clock", "yesterday"}, &strings.Builder{}, &stderr); err == nil || !strings.Contains(err.Error(), "-clock") {
		t.Errorf("-clock yesterday: %v", err)
	}
}

// The -clock flag runs the server's clock from the time given.
func TestClockFlag(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-dist", fakeDist(t), "-clock", "2026-12-02T23:30:00Z"}, stdout, stderr)
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; {
		if line, ok := strings.CutPrefix(strings.TrimSpace(stdout.String()), "Edgewise demo listening on "); ok {
			base = line
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listening line: %s %s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// 23:30 on Wednesday 2 December is in epoch 2969; the next epoch's
	// reports are taken within the hour before it starts.
	for epoch, want := range map[int64]int{2969: 204, 2970: 204, 2968: 400, 2971: 400} {
		body := fmt.Sprintf(`{"ruleset":"outdoor-shop","epoch":%d,"mechanism":"krr","value":0,"epsilon":2}`, epoch)
		if resp, out := postJSON(t, base+"/v1/reports", body); resp.StatusCode != want {
			t.Errorf("a report for epoch %d: %s %s, want %d", epoch, resp.Status, out, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// panelOf returns the elements of the dashboard's panel for experiment id,
// from its opening tag to the next panel or epoch section.
func panelOf(t *testing.T, els []*htmlElement, id string) []*htmlElement {
	t.Helper()
	for i, el := range els {
		if el.attrs["data-experiment-panel"] != id {
			continue
		}
		end := i + 1
		for end < len(els) && els[end].attrs["data-epoch"] == "" && els[end].attrs["data-experiment-panel"] == "" {
			end++
		}
		return els[i:end]
	}
	t.Fatalf("the dashboard has no panel for experiment %s", id)
	return nil
}

// attr is the value of attribute name on the first element carrying it.
func attr(els []*htmlElement, name string) string {
	for _, el := range els {
		if v, ok := el.attrs[name]; ok {
			return v
		}
	}
	return "(missing)"
}

// withValue is the first element whose attribute name is value.
func withValue(els []*htmlElement, name, value string) *htmlElement {
	for _, el := range els {
		if v, ok := el.attrs[name]; ok && v == value {
			return el
		}
	}
	return nil
}

// countClass counts the elements named name with every class of class.
func countClass(els []*htmlElement, name, class string) int {
	n := 0
next:
	for _, el := range els {
		if el.name != name {
			continue
		}
		has := strings.Fields(el.attrs["class"])
		for _, c := range strings.Fields(class) {
			if !slices.Contains(has, c) {
				continue next
			}
		}
		n++
	}
	return n
}

func exactOf(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
