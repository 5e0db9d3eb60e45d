package sim

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/ruleset"
)

// element is a parsed XML element with its text.
type element struct {
	name  string
	attrs map[string]string
	text  string
	kids  []*element
}

// parseXHTML parses a page strictly as XML: every element closed, every
// attribute quoted, only XML's entities.
func parseXHTML(t *testing.T, page []byte) *element {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict = true
	root := &element{name: "#document"}
	stack := []*element{root}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the page is not well-formed: %v", err)
		}
		top := stack[len(stack)-1]
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &element{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			top.kids = append(top.kids, e)
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			for _, e := range stack {
				e.text += string(tok)
			}
		}
	}
	if len(stack) != 1 {
		t.Fatalf("%d elements left open", len(stack)-1)
	}
	return root
}

// find returns every element for which match is true, in document order.
func (e *element) find(match func(*element) bool) []*element {
	var out []*element
	if match(e) {
		out = append(out, e)
	}
	for _, k := range e.kids {
		out = append(out, k.find(match)...)
	}
	return out
}

func (e *element) byID(t *testing.T, id string) *element {
	t.Helper()
	got := e.find(func(x *element) bool { return x.attrs["id"] == id })
	if len(got) != 1 {
		t.Fatalf("%d elements with id %q, want 1", len(got), id)
	}
	return got[0]
}

func norm(s string) string { return strings.Join(strings.Fields(s), " ") }

// cells is the text of a row's cells, each normalized, joined by " | ".
func cells(row *element) string {
	var out []string
	for _, k := range row.kids {
		if k.name == "td" || k.name == "th" {
			out = append(out, norm(k.text))
		}
	}
	return strings.Join(out, " | ")
}

func exampleAudit(t *testing.T) (*Audit, *Population) {
	p := population(t)
	tg := exampleTarget(t)
	diags := ruleset.Lint("examples/outdoor-shop.yaml", mustRead(t, "../../examples/outdoor-shop.yaml"))
	return NewAudit(tg, diags, p), p
}

// TestAuditHTML parses the audit page strictly and checks each section and
// its numbers against the simulation.
func TestAuditHTML(t *testing.T) {
	a, p := exampleAudit(t)
	var buf bytes.Buffer
	if err := a.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.Bytes()
	for _, banned := range []string{"<script", "http://", "https://", "src=", "@import", "url("} {
		if bytes.Contains(bytes.ReplaceAll(page, []byte(`xmlns="http://www.w3.org/2000/svg"`), nil), []byte(banned)) {
			t.Errorf("the page is not self-contained: it has %q", banned)
		}
	}
	doc := parseXHTML(t, page)
	for _, id := range []string{"signals", "sensitive", "cohorts", "epsilon", "reidentification", "distribution"} {
		doc.byID(t, id)
	}
	signals := doc.byID(t, "signals").find(func(e *element) bool { return e.name == "tr" })
	if len(signals) != 1+8 { // header and the example's eight signals
		t.Errorf("signals table has %d rows, want 9", len(signals))
	}
	if got := cells(signals[1]); !strings.HasPrefix(got, "shop-history | history | We use the products you view") || !strings.HasSuffix(got, " | 60 days") {
		t.Errorf("first signal row %q", got)
	}
	sens := doc.byID(t, "sensitive").find(func(e *element) bool { _, ok := e.attrs["data-problems"]; return ok })
	if len(sens) != 1 || sens[0].attrs["data-problems"] != "0" {
		t.Errorf("sensitive-category check: %v, want 0 problems for the example", sens)
	}
	for id, want := range map[string]string{
		"catalogue-size":     "85",
		"min-k":              "50",
		"epsilon-report":     "2",
		"epsilon-year":       "4",
		"epsilon-spent-mean": num(p.EpsilonSpentMean),
		"epsilon-spent-max":  num(p.EpsilonSpentMax),
		"reporters":          itoa(p.Reporters),
		"coarser":            itoa(p.Coarser()),
		"under-k":            itoa(p.UnderK()),
	} {
		if got := norm(doc.byID(t, id).text); got != want {
			t.Errorf("#%s = %q, want %q", id, got, want)
		}
	}
	rows := doc.find(func(e *element) bool { return e.attrs["class"] == "unique" })
	if len(rows) != len(p.Unique) {
		t.Fatalf("%d re-identification rows, want %d", len(rows), len(p.Unique))
	}
	for i, r := range rows {
		want := strings.Join([]string{itoa(p.Unique[i].Epoch), pct1(p.Unique[i].Fraction), itoa(p.Unique[i].Unique) + " of " + itoa(p.Unique[i].Of), pct1(p.UniqueWithoutNoise[i].Fraction)}, " | ")
		if got := cells(r); got != want {
			t.Errorf("re-identification row %d = %q, want %q", i, got, want)
		}
	}
	if v := doc.byID(t, "verdict"); norm(v.text) != p.Verdict() {
		t.Errorf("verdict %q, want %q", norm(v.text), p.Verdict())
	}
	bins := doc.find(func(e *element) bool { return e.attrs["class"] == "size-bin" })
	if len(bins) != len(p.Sizes) {
		t.Fatalf("%d size bins, want %d", len(bins), len(p.Sizes))
	}
	for i, b := range bins {
		if want := p.Sizes[i].Label + " | " + itoa(p.Sizes[i].Cohorts) + " | " + itoa(p.Sizes[i].People); cells(b) != want {
			t.Errorf("size bin %d = %q, want %q", i, cells(b), want)
		}
	}
	cohorts := doc.find(func(e *element) bool { return e.attrs["class"] == "cohort" })
	byID := map[string]*element{}
	for _, c := range cohorts {
		byID[c.attrs["data-id"]] = c
	}
	for _, c := range p.Cohorts {
		row, ok := byID[c.ID]
		if c.True == 0 && c.Reported == 0 && c.Suppressed {
			if ok {
				t.Errorf("empty suppressed cohort %s is listed", c.ID)
			}
			continue
		}
		if !ok {
			t.Errorf("cohort %s is missing", c.ID)
			continue
		}
		f := strings.Split(cells(row), " | ")
		if len(f) != 5 || f[0] != c.ID || f[1] != itoa(c.True) || f[2] != itoa(c.Reported) || (c.Suppressed != (f[3] == "suppressed")) {
			t.Errorf("cohort %s row %q, want true %d, reported %d, suppressed %v", c.ID, cells(row), c.True, c.Reported, c.Suppressed)
		}
		if !c.Suppressed && (f[3] != strconv.FormatFloat(math.Round(*c.Estimate), 'f', 0, 64) || f[4] != "±"+strconv.FormatFloat(math.Round(1.96**c.StdErr), 'f', 0, 64)) {
			t.Errorf("cohort %s row %q, want estimate %.1f ± %.1f", c.ID, cells(row), *c.Estimate, 1.96**c.StdErr)
		}
	}
	// The re-identification curve, the cohort sizes and the experiment's lift.
	if len(doc.find(func(e *element) bool { return e.name == "svg" })) != 3 {
		t.Error("want three inline SVG charts")
	}
	// The experiment: its power table is the Power's, and its run shows
	// every epoch the collector analysed, the truth and the verdict.
	x := p.Experiments.Experiments[0]
	sec := doc.byID(t, "experiment-hero-lift")
	power := sec.find(func(e *element) bool { return e.attrs["class"] == "power" })
	if len(power) != 1 {
		t.Fatalf("%d power tables", len(power))
	}
	prows := power[0].find(func(e *element) bool { return e.name == "tr" })
	if len(prows) != 1+len(x.Power.Lifts()) {
		t.Fatalf("%d power rows, want %d", len(prows), 1+len(x.Power.Lifts()))
	}
	for i, l := range x.Power.Lifts() {
		want := x.Power.RowHeading(l)
		for _, e := range x.Power.Epsilons() {
			want += " | " + x.Power.CellText(l, e)
		}
		if got := cells(prows[i+1]); got != want {
			t.Errorf("power row %d = %q, want %q", i, got, want)
		}
	}
	an := p.Experiments.Run.Analysis("hero-lift")
	epochs := sec.find(func(e *element) bool { return e.attrs["class"] == "epochs" })
	if len(epochs) != 1 || len(epochs[0].find(func(e *element) bool { return e.name == "tr" })) != 1+len(an.Epochs) {
		t.Errorf("the run's table does not list the %d epochs", len(an.Epochs))
	}
	for _, want := range []string{x.Run.TruthLine(an), an.Cumulative.Verdict, x.Power.Headline()} {
		if !strings.Contains(norm(sec.text), norm(want)) {
			t.Errorf("the experiment's section lacks %q", want)
		}
	}
}

func TestAuditMarkdown(t *testing.T) {
	a, p := exampleAudit(t)
	var buf bytes.Buffer
	if err := a.WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"# Privacy audit of `outdoor-shop@2026.11`",
		"## Signals collected", "| `shop-history` | history |",
		"## Context feeds", "| `weather` | weather | `/feeds/weather.ewf` | the ruleset's own key | Today's weather by region",
		"Nothing about the person: every visitor fetches the same URL",
		"## Sensitive categories and privacy policy", "No findings",
		"## Cohort catalogue and k-anonymity", "3 dimensions make 85 cohorts", "smaller than 50 people",
		"## Privacy budget", "| ε per new answer | 2 |", "| ε per year, at most (one new answer per answer period, and a year touches two: 2 × ε) | 4 |",
		"| ε spent over the 12 simulated epochs, most | " + num(p.EpsilonSpentMax) + " |",
		"## Re-identification risk", "| 12 | " + pct1(p.Unique[11].Fraction) + " | " + itoa(p.Unique[11].Unique) + " of " + itoa(p.Unique[11].Of),
		"Unique: " + pct1(p.Unique[3].Fraction) + " after 4 epochs, " + pct1(p.Unique[11].Fraction) + " after 12 epochs.",
		"no drift: every visitor's behaviour stays as its persona's",
		"## Simulated cohort distribution", itoa(p.Reporters) + " of 1200 visitors make cohort reports",
		"## Experiments", "### `hero-lift`", "**Power** at " + count(p.Experiments.Experiments[0].Power.PerWeek) + " answers a week (the simulated population).",
		"| weeks to find a lift of | ε 1 | ε 2 (the most for all experiments together) |",
		"| 10% (min_lift) | " + p.Experiments.Experiments[0].Power.CellText(0.1, 1) + " |",
		"**Simulated run.** A true lift of +10%", "| epoch | answers | comparison | personalized | lift | cumulative lift | 95% confidence sequence |",
		"**" + p.Experiments.Run.Analysis("hero-lift").Cumulative.Verdict + "**",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown lacks %q", want)
		}
	}
}

// The HTML lists the ruleset's feeds and what fetching them reveals.
func TestAuditHTMLFeeds(t *testing.T) {
	a, _ := exampleAudit(t)
	var buf bytes.Buffer
	if err := a.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	feeds := parseXHTML(t, buf.Bytes()).byID(t, "feeds")
	rows := feeds.find(func(e *element) bool { return e.attrs["data-feed"] != "" })
	if len(rows) != 1 || rows[0].attrs["data-feed"] != "weather" || !strings.Contains(rows[0].text, "/feeds/weather.ewf") {
		t.Fatalf("feed rows: %+v", rows)
	}
	if !strings.Contains(norm(feeds.text), "Nothing about the person") {
		t.Errorf("the feeds section does not say what fetching reveals:\n%s", norm(feeds.text))
	}
}

// TestAuditPolicyFindings lists the privacy policy's findings: a ruleset
// with ε above the default has one, a warning, at its line.
func TestAuditPolicyFindings(t *testing.T) {
	src := strings.Replace(string(mustRead(t, "../../examples/outdoor-shop.yaml")), "  epsilon: 2\n", "  epsilon: 3\n", 1)
	diags := ruleset.Lint("hot.yaml", []byte(src))
	a := NewAudit(exampleTarget(t), diags, population(t))
	if len(a.Policy) != 1 || a.Policy[0].Severity != "warning" || !strings.HasPrefix(a.Policy[0].Where, "hot.yaml:") || !strings.Contains(a.Policy[0].Message, "epsilon is 3") {
		t.Fatalf("policy findings %+v", a.Policy)
	}
	var buf bytes.Buffer
	if err := a.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	doc := parseXHTML(t, buf.Bytes())
	sens := doc.byID(t, "sensitive")
	if p := sens.find(func(e *element) bool { return e.attrs["data-problems"] != "" }); len(p) != 1 || p[0].attrs["data-problems"] != "1" || !strings.Contains(sens.text, "epsilon is 3") {
		t.Errorf("the sensitive section does not list the finding:\n%s", norm(sens.text))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
