package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// The shop's page is rendered with the engine's preload, the configuration
// app.js starts the engine with, the catalogue the slots' templates read,
// and the pre-paint snippet, which the page's CSP allows by its hash only.
func TestShopPage(t *testing.T) {
	s, ts := newTestServer(t)
	resp, body := get(t, ts.URL+"/")
	html := string(body)
	wasm := "/dist/" + s.hashedWasm
	if !strings.Contains(html, `<link rel="preload" href="`+wasm+`" as="fetch" crossorigin>`) {
		t.Errorf("no preload of %s in the page", wasm)
	}
	if head, _, _ := strings.Cut(html, "</head>"); !strings.Contains(head, "preload") || strings.Index(head, "preload") > strings.Index(head, "/app.js") {
		t.Error("the preload must come before app.js")
	}
	m := regexp.MustCompile(`<script type="application/json" id="edgewise-config">(.*?)</script>`).FindStringSubmatch(html)
	if m == nil {
		t.Fatal("no #edgewise-config in the page")
	}
	var cfg pageConfig
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		t.Fatalf("#edgewise-config: %v", err)
	}
	if cfg.Wasm != wasm || cfg.PublicKey == "" || cfg.Collector != "/" || len(cfg.Fallback["recommended"]) == 0 {
		t.Errorf("#edgewise-config = %+v", cfg)
	}
	m = regexp.MustCompile(`<script type="application/json" data-edgewise-catalogue>(.*?)</script>`).FindStringSubmatch(html)
	var items map[string]pageItem
	if m == nil || json.Unmarshal([]byte(m[1]), &items) != nil || items["rockgrip-trail-shoe"].Title == "" {
		t.Errorf("the page's catalogue: %v", m)
	}
	scripts := regexp.MustCompile(`<script>(.*?)</script>`).FindAllStringSubmatch(html, -1)
	if len(scripts) != 1 || scripts[0][1] != "(()=>{})();" {
		t.Fatalf("inline scripts %q, want the snippet alone", scripts)
	}
	sum := sha256.Sum256([]byte(scripts[0][1]))
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self' 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"' 'wasm-unsafe-eval'") {
		t.Errorf("the page's CSP does not allow the snippet by its hash: %s", csp)
	}
	for _, slot := range []string{"home-hero", "weather-banner", "recommended"} {
		if !strings.Contains(html, `data-edgewise-slot="`+slot+`"`) {
			t.Errorf("no slot %s", slot)
		}
	}
	if n := strings.Count(html, `class="rec accent-default placeholder"`); n == 0 {
		t.Error("the list slots have no placeholders")
	}
	// Other pages keep the site's policy, without the snippet's hash.
	if other, _ := get(t, ts.URL+"/app.js"); strings.Contains(other.Header.Get("Content-Security-Policy"), "sha256-") {
		t.Error("app.js is served with the page's inline-script hash")
	}
}

// The page hints every module app.js needs, however deep, so a browser
// fetches them in one round trip instead of one level of imports per trip.
func TestPageHintsTheWholeModuleGraph(t *testing.T) {
	_, ts := newTestServer(t)
	_, body := get(t, ts.URL+"/")
	page := string(body)
	for _, m := range []string{"/js/slots.js", "/js/dom.js", "/js/art.js", "/js/yourdata.js"} {
		if !strings.Contains(page, `<link rel="modulepreload" href="`+m+`">`) {
			t.Errorf("the page does not hint %s", m)
		}
	}
	if strings.Contains(page, `modulepreload" href="/js/playground.js"`) || strings.Count(page, `"/js/start.js"`) != 1 {
		t.Errorf("the page hints a module it does not need, or js/start.js twice")
	}
	// The engine starts from its own module, before app.js.
	if i, j := strings.Index(page, `async src="/js/start.js"`), strings.Index(page, `src="/app.js"`); i < 0 || j < i {
		t.Errorf("js/start.js is not an async module before app.js")
	}
}
