package main

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/edgewise/edgewise/collector"
	"github.com/edgewise/edgewise/internal/lift"
)

// The dashboard's experiments: what the collector's GET /v1/experiments
// says of each of the ruleset's experiments, read in process through
// (*collector.Collector).Experiments, as the cohort estimates are. Every
// figure is the collector's; this file only words and draws them: the
// answers counted, each group's conversion rate, the relative lift with
// its 95% confidence sequence epoch by epoch (the interval that stays
// valid however often anyone looks, which the verdict reads too), and the
// verdict in plain words. When a simulated crowd sent answers (-crowd),
// the panel says so and draws the lift it was given.

// experimentView is one experiment on the dashboard.
type experimentView struct {
	ID          string
	Description string
	Slots       string // "home-hero"
	Holdout     string // "20%", the comparison group's share
	Goals       string // "a purchase or a click"
	Epsilon     float64
	Horizon     float64
	// Answers is every answer counted; PerWeek the recent answers a week
	// (0 until an epoch is final).
	Answers int64
	PerWeek float64
	// Result is false until the answers can be analysed; the figures
	// below are then zero.
	Result       bool
	Comparison   figure // the comparison group's conversion rate
	Personalized figure // the personalized arm's
	Lift         figure // relative: personalized over comparison, minus 1
	HasLift      bool   // false while the comparison group's rate is not above 0
	Verdict      string
	// Found is "more" or "less" when the verdict found a difference, else "".
	Found    string
	Withheld string
	Epochs   []experimentEpochRow
	// Wide and Narrow are the lift chart for a desktop's width and a
	// phone's; the page shows one of them.
	Wide, Narrow liftChart
	Charted      bool // at least one epoch has a lift to draw
	// Simulated is set when the crowd answered for this experiment.
	Simulated *simulatedLift
	JSONURL   string
}

// figure is an estimate and its 95% confidence sequence, as the page
// prints them.
type figure struct {
	Value, Low, High string  // "23.3%", "+15.1%"
	Estimate         float64 // for data attributes and tests
	CSLow, CSHigh    float64
}

// experimentEpochRow is one epoch of the week-by-week table.
type experimentEpochRow struct {
	Epoch       int64
	From, Until string
	Final       bool
	Answers     int64
	// Total is the answers about it and every epoch before.
	Total   int64
	HasLift bool
	Lift    figure // the cumulative relative lift up to this epoch
	// Found says the relative lift's confidence sequence excludes 0, as
	// the chart's filled dots do. (The verdict reads the absolute lift's,
	// which agrees but for rounding at the edge.)
	Found bool
}

// simulatedLift is what the simulated crowd was given.
type simulatedLift struct {
	Devices         int
	Lift, Base      float64
	LiftPct         string // "15%"
	BasePct, TopPct string // the two groups' true rates
	VisitPct        string
	Answers         int
}

// experimentViews reads every experiment of the shop's ruleset from the
// collector and lays it out.
func (s *server) experimentViews(ex collector.Experiments, epochDays int) []experimentView {
	out := make([]experimentView, 0, len(ex.Experiments))
	for _, x := range ex.Experiments {
		v := experimentView{
			ID: x.ID, Description: x.Description, Slots: strings.Join(x.Slots, ", "), Holdout: percent(x.Holdout),
			Goals: goalWords(x.Goals), Epsilon: x.Epsilon, Horizon: x.Horizon,
			Answers: x.Cumulative.Reports, PerWeek: x.Cumulative.PerWeek, Verdict: x.Cumulative.Verdict, Withheld: x.Cumulative.Withheld,
			JSONURL: "/v1/experiments?" + url.Values{"ruleset": {ex.Ruleset}}.Encode(),
		}
		if r := x.Cumulative.Result; r != nil {
			v.Result = true
			v.Comparison = rateFigure(r.Rate[lift.Holdout])
			v.Personalized = rateFigure(r.Rate[lift.Personalized])
			if v.HasLift = hasRelative(r); v.HasLift {
				v.Lift = liftFigure(r.Relative)
			}
			switch {
			case r.Lift.Excludes() && r.Lift.CS[0] > 0:
				v.Found = "more"
			case r.Lift.Excludes():
				v.Found = "less"
			}
		}
		var points []liftPoint
		for _, ep := range x.Epochs {
			from, until := epochDates(ep.Epoch, epochDays)
			row := experimentEpochRow{Epoch: ep.Epoch, From: from, Until: until, Final: ep.Final, Answers: ep.Reports}
			p := liftPoint{label: shortDate(ep.Epoch, epochDays)}
			if c := ep.Cumulative; c != nil {
				row.Total = c.Reports
				if row.HasLift = hasRelative(c); row.HasLift {
					row.Lift = liftFigure(c.Relative)
					row.Found = c.Relative.Excludes()
					p.ok, p.est, p.lo, p.hi = true, c.Relative.Estimate, c.Relative.CS[0], c.Relative.CS[1]
				}
			}
			v.Epochs = append(v.Epochs, row)
			points = append(points, p)
		}
		if s.crowd != nil && s.crowd.answers[x.ID] > 0 {
			c := s.crowd
			v.Simulated = &simulatedLift{Devices: c.devices, Lift: c.lift, Base: c.base, LiftPct: percent(c.lift),
				BasePct: percent(c.base), TopPct: percent(c.base * (1 + c.lift)), VisitPct: percent(crowdVisit), Answers: c.answers[x.ID]}
		}
		var truth *float64
		if v.Simulated != nil {
			truth = &v.Simulated.Lift
		}
		v.Wide = layoutLift(points, truth, liftWide)
		v.Narrow = layoutLift(points, truth, liftNarrow)
		v.Charted = len(v.Wide.Segments) > 0
		out = append(out, v)
	}
	return out
}

// hasRelative says whether lift gave a relative lift: it leaves the zero
// Interval while the comparison group's rate is not above 0.
func hasRelative(r *collector.LiftResult) bool {
	return r.Relative != (lift.Interval{}) && r.Rate[lift.Holdout].Estimate > 0
}

func rateFigure(iv lift.Interval) figure {
	return figure{Value: percent(iv.Estimate), Low: percent(math.Max(iv.CS[0], 0)), High: percent(math.Min(iv.CS[1], 1)),
		Estimate: iv.Estimate, CSLow: iv.CS[0], CSHigh: iv.CS[1]}
}

func liftFigure(iv lift.Interval) figure {
	return figure{Value: signedPercent(iv.Estimate), Low: signedPercent(iv.CS[0]), High: signedPercent(iv.CS[1]),
		Estimate: iv.Estimate, CSLow: iv.CS[0], CSHigh: iv.CS[1]}
}

// percent writes a share as a percentage with at most one decimal: 0.2334
// is "23.3%", 0.2 is "20%".
func percent(x float64) string {
	s := strconv.FormatFloat(math.Round(x*1000)/10, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	if s == "-0" {
		s = "0"
	}
	return strings.Replace(s, "-", "−", 1) + "%"
}

// signedPercent is percent with a sign: "+15.1%", "−3%", "0%".
func signedPercent(x float64) string {
	s := percent(x)
	if s != "0%" && !strings.HasPrefix(s, "−") {
		s = "+" + s
	}
	return s
}

// goalWords names an experiment's goals for people: "a purchase or a click".
func goalWords(goals []string) string {
	words := map[string]string{"purchase": "a purchase", "add_to_cart": "an add to cart", "click": "a click on one of its picks"}
	var out []string
	for _, g := range goals {
		if w, ok := words[g]; ok {
			out = append(out, w)
		} else {
			out = append(out, g)
		}
	}
	switch len(out) {
	case 0:
		return "its goal"
	case 1:
		return out[0]
	}
	return strings.Join(out[:len(out)-1], ", ") + " or " + out[len(out)-1]
}

// epochDates are the first and last day of an epoch, as the cohort
// sections print them.
func epochDates(epoch int64, epochDays int) (from, until string) {
	day := func(d int64) string { return time.UnixMilli(d * 86_400_000).UTC().Format("2 Jan 2006") }
	first := epoch * int64(epochDays)
	return day(first), day(first + int64(epochDays) - 1)
}

// shortDate is an epoch's first day without the year, for the chart's axis.
func shortDate(epoch int64, epochDays int) string {
	return time.UnixMilli(epoch * int64(epochDays) * 86_400_000).UTC().Format("2 Jan")
}

// The lift chart: per epoch, the relative lift of every answer up to it,
// a dot on a line, inside its 95% confidence sequence, a band; the zero
// line, and the simulated crowd's true lift dashed. Drawn twice, at the
// size a desktop and a phone show it at, so its text is never scaled
// past reading.

// liftPoint is one epoch's cumulative relative lift, or a gap (ok false).
type liftPoint struct {
	label       string
	ok          bool
	est, lo, hi float64
}

// liftChart is the laid-out chart, in SVG units.
type liftChart struct {
	// Size is "wide" or "narrow", for the page's CSS.
	Size          string
	Width, Height float64
	PlotX, PlotY  float64
	PlotW, PlotH  float64
	ZeroY         float64
	YTicks        []tick // X holds the tick's y
	XLabels       []tick
	// Segments are runs of epochs with a lift, each a band and a line.
	Segments []liftSegment
	Dots     []liftDot
	// TruthY is the simulated true lift's line, when there is one, and
	// TruthLabel its words.
	HasTruth   bool
	TruthY     float64
	TruthLabel string
	// Clipped says a band reaches past the chart's range and is cut at
	// its edge.
	Clipped bool
}

type liftSegment struct {
	Band string // polygon points
	Line string // polyline points
}

type liftDot struct {
	X, Y  float64
	Found bool // the band excludes 0
	Title string
}

// liftSize is one of the chart's two sizes.
type liftSize struct {
	name                                    string
	width, height, left, right, top, bottom float64
	// labelEvery is the room one x label needs, in SVG units.
	labelRoom float64
}

var (
	liftWide   = liftSize{name: "wide", width: 1000, height: 280, left: 52, right: 26, top: 14, bottom: 30, labelRoom: 60}
	liftNarrow = liftSize{name: "narrow", width: 330, height: 230, left: 46, right: 24, top: 14, bottom: 30, labelRoom: 54}
)

// The chart's range: a relative lift below −100% means nothing, and one
// above +200% is cut.
const (
	liftFloor = -1.0
	liftCeil  = 2.0
)

// layoutLift lays the points out at size sz, with the true lift's line
// when truth is set.
func layoutLift(points []liftPoint, truth *float64, sz liftSize) liftChart {
	c := liftChart{Size: sz.name, Width: sz.width, Height: sz.height, PlotX: sz.left, PlotY: sz.top,
		PlotW: sz.width - sz.left - sz.right, PlotH: sz.height - sz.top - sz.bottom}
	lo, hi := 0.0, 0.0
	any := false
	for _, p := range points {
		if p.ok {
			lo, hi, any = math.Min(lo, p.lo), math.Max(hi, p.hi), true
		}
	}
	if !any {
		return c
	}
	if truth != nil {
		lo, hi = math.Min(lo, *truth), math.Max(hi, *truth)
	}
	if lo < liftFloor {
		lo, c.Clipped = liftFloor, true
	}
	if hi > liftCeil {
		hi, c.Clipped = liftCeil, true
	}
	step := liftStep(hi - lo)
	// (Within a hair of a step is on it: 0.4/0.2 is not quite 2.)
	lo = math.Floor(lo/step+1e-9) * step
	hi = math.Ceil(hi/step-1e-9) * step
	if hi-lo < step {
		hi = lo + step
	}
	y := func(v float64) float64 {
		v = math.Max(lo, math.Min(hi, v))
		return c.PlotY + (hi-v)/(hi-lo)*c.PlotH
	}
	for v := lo; v <= hi+step/2; v += step {
		c.YTicks = append(c.YTicks, tick{X: y(v), Label: signedPercent(math.Round(v*1000) / 1000), Anchor: "end"})
	}
	c.ZeroY = y(0)
	if truth != nil {
		c.HasTruth, c.TruthY, c.TruthLabel = true, y(*truth), "true lift "+percent(*truth)+" (simulated)"
	}
	x := func(i int) float64 {
		if len(points) == 1 {
			return c.PlotX + c.PlotW/2
		}
		return c.PlotX + float64(i)*c.PlotW/float64(len(points)-1)
	}
	// The x axis: every k-th epoch's date, centred under it, so the labels
	// never touch, the last one always; the plot leaves room at its right
	// for half of that one.
	every := 1
	if len(points) > 1 {
		for c.PlotW/float64(len(points)-1)*float64(every) < sz.labelRoom {
			every++
		}
	}
	for i, p := range points {
		if (len(points)-1-i)%every == 0 {
			c.XLabels = append(c.XLabels, tick{X: x(i), Label: p.label, Anchor: "middle"})
		}
	}
	var seg []int
	flush := func() {
		if len(seg) == 0 {
			return
		}
		var band, line []string
		pt := func(i int, v float64) string { return fmtPx(x(i)) + "," + fmtPx(y(v)) }
		for _, i := range seg {
			band = append(band, pt(i, points[i].hi))
			line = append(line, pt(i, points[i].est))
		}
		for k := len(seg) - 1; k >= 0; k-- {
			band = append(band, pt(seg[k], points[seg[k]].lo))
		}
		if len(seg) == 1 {
			// One epoch: a band as wide as a dot.
			i := seg[0]
			l, r := fmtPx(x(i)-4), fmtPx(x(i)+4)
			band = []string{l + "," + fmtPx(y(points[i].hi)), r + "," + fmtPx(y(points[i].hi)), r + "," + fmtPx(y(points[i].lo)), l + "," + fmtPx(y(points[i].lo))}
		}
		c.Segments = append(c.Segments, liftSegment{Band: strings.Join(band, " "), Line: strings.Join(line, " ")})
		seg = nil
	}
	for i, p := range points {
		if !p.ok {
			flush()
			continue
		}
		seg = append(seg, i)
		c.Dots = append(c.Dots, liftDot{X: x(i), Y: y(p.est), Found: p.lo > 0 || p.hi < 0,
			Title: p.label + ": " + signedPercent(p.est) + " (" + signedPercent(p.lo) + " to " + signedPercent(p.hi) + ")"})
	}
	flush()
	return c
}

// liftStep is the y axis's step for a range: 5%, 10%, 20%, 25% or 50%
// (or 100%), the first giving at most seven steps.
func liftStep(span float64) float64 {
	for _, s := range []float64{0.05, 0.1, 0.2, 0.25, 0.5} {
		if span/s <= 7+1e-9 {
			return s
		}
	}
	return 1
}

// fmtPx writes an SVG coordinate.
func fmtPx(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
