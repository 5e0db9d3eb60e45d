package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/examples"
	"github.com/edgewise/edgewise/internal/keyfile"
	"github.com/edgewise/edgewise/ruleset"
)

// example is the example ruleset as edgewise build reads it.
func example(t *testing.T) *engine.Ruleset {
	t.Helper()
	rs, diags := ruleset.Parse(examples.OutdoorShopName, examples.OutdoorShop)
	if rs == nil || len(diags) > 0 {
		t.Fatalf("the example does not parse: %v", diags)
	}
	return rs
}

type testConfig struct {
	PublicKey string `json:"publicKey"`
	KeyID     string `json:"keyId"`
	Ruleset   string `json:"ruleset"`
	Collector struct {
		Reports     string `json:"reports"`
		CohortSizes string `json:"cohortSizes"`
		Cohorts     string `json:"cohorts"`
		Dashboard   string `json:"dashboard"`
	} `json:"collector"`
}

func fetchConfig(t *testing.T, base string) (testConfig, ed25519.PublicKey) {
	t.Helper()
	var config testConfig
	_, body := get(t, base+"/config.json")
	if err := json.Unmarshal(body, &config); err != nil {
		t.Fatalf("/config.json: %v\n%s", err, body)
	}
	pub, err := base64.StdEncoding.DecodeString(config.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		t.Fatalf("/config.json publicKey %q: %v", config.PublicKey, err)
	}
	return config, pub
}

// TestServesASignedRuleset: the page gets the example ruleset, signed with
// the key in /config.json, and a display catalogue made from it.
func TestServesASignedRuleset(t *testing.T) {
	_, ts := newTestServer(t)
	config, pub := fetchConfig(t, ts.URL)
	if config.KeyID != engine.KeyIDOf(pub).String() {
		t.Errorf("/config.json keyId %s, want %s", config.KeyID, engine.KeyIDOf(pub))
	}
	want := example(t)
	if config.Ruleset != want.ID+"@"+want.Version {
		t.Errorf("/config.json ruleset %q, want %s@%s", config.Ruleset, want.ID, want.Version)
	}
	if config.Collector.Reports != "/v1/reports" || config.Collector.CohortSizes != "/v1/cohort-sizes?ruleset="+want.ID {
		t.Errorf("/config.json collector = %+v", config.Collector)
	}
	_, ewr := get(t, ts.URL+"/ruleset.ewr")
	rs, err := engine.DecodeRuleset(ewr, pub)
	if err != nil {
		t.Fatalf("/ruleset.ewr does not verify with /config.json's key: %v", err)
	}
	// Compare through the deterministic encoding: nil and empty are the same.
	got, _ := buildtime.MarshalRuleset(rs)
	wantBytes, _ := buildtime.MarshalRuleset(want)
	if string(got) != string(wantBytes) {
		t.Errorf("/ruleset.ewr holds %s@%s with %d items, want %s", rs.ID, rs.Version, len(rs.Catalogue), examples.OutdoorShopName)
	}

	var cat display
	_, body := get(t, ts.URL+"/catalogue.json")
	if err := json.Unmarshal(body, &cat); err != nil {
		t.Fatal(err)
	}
	if cat.ID != want.ID || len(cat.Catalogue) != len(want.Catalogue) {
		t.Fatalf("/catalogue.json: %s with %d items, want %s with %d", cat.ID, len(cat.Catalogue), want.ID, len(want.Catalogue))
	}
	for i, it := range want.Catalogue {
		c := cat.Catalogue[i]
		if c.ID != it.ID || c.Title != it.Title || !slices.Equal(c.Tags, it.Tags) || c.Price != it.Attributes["price"] || c.Art == "" {
			t.Errorf("/catalogue.json item %d = %+v, want %s", i, c, it.ID)
		}
	}
	var slots []string
	for i, s := range want.Slots {
		slots = append(slots, s.ID)
		if c := cat.Slots[i]; c.ID != s.ID || c.Limit != s.Limit || !slices.Equal(c.Fallback, s.Fallback[:min(len(s.Fallback), s.Limit)]) {
			t.Errorf("/catalogue.json slot %d = %+v, want %s with fallback %v cut to %d", i, c, s.ID, s.Fallback, s.Limit)
		}
	}
	// The page's three slots are the ruleset's.
	if !slices.Equal(slots, []string{"home-hero", "recommended", "weather-banner"}) {
		t.Errorf("the example's slots are %v; the demo page draws home-hero, recommended and weather-banner", slots)
	}
	if !reflect.DeepEqual(cat.Signals, want.Signals) {
		t.Errorf("/catalogue.json signals = %+v", cat.Signals)
	}
	if len(cat.Interests) != 4 || cat.Interests[0].ID != "trail-running" || !slices.Equal(cat.Interests[0].Tags, []string{"running", "trail"}) {
		t.Errorf("/catalogue.json interests = %+v, want the interest dimension's four buckets with tags", cat.Interests)
	}
	if len(cat.Rules) != len(want.Rules) || cat.Rules[0].ID != "rain-brings-rain-gear" || !slices.Equal(cat.Rules[0].Signals, []string{"weather"}) {
		t.Errorf("/catalogue.json rules = %+v", cat.Rules)
	}
	if cat.Reporting != (displayReporting{EpochDays: 7, Epsilon: 2, MinK: 50, Cohorts: 85}) {
		t.Errorf("/catalogue.json reporting = %+v", cat.Reporting)
	}
	// The display catalogue points at no image file: the page draws products.
	if strings.Contains(string(body), "/img/") || strings.Contains(string(body), ".jpg") {
		t.Errorf("/catalogue.json names image files: %s", body)
	}
	_, yaml := get(t, ts.URL+"/ruleset.yaml")
	if string(yaml) != string(examples.OutdoorShop) {
		t.Error("/ruleset.yaml is not the example the shop serves")
	}
}

func TestSignsWithAFreshKeyOrTheOneGiven(t *testing.T) {
	_, ts := newTestServer(t)
	first, _ := fetchConfig(t, ts.URL)
	_, ts2 := newTestServer(t)
	if second, _ := fetchConfig(t, ts2.URL); second.PublicKey == first.PublicKey {
		t.Error("two servers signed with the same fresh key")
	}
	_, priv, _ := ed25519.GenerateKey(nil)
	keyPath := filepath.Join(t.TempDir(), "site.key")
	if _, err := keyfile.Write(keyPath, priv, false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	dist := fakeDist(t)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-dist", dist, "-key", keyPath}, &stdout, &stderr)
	}()
	id := engine.KeyIDOf(priv.Public().(ed25519.PublicKey)).String()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(stderr.String(), id); {
		if time.Now().After(deadline) {
			t.Fatalf("the server does not say it signs with key %s: %q", id, stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-dist", dist, "-key", "/nonexistent.key"}, &stdout, &stderr); err == nil {
		t.Error("run with a missing -key file succeeded")
	}
}

// TestRefusesARulesetWithErrors: the server does not start on a ruleset
// edgewise build would refuse, and says where each problem is.
func TestRefusesARulesetWithErrors(t *testing.T) {
	src := strings.Replace(string(examples.OutdoorShop), "    boost: 3\n", "    boost: 12\n", 1)
	line := 1 + strings.Count(src[:strings.Index(src, "    boost: 12\n")], "\n")
	_, err := newServer(serverConfig{dist: fakeDist(t), rulesetName: "shop.yaml", rulesetSrc: []byte(src)})
	if err == nil {
		t.Fatal("newServer accepted a ruleset with boost: 12")
	}
	want := fmt.Sprintf("shop.yaml:%d:12: error: ", line)
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "    boost: 12\n           ^") {
		t.Errorf("error does not point at the boost (want %q and a caret):\n%v", want, err)
	}
	if _, err := newServer(serverConfig{dist: fakeDist(t), rulesetName: "empty.yaml", rulesetSrc: []byte("id: [\n")}); err == nil ||
		!strings.Contains(err.Error(), "empty.yaml:") {
		t.Errorf("newServer with broken YAML: %v", err)
	}
}

// TestExampleStory runs the visit the browser test scripts (demo/e2e) in the
// native engine, so a change to the example that breaks the story fails
// here first, with the engine's own picks in the message. The e2e test
// asserts the same item ids in the page.
func TestExampleStory(t *testing.T) {
	e := engine.New()
	if err := e.Load(*example(t)); err != nil {
		t.Fatalf("the engine refuses the example: %v", err)
	}
	// Wednesday 2 December 2026, 14:00 UTC: a weekday afternoon in the
	// winter sale, as the browser test's fixed clock has it.
	now := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC).UnixMilli()
	slots := []string{"home-hero", "weather-banner", "recommended"}
	decide := func(ctx engine.Context) map[string][]string {
		t.Helper()
		ctx.Now, ctx.Device = now, "desktop"
		if err := e.SetContext(ctx); err != nil {
			t.Fatal(err)
		}
		ds, err := e.Decide(slots)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, d := range ds {
			for _, p := range d.Items {
				out[d.Slot] = append(out[d.Slot], p.Item)
			}
		}
		return out
	}
	check := func(step string, got, want map[string][]string) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: picks %v, want %v", step, got, want)
		}
	}
	// Nothing personal: each slot's fallback, then its other items, and no
	// item twice on the page: the rain shell goes to the hero, asked first.
	fallback := map[string][]string{
		"home-hero":      {"stormfront-rain-shell"},
		"weather-banner": {"wide-brim-sun-hat", "mudline-trail-shoe"},
		"recommended":    {"rockgrip-trail-shoe", "basecamp-2-tent", "beam-400-headlamp", "summit-hiking-boot"},
	}
	check("first visit, no signals", decide(engine.Context{}), fallback)
	for _, id := range []string{"rockgrip-trail-shoe", "mudline-trail-shoe", "ridgeline-running-vest"} {
		if _, err := e.Observe(engine.Event{Type: "view", Item: id, At: now}); err != nil {
			t.Fatal(err)
		}
	}
	// Three running and trail views: the hero shows a new arrival sharing
	// their tags, and no slot offers back what was just viewed.
	check("after viewing running gear", decide(engine.Context{}), map[string][]string{
		"home-hero":      {"summit-hiking-boot"},
		"weather-banner": {"trail-microspikes", "stormfront-rain-shell"},
		"recommended":    {"cityline-road-shoe", "carbon-trekking-poles", "beam-400-headlamp", "edge-climbing-shoe"},
	})
	// Rain (rain-brings-rain-gear): the banner, above recommended on the
	// page and asked before it, shows rain gear.
	check("rain", decide(engine.Context{Weather: "rain"}), map[string][]string{
		"home-hero":      {"summit-hiking-boot"},
		"weather-banner": {"stormfront-rain-shell", "packable-rain-pants"},
		"recommended":    {"cityline-road-shoe", "carbon-trekking-poles", "beam-400-headlamp", "roll-top-dry-bag"},
	})
	// Rain in London (wet-regions-favour-rain-gear): rain gear leads, the
	// rain shell in the hero.
	check("rain in London", decide(engine.Context{Weather: "rain", Location: &engine.Coordinates{Lat: 51.51, Lon: -0.13}}), map[string][]string{
		"home-hero":      {"stormfront-rain-shell"},
		"weather-banner": {"packable-rain-pants", "roll-top-dry-bag"},
		"recommended":    {"cityline-road-shoe", "summit-hiking-boot", "carbon-trekking-poles", "beam-400-headlamp"},
	})
	if _, err := e.SetPreferences(engine.Preferences{Sharing: engine.SharingOff}); err != nil {
		t.Fatal(err)
	}
	check("sharing off", decide(engine.Context{Weather: "rain"}), fallback)
}

func TestProductArt(t *testing.T) {
	for _, it := range example(t).Catalogue {
		if art := artFor(it); art == "mountain" {
			t.Errorf("%s gets no drawing of its own", it.ID)
		}
		if c := it.Attributes["color"]; c != "" && swatches[c] == "" {
			t.Errorf("%s: colour %q has no swatch", it.ID, c)
		}
	}
	for id, want := range map[string]string{
		"basecamp-2-tent": "tent", "rockgrip-trail-shoe": "shoe", "trail-snowshoes": "snowshoe",
		"summit-hiking-boot": "boot", "down-sleeping-bag": "sleeping-bag", "roll-top-dry-bag": "dry-bag",
		"gravel-frame-bag": "bike", "stormfront-rain-shell": "jacket", "insulated-sleeping-pad": "pad",
	} {
		if got := artFor(engine.Item{ID: id}); got != want {
			t.Errorf("artFor(%s) = %s, want %s", id, got, want)
		}
	}
	// Unknown words fall back to the tags, then to a mountain.
	if got := artFor(engine.Item{ID: "mystery", Tags: []string{"paddling"}}); got != "board" {
		t.Errorf("a paddling item gets %s", got)
	}
	if got := artFor(engine.Item{ID: "mystery", Tags: []string{"gift"}}); got != "mountain" {
		t.Errorf("an item with unknown tags gets %s", got)
	}
}

func postJSON(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	return send(t, http.MethodPost, url, "application/json", strings.NewReader(body))
}

// TestCollectorIsMounted: reports go to the same origin as the page, are
// counted, and show in the request log with their body, as everything the
// server receives does.
func TestCollectorIsMounted(t *testing.T) {
	now := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	_, ts := newTestServerWith(t, serverConfig{now: func() time.Time { return now }})
	epoch := epochOf(now, 7)
	report := fmt.Sprintf(`{"ruleset":"outdoor-shop","epoch":%d,"mechanism":"krr","value":3,"epsilon":2}`, epoch)
	resp, body := postJSON(t, ts.URL+"/v1/reports", report)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /v1/reports: %s %s", resp.Status, body)
	}
	if resp, body := postJSON(t, ts.URL+"/v1/reports", `{"ruleset":"other","epoch":1,"mechanism":"krr","value":0,"epsilon":2}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST /v1/reports for an unknown ruleset: %s %s", resp.Status, body)
	}
	resp, body = get(t, ts.URL+fmt.Sprintf("/v1/cohorts?ruleset=outdoor-shop&epoch=%d", epoch))
	var est struct {
		N int64 `json:"n"`
	}
	if err := json.Unmarshal(body, &est); resp.StatusCode != http.StatusOK || err != nil || est.N != 1 {
		t.Errorf("GET /v1/cohorts after one report: %s %s", resp.Status, body)
	}
	if resp, _ := get(t, ts.URL+"/v1/cohort-sizes?ruleset=outdoor-shop"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/cohort-sizes: %s", resp.Status)
	}
	lr := fetchLog(t, ts.URL)
	if len(lr.Requests) == 0 || lr.Requests[0].Path != "/v1/reports" || lr.Requests[0].Body != report || lr.Requests[0].Status != http.StatusNoContent {
		t.Errorf("the request log's first entry is %+v, want the report with its body", lr.Requests)
	}
}

// TestReportsFile: -reports FILE keeps the counts in a SQLite file.
func TestReportsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reports.db")
	now := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	s, err := newServer(serverConfig{dist: fakeDist(t), reports: path, now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	report := fmt.Sprintf(`{"ruleset":"outdoor-shop","epoch":%d,"mechanism":"krr","value":0,"epsilon":2}`, epochOf(now, 7))
	if err := s.collector.Accept(context.Background(), []byte(report)); err != nil {
		t.Fatal(err)
	}
	if err := s.closeCollector(); err != nil {
		t.Fatal(err)
	}
	s2, err := newServer(serverConfig{dist: fakeDist(t), reports: path, now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.closeCollector()
	est, err := s2.collector.Estimates(context.Background(), "outdoor-shop", epochOf(now, 7))
	if err != nil || est.N != 1 {
		t.Errorf("after a restart on the same -reports file: n = %d, %v; want 1", est.N, err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Errorf("-reports %s: %v", path, err)
	}
}
