package main

import (
	"bytes"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgewise/edgewise/collector"
)

// The dashboard is what the shop's side of Edgewise can know: the
// collector's debiased cohort estimates, nothing else. It is rendered on
// the server from the collector's own GET /v1/cohorts answer, so it shows
// exactly what the collector publishes.

// dashboardFuncs are the template's helpers.
var dashboardFuncs = template.FuncMap{
	// num prints a figure for people: no decimals past the tens.
	"num": func(v float64) string {
		if math.Abs(v) >= 10 || v == 0 {
			return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
		}
		return strconv.FormatFloat(v, 'f', 1, 64)
	},
	// exact prints a figure in full, for data attributes and tests.
	"exact": func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) },
	// px prints an SVG coordinate.
	"px": func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	// count prints a whole number with thousands separators: 234,145.
	"count": func(v any) string {
		var n int64
		switch v := v.(type) {
		case int:
			n = int64(v)
		case int64:
			n = v
		case float64:
			n = int64(math.Round(v))
		}
		return formatCount(n)
	},
	"add": func(a, b float64) float64 { return a + b },
	// breakable lets a cohort id wrap after each "/" and each "=" on
	// narrow screens, and nowhere else: never inside a dimension's or a
	// bucket's name.
	"breakable": func(id string) template.HTML {
		var b strings.Builder
		part := func(s string) {
			if s != "" {
				b.WriteString(`<span class="id-part">` + template.HTMLEscapeString(s) + `</span>`)
			}
		}
		start := 0
		for i, r := range id {
			if r == '/' || r == '=' {
				part(id[start : i+1])
				b.WriteString("<wbr>")
				start = i + 1
			}
		}
		part(id[start:])
		return template.HTML(b.String())
	},
	"subtract": func(a, b float64) float64 { return a - b },
	// hasClamped is whether any row's interval was clamped at zero.
	"hasClamped": func(rows []cohortRow) bool {
		for _, r := range rows {
			if r.Clamped {
				return true
			}
		}
		return false
	},
	// atLeastZero is a head count as shown: never below zero.
	"atLeastZero": func(v float64) float64 { return math.Max(v, 0) },
}

// dashboardData is what templates/dashboard.html renders.
type dashboardData struct {
	Ruleset   string // id@version
	RulesetID string
	Epsilon   float64
	EpochDays int
	MinK      int
	Cohorts   int // size of the cohort catalogue
	Epochs    []epochView
	Refresh   int // seconds between automatic reloads; 0 is off
	Crowd     int // simulated devices that reported at startup (-crowd)
	Generated string
	// Experiments are the ruleset's experiments, as the collector's
	// GET /v1/experiments analyses them (experiments.go).
	Experiments []experimentView
}

// epochView is one epoch's estimates.
type epochView struct {
	Epoch       int64
	From, Until string // dates, inclusive, UTC
	Current     bool
	N           int64
	KRR         int64
	Simulated   int         // reports the simulated crowd sent (-crowd)
	Shown       []cohortRow // not suppressed, largest first
	Suppressed  []string    // cohort ids, in catalogue order
	Chart       chart
	EstimateURL string // the collector's JSON for this epoch
}

// cohortRow is one cohort the collector publishes.
type cohortRow struct {
	ID                             string
	Estimate, StdErr, Low, High    float64
	BarX, BarW, LowX, HighX, Y, TY float64
	// Clamped is true when the interval's low end is below zero: a head
	// count cannot be, so the page shows it from 0 and says so.
	Clamped bool
}

// chart lays out the estimates as horizontal bars with 95% interval
// whiskers.
type chart struct {
	Width, Height float64
	ZeroX, MinKX  float64
	PlotX, PlotW  float64
	Ticks         []tick
}

type tick struct {
	X     float64
	Label string
	// Anchor is the label's text-anchor: the outer labels align with the
	// plot's edges so they are not cut off.
	Anchor string
}

// The chart's geometry, in SVG units: each row is the cohort's id above
// its bar, so long ids never crowd the bars.
const (
	chartWidth = 720.0
	chartPadX  = 12.0
	chartRowH  = 42.0
	chartTop   = 26.0
)

func (s *server) serveDashboard(w http.ResponseWriter, r *http.Request) {
	refresh := 0
	if v := r.URL.Query().Get("refresh"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			http.Error(w, "refresh must be a number of seconds", http.StatusBadRequest)
			return
		}
		refresh = min(max(n, 5), 300)
		if n == 0 {
			refresh = 0
		}
	}
	rep := displayOf(s.shop.rs).Reporting
	data := dashboardData{
		Ruleset: s.shop.name, RulesetID: s.shop.rs.ID, Epsilon: rep.Epsilon, EpochDays: rep.EpochDays,
		MinK: rep.MinK, Cohorts: rep.Cohorts, Refresh: refresh, Crowd: s.crowd.devices,
		Generated: s.now().UTC().Format("2006-01-02 15:04:05 UTC"),
	}
	current, err := s.collector.Epoch(s.shop.rs.ID, s.now())
	if err != nil {
		http.Error(w, "could not read the collector's estimates", http.StatusInternalServerError)
		return
	}
	for _, e := range []int64{current, current - 1} {
		// What GET /v1/cohorts publishes, read from the collector itself.
		est, err := s.collector.Estimates(r.Context(), s.shop.rs.ID, e)
		if err != nil {
			http.Error(w, "could not read the collector's estimates", http.StatusInternalServerError)
			return
		}
		v := epochViewOf(est, collector.Catalogue(s.shop.rs), rep.EpochDays, rep.MinK)
		v.Current = e == current
		v.Simulated = s.crowd.cohorts[e]
		data.Epochs = append(data.Epochs, v)
	}
	ex, err := s.collector.Experiments(r.Context(), s.shop.rs.ID)
	if err != nil {
		http.Error(w, "could not read the collector's experiments", http.StatusInternalServerError)
		return
	}
	data.Experiments = s.experimentViews(ex, rep.EpochDays)
	var buf bytes.Buffer
	if err := s.dashboard.Execute(&buf, data); err != nil {
		http.Error(w, "could not render the dashboard", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = buf.WriteTo(w)
}

// now is the collector's clock.
func (s *server) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

func epochViewOf(est collector.Estimates, catalogue []string, epochDays, minK int) epochView {
	day := func(d int64) string { return time.UnixMilli(d * 86_400_000).UTC().Format("2 Jan 2006") }
	first := est.Epoch * int64(epochDays)
	v := epochView{
		Epoch: est.Epoch, From: day(first), Until: day(first + int64(epochDays) - 1),
		N: est.N, KRR: est.Mechanism[collector.MechanismKRR],
		EstimateURL: "/v1/cohorts?" + url.Values{"ruleset": {est.Ruleset}, "epoch": {strconv.FormatInt(est.Epoch, 10)}}.Encode(),
	}
	for _, id := range catalogue {
		c, ok := est.Cohorts[id]
		if !ok || c.Suppressed || c.Estimate == nil || c.StdErr == nil || len(c.Interval) != 2 {
			v.Suppressed = append(v.Suppressed, id)
			continue
		}
		v.Shown = append(v.Shown, cohortRow{ID: id, Estimate: *c.Estimate, StdErr: *c.StdErr, Low: c.Interval[0], High: c.Interval[1], Clamped: c.Interval[0] < 0})
	}
	slices.SortStableFunc(v.Shown, func(a, b cohortRow) int {
		switch {
		case a.Estimate > b.Estimate:
			return -1
		case a.Estimate < b.Estimate:
			return 1
		}
		return 0
	})
	v.Chart = layout(v.Shown, float64(minK))
	return v
}

// layout places the bars: one row per cohort, a shared linear scale from 0
// (head counts are never negative; an interval reaching below is drawn from
// 0 and marked clamped) to the highest interval end (at least min_k).
func layout(rows []cohortRow, minK float64) chart {
	lo, hi := 0.0, minK
	for _, r := range rows {
		hi = math.Max(hi, r.High)
	}
	hi = niceCeil(hi)
	c := chart{Width: chartWidth, Height: chartTop + chartRowH*float64(len(rows)) + 4, PlotX: chartPadX, PlotW: chartWidth - 2*chartPadX}
	x := func(v float64) float64 { return c.PlotX + (v-lo)/(hi-lo)*c.PlotW }
	c.ZeroX, c.MinKX = x(0), x(minK)
	for i := 0; i <= 4; i++ {
		v := lo + (hi-lo)*float64(i)/4
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case 4:
			anchor = "end"
		}
		c.Ticks = append(c.Ticks, tick{X: x(v), Label: dashboardFuncs["num"].(func(float64) string)(v), Anchor: anchor})
	}
	for i := range rows {
		r := &rows[i]
		a, b := x(0), x(r.Estimate)
		r.BarX, r.BarW = math.Min(a, b), math.Abs(b-a)
		r.LowX, r.HighX = x(math.Max(r.Low, 0)), x(r.High)
		r.Y = chartTop + chartRowH*float64(i)
		r.TY = r.Y + 12
	}
	return c
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// formatCount writes n with thousands separators.
func formatCount(n int64) string {
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, digits = "−", digits[1:]
	}
	var b strings.Builder
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(digits[i])
	}
	return sign + b.String()
}
