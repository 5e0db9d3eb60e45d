package sim

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/ruleset"
)

// Audit is a ruleset's privacy report: what it collects and why, the
// privacy policy's findings, its cohorts and privacy budget, and what a
// simulated population's reports reveal.
type Audit struct {
	Ruleset        string
	Description    string
	Signals        []engine.Signal
	Feeds          []FeedInfo
	Policy         []Finding // the privacy policy's findings (category policy)
	Sensitive      int       // how many of them are about sensitive categories
	Dimensions     []DimensionInfo
	Catalogue      int // cohorts in the catalogue
	MinK           int
	Epsilon        float64
	EpochDays      int
	ReportsPerYear float64
	EpsilonPerYear float64
	Population     *Population
	// Experiments are the ruleset's experiments: the population's, or,
	// for a ruleset without cohorts, power figures alone (set by the
	// caller, from PlanExperiments).
	Experiments *Experiments
	Verdict     string
	TargetMet   bool
	// Marks gives the unique share after each of MarkEpochs the
	// population ran.
	Marks       string
	UniqueChart template.HTML
	SizeChart   template.HTML
}

// Finding is one privacy policy problem, at its place in the ruleset.
type Finding struct {
	Where    string
	Severity string
	Message  string
	Hint     string
}

// FeedInfo is one context feed the ruleset uses, and what fetching it
// reveals.
type FeedInfo struct {
	ID, Kind, URL, Description string
	Signer                     string // "the ruleset's key", or the key the ruleset names
	Reveals                    string
}

// FeedReveals is what fetching any feed tells whoever serves it.
const FeedReveals = "Nothing about the person: every visitor fetches the same URL, with no query string, cookie or Referer and a fixed Accept-Language, " +
	"and the device looks its region up in the file itself. The server learns only that a page of the site was opened, which serving the page told it already."

// DimensionInfo is one cohort dimension.
type DimensionInfo struct {
	ID      string
	From    string
	Buckets []string
}

// OnlyOutcomes is what the audit of a ruleset without cohorts but with
// experiments says leaves the device.
const OnlyOutcomes = "This ruleset defines no cohorts, so the device never sends a cohort answer, and there is no population of cohort reports to simulate. " +
	"It runs experiments, though: once an epoch each person in one (who shares cohorts and keeps history) sends a report with one outcome answer per experiment about the epoch before, " +
	"the arm as drawn and whether a goal followed, noised by randomized response, each charged its ε in the person's ledger (see Experiments below)."

// NothingLeaves is what the audit of a ruleset without cohorts says.
const NothingLeaves = "This ruleset defines no cohorts, so the device never sends a cohort report: " +
	"nothing about the person leaves the device, no privacy budget (ε) is spent, and there is no population to simulate. " +
	"Everything it uses stays in the browser, for the purposes and retention listed above."

// NewAudit assembles the audit of t from its lint diagnostics and a
// population simulated with it; pop is nil for a ruleset without cohorts,
// which never reports.
func NewAudit(t Target, diags []ruleset.Diagnostic, pop *Population) *Audit {
	rs := t.Ruleset
	a := &Audit{Ruleset: t.name(), Description: rs.Description, Signals: rs.Signals}
	for _, f := range rs.Feeds {
		signer := "the ruleset's own key"
		if f.Key != "" {
			signer = "its own key, " + f.Key
		}
		a.Feeds = append(a.Feeds, FeedInfo{ID: f.ID, Kind: f.Kind, URL: f.URL, Description: f.Description, Signer: signer, Reveals: FeedReveals})
	}
	if pop != nil {
		a.Experiments = pop.Experiments
		a.Catalogue, a.MinK, a.Epsilon, a.EpochDays = len(pop.Cohorts), pop.MinK, pop.Epsilon, pop.EpochDays
		a.ReportsPerYear, a.EpsilonPerYear = 365/float64(pop.EpochDays), pop.EpsilonPerYear()
		a.Population, a.Verdict = pop, pop.Verdict()
		u, ok := pop.UniqueAfter(TargetEpochs)
		a.TargetMet = ok && u.Fraction <= TargetUnique
	}
	for _, d := range diags {
		if d.Category != engine.CategoryPolicy {
			continue
		}
		where := d.File
		if d.Line > 0 {
			where = fmt.Sprintf("%s:%d:%d", d.File, d.Line, d.Column)
		}
		a.Policy = append(a.Policy, Finding{Where: where, Severity: d.Severity, Message: d.Message, Hint: d.Hint})
		if strings.Contains(d.Message, "sensitive category") {
			a.Sensitive++
		}
	}
	for _, d := range rs.Cohorts.Dimensions {
		di := DimensionInfo{ID: d.ID, From: d.From}
		for _, b := range d.Buckets {
			di.Buckets = append(di.Buckets, b.ID)
		}
		a.Dimensions = append(a.Dimensions, di)
	}
	if pop == nil {
		return a
	}
	var marks []string
	for _, e := range MarkEpochs {
		if u, ok := pop.UniqueAfter(e); ok {
			marks = append(marks, fmt.Sprintf("%s after %d epochs", pct1(u.Fraction), e))
		}
	}
	if len(marks) > 0 {
		a.Marks = "Unique: " + strings.Join(marks, ", ") + "."
	}
	a.UniqueChart = uniqueChart(pop)
	a.SizeChart = sizeChart(pop)
	return a
}

// WriteHTML writes the audit as one self-contained HTML page.
func (a *Audit) WriteHTML(w io.Writer) error { return templates.ExecuteTemplate(w, "audit", a) }

// WriteMarkdown writes the audit as Markdown.
func (a *Audit) WriteMarkdown(w io.Writer) error {
	bw := &errWriter{w: w}
	p := a.Population
	fmt.Fprintf(bw, "# Privacy audit of `%s`\n\n", a.Ruleset)
	if a.Description != "" {
		fmt.Fprintf(bw, "%s\n\n", a.Description)
	}
	if p != nil {
		fmt.Fprintf(bw, "Simulated with edgewise.wasm, the engine browsers run: %d synthetic visitors, seed %d, %d epochs; %s.\n\n", p.Visitors, p.Seed, p.Epochs, p.DriftSummary())
	}

	fmt.Fprintf(bw, "## Signals collected\n\n| signal | kind | purpose shown to people | kept on the device |\n|---|---|---|---:|\n")
	for _, s := range a.Signals {
		keep := "not stored"
		if s.RetentionDays > 0 {
			keep = fmt.Sprintf("%d days", s.RetentionDays)
		}
		fmt.Fprintf(bw, "| `%s` | %s | %s | %s |\n", s.ID, s.Kind, mdCell(s.Purpose), keep)
	}

	if len(a.Feeds) > 0 {
		fmt.Fprintf(bw, "\n## Context feeds\n\nSigned files the page fetches and the device joins with the person's region; the region never leaves the device. %s\n\n| feed | kind | fetched from | signed with | what it says |\n|---|---|---|---|---|\n", FeedReveals)
		for _, f := range a.Feeds {
			fmt.Fprintf(bw, "| `%s` | %s | `%s` | %s | %s |\n", f.ID, f.Kind, f.URL, mdCell(f.Signer), mdCell(f.Description))
		}
	}

	fmt.Fprintf(bw, "\n## Sensitive categories and privacy policy\n\n")
	if len(a.Policy) == 0 {
		fmt.Fprintf(bw, "No findings: no item, tag, region, rule or cohort names a sensitive category, and the policy's precision, retention and cohort-size checks pass.\n")
	} else {
		fmt.Fprintf(bw, "%d privacy policy findings (%d about sensitive categories).\n\n| where | severity | finding |\n|---|---|---|\n", len(a.Policy), a.Sensitive)
		for _, f := range a.Policy {
			msg := f.Message
			if f.Hint != "" {
				msg += " (" + f.Hint + ")"
			}
			fmt.Fprintf(bw, "| `%s` | %s | %s |\n", f.Where, f.Severity, mdCell(msg))
		}
	}

	if p == nil {
		leaves := NothingLeaves
		if a.Experiments != nil {
			leaves = OnlyOutcomes
		}
		fmt.Fprintf(bw, "\n## What leaves the device\n\n%s\n", leaves)
		if bw.err == nil && a.Experiments != nil {
			return a.Experiments.WriteMarkdown(bw)
		}
		return bw.err
	}

	fmt.Fprintf(bw, "\n## Cohort catalogue and k-anonymity\n\n%d dimensions make %d cohorts (every full cohort, then each coarser level). A cohort smaller than %d people (min_k) is never reported as itself: the device falls back to the coarser cohort without its last dimension, or sends nothing.\n\n| dimension | from | buckets |\n|---|---|---|\n", len(a.Dimensions), a.Catalogue, a.MinK)
	for _, d := range a.Dimensions {
		fmt.Fprintf(bw, "| `%s` | %s | %s |\n", d.ID, d.From, strings.Join(d.Buckets, ", "))
	}

	fmt.Fprintf(bw, "\n## Privacy budget\n\n| | |\n|---|---:|\n| mechanism | %s |\n| ε per new answer | %s |\n| reports per year (one per %d-day epoch) | %s |\n| ε per year, at most (one new answer per answer period, and a year touches two: 2 × ε) | %s |\n| ε spent over the %d simulated epochs, mean | %s |\n| ε spent over the %d simulated epochs, most | %s |\n\nThe noised answer about a cohort is drawn once and repeated in every later report about it, and one answer serves a whole answer period of at least 366 days, whatever the person's cohort does meanwhile: a person spends ε at most once a period.\n",
		p.Mechanism, num(a.Epsilon), a.EpochDays, num(a.ReportsPerYear), num(a.EpsilonPerYear), p.Epochs, num(p.EpsilonSpentMean), p.Epochs, num(p.EpsilonSpentMax))

	fmt.Fprintf(bw, "\n## Re-identification risk\n\nShare of reporting visitors whose sequence of reports, as sent, no other visitor shares: what an observer who could link a device's reports across epochs would single out. \"Without noise\" is the same for the cohorts the reports were about.\n\n%s\n\n| after epoch | unique | visitors | without noise |\n|---:|---:|---:|---:|\n", a.Marks)
	for i, u := range p.Unique {
		fmt.Fprintf(bw, "| %d | %s | %d of %d | %s |\n", u.Epoch, pct1(u.Fraction), u.Unique, u.Of, pct1(p.UniqueWithoutNoise[i].Fraction))
	}
	if a.Verdict != "" {
		fmt.Fprintf(bw, "\n**%s**\n", a.Verdict)
	}

	if f := p.Forgery; f != nil {
		fmt.Fprintf(bw, "\n## Forged reports\n\n%s\n\n| | |\n|---|---:|\n| people one forged report counts as | %s |\n| the collector's forgery margin | %d reports |\n| forged reports that publish `%s`, nobody's cohort | %d |\n| the same without the margin | %d |\n| real cohorts the margin withholds (published without it) | %d (%d stay published) |\n",
			ForgeryIntro, num(f.Weight), f.Margin, f.Target, f.Needed, f.NeededWithoutMargin, f.Withheld, f.Published)
		if f.Forged > 0 {
			fmt.Fprintf(bw, "\n%s\n", f.Outcome())
		}
	}

	fmt.Fprintf(bw, "\n## Simulated cohort distribution\n\n%d of %d visitors make cohort reports. In the first epoch, %d reports fell back to a coarser cohort; %d full cohorts had people but fewer than min_k.\n\n| full cohorts of size | cohorts | people |\n|---|---:|---:|\n", p.Reporters, p.Visitors, p.Coarser(), p.UnderK())
	for _, b := range p.Sizes {
		fmt.Fprintf(bw, "| %s | %d | %d |\n", b.Label, b.Cohorts, b.People)
	}
	fmt.Fprintf(bw, "\n| cohort | true size | reports about it | collector's estimate | 95%% |\n|---|---:|---:|---:|---:|\n")
	for _, c := range p.Cohorts {
		if c.True == 0 && c.Reported == 0 && c.Suppressed {
			continue
		}
		est, ci := "suppressed", ""
		if !c.Suppressed && c.Estimate != nil {
			est = fmt.Sprintf("%.0f", math.Round(*c.Estimate))
			if c.StdErr != nil {
				ci = fmt.Sprintf("±%.0f", math.Round(1.96**c.StdErr))
			}
		}
		fmt.Fprintf(bw, "| `%s` | %d | %d | %s | %s |\n", c.ID, c.True, c.Reported, est, ci)
	}
	if bw.err == nil && a.Experiments != nil {
		return a.Experiments.WriteMarkdown(bw)
	}
	return bw.err
}

func mdCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

// uniqueChart draws the re-identification curve: % unique after each
// epoch, with and without noise, and the target line.
func uniqueChart(p *Population) template.HTML {
	const w, h, left, bottom, top, right = 560, 240, 48, 32, 12, 16
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	n := len(p.Unique)
	x := func(e int) float64 {
		if n <= 1 {
			return left + pw/2
		}
		return left + pw*float64(e-1)/float64(n-1)
	}
	y := func(f float64) float64 { return top + ph*(1-f) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="Re-identification curve">`, w, h, w, h)
	for _, f := range []float64{0, 0.25, 0.5, 0.75, 1} {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e3e6ea"/><text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#667">%.0f%%</text>`, left, w-right, y(f), y(f), left-6, y(f)+4, 100*f)
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#a11" stroke-dasharray="4 3"/><text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#a11">target %s</text>`, left, w-right, y(TargetUnique), y(TargetUnique), w-right, y(TargetUnique)-4, pct1(TargetUnique))
	series := func(us []Uniqueness, color, name string) {
		var pts []string
		for _, u := range us {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(u.Epoch), y(u.Fraction)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, color, strings.Join(pts, " "))
		for _, u := range us {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s, after epoch %d: %s</title></circle>`, x(u.Epoch), y(u.Fraction), color, name, u.Epoch, pct1(u.Fraction))
		}
	}
	series(p.UniqueWithoutNoise, "#8a94a6", "without noise")
	series(p.Unique, "#1f5fbf", "reports as sent")
	for _, u := range p.Unique {
		if p.shown(u.Epoch) {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#667">epoch %d</text>`, x(u.Epoch), h-10, u.Epoch)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// sizeChart draws every non-empty full cohort's true size, largest first,
// on a log scale, with the min_k line.
func sizeChart(p *Population) template.HTML {
	full := 0
	for _, c := range p.Cohorts {
		full = max(full, c.Level)
	}
	var cs []CohortStat
	for _, c := range p.Cohorts {
		if c.Level == full && c.True > 0 {
			cs = append(cs, c)
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].True > cs[j].True })
	const w, h, left, bottom, top, right = 560, 240, 48, 20, 12, 16
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	maxV := float64(p.MinK)
	for _, c := range cs {
		maxV = math.Max(maxV, float64(c.True))
	}
	decades := math.Ceil(math.Log10(maxV))
	if decades < 1 {
		decades = 1
	}
	y := func(v float64) float64 { return top + ph*(1-math.Log10(math.Max(v, 1))/decades) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="True size of each full cohort">`, w, h, w, h)
	for d := 0.0; d <= decades; d++ {
		v := math.Pow(10, d)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e3e6ea"/><text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#667">%.0f</text>`, left, w-right, y(v), y(v), left-6, y(v)+4, v)
	}
	if len(cs) > 0 {
		bw := pw / float64(len(cs))
		for i, c := range cs {
			color := "#1f5fbf"
			if c.True < p.MinK {
				color = "#d08a2c"
			}
			x0 := float64(left) + bw*float64(i)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d</title></rect>`, x0+bw*0.1, y(float64(c.True)), bw*0.8, float64(h-bottom)-y(float64(c.True)), color, template.HTMLEscapeString(c.ID), c.True)
		}
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#a11" stroke-dasharray="4 3"/><text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#a11">min_k %d</text>`, left, w-right, y(float64(p.MinK)), y(float64(p.MinK)), w-right, y(float64(p.MinK))-4, p.MinK)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
