package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/internal/lift"
	"github.com/edgewise/edgewise/internal/sim"
)

var update = flag.Bool("update", false, "rewrite testdata/simulate/*.golden")

const (
	exampleRuleset  = "../../examples/outdoor-shop.yaml"
	examplePersonas = "../../testdata/personas.yaml"
)

// TestSimulateGolden holds simulate's output for the example personas to
// testdata/simulate/*.golden; go test ./cmd/edgewise -update rewrites them.
func TestSimulateGolden(t *testing.T) {
	for _, tc := range []struct{ format, golden string }{
		{"text", "outdoor-shop.golden"},
		{"json", "outdoor-shop.json.golden"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			out, errOut, code := runCLI(t, "simulate", exampleRuleset, "--personas", examplePersonas, "--format", tc.format, "--wasm", wasmPath)
			if code != 0 {
				t.Fatalf("simulate: code %d, stderr %q", code, errOut)
			}
			checkGolden(t, filepath.Join("../../testdata/simulate", tc.golden), out, "simulate --format "+tc.format)
		})
	}
}

// TestSimulateShowsWhy checks what the golden file holds for a few
// personas, so an -update cannot quietly bless a wrong answer.
func TestSimulateShowsWhy(t *testing.T) {
	out, errOut, code := runCLI(t, "simulate", exampleRuleset, "--personas", examplePersonas, "--format", "json", "--wasm", wasmPath)
	if code != 0 {
		t.Fatalf("simulate: code %d, stderr %q", code, errOut)
	}
	var p sim.Preview
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	byID := map[string]sim.PersonaPreview{}
	for _, pp := range p.Personas {
		byID[pp.ID] = pp
	}
	first := func(id string, visit int, slot string) (string, string, []string, bool) {
		pp := byID[id]
		if visit >= len(pp.Visits) {
			t.Fatalf("%s has %d visits", id, len(pp.Visits))
		}
		for _, d := range pp.Visits[visit].Decisions {
			if d.Slot == slot && len(d.Items) > 0 {
				return d.Items[0].Item, d.Items[0].Reason, d.Items[0].Rules, d.Fallback
			}
		}
		t.Fatalf("%s visit %d shows nothing in %s", id, visit+1, slot)
		return "", "", nil, false
	}
	// Rain in Washington: rain gear, because of the rain rule.
	if item, reason, rules, _ := first("weekend-hiker", 0, "weather-banner"); !strings.Contains(item, "") || reason != "Because it's raining where you are." || !contains(rules, "rain-brings-rain-gear") {
		t.Errorf("weekend-hiker's weather banner: %s %q %v", item, reason, rules)
	}
	// Browsing the climbing section in Switzerland: climbing gear first.
	if item, _, rules, _ := first("alpine-climber", 0, "recommended"); item != "alpine-ice-axe" || !contains(rules, "climbing-section-shows-climbing") {
		t.Errorf("alpine-climber's first recommendation: %s %v", item, rules)
	}
	// A first visit pins the best seller.
	if item, _, rules, _ := first("new-visitor", 0, "recommended"); item != "stormfront-rain-shell" || !contains(rules, "first-visit-shows-bestseller") {
		t.Errorf("new-visitor's first recommendation: %s %v", item, rules)
	}
	// Sharing off: fallbacks, events refused, no cohort.
	off := byID["sharing-off"]
	if _, _, _, fallback := first("sharing-off", 0, "recommended"); !fallback || off.Visits[0].Events[0].Refused == "" || off.Cohort != "" || off.NoReport == "" {
		t.Errorf("sharing-off: %+v", off)
	}
	// GPC caps sharing at on-device.
	if g := byID["gpc-camper"]; !g.Preferences.GPCApplied || g.Preferences.Sharing != "on-device" || g.NoReport == "" {
		t.Errorf("gpc-camper: %+v", g.Preferences)
	}
	// A tent bought: no more tents.
	for _, d := range byID["tent-buyer"].Visits[1].Decisions {
		for _, pick := range d.Items {
			if strings.Contains(pick.Item, "tent") {
				t.Errorf("tent-buyer is shown %s in %s after buying a tent", pick.Item, d.Slot)
			}
		}
	}
	if c := byID["nordic-winter"].Cohort; c != "interest=winter-sports/region=europe/engagement=loyal" {
		t.Errorf("nordic-winter's cohort %q", c)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n  want " + w + "\n  got  " + g
		}
	}
	return ""
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// wellFormed parses a page strictly as XML.
func wellFormed(t *testing.T, page []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict = true
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
	}
}

func TestSimulateHTML(t *testing.T) {
	out, errOut, code := runCLI(t, "simulate", "--format", "html", exampleRuleset, "--personas", examplePersonas, "--wasm", wasmPath)
	if code != 0 {
		t.Fatalf("simulate: code %d, stderr %q", code, errOut)
	}
	wellFormed(t, []byte(out))
	for _, want := range []string{`<section id="persona-weekend-hiker">`, "Because it&#39;s raining where you are.", "rain-brings-rain-gear"} {
		if !strings.Contains(out, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// TestSimulateSignedRuleset previews a built .ewr with its public key: the
// same answers as from the YAML.
// A persona in Paris by time zone gets the weather feed's rain: the join
// runs in edgewise.wasm, in every simulated engine.
func TestSimulateWithFeed(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "site.key")
	if _, errOut, code := runCLI(t, "keygen", "-o", key); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	csv := filepath.Join(dir, "weather.csv")
	if err := os.WriteFile(csv, []byte("key,value,label\nFR,rain,France\nJP,clear,Japan\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	feed := filepath.Join(dir, "weather.ewf")
	if _, errOut, code := runCLI(t, "feed", "build", "weather", csv, "--key", key, "-o", feed, "--issued", "2026-12-05T08:00:00Z", "--ttl", "24h"); code != 0 {
		t.Fatalf("feed build: %s", errOut)
	}
	personas := filepath.Join(dir, "personas.yaml")
	if err := os.WriteFile(personas, []byte(`start: 2026-12-05T09:00:00Z
personas:
  - id: paris
    name: A visitor in Paris who gives no location
    visits:
      - at: 0d
        context: {time_zone: Europe/Paris, languages: [fr-FR]}
        events: [{type: view, item: summit-hiking-boot}]
  - id: tokyo
    name: A visitor in Tokyo
    visits:
      - at: 0d
        context: {time_zone: Asia/Tokyo}
        events: [{type: view, item: summit-hiking-boot}]
  - id: paris-next-week
    name: The Paris visitor once the feed has expired
    visits:
      - at: 7d
        context: {time_zone: Europe/Paris}
        events: [{type: view, item: summit-hiking-boot}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "simulate", exampleRuleset, "--personas", personas, "--feed", feed, "--key", filepath.Join(dir, "site.pub"), "--format", "json", "--wasm", wasmPath)
	if code != 0 {
		t.Fatalf("simulate: code %d, stderr %q", code, errOut)
	}
	var p sim.Preview
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	rainy := map[string]bool{}
	for _, pp := range p.Personas {
		for _, d := range pp.Visits[0].Decisions {
			for _, it := range d.Items {
				if it.Reason == "Because it's raining where you are." {
					rainy[pp.ID] = true
				}
			}
		}
	}
	if !rainy["paris"] || rainy["tokyo"] || rainy["paris-next-week"] {
		t.Errorf("rain rule fired for %v, want only paris", rainy)
	}
	if _, errOut, code := runCLI(t, "simulate", exampleRuleset, "--personas", personas, "--feed", feed, "--wasm", wasmPath); code != 1 || !strings.Contains(errOut, "--feed needs --key") {
		t.Errorf("--feed without --key: code %d, %q", code, errOut)
	}
}

func TestSimulateSignedRuleset(t *testing.T) {
	dir := t.TempDir()
	key, ewr := filepath.Join(dir, "site.key"), filepath.Join(dir, "shop.ewr")
	if _, errOut, code := runCLI(t, "keygen", "-o", key); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	if _, errOut, code := runCLI(t, "build", exampleRuleset, "--key", key, "-o", ewr); code != 0 {
		t.Fatalf("build: %s", errOut)
	}
	fromEWR, errOut, code := runCLI(t, "simulate", ewr, "--key", filepath.Join(dir, "site.pub"), "--personas", examplePersonas, "--wasm", wasmPath)
	if code != 0 {
		t.Fatalf("simulate .ewr: code %d, %s", code, errOut)
	}
	fromYAML, _, _ := runCLI(t, "simulate", exampleRuleset, "--personas", examplePersonas, "--wasm", wasmPath)
	if fromEWR != fromYAML {
		t.Errorf("the .ewr preview differs from the YAML's:\n%s", firstDiff(fromYAML, fromEWR))
	}
	if _, errOut, code := runCLI(t, "simulate", ewr, "--personas", examplePersonas, "--wasm", wasmPath); code != 1 || !strings.Contains(errOut, "--key") {
		t.Errorf("a .ewr without --key: code %d, %q", code, errOut)
	}
}

func TestSimulateErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("start: 2026-12-05T09:00:00Z\npersonas:\n  - id: x\n    visits:\n      - at: 0d\n        events:\n          - {type: view, item: nothing-like-it}\n"), 0o644)
	_, errOut, code := runCLI(t, "simulate", exampleRuleset, "--personas", bad, "--wasm", wasmPath)
	// As lint prints problems: the position, the line and a caret.
	if code != 1 || !strings.Contains(errOut, bad+":7:32: error: item \"nothing-like-it\" is not in the ruleset's catalogue\n          - {type: view, item: nothing-like-it}\n                               ^\n") {
		t.Errorf("bad personas: code %d, %q", code, errOut)
	}
	// An unknown event type is found with the other problems, at its type.
	os.WriteFile(bad, []byte("start: 2026-12-05T09:00:00Z\npersonas:\n  - id: x\n    visits:\n      - at: 0d\n        events:\n          - {type: veiw, item: chalk-bag}\n"), 0o644)
	_, errOut, code = runCLI(t, "simulate", exampleRuleset, "--personas", bad, "--wasm", wasmPath)
	if code != 1 || !strings.Contains(errOut, bad+":7:20: error: unknown event type \"veiw\"") || !strings.Contains(errOut, `did you mean "view"?`) {
		t.Errorf("bad event type: code %d, %q", code, errOut)
	}
	// Every problem at once, from the decoding and the checks alike, with
	// hints: an unknown field, a misspelt item, a bad time.
	os.WriteFile(bad, []byte("start: 2026-12-05T09:00:00Z\npersonas:\n  - id: x\n    colour: red\n    visits:\n      - at: 1x\n        events:\n          - {type: view, item: chalk-bags}\n"), 0o644)
	_, errOut, code = runCLI(t, "simulate", exampleRuleset, "--personas", bad, "--wasm", wasmPath)
	for _, want := range []string{"has 3 problems", ":4:5: error: unknown field \"colour\" in persona", "hint: persona fields are: id, name, weight, preferences, visits",
		":6:13: error: \"1x\" is not a duration", ":8:32: error: item \"chalk-bags\" is not in the ruleset's catalogue", "hint: did you mean \"chalk-bag\"?"} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("all at once: code %d, lacks %q:\n%s", code, want, errOut)
		}
	}
	for name, args := range map[string][]string{
		"no personas":  {"simulate", exampleRuleset},
		"bad format":   {"simulate", exampleRuleset, "--personas", examplePersonas, "--format", "pdf"},
		"bad epochs":   {"simulate", exampleRuleset, "--personas", examplePersonas, "--population", "10", "--epochs", "0"},
		"bad drift":    {"simulate", exampleRuleset, "--personas", examplePersonas, "--population", "10", "--drift", "1.5"},
		"NaN drift":    {"simulate", exampleRuleset, "--personas", examplePersonas, "--population", "10", "--drift", "NaN"},
		"audit drift":  {"audit", exampleRuleset, "--population", "10", "--drift", "-0.1"},
		"missing file": {"simulate", "/nonexistent.yaml", "--personas", examplePersonas},
	} {
		if _, errOut, code := runCLI(t, args...); code != 1 || !strings.HasPrefix(errOut, "edgewise: ") {
			t.Errorf("%s: code %d, stderr %q", name, code, errOut)
		}
	}
}

func TestSimulatePopulation(t *testing.T) {
	out, errOut, code := runCLI(t, "simulate", exampleRuleset, "--personas", examplePersonas, "--population", "400", "--epochs", "2", "--seed", "5", "--format", "json", "--wasm", wasmPath)
	if code != 0 {
		t.Fatalf("simulate --population: code %d, %q", code, errOut)
	}
	var p sim.Population
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if p.Visitors != 400 || p.Epochs != 2 || p.Seed != 5 || len(p.Unique) != 2 || p.Reporters == 0 || len(p.Cohorts) != 85 {
		t.Errorf("population %+v", p)
	}
	text, _, code := runCLI(t, "simulate", exampleRuleset, "--personas", examplePersonas, "--population", "400", "--epochs", "12", "--seed", "5", "--wasm", wasmPath)
	for _, want := range []string{"400 visitors, seed 5, 12 epochs", "drift 0.1: ", "Full cohorts by true size", "under min_k", "after epoch  4", "after epoch 12", "Target"} {
		if code != 0 || !strings.Contains(text, want) {
			t.Errorf("population text lacks %q:\n%s", want, text)
		}
	}
}

func TestAudit(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runCLI(t, "audit", exampleRuleset, "--personas", examplePersonas, "--population", "400", "--out", dir, "--wasm", wasmPath)
	if code != 0 {
		t.Fatalf("audit: code %d, %q", code, errOut)
	}
	if !strings.Contains(out, "outdoor-shop-audit.md") || !strings.Contains(out, "Target") {
		t.Errorf("audit output %q", out)
	}
	html, err := os.ReadFile(filepath.Join(dir, "outdoor-shop-audit.html"))
	if err != nil {
		t.Fatal(err)
	}
	wellFormed(t, html)
	md, err := os.ReadFile(filepath.Join(dir, "outdoor-shop-audit.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Signals collected", "## Sensitive categories", "## Cohort catalogue", "## Privacy budget", "## Re-identification risk", "## Simulated cohort distribution"} {
		if !bytes.Contains(md, []byte(want)) || !bytes.Contains(html, []byte(strings.TrimPrefix(want, "## "))) {
			t.Errorf("the audit lacks %q", want)
		}
	}
	// Without personas, visitors come from the catalogue.
	if _, errOut, code := runCLI(t, "audit", exampleRuleset, "--population", "300", "--epochs", "1", "--out", dir, "--wasm", wasmPath); code != 0 {
		t.Errorf("audit without personas: code %d, %q", code, errOut)
	}
}

// A ruleset without cohorts never reports: the most private kind. Its audit
// is written, with the signals and the policy's findings, and says plainly
// that nothing leaves the device; it used to be refused with no report.
func TestAuditWithoutCohorts(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "quiet.yaml")
	os.WriteFile(src, []byte(`id: quiet-shop
version: "1"
signals:
  - {id: history, kind: history, purpose: Recommend gear like what you viewed., retention_days: 30}
catalogue:
  - {id: a, title: Alpha tent, tags: [camping]}
  - {id: b, title: Bravo stove, tags: [camping, cooking]}
slots:
  - {id: s, limit: 2, fallback: [a]}
`), 0o644)
	out, errOut, code := runCLI(t, "audit", src, "--out", dir, "--wasm", wasmPath)
	if code != 0 {
		t.Fatalf("audit: code %d, %q", code, errOut)
	}
	if !strings.Contains(out, "quiet-shop-audit.md") || !strings.Contains(out, "nothing leaves the device") {
		t.Errorf("audit output %q", out)
	}
	html, err := os.ReadFile(filepath.Join(dir, "quiet-shop-audit.html"))
	if err != nil {
		t.Fatal(err)
	}
	wellFormed(t, html)
	md, _ := os.ReadFile(filepath.Join(dir, "quiet-shop-audit.md"))
	for _, want := range []string{"## Signals collected", "Recommend gear like what you viewed.", "## Sensitive categories", "## What leaves the device", "never sends a cohort report"} {
		if !bytes.Contains(md, []byte(want)) || !bytes.Contains(html, []byte(strings.TrimPrefix(want, "## "))) {
			t.Errorf("the audit lacks %q:\n%s", want, md)
		}
	}
	for _, not := range []string{"Re-identification", "Privacy budget"} {
		if bytes.Contains(md, []byte(not)) || bytes.Contains(html, []byte(not)) {
			t.Errorf("the audit of a ruleset that never reports has a %q section", not)
		}
	}
}

// A ruleset without cohorts but with an experiment sends outcome answers:
// its audit says so, never that nothing leaves, and plans the experiment
// at --traffic.
func TestAuditWithoutCohortsWithAnExperiment(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "quiet.yaml")
	os.WriteFile(src, []byte(`id: quiet-shop
version: "1"
signals:
  - {id: history, kind: history, purpose: Recommend gear like what you viewed., retention_days: 30}
catalogue:
  - {id: a, title: Alpha tent, tags: [camping]}
  - {id: b, title: Bravo stove, tags: [camping, cooking]}
slots:
  - {id: s, limit: 2, fallback: [a]}
experiments:
  - {id: s-lift, slots: [s], holdout: 0.5, goals: [purchase]}
`), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, sim.NoPower},
		{[]string{"--traffic", "20000"}, "**Power** at 20,000 answers a week (--traffic)."},
	} {
		out, errOut, code := runCLI(t, append([]string{"audit", src, "--out", dir, "--wasm", wasmPath}, tc.args...)...)
		if code != 0 || !strings.Contains(out, "only experiments' outcome answers leave") {
			t.Fatalf("audit %v: code %d, %q, %q", tc.args, code, out, errOut)
		}
		md, _ := os.ReadFile(filepath.Join(dir, "quiet-shop-audit.md"))
		html, _ := os.ReadFile(filepath.Join(dir, "quiet-shop-audit.html"))
		wellFormed(t, html)
		for _, want := range []string{"## What leaves the device", "It runs experiments, though", "## Experiments", "### `s-lift`", tc.want} {
			if !bytes.Contains(md, []byte(want)) {
				t.Errorf("audit %v: the Markdown lacks %q:\n%s", tc.args, want, md)
			}
		}
		if bytes.Contains(md, []byte(sim.NothingLeaves)) || bytes.Contains(html, []byte(`id="nothing-leaves"`)) || !bytes.Contains(html, []byte(`id="experiment-s-lift"`)) {
			t.Errorf("audit %v: the audit says nothing leaves, or the HTML lacks the experiment", tc.args)
		}
	}
}

// --full is the reference population; given with --population it is a
// mistake, said as such.
func TestAuditFullAndPopulationConflict(t *testing.T) {
	_, errOut, code := runCLI(t, "audit", exampleRuleset, "--full", "--population", "5", "--out", t.TempDir(), "--wasm", wasmPath)
	if code == 0 || !strings.Contains(errOut, "--full and --population") {
		t.Errorf("code %d, stderr %q", code, errOut)
	}
}

// experimentArgs simulates a small population of the example over six
// epochs: every output has the experiment's power and its run.
func experimentArgs(more ...string) []string {
	return append([]string{"simulate", exampleRuleset, "--personas", examplePersonas, "--population", "400", "--epochs", "6", "--seed", "5", "--wasm", wasmPath}, more...)
}

// withoutTiming drops the line that says how long a population took.
func withoutTiming(out string) string {
	i := strings.LastIndex(out, "\nsimulated in ")
	if i < 0 {
		return out
	}
	return out[:i+1]
}

// TestSimulateExperimentsGolden holds the experiments' section of every
// output to golden files: a population's text and JSON, the preview's
// power figures at a given traffic, and the audit's Markdown.
func TestSimulateExperimentsGolden(t *testing.T) {
	text, errOut, code := runCLI(t, experimentArgs()...)
	if code != 0 || !strings.Contains(text, "\nsimulated in ") {
		t.Fatalf("simulate: code %d, %q", code, errOut)
	}
	checkGolden(t, "../../testdata/simulate/outdoor-shop-population.golden", withoutTiming(text), "simulate --population")
	js, errOut, code := runCLI(t, experimentArgs("--format", "json")...)
	if code != 0 {
		t.Fatalf("simulate --format json: code %d, %q", code, errOut)
	}
	checkGolden(t, "../../testdata/simulate/outdoor-shop-population.json.golden", js, "simulate --population --format json")
	preview, errOut, code := runCLI(t, "simulate", exampleRuleset, "--personas", examplePersonas, "--traffic", "100000", "--wasm", wasmPath)
	if code != 0 {
		t.Fatalf("simulate --traffic: code %d, %q", code, errOut)
	}
	plain, _, _ := runCLI(t, "simulate", exampleRuleset, "--personas", examplePersonas, "--wasm", wasmPath)
	section, ok := strings.CutPrefix(preview, plain)
	if !ok || !strings.HasPrefix(section, "\nExperiments\n") {
		t.Fatalf("--traffic does not add an experiments section after the preview:\n%s", preview)
	}
	checkGolden(t, "../../testdata/simulate/outdoor-shop-traffic.golden", section, "simulate --traffic")
	page, _, code := runCLI(t, "simulate", exampleRuleset, "--personas", examplePersonas, "--traffic", "100000", "--format", "html", "--wasm", wasmPath)
	wellFormed(t, []byte(page))
	if code != 0 || !strings.Contains(page, `<section class="experiment" id="experiment-hero-lift">`) || !strings.Contains(page, "3,651,072 answers: 37 weeks") {
		t.Errorf("the preview page at --traffic lacks the experiment's power")
	}
	dir := t.TempDir()
	if _, errOut, code := runCLI(t, "audit", exampleRuleset, "--personas", examplePersonas, "--population", "400", "--epochs", "6", "--seed", "5", "--out", dir, "--wasm", wasmPath); code != 0 {
		t.Fatalf("audit: code %d, %q", code, errOut)
	}
	md, err := os.ReadFile(filepath.Join(dir, "outdoor-shop-audit.md"))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(md, []byte("\n## Experiments\n"))
	if i < 0 {
		t.Fatalf("the audit has no experiments section:\n%s", md)
	}
	checkGolden(t, "../../testdata/simulate/outdoor-shop-audit-experiments.md.golden", string(md[i:]), "audit's experiments")
	html, _ := os.ReadFile(filepath.Join(dir, "outdoor-shop-audit.html"))
	wellFormed(t, html)
	if !bytes.Contains(html, []byte(`<section class="experiment" id="experiment-hero-lift">`)) {
		t.Error("the audit's HTML has no section for hero-lift")
	}
}

// TestSimulateExperiments reads the JSON: the power figures are
// lift.Plan's for the flags' inputs, the run's truth is the flags', and
// the collector's answers are the run's.
func TestSimulateExperiments(t *testing.T) {
	out, errOut, code := runCLI(t, experimentArgs("--format", "json", "--base-rate", "0.2", "--lift", "0.5", "--traffic", "250000")...)
	if code != 0 {
		t.Fatalf("simulate: code %d, %q", code, errOut)
	}
	var p sim.Population
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if p.Experiments == nil || p.Experiments.Run == nil || len(p.Experiments.Experiments) != 1 {
		t.Fatalf("experiments %+v", p.Experiments)
	}
	x := p.Experiments.Experiments[0]
	pw := x.Power
	if p.Experiments.BaseRate != 0.2 || pw == nil || pw.PerWeek != 250000 || pw.BaseRate != 0.2 || len(pw.Table) == 0 {
		t.Fatalf("power %+v", pw)
	}
	for _, n := range append([]sim.Need{pw.Need}, pw.Table...) {
		want, err := lift.Plan(lift.Design{Epsilon: n.Epsilon, Holdout: x.Holdout}, 0.2, n.Lift, 0.8)
		if err != nil {
			t.Fatal(err)
		}
		if n.Answers != want || n.Weeks != math.Ceil(want/250000) {
			t.Errorf("lift %g at ε %g: %+v; lift.Plan says %g answers", n.Lift, n.Epsilon, n, want)
		}
	}
	r := x.Run
	if r.Lift != 0.5 || r.TrueRates != [2]float64{0.2, 0.3} {
		t.Errorf("the run's truth %+v, want 20%% against 30%%", r)
	}
	a := p.Experiments.Run.Analysis("hero-lift")
	if a == nil || a.Cumulative.Reports != r.Exposed[0]+r.Exposed[1] || len(a.Epochs) != 5 {
		t.Errorf("the collector's analysis %+v of a run with %v exposures", a, r.Exposed)
	}
	// --power-only: the figures without the run.
	out, _, code = runCLI(t, experimentArgs("--format", "json", "--power-only")...)
	var q sim.Population
	if err := json.Unmarshal([]byte(out), &q); code != 0 || err != nil || q.Experiments == nil || q.Experiments.Run != nil || q.Experiments.Experiments[0].Power == nil {
		t.Errorf("--power-only: code %d, %v, %+v", code, err, q.Experiments)
	}
}

// A population nobody in which may be in an experiment (history off,
// sharing on the device only) has neither traffic to plan with nor a run
// to show, and says so.
func TestSimulateExperimentsNobodyIn(t *testing.T) {
	personas := filepath.Join(t.TempDir(), "personas.yaml")
	os.WriteFile(personas, []byte(`start: 2026-12-05T09:00:00Z
personas:
  - id: local
    preferences: {sharing: on-device}
    visits:
      - {at: 0d, context: {subdivision: US-WA, visits: 1}, events: [{type: view, item: summit-hiking-boot}]}
  - id: no-history
    preferences: {sharing: cohorts, history: false}
    visits:
      - {at: 0d, context: {subdivision: US-WA, visits: 1}, events: [{type: view, item: summit-hiking-boot}]}
`), 0o644)
	out, errOut, code := runCLI(t, "simulate", exampleRuleset, "--personas", personas, "--population", "50", "--epochs", "3", "--wasm", wasmPath)
	if code != 0 || !strings.Contains(out, sim.NoPower) || !strings.Contains(out, sim.NobodyInIt) || strings.Contains(out, "Simulated run. ") {
		t.Errorf("code %d, %q:\n%s", code, errOut, out)
	}
}

// Flag errors name the flag.
func TestExperimentFlagErrors(t *testing.T) {
	pop := []string{"--population", "10", "--wasm", wasmPath}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--base-rate", "0"}, "--base-rate"},
		{[]string{"--base-rate", "1"}, "--base-rate"},
		{[]string{"--base-rate", "NaN"}, "--base-rate"},
		{[]string{"--lift", "-1"}, "--lift"},
		{[]string{"--lift", "NaN"}, "--lift"},
		{[]string{"--lift", "Inf"}, "--lift"},
		{[]string{"--lift", "x"}, "-lift"},
		{[]string{"--traffic", "-5"}, "--traffic"},
		{[]string{"--base-rate", "0.6", "--lift", "1"}, "--base-rate and --lift"},
	} {
		for _, cmd := range [][]string{{"simulate", exampleRuleset, "--personas", examplePersonas}, {"audit", exampleRuleset, "--out", t.TempDir()}} {
			args := append(append(slices.Clone(cmd), pop...), tc.args...)
			if _, errOut, code := runCLI(t, args...); code == 0 || !strings.Contains(errOut, tc.flag) {
				t.Errorf("%v: code %d, stderr %q; want an error naming %s", args, code, errOut, tc.flag)
			}
		}
	}
	if _, errOut, code := runCLI(t, "simulate", exampleRuleset, "--personas", examplePersonas, "--lift", "0.2", "--wasm", wasmPath); code == 0 || !strings.Contains(errOut, "--lift") || !strings.Contains(errOut, "--population") {
		t.Errorf("--lift without --population: code %d, %q", code, errOut)
	}
}
