package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// --full is the reference population; given with --population it is a
// mistake, said as such.
func TestAuditFullAndPopulationConflict(t *testing.T) {
	_, errOut, code := runCLI(t, "audit", exampleRuleset, "--full", "--population", "5", "--out", t.TempDir(), "--wasm", wasmPath)
	if code == 0 || !strings.Contains(errOut, "--full and --population") {
		t.Errorf("code %d, stderr %q", code, errOut)
	}
}
