package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/examples"
)

func postYAML(t *testing.T, url string, body []byte) (*http.Response, []byte) {
	t.Helper()
	return send(t, http.MethodPost, url, "text/yaml", bytes.NewReader(body))
}

func decodeLint(t *testing.T, body []byte) lintResponse {
	t.Helper()
	var res lintResponse
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("lint response: %v\n%s", err, body)
	}
	return res
}

// lineOf is the 1-based line of the first occurrence of s in src.
func lineOf(src, s string) int {
	return 1 + strings.Count(src[:strings.Index(src, s)], "\n")
}

func TestPlaygroundLint(t *testing.T) {
	_, ts := newTestServer(t)
	resp, body := postYAML(t, ts.URL+"/api/playground/lint", examples.OutdoorShop)
	res := decodeLint(t, body)
	if resp.StatusCode != http.StatusOK || !res.OK || res.Errors != 0 || res.Catalogue == nil || len(res.Catalogue.Catalogue) != len(example(t).Catalogue) {
		t.Errorf("lint of the example: %s ok=%v errors=%d diagnostics %+v", resp.Status, res.OK, res.Errors, res.Diagnostics)
	}

	// A boost above 10, and an unknown field: both placed.
	src := strings.Replace(string(examples.OutdoorShop), "    boost: 3\n", "    boost: 12\n", 1)
	src = strings.Replace(src, "    exclude_seen: true\n", "    exclude_seen: true\n    exlude_tags: [x]\n", 1)
	resp, body = postYAML(t, ts.URL+"/api/playground/lint", []byte(src))
	res = decodeLint(t, body)
	if resp.StatusCode != http.StatusOK || res.OK || res.Errors != 2 || res.Catalogue != nil {
		t.Fatalf("lint with two errors: %s ok=%v errors=%d %+v", resp.Status, res.OK, res.Errors, res.Diagnostics)
	}
	byLine := map[int]diagnostic{}
	for _, d := range res.Diagnostics {
		byLine[d.Line] = d
	}
	boost := byLine[lineOf(src, "    boost: 12\n")]
	if boost.Col != 12 || boost.Severity != "error" || !strings.Contains(boost.Message, "10") ||
		!strings.HasPrefix(boost.Text, "playground.yaml:") || !strings.Contains(boost.Text, "^") {
		t.Errorf("boost diagnostic = %+v", boost)
	}
	field := byLine[lineOf(src, "    exlude_tags")]
	if field.Col != 5 || field.Severity != "error" || field.Hint == "" {
		t.Errorf("unknown-field diagnostic = %+v, want col 5 with a hint", field)
	}

	// YAML that cannot be read is still a 200 with a placed diagnostic.
	resp, body = postYAML(t, ts.URL+"/api/playground/lint", []byte("id: outdoor\nversion: [1\n"))
	res = decodeLint(t, body)
	if resp.StatusCode != http.StatusOK || res.OK || len(res.Diagnostics) == 0 || res.Diagnostics[0].Line == 0 || res.Diagnostics[0].Category != "syntax" {
		t.Errorf("lint of broken YAML: %s %+v", resp.Status, res)
	}
}

func TestPlaygroundCompile(t *testing.T) {
	_, ts := newTestServer(t)
	_, pub := fetchConfig(t, ts.URL)
	// An edit: rain boosts rain gear ten times.
	src := strings.Replace(string(examples.OutdoorShop), "    boost: 3\n", "    boost: 10\n", 1)
	resp, ewr := postYAML(t, ts.URL+"/api/playground/compile", []byte(src))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("compile: %s %s %s", resp.Status, resp.Header.Get("Content-Type"), ewr)
	}
	if got := resp.Header.Get("X-Edgewise-Ruleset"); got != "outdoor-shop@2026.11" {
		t.Errorf("X-Edgewise-Ruleset = %q", got)
	}
	// Signed with the key the page trusts, holding the edit.
	rs, err := engine.DecodeRuleset(ewr, pub)
	if err != nil {
		t.Fatalf("the compiled ruleset does not verify with /config.json's key: %v", err)
	}
	if rs.Rules[0].ID != "rain-brings-rain-gear" || rs.Rules[0].Boost != 10 {
		t.Errorf("compiled rule 0 = %+v, want the edited boost", rs.Rules[0])
	}

	src = strings.Replace(src, "    boost: 10\n", "    boost: 12\n", 1)
	resp, body := postYAML(t, ts.URL+"/api/playground/compile", []byte(src))
	res := decodeLint(t, body)
	if resp.StatusCode != http.StatusUnprocessableEntity || res.OK || res.Errors != 1 || res.Diagnostics[0].Line != lineOf(src, "    boost: 12\n") || res.Diagnostics[0].Col != 12 {
		t.Errorf("compile with an error: %s %+v", resp.Status, res)
	}
	// The privacy policy is enforced too: a sensitive tag is refused.
	src = strings.Replace(string(examples.OutdoorShop), "tags: [running, trail, footwear]", "tags: [running, trail, pregnancy]", 1)
	resp, body = postYAML(t, ts.URL+"/api/playground/compile", []byte(src))
	if res := decodeLint(t, body); resp.StatusCode != http.StatusUnprocessableEntity || res.OK || res.Errors == 0 {
		t.Errorf("compile with a sensitive tag: %s %+v", resp.Status, res)
	}
}

func TestPlaygroundLimits(t *testing.T) {
	s, ts := newTestServer(t)
	big := bytes.Repeat([]byte("# padding\n"), maxPlaygroundBody/10+1)
	for _, path := range []string{"/api/playground/lint", "/api/playground/compile"} {
		if resp, body := postYAML(t, ts.URL+path, big); resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with %d bytes: %s %s, want 413", path, len(big), resp.Status, body)
		}
		resp, _ := get(t, ts.URL+path)
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), "POST") {
			t.Errorf("GET %s: %s Allow %q, want 405 allowing POST", path, resp.Status, resp.Header.Get("Allow"))
		}
		if resp, _ := postYAML(t, ts.URL+path, nil); resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("POST %s with no body: %s", path, resp.Status)
		}
	}
	// The endpoints keep nothing: the shop still serves its own ruleset.
	postYAML(t, ts.URL+"/api/playground/compile", []byte(strings.Replace(string(examples.OutdoorShop), "version: \"2026.11\"", "version: \"edited\"", 1)))
	if _, ewr := get(t, ts.URL+"/ruleset.ewr"); !bytes.Equal(ewr, s.shop.ewr) {
		t.Error("compiling in the playground changed /ruleset.ewr")
	}
	if resp, page := get(t, ts.URL+"/playground"); resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("data-playground")) {
		t.Errorf("GET /playground: %s", resp.Status)
	}
}
