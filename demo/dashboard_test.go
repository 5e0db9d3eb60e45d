package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgewise/edgewise/collector"
)

// htmlElement is one element of a parsed page: its name, attributes and the
// text directly inside it.
type htmlElement struct {
	name  string
	attrs map[string]string
	text  string
}

// parseHTML reads a page with encoding/xml in its lenient HTML mode and
// returns every element, in document order. It fails the test on markup
// the decoder cannot follow.
func parseHTML(t *testing.T, page []byte) []*htmlElement {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(page))
	dec.Strict = false
	dec.AutoClose = xml.HTMLAutoClose
	dec.Entity = xml.HTMLEntity
	var out, stack []*htmlElement
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("the page does not parse: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			el := &htmlElement{name: strings.ToLower(tok.Name.Local), attrs: map[string]string{}}
			for _, a := range tok.Attr {
				el.attrs[strings.ToLower(a.Name.Local)] = a.Value
			}
			out = append(out, el)
			stack = append(stack, el)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		}
	}
}

// withAttr returns the elements carrying attribute name.
func withAttr(els []*htmlElement, name string) []*htmlElement {
	var out []*htmlElement
	for _, el := range els {
		if _, ok := el.attrs[name]; ok {
			out = append(out, el)
		}
	}
	return out
}

// epochSection returns the elements of the dashboard's section for epoch,
// from its opening tag to the next epoch's.
func epochSection(t *testing.T, els []*htmlElement, epoch int64) []*htmlElement {
	t.Helper()
	want := strconv.FormatInt(epoch, 10)
	for i, el := range els {
		if el.attrs["data-epoch"] != want {
			continue
		}
		end := i + 1
		for end < len(els) && els[end].attrs["data-epoch"] == "" {
			end++
		}
		return els[i:end]
	}
	t.Fatalf("the dashboard has no section for epoch %d", epoch)
	return nil
}

func getEstimates(t *testing.T, base string, epoch int64) collector.Estimates {
	t.Helper()
	resp, body := get(t, fmt.Sprintf("%s/v1/cohorts?ruleset=outdoor-shop&epoch=%d", base, epoch))
	var est collector.Estimates
	if err := json.Unmarshal(body, &est); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("GET /v1/cohorts: %s %s", resp.Status, body)
	}
	return est
}

func text(els []*htmlElement, attr string) string {
	for _, el := range els {
		if _, ok := el.attrs[attr]; ok {
			return strings.TrimSpace(el.text)
		}
	}
	return "(missing)"
}

// TestDashboardShowsTheCollectorsEstimates posts reports to the mounted
// collector and checks that every figure on the dashboard is the
// collector's own: totals, published estimates with their intervals, and
// the suppressed cohorts.
func TestDashboardShowsTheCollectorsEstimates(t *testing.T) {
	now := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	s, ts := newTestServerWith(t, serverConfig{now: func() time.Time { return now }})
	current := epochOf(now, 7)
	cat := collector.Catalogue(s.shop.rs)

	// Nothing reported yet: the page says so, and suppresses everything.
	_, page := get(t, ts.URL+"/dashboard")
	els := parseHTML(t, page)
	sec := epochSection(t, els, current)
	if got := text(sec, "data-total"); got != "0" {
		t.Errorf("empty dashboard: total %s, want 0", got)
	}
	if len(withAttr(sec, "data-empty")) != 1 || len(withAttr(sec, "data-cohort")) != 0 {
		t.Error("empty dashboard: want the no-reports note and no cohort rows")
	}
	for _, want := range []string{"No IP addresses, user agents or cookies", "Counts only", "min_k = 50"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the dashboard does not say %q", want)
		}
	}

	// 20 reports of cohort 0 and 10 of cohort 5 this epoch, 3 of cohort 7
	// last epoch.
	post := func(epoch int64, body string) {
		t.Helper()
		resp, msg := postJSON(t, ts.URL+"/v1/reports", body)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST /v1/reports %s: %s %s", body, resp.Status, msg)
		}
	}
	for i := 0; i < 30; i++ {
		v := 0
		if i%3 == 2 {
			v = 5
		}
		post(current, fmt.Sprintf(`{"ruleset":"outdoor-shop","epoch":%d,"mechanism":"krr","value":%d,"epsilon":2}`, current, v))
	}
	// Last epoch's reports arrive during last epoch: the intake takes a
	// report only in its own epoch.
	thisWeek := now
	now = now.Add(-7 * 24 * time.Hour)
	for i := 0; i < 3; i++ {
		post(current-1, fmt.Sprintf(`{"ruleset":"outdoor-shop","epoch":%d,"mechanism":"krr","value":7,"epsilon":2}`, current-1))
	}
	now = thisWeek

	resp, page := get(t, ts.URL+"/dashboard")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /dashboard: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	els = parseHTML(t, page)
	for _, epoch := range []int64{current, current - 1} {
		est := getEstimates(t, ts.URL, epoch)
		sec := epochSection(t, els, epoch)
		if got := text(sec, "data-total"); got != strconv.FormatInt(est.N, 10) {
			t.Errorf("epoch %d: total %s, collector says %d", epoch, got, est.N)
		}
		if got := text(sec, "data-krr"); got != strconv.FormatInt(est.Mechanism["krr"], 10) {
			t.Errorf("epoch %d: krr %s, collector says %d", epoch, got, est.Mechanism["krr"])
		}
		rows := withAttr(sec, "data-cohort")
		bars := withAttr(sec, "data-cohort-bar")
		shown := map[string]bool{}
		for _, row := range rows {
			id := row.attrs["data-cohort"]
			shown[id] = true
			c, ok := est.Cohorts[id]
			if !ok || c.Suppressed {
				t.Errorf("epoch %d: the dashboard shows %s, which the collector suppresses", epoch, id)
				continue
			}
			for attr, want := range map[string]float64{"data-estimate": *c.Estimate, "data-ci-low": c.Interval[0], "data-ci-high": c.Interval[1]} {
				got, err := strconv.ParseFloat(row.attrs[attr], 64)
				if err != nil || math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Errorf("epoch %d cohort %s: %s = %q, collector says %v", epoch, id, attr, row.attrs[attr], want)
				}
			}
		}
		suppressed := withAttr(sec, "data-suppressed")
		if got := text(sec, "data-suppressed-count"); got != strconv.Itoa(len(suppressed)) {
			t.Errorf("epoch %d: says %s suppressed, lists %d", epoch, got, len(suppressed))
		}
		for _, el := range suppressed {
			if c := est.Cohorts[el.attrs["data-suppressed"]]; !c.Suppressed {
				t.Errorf("epoch %d: lists %s as suppressed; the collector publishes it", epoch, el.attrs["data-suppressed"])
			}
		}
		published := 0
		for _, c := range est.Cohorts {
			if !c.Suppressed {
				published++
			}
		}
		if len(rows) != published || len(bars) != published || len(rows)+len(suppressed) != len(cat) {
			t.Errorf("epoch %d: %d rows, %d bars and %d suppressed; the collector publishes %d of %d", epoch, len(rows), len(bars), len(suppressed), published, len(cat))
		}
		if epoch == current {
			// Cohorts 0 and 5 stand out, largest first; the rest are noise.
			if len(rows) != 2 || rows[0].attrs["data-cohort"] != cat[0] || rows[1].attrs["data-cohort"] != cat[5] {
				t.Errorf("this epoch shows %d rows (%v), want %s then %s", len(rows), rows, cat[0], cat[5])
			}
			if len(withAttr(sec, "data-chart")) != 1 {
				t.Error("this epoch has no chart")
			}
		}
	}
	// What the page must never show: anything about who sent the reports.
	for _, leak := range []string{"127.0.0.1", "Go-http-client"} {
		if bytes.Contains(page, []byte(leak)) {
			t.Errorf("the dashboard shows %q", leak)
		}
	}
}

func TestDashboardRefresh(t *testing.T) {
	_, ts := newTestServer(t)
	_, page := get(t, ts.URL+"/dashboard")
	if bytes.Contains(page, []byte(`http-equiv="refresh"`)) {
		t.Error("the dashboard reloads itself without being asked to")
	}
	_, page = get(t, ts.URL+"/dashboard?refresh=10")
	if !bytes.Contains(page, []byte(`<meta http-equiv="refresh" content="10">`)) {
		t.Error("?refresh=10 does not reload the page every 10 s")
	}
	_, page = get(t, ts.URL+"/dashboard?refresh=1")
	if !bytes.Contains(page, []byte(`content="5"`)) {
		t.Error("?refresh=1 is not raised to 5 s")
	}
	if resp, _ := get(t, ts.URL+"/dashboard?refresh=soon"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("?refresh=soon: %s, want 400", resp.Status)
	}
}

func TestChartLayout(t *testing.T) {
	rows := []cohortRow{{ID: "a", Estimate: 400, Low: 300, High: 500}, {ID: "b", Estimate: 100, Low: -20, High: 220, Clamped: true}}
	c := layout(rows, 50)
	if c.PlotX != chartPadX || c.Width != chartWidth {
		t.Fatalf("chart = %+v", c)
	}
	// The scale runs from 0, never below (a head count is not negative), to
	// a round 500: an interval reaching below zero is drawn from zero.
	if c.ZeroX != c.PlotX {
		t.Errorf("zero at %v, plot from %v", c.ZeroX, c.PlotX)
	}
	for _, tk := range c.Ticks {
		if strings.HasPrefix(tk.Label, "-") {
			t.Errorf("a tick reads %s", tk.Label)
		}
	}
	if a, b := rows[0], rows[1]; a.BarW <= b.BarW || a.LowX >= a.HighX || b.LowX != c.ZeroX || a.HighX > c.PlotX+c.PlotW+0.01 {
		t.Errorf("bars: %+v %+v", a, b)
	}
	if n := niceCeil(730); n != 1000 {
		t.Errorf("niceCeil(730) = %v", n)
	}
	if n := niceCeil(120); n != 200 {
		t.Errorf("niceCeil(120) = %v", n)
	}
}

// TestCrowd: -crowd N sends the reports of N simulated devices, each
// visiting in an epoch with probability crowdVisit, through the
// collector's intake, so some cohorts are published; the dashboard says
// they are simulated. In the previous epoch nothing was published, so
// every visitor reported its first-dimension cohort; in the current one
// each reports the finest cohort of its own the previous epoch published,
// so every visitor's first-dimension cohort is there to report into.
func TestCrowd(t *testing.T) {
	// Large enough that some cohorts clear min_k, the noise and the
	// collector's forgery margin.
	const crowd = 30000
	now := crowdNow
	s, ts := crowdServer(t)
	current := epochOf(now, 7)
	// Every visitor reported in the previous epoch; in the current one,
	// those whose cohorts the previous epoch did not publish sent no cohort.
	for _, e := range []int64{current - 1, current} {
		est := getEstimates(t, ts.URL, e)
		visitors := crowd * crowdVisit
		if est.N != est.Mechanism["krr"] || est.N != int64(s.crowd.cohorts[e]) || float64(est.N) > visitors*1.03 || float64(est.N) < visitors*2/3 ||
			(e == current-1 && float64(est.N) < visitors*0.97) {
			t.Errorf("epoch %d: n = %d (%v), want the %d krr reports the crowd sent, about %g in the previous epoch (at least 2/3 of that in the current one)",
				e, est.N, est.Mechanism, s.crowd.cohorts[e], visitors)
		}
	}
	var sizes map[string]int64
	_, body := get(t, ts.URL+"/v1/cohort-sizes?ruleset=outdoor-shop")
	if err := json.Unmarshal(body, &sizes); err != nil || len(sizes) == 0 {
		t.Errorf("/v1/cohort-sizes after the crowd = %s, want some published cohorts", body)
	}
	for id, n := range sizes {
		if n < 50 {
			t.Errorf("cohort %s published with size %d, under min_k", id, n)
		}
	}
	// The demo's walk-through browses running gear: its first-dimension
	// cohort is published, so that visitor has a cohort to report into.
	if sizes["interest=trail-running"] < 50 {
		t.Errorf("interest=trail-running is not published after the crowd: %s", body)
	}
	_, page := get(t, ts.URL+"/dashboard")
	els := parseHTML(t, page)
	if len(withAttr(els, "data-crowd")) != 2 || len(withAttr(epochSection(t, els, current), "data-cohort")) == 0 {
		t.Error("the dashboard does not show the crowd's published cohorts and say they are simulated")
	}
	// Each epoch says how many of its reports the crowd sent.
	for _, e := range []int64{current - 1, current} {
		note := withAttr(epochSection(t, els, e), "data-crowd")
		want := fmt.Sprintf("%d of these reports come from a simulated crowd of %d devices", getEstimates(t, ts.URL, e).N, crowd)
		if len(note) != 1 || !strings.HasPrefix(note[0].text, want) {
			t.Errorf("epoch %d: the crowd note is not %q", e, want)
		}
	}
	// The same crowd every run: the same published sizes, the same answers.
	start := time.Now()
	_, ts2 := newTestServerWith(t, serverConfig{crowd: defaultCrowd(crowd), now: func() time.Time { return now }})
	t.Logf("seeded a crowd of %d devices over %d epochs in %v", crowd, crowdEpochs+1, time.Since(start))
	for _, path := range []string{"/v1/cohort-sizes?ruleset=outdoor-shop", "/v1/experiments?ruleset=outdoor-shop"} {
		_, body := get(t, ts.URL+path)
		_, body2 := get(t, ts2.URL+path)
		if string(body) != string(body2) {
			t.Errorf("two crowds differ in %s:\n%s\n%s", path, body, body2)
		}
	}
}

// An interval reaching below zero is shown from 0, marked, and explained;
// no figure on the page is negative.
func TestDashboardClampsIntervalsAtZero(t *testing.T) {
	s, _ := newTestServer(t)
	rows := []cohortRow{{ID: "interest=hiking-camping/region=elsewhere", Estimate: 160, Low: -23, High: 343, Clamped: true}}
	view := epochView{Epoch: 1, N: 100, Shown: rows, Chart: layout(rows, 50), EstimateURL: "/v1/cohorts?ruleset=x&epoch=1"}
	var buf bytes.Buffer
	if err := s.dashboard.Execute(&buf, dashboardData{Ruleset: "x@1", MinK: 50, Epochs: []epochView{view}}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if !strings.Contains(page, "<td data-clamped>0* to 343</td>") || !strings.Contains(page, "data-clamp-note") {
		t.Errorf("the clamped interval is not shown from 0 and explained:\n%s", page)
	}
	if strings.Contains(page, ">-23") || strings.Contains(page, "−23") {
		t.Error("the page shows the negative bound")
	}
	if !strings.Contains(page, `<span class="id-part">interest=</span><wbr><span class="id-part">hiking-camping/</span><wbr>`) {
		t.Errorf("the cohort id does not break only between its parts:\n%s", page)
	}
}

// defaultCrowd is -crowd n with the default base rate and lift.
func defaultCrowd(n int) crowdConfig {
	return crowdConfig{devices: n, base: defaultCrowdBase, lift: defaultCrowdLift}
}
