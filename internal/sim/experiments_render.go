package sim

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/edgewise/edgewise/collector"
	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/lift"
)

// The words every output of experiments shares: text, Markdown and HTML
// say the same thing in the same words.

// Intro says what the experiments' figures assume.
func (x *Experiments) Intro() string {
	return fmt.Sprintf("Power: the time to find a lift with %s probability, read from confidence sequences that stay valid however often anyone looks (internal/lift's Plan), with the comparison group reaching a goal in %s of the epochs in which it saw a covered slot (--base-rate).",
		pctTrim(PlanPower), pctTrim(x.BaseRate))
}

// Design says in one line what the experiment is.
func (r ExperimentReport) Design() string {
	control := "who see the slots' fallback items, the shop's own picks"
	if r.Control == engine.ControlWithoutRules {
		control = "who see the picks without " + strings.Join(r.Rules, ", ")
	}
	s := fmt.Sprintf("slots %s; %s in the comparison group, %s; goals %s; ε %s an answer; smallest lift worth finding %s",
		strings.Join(r.Slots, ", "), pctTrim(r.Holdout), control, strings.Join(r.Goals, ", "), num(r.Epsilon), pctTrim(r.MinLift))
	if r.Within != "" {
		s += "; within " + r.Within + "'s personalized arm"
	}
	return s
}

// Assumes says what traffic the figures assume.
func (p Power) Assumes() string {
	return fmt.Sprintf("%s answers a week (%s)", count(p.PerWeek), p.Traffic)
}

// Headline says what finding the smallest lift worth finding takes.
func (p Power) Headline() string {
	n := p.Need
	if n.Never {
		return fmt.Sprintf("A lift of %s cannot be found at a base rate of %s.", pctTrim(n.Lift), pctTrim(p.BaseRate))
	}
	return fmt.Sprintf("Finding a lift of %s takes about %s answers: %s.", pctTrim(n.Lift), count(n.Answers), p.duration(n))
}

// duration is a Need's time in words: weeks, and epochs when they are not
// a week long, and years beyond one.
func (p Power) duration(n Need) string {
	s := countOf(n.Weeks, "week")
	if p.EpochDays != 7 {
		s += ", " + countOf(n.Epochs, "epoch") + " of " + strconv.Itoa(p.EpochDays) + " days"
	}
	if days := n.Epochs * float64(p.EpochDays); days > 365 {
		s += fmt.Sprintf(" (about %s years)", strconv.FormatFloat(math.Round(days/365.25*10)/10, 'f', -1, 64))
	}
	return s
}

// Warning says in plain words when finding the smallest lift takes more
// than a year, and what would shorten it; "" otherwise.
func (p Power) Warning() string {
	if !p.OverAYear {
		return ""
	}
	var what string
	if p.Need.Never {
		what = fmt.Sprintf("%s can never find a lift of %s at a base rate of %s.", p.Experiment, pctTrim(p.Need.Lift), pctTrim(p.BaseRate))
	} else {
		what = fmt.Sprintf("At this traffic %s needs %s to find a lift of %s.", p.Experiment, p.duration(p.Need), pctTrim(p.Need.Lift))
	}
	s := "More than a year. " + what
	// The shortest option in the table that takes a year at most.
	var best *Need
	for i, n := range p.Table {
		if !n.Never && n.Epochs*float64(p.EpochDays) <= 365 && (best == nil || n.Lift < best.Lift || n.Lift == best.Lift && n.Epsilon < best.Epsilon) {
			best = &p.Table[i]
		}
	}
	if best != nil {
		s += fmt.Sprintf(" Within a year it could find a lift of %s at ε %s (%s).", pctTrim(best.Lift), num(best.Epsilon), p.duration(*best))
	} else {
		s += " Nothing in the table finds a lift within a year."
	}
	return s + " A larger comparison group, a larger ε (at most " + num(engine.MaxOutcomeEpsilon) + " for all experiments together) or more traffic shortens it; an experiment that cannot finish keeps people from personalized picks for nothing."
}

// Horizon says what the collector's horizon should be for this plan.
func (p Power) Horizon() string {
	if p.Need.Never {
		return ""
	}
	return fmt.Sprintf("Run the collector with --experiment-horizon %s, the answers this plan counts on, so its confidence sequences are tightest there.", strconv.FormatFloat(p.Need.Answers, 'f', 0, 64))
}

// ColumnHeading is the heading of an ε column of the table.
func ColumnHeading(eps float64) string {
	if eps == engine.MaxOutcomeEpsilon {
		return "ε " + num(eps) + " (the most for all experiments together)"
	}
	return "ε " + num(eps)
}

// CellText is a table cell: weeks, or "never".
func (p Power) CellText(relLift, eps float64) string {
	n := p.Cell(relLift, eps)
	if n.Never {
		return "never"
	}
	return count(n.Weeks)
}

// RowHeading is the heading of a lift row of the table.
func (p Power) RowHeading(relLift float64) string {
	if relLift == p.MinLift {
		return pctTrim(relLift) + " (min_lift)"
	}
	return pctTrim(relLift)
}

// RunSummary says what truth the run was given and who was in it.
func (x *Experiments) RunSummary(r ExperimentReport) string {
	rr := r.Run
	s := fmt.Sprintf("A true lift of %s: %s of the comparison group's epochs end in a goal, %s of the personalized arm's", pctSigned(rr.TrueLift), pctTrim(rr.TrueRates[0]), pctTrim(rr.TrueRates[1]))
	if math.Abs(rr.TrueLift-rr.Lift) > 1e-9 {
		s += fmt.Sprintf(" (its own lift is %s; the experiments within it add theirs)", pctSigned(rr.Lift))
	}
	return s + fmt.Sprintf(". %s visitors took part, %s of them in the comparison group, over %s.", count(float64(rr.Participants)), count(float64(rr.Held)), countOf(float64(x.Run.Epochs), "epoch"))
}

// BeforeNoise says what happened before any noise.
func (rr *ExperimentRun) BeforeNoise() string {
	rate := func(k int) string {
		if rr.Exposed[k] == 0 {
			return "–"
		}
		return pct2(float64(rr.Converted[k]) / float64(rr.Exposed[k]))
	}
	return fmt.Sprintf("Before noise: %s goals in %s answered epochs of the comparison group (%s), %s in %s of the personalized arm (%s).",
		count(float64(rr.Converted[0])), count(float64(rr.Exposed[0])), rate(0), count(float64(rr.Converted[1])), count(float64(rr.Exposed[1])), rate(1))
}

// ReadLine says when and how the collector was read.
func (x *Experiments) ReadLine(a *collector.ExperimentAnalysis) string {
	return fmt.Sprintf("GET /v1/experiments, read at %s once every answer was final: %s answers, confidence sequences tightest at %s.",
		x.Run.ReadAt.Format("2006-01-02 15:04 MST"), count(float64(a.Cumulative.Reports)), count(a.Horizon))
}

// Cumulative says what every answer shows.
func Cumulative(a *collector.ExperimentAnalysis) string {
	res := a.Cumulative.Result
	if res == nil {
		return "Cumulative: withheld, " + a.Cumulative.Withheld + "."
	}
	s := fmt.Sprintf("Cumulative: the comparison group %s, personalized %s", pct2(res.Rate[lift.Holdout].Estimate), pct2(res.Rate[lift.Personalized].Estimate))
	if rel := res.Relative; rel != (lift.Interval{}) {
		s += fmt.Sprintf(", a lift of %s, 95%% confidence sequence %s to %s (one look: %s to %s)", pctSigned(rel.Estimate), pctSigned(rel.CS[0]), pctSigned(rel.CS[1]), pctSigned(rel.CI[0]), pctSigned(rel.CI[1]))
	}
	return s + fmt.Sprintf("; %s percentage points, confidence sequence %s to %s.", ppSigned(res.Lift.Estimate), ppSigned(res.Lift.CS[0]), ppSigned(res.Lift.CS[1]))
}

// TruthLine says whether the run's truth is where the collector says.
func (rr *ExperimentRun) TruthLine(a *collector.ExperimentAnalysis) string {
	if a == nil || a.Cumulative.Result == nil {
		return "The collector withheld the cumulative figures, so the truth cannot be compared."
	}
	truth := fmt.Sprintf("The true lift, %s (%s percentage points)", pctSigned(rr.TrueLift), ppSigned(rr.TrueRates[1]-rr.TrueRates[0]))
	if rr.InCS {
		return truth + ", is inside the 95% confidence sequence."
	}
	return truth + ", is OUTSIDE the 95% confidence sequence: that happens in about one run in twenty, more often if something is wrong."
}

// EpochRow is one epoch of an analysis as a table row's cells: the epoch,
// its answers, each arm's rate, its own relative lift, and the cumulative
// relative lift with its confidence sequence.
func EpochRow(ep collector.ExperimentEpoch) []string {
	row := []string{strconv.FormatInt(ep.Epoch, 10), count(float64(ep.Reports))}
	if ep.Result == nil || ep.Cumulative == nil {
		return append(row, "withheld: "+ep.Withheld, "", "", "", "")
	}
	rel := func(iv lift.Interval) string {
		if iv == (lift.Interval{}) {
			return "–"
		}
		return pctSigned(iv.Estimate)
	}
	row = append(row, pct2(ep.Result.Rate[lift.Holdout].Estimate), pct2(ep.Result.Rate[lift.Personalized].Estimate), rel(ep.Result.Relative), rel(ep.Cumulative.Relative))
	if cs := ep.Cumulative.Relative; cs != (lift.Interval{}) {
		return append(row, pctSigned(cs.CS[0])+" to "+pctSigned(cs.CS[1]))
	}
	return append(row, "–")
}

// EpochHeadings are EpochRow's headings.
var EpochHeadings = []string{"epoch", "answers", "comparison", "personalized", "lift", "cumulative lift", "95% confidence sequence"}

// shownEpoch says whether text output lists the i-th (from 1) of n
// answered epochs: all of twelve or fewer, else the first four, the
// twelfth, every thirteenth after, and the last.
func shownEpoch(i, n int) bool {
	return n <= TargetEpochs || i <= 4 || i%13 == 12 || i == n
}

// EpsilonLine says what the people in experiments spent on outcome answers.
func (x *Experiments) EpsilonLine() string {
	r := x.Run
	return fmt.Sprintf("ε spent on outcome answers over the %s, by the %s visitors in an experiment: mean %s, most %s. One answer an epoch about each experiment, ε %s an epoch for all of them together (the policy allows %s), is at most %s over the %d epochs a year can touch (RATIONALE.md, \"How much privacy does a year of reports spend?\").",
		countOf(float64(r.Epochs), "epoch"), count(float64(r.People)), num(r.OutcomeEpsilonMean), num(r.OutcomeEpsilonMax), num(x.epsilonPerEpoch()), num(engine.MaxOutcomeEpsilon), num(float64(x.epochsAYear())*x.epsilonPerEpoch()), x.epochsAYear())
}

// epochsAYear is the most epochs a year (365 days) can touch: 53 of a
// week.
func (x *Experiments) epochsAYear() int {
	d := x.EpochDays
	if d <= 0 {
		d = engine.DefaultEpochDays
	}
	return (365 + d - 1 + d - 1) / d
}

// epsilonPerEpoch is what all the experiments' answers spend in an epoch.
func (x *Experiments) epsilonPerEpoch() float64 {
	s := 0.0
	for _, r := range x.Experiments {
		s += r.Epsilon
	}
	return s
}

// WriteText writes the experiments' section of simulate's text output.
func (x *Experiments) WriteText(w io.Writer) error {
	bw := &errWriter{w: w}
	fmt.Fprintf(bw, "\nExperiments\n  %s\n", x.Intro())
	for _, r := range x.Experiments {
		fmt.Fprintf(bw, "\n%s", r.ID)
		if r.Description != "" {
			fmt.Fprintf(bw, ": %s", r.Description)
		}
		fmt.Fprintf(bw, "\n  %s\n", r.Design())
		if p := r.Power; p != nil {
			fmt.Fprintf(bw, "\n  Power at %s. %s\n", p.Assumes(), p.Headline())
			tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(tw, "    weeks to find a lift of\t")
			for _, e := range p.Epsilons() {
				fmt.Fprintf(tw, "%s\t", ColumnHeading(e))
			}
			fmt.Fprintf(tw, "\n")
			for _, l := range p.Lifts() {
				fmt.Fprintf(tw, "    %s\t", p.RowHeading(l))
				for _, e := range p.Epsilons() {
					fmt.Fprintf(tw, "%s\t", p.CellText(l, e))
				}
				fmt.Fprintf(tw, "\n")
			}
			tw.Flush()
			if warn := p.Warning(); warn != "" {
				fmt.Fprintf(bw, "  WARNING: %s\n", warn)
			}
			if h := p.Horizon(); h != "" {
				fmt.Fprintf(bw, "  %s\n", h)
			}
		} else {
			fmt.Fprintf(bw, "\n  %s\n", NoPower)
		}
		rr, a := r.Run, x.Run.Analysis(r.ID)
		if rr == nil || a == nil {
			continue
		}
		if rr.Participants == 0 {
			fmt.Fprintf(bw, "\n  %s\n", NobodyInIt)
			continue
		}
		fmt.Fprintf(bw, "\n  Simulated run. %s\n  %s\n  %s\n", x.RunSummary(r), rr.BeforeNoise(), x.ReadLine(a))
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "    %s\t\n", strings.Join(EpochHeadings, "\t"))
		for i, ep := range a.Epochs {
			if shownEpoch(i+1, len(a.Epochs)) {
				fmt.Fprintf(tw, "    %s\t\n", strings.Join(EpochRow(ep), "\t"))
			}
		}
		tw.Flush()
		fmt.Fprintf(bw, "  %s\n  %s\n  Verdict: %s\n", Cumulative(a), rr.TruthLine(a), a.Cumulative.Verdict)
	}
	if x.Run != nil {
		fmt.Fprintf(bw, "\n%s\n", x.EpsilonLine())
	}
	return bw.err
}

// WriteMarkdown writes the experiments' section of the audit.
func (x *Experiments) WriteMarkdown(w io.Writer) error {
	bw := &errWriter{w: w}
	fmt.Fprintf(bw, "\n## Experiments\n\n%s %s\n", ExperimentsAbout, x.Intro())
	if x.Run != nil {
		fmt.Fprintf(bw, "\n%s\n", x.EpsilonLine())
	}
	for _, r := range x.Experiments {
		fmt.Fprintf(bw, "\n### `%s`\n\n", r.ID)
		if r.Description != "" {
			fmt.Fprintf(bw, "%s\n\n", mdCell(r.Description))
		}
		fmt.Fprintf(bw, "%s.\n", r.Design())
		if p := r.Power; p != nil {
			fmt.Fprintf(bw, "\n**Power** at %s. %s\n\n| weeks to find a lift of |", p.Assumes(), p.Headline())
			for _, e := range p.Epsilons() {
				fmt.Fprintf(bw, " %s |", ColumnHeading(e))
			}
			fmt.Fprintf(bw, "\n|---:|%s\n", strings.Repeat("---:|", len(p.Epsilons())))
			for _, l := range p.Lifts() {
				fmt.Fprintf(bw, "| %s |", p.RowHeading(l))
				for _, e := range p.Epsilons() {
					fmt.Fprintf(bw, " %s |", p.CellText(l, e))
				}
				fmt.Fprintf(bw, "\n")
			}
			if warn := p.Warning(); warn != "" {
				fmt.Fprintf(bw, "\n> **Warning.** %s\n", warn)
			}
			if h := p.Horizon(); h != "" {
				fmt.Fprintf(bw, "\n%s\n", h)
			}
		} else {
			fmt.Fprintf(bw, "\n%s\n", NoPower)
		}
		rr, a := r.Run, x.Run.Analysis(r.ID)
		if rr == nil || a == nil {
			continue
		}
		if rr.Participants == 0 {
			fmt.Fprintf(bw, "\n%s\n", NobodyInIt)
			continue
		}
		fmt.Fprintf(bw, "\n**Simulated run.** %s %s %s\n\n|", x.RunSummary(r), rr.BeforeNoise(), x.ReadLine(a))
		for _, h := range EpochHeadings {
			fmt.Fprintf(bw, " %s |", h)
		}
		fmt.Fprintf(bw, "\n|%s\n", strings.Repeat("---:|", len(EpochHeadings)))
		for _, ep := range a.Epochs {
			fmt.Fprintf(bw, "| %s |\n", strings.Join(EpochRow(ep), " | "))
		}
		fmt.Fprintf(bw, "\n%s %s\n\n**%s**\n", Cumulative(a), rr.TruthLine(a), a.Cumulative.Verdict)
	}
	return bw.err
}

// NobodyInIt is what the run of an experiment nobody simulated was in says.
const NobodyInIt = "Simulated run: no simulated visitor is in this experiment; only people who share cohorts and keep history are."

// NoPower is what an experiment without power figures says.
const NoPower = "Power: no traffic to plan with; --traffic gives the outcome answers a week."

// ExperimentsAbout is what the audit says experiments are.
const ExperimentsAbout = "An experiment compares the personalized picks with the shop's own in some slots: a share of people, drawn on each device, is its comparison group and sees the shop's own picks there (or the picks without some rules), and once an epoch each person in it sends one answer about the epoch before: the arm as drawn and whether a goal followed, noised by randomized response at the experiment's ε."

// liftChart draws an experiment's cumulative relative lift by epoch, its
// 95% confidence sequence as a band, zero and the run's true lift. The
// scale covers the truth and the later epochs' band; earlier, wider bands
// are cut at the edges.
func liftChart(a *collector.ExperimentAnalysis, truth float64) template.HTML {
	type pt struct{ est, lo, hi float64 }
	var pts []pt
	for _, ep := range a.Epochs {
		if ep.Cumulative == nil || ep.Cumulative.Relative == (lift.Interval{}) {
			continue
		}
		r := ep.Cumulative.Relative
		pts = append(pts, pt{r.Estimate, r.CS[0], r.CS[1]})
	}
	if len(pts) < 2 {
		return ""
	}
	last := pts[len(pts)-1]
	span := niceSpan(math.Max(2*math.Abs(truth), math.Max(math.Abs(last.lo), math.Abs(last.hi))*1.2))
	const w, h, left, bottom, top, right = 560, 220, 56, 28, 12, 16
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	xAt := func(i int) float64 { return left + pw*float64(i)/float64(len(pts)-1) }
	yAt := func(v float64) float64 {
		v = math.Max(-span, math.Min(span, v))
		return top + ph*(span-v)/(2*span)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="Cumulative lift by epoch, with its 95%% confidence sequence">`, w, h, w, h)
	for _, f := range []float64{-1, -0.5, 0, 0.5, 1} {
		v := f * span
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e3e6ea"/><text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#667">%s</text>`, left, w-right, yAt(v), yAt(v), left-6, yAt(v)+4, pctSigned(v))
	}
	var band []string
	for i, p := range pts {
		band = append(band, fmt.Sprintf("%.1f,%.1f", xAt(i), yAt(p.hi)))
	}
	for i := len(pts) - 1; i >= 0; i-- {
		band = append(band, fmt.Sprintf("%.1f,%.1f", xAt(i), yAt(pts[i].lo)))
	}
	fmt.Fprintf(&b, `<polygon fill="#1f5fbf" fill-opacity="0.15" points="%s"/>`, strings.Join(band, " "))
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#444"/>`, left, w-right, yAt(0), yAt(0))
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#176b2c" stroke-dasharray="4 3"/><text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#176b2c">true lift %s</text>`, left, w-right, yAt(truth), yAt(truth), w-right, yAt(truth)-4, pctSigned(truth))
	var line []string
	for i, p := range pts {
		line = append(line, fmt.Sprintf("%.1f,%.1f", xAt(i), yAt(p.est)))
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#1f5fbf" stroke-width="2" points="%s"/>`, strings.Join(line, " "))
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#667">epoch %d</text><text x="%d" y="%d" font-size="11" text-anchor="end" fill="#667">epoch %d</text>`, left, h-8, a.Epochs[0].Epoch, w-right, h-8, a.Epochs[len(a.Epochs)-1].Epoch)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceSpan is the smallest of 10%, 20%, 25%, 50%, 100%, 200%, 250%,
// 500%, … that is at least f.
func niceSpan(f float64) float64 {
	for scale := 0.1; ; scale *= 10 {
		for _, m := range []float64{1, 2, 2.5, 5} {
			if m*scale >= f || scale > 1e6 {
				return m * scale
			}
		}
	}
}

// pctTrim writes a share as a percentage with up to one decimal.
func pctTrim(f float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(math.Round(f*1000)/10, 'f', 1, 64), ".0") + "%"
}

// pct2 writes a rate as a percentage with two decimals.
func pct2(f float64) string { return strconv.FormatFloat(100*f, 'f', 2, 64) + "%" }

// pctSigned writes a relative lift as a signed percentage.
func pctSigned(f float64) string {
	s := pctTrim(f)
	if !strings.HasPrefix(s, "-") && s != "0%" {
		s = "+" + s
	}
	return s
}

// ppSigned writes a difference of rates in percentage points, signed.
func ppSigned(f float64) string {
	s := strconv.FormatFloat(100*f, 'f', 2, 64)
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}

// count writes a whole number with thousands separators.
func count(f float64) string {
	digits := strconv.FormatFloat(math.Round(math.Abs(f)), 'f', 0, 64)
	var out []byte
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, digits[i])
	}
	if f < 0 {
		return "-" + string(out)
	}
	return string(out)
}

// countOf is n things, with thousands separators.
func countOf(n float64, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return count(n) + " " + thing + "s"
}

// ExperimentView is one experiment as the HTML pages show it.
type ExperimentView struct {
	ExperimentReport
	Analysis *collector.ExperimentAnalysis
	Rows     [][]string // EpochRow of each epoch
	Chart    template.HTML
	// Nobody says the run had nobody in the experiment.
	Nobody bool
}

// Views are the experiments as the HTML pages show them.
func (x *Experiments) Views() []ExperimentView {
	var out []ExperimentView
	for _, r := range x.Experiments {
		v := ExperimentView{ExperimentReport: r, Nobody: r.Run != nil && r.Run.Participants == 0}
		if r.Run != nil && !v.Nobody {
			if v.Analysis = x.Run.Analysis(r.ID); v.Analysis != nil {
				for _, ep := range v.Analysis.Epochs {
					v.Rows = append(v.Rows, EpochRow(ep))
				}
				v.Chart = liftChart(v.Analysis, r.Run.TrueLift)
			}
		}
		out = append(out, v)
	}
	return out
}
