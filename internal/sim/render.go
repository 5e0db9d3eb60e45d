package sim

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/edgewise/edgewise/engine"
)

// WriteText prints a preview as a table per visit: each slot's picks, their
// scores, the reason a person reads and the rules that shaped them.
func (p *Preview) WriteText(w io.Writer) error {
	bw := &errWriter{w: w}
	fmt.Fprintf(bw, "%s: %d personas, from %s, run in edgewise.wasm\n", p.Ruleset, len(p.Personas), p.Start.Format(time.RFC3339))
	for _, pp := range p.Personas {
		fmt.Fprintf(bw, "\n%s", pp.ID)
		if pp.Name != "" {
			fmt.Fprintf(bw, ": %s", pp.Name)
		}
		fmt.Fprintf(bw, "\n  %s\n", prefsSummary(pp.Preferences))
		if pp.Cohort != "" {
			fmt.Fprintf(bw, "  cohort %s\n", pp.Cohort)
		}
		if pp.NoReport != "" {
			fmt.Fprintf(bw, "  no cohort reports: %s\n", pp.NoReport)
		}
		for i, v := range pp.Visits {
			fmt.Fprintf(bw, "\n  visit %d, %s  %s\n", i+1, v.At.Format("Mon 2006-01-02 15:04 MST"), ContextSummary(v.Context))
			for _, ev := range v.Events {
				if ev.Refused != "" {
					fmt.Fprintf(bw, "    %s %s: refused, %s\n", ev.Type, ev.Item, ev.Refused)
				} else {
					fmt.Fprintf(bw, "    %s %s\n", ev.Type, ev.Item)
				}
			}
			tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
			for _, d := range v.Decisions {
				slot := d.Slot
				if d.Fallback {
					slot += " (fallback)"
				}
				if len(d.Items) == 0 {
					fmt.Fprintf(tw, "    %s\t\t(nothing)\t\t\t\n", slot)
				}
				for j, pick := range d.Items {
					rules := ""
					if len(pick.Rules) > 0 {
						rules = "[" + strings.Join(pick.Rules, ", ") + "]"
					}
					fmt.Fprintf(tw, "    %s\t%d\t%s\t%.4f\t%s\t%s\n", slot, j+1, pick.Item, pick.Score, pick.Reason, rules)
					slot = ""
				}
			}
			tw.Flush()
		}
	}
	if bw.err == nil && p.Experiments != nil {
		return p.Experiments.WriteText(bw)
	}
	return bw.err
}

// WriteJSON writes a preview as indented JSON.
func (p *Preview) WriteJSON(w io.Writer) error { return writeJSON(w, p) }

// WriteHTML writes a preview as one self-contained HTML page.
func (p *Preview) WriteHTML(w io.Writer) error { return templates.ExecuteTemplate(w, "preview", p) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func prefsSummary(p engine.EffectivePreferences) string {
	s := "sharing " + p.Sharing
	if p.GPCApplied {
		s += " (lowered by Global Privacy Control)"
	}
	if !p.History {
		s += ", history off"
	}
	if !p.Location {
		s += ", location off"
	}
	if len(p.HiddenInterests) > 0 {
		s += ", hidden interests " + strings.Join(p.HiddenInterests, " ")
	}
	if p.Frequency != "" && p.Frequency != engine.FrequencyNormal {
		s += ", frequency " + p.Frequency
	}
	return s
}

// ContextSummary lists a context's signals as name=value, in a fixed order.
func ContextSummary(c engine.Context) string {
	var b []string
	add := func(k, v string) {
		if v != "" {
			b = append(b, k+"="+v)
		}
	}
	add("country", c.Country)
	add("subdivision", c.Subdivision)
	add("regions", strings.Join(c.Regions, ","))
	if c.Location != nil {
		add("location", fmt.Sprintf("%g,%g", c.Location.Lat, c.Location.Lon))
	}
	if c.TZOffsetMinutes != 0 {
		add("tz", fmt.Sprintf("%+d", c.TZOffsetMinutes))
	}
	add("daypart", c.Daypart)
	add("weekday", c.Weekday)
	add("weather", c.Weather)
	add("device", c.Device)
	add("referrer", c.Referrer)
	add("section", c.PageSection)
	if c.Visits != nil {
		add("visits", strconv.Itoa(*c.Visits))
	}
	return strings.Join(b, " ")
}

// WriteText prints a population's figures.
func (p *Population) WriteText(w io.Writer) error {
	bw := &errWriter{w: w}
	fmt.Fprintf(bw, "%s: %d visitors, seed %d, %d epochs of %d days from %s\n", p.Ruleset, p.Visitors, p.Seed, p.Epochs, p.EpochDays, p.Start.Format(time.RFC3339))
	fmt.Fprintf(bw, "%s\n", p.DriftSummary())
	fmt.Fprintf(bw, "%d cohorts, min_k %d, ε %g per new answer (%s), one answer per answer period; spent over %d epochs: mean %s, most %s (at most %s a year)\n",
		len(p.Cohorts), p.MinK, p.Epsilon, p.Mechanism, p.Epochs, num(p.EpsilonSpentMean), num(p.EpsilonSpentMax), num(p.EpsilonPerYear()))
	fmt.Fprintf(bw, "\nVisitors by persona\n")
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, pc := range p.Personas {
		fmt.Fprintf(tw, "  %s\t%d\t%d reporting\t\n", pc.ID, pc.Visitors, pc.Reporters)
	}
	tw.Flush()
	fmt.Fprintf(bw, "  %d of %d visitors make cohort reports (%s)\n", p.Reporters, p.Visitors, pct(p.Reporters, p.Visitors))
	fmt.Fprintf(bw, "\nNo report in the first epoch\n")
	for _, r := range p.NoReport {
		fmt.Fprintf(bw, "  %7d  %s\n", r.Visitors, r.Reason)
	}
	fmt.Fprintf(bw, "\nFull cohorts by true size\n")
	tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	for _, b := range p.Sizes {
		fmt.Fprintf(tw, "  %s\t%d cohorts\t%d people\t\n", b.Label, b.Cohorts, b.People)
	}
	tw.Flush()
	fmt.Fprintf(bw, "  %d cohorts under min_k %d hold %d people\n", p.UnderK(), p.MinK, p.PeopleUnderK())
	fmt.Fprintf(bw, "\nFirst-epoch reports by the cohort they kept\n")
	total := 0
	for _, l := range p.Levels {
		total += l.Reports
	}
	for _, l := range p.Levels {
		note := "full cohort"
		if l.Coarser {
			note = "coarser: k-anonymity fallback"
		}
		fmt.Fprintf(bw, "  %d dimensions  %7d  %6s  %s\n", l.Level, l.Reports, pct(l.Reports, total), note)
	}
	fmt.Fprintf(bw, "\nCohorts in the first epoch: true size, reports about it before noise, the collector's estimate from %d noised reports\n", p.EstimatesN)
	tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  cohort\ttrue\treported\testimate\t±95%%\t\n")
	for _, c := range p.Cohorts {
		if c.True == 0 && c.Reported == 0 && c.Suppressed {
			continue
		}
		est, ci := "suppressed", ""
		if !c.Suppressed && c.Estimate != nil {
			est = strconv.FormatFloat(math.Round(*c.Estimate), 'f', 0, 64)
			if c.StdErr != nil {
				ci = strconv.FormatFloat(math.Round(1.96**c.StdErr), 'f', 0, 64)
			}
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%s\t\n", c.ID, c.True, c.Reported, est, ci)
	}
	tw.Flush()
	fmt.Fprintf(bw, "\nRe-identification: reporters whose sequence of reports is unique\n")
	for i, u := range p.Unique {
		if p.shown(u.Epoch) {
			fmt.Fprintf(bw, "  after epoch %2d  %6s  (%d of %d)   without noise %s\n", u.Epoch, pct1(u.Fraction), u.Unique, u.Of, pct1(p.UniqueWithoutNoise[i].Fraction))
		}
	}
	if v := p.Verdict(); v != "" {
		fmt.Fprintf(bw, "  %s\n", v)
	}
	if f := p.Forgery; f != nil {
		fmt.Fprintf(bw, "\nForged reports (%s)\n", f.Summary())
		if f.Forged > 0 {
			fmt.Fprintf(bw, "  %s\n", f.Outcome())
		}
	}
	if bw.err == nil && p.Experiments != nil {
		return p.Experiments.WriteText(bw)
	}
	return bw.err
}

// shown says whether text output lists the unique share after epoch e:
// every epoch up to TargetEpochs, then only the first, MarkEpochs and the
// last.
func (p *Population) shown(e int) bool {
	return p.Epochs <= TargetEpochs || e == 1 || e == p.Epochs || slices.Contains(MarkEpochs, e)
}

// DriftSummary says how the visitors' interests moved.
func (p *Population) DriftSummary() string {
	if p.Drift == 0 {
		return "no drift: every visitor's behaviour stays as its persona's"
	}
	return fmt.Sprintf("drift %g: each epoch a visitor's dominant interest shifts with probability %g; %d shifts, and %d of %d reporters' true cohort changed",
		p.Drift, p.Drift, p.Shifts, p.CohortChanged, p.Reporters)
}

// UniqueAfter is the unique share after epoch e, if the population ran so long.
func (p *Population) UniqueAfter(e int) (Uniqueness, bool) {
	if e < 1 || e > len(p.Unique) {
		return Uniqueness{}, false
	}
	return p.Unique[e-1], true
}

// WriteJSON writes a population as indented JSON.
func (p *Population) WriteJSON(w io.Writer) error { return writeJSON(w, p) }

// EpsilonPerYear bounds the privacy budget a person spends in a year: a
// new answer only at the start of an answer period (engine.AnswerPeriodDays,
// at least 366 days), and any year touches at most two periods.
func (p *Population) EpsilonPerYear() float64 {
	return 2 * p.Epsilon
}

// UnderK is how many full cohorts have people but fewer than min_k.
func (p *Population) UnderK() int {
	for _, b := range p.Sizes {
		if b.UnderK {
			return b.Cohorts
		}
	}
	return 0
}

// PeopleUnderK is how many reporters are in full cohorts under min_k.
func (p *Population) PeopleUnderK() int {
	for _, b := range p.Sizes {
		if b.UnderK {
			return b.People
		}
	}
	return 0
}

// Coarser is how many first-epoch reports fell back to a coarser cohort.
func (p *Population) Coarser() int {
	n := 0
	for _, l := range p.Levels {
		if l.Coarser {
			n += l.Reports
		}
	}
	return n
}

// TargetUnique is the re-identification target: at most this fraction of
// reporters with a unique sequence of reports after TargetEpochs epochs.
// DefaultEpochs is a year of weekly epochs, and MarkEpochs the epochs
// whose unique share every output names.
const (
	TargetUnique  = 0.01
	TargetEpochs  = 12
	DefaultEpochs = 52
)

// MarkEpochs are the epochs after which outputs always give the unique share.
var MarkEpochs = []int{4, TargetEpochs, 52}

// Verdict says whether the population meets the re-identification target,
// or "" when it ran fewer epochs than the target counts.
func (p *Population) Verdict() string {
	u, ok := p.UniqueAfter(TargetEpochs)
	if !ok {
		return ""
	}
	if u.Fraction <= TargetUnique {
		return fmt.Sprintf("Target met: %s unique after %d epochs (target %s or less).", pct1(u.Fraction), TargetEpochs, pct1(TargetUnique))
	}
	return fmt.Sprintf("Target NOT met: %s unique after %d epochs (target %s or less).", pct1(u.Fraction), TargetEpochs, pct1(TargetUnique))
}

func pct(n, of int) string {
	if of == 0 {
		return "–"
	}
	return pct1(float64(n) / float64(of))
}

func pct1(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

// num prints f with at most two decimals, trailing zeros dropped.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"ctx":   ContextSummary,
	"prefs": prefsSummary,
	"pct":   pct1,
	"add1":  func(i int) int { return i + 1 },
	"score": func(f float64) string { return strconv.FormatFloat(f, 'f', 4, 64) },
	"join":  strings.Join,
	"when":  func(t time.Time) string { return t.Format("Mon 2006-01-02 15:04 MST") },
	"round": func(f *float64) string { return strconv.FormatFloat(math.Round(*f), 'f', 0, 64) },
	"ci": func(se *float64) string {
		if se == nil {
			return ""
		}
		return "±" + strconv.FormatFloat(math.Round(1.96**se), 'f', 0, 64)
	},
	"num":              num,
	"pctTrim":          pctTrim,
	"columnHeading":    ColumnHeading,
	"epochHeadings":    func() []string { return EpochHeadings },
	"experimentsAbout": func() string { return ExperimentsAbout },
	"cumulative":       Cumulative,
	"forgeryIntro":     func() string { return ForgeryIntro },
	"nothingLeaves":    func() string { return NothingLeaves },
	"onlyOutcomes":     func() string { return OnlyOutcomes },
	"noPower":          func() string { return NoPower },
	"nobodyInIt":       func() string { return NobodyInIt },
}).Parse(htmlTemplates))
