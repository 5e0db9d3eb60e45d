package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// shopPage is the shop's HTML (site/index.html), rendered once at startup
// with what a real site's server puts in the page so that nothing waits
// for a second round trip:
//   - a preload of the engine under its content-hashed URL, so its download
//     starts while the page is parsed, and a module preload of the SDK;
//   - the page's configuration (public key, engine URL, collector, fallback
//     items), so app.js starts the engine before it fetches anything;
//   - the display catalogue the slots' templates read, and the pre-paint
//     snippet (dist/edgewise-paint.js) inlined after the slots, so a repeat
//     visit paints its cached picks before the first paint;
//   - per slot, as many placeholder cards as it shows picks, so the slot
//     has its final size from the first paint.
type shopPage struct {
	body []byte
	etag string
	// csp is the page's Content-Security-Policy: the site's, plus the
	// snippet's hash, the one inline script it allows.
	csp string
}

// pageItem is what the slots' templates show of a product before the
// engine runs: the snippet fills data-field from it.
type pageItem struct {
	Title string `json:"title"`
	Price string `json:"price,omitempty"`
}

// pageConfig is what app.js hands to Edgewise.load at once.
type pageConfig struct {
	PublicKey string              `json:"publicKey"`
	Wasm      string              `json:"wasm"`
	Collector string              `json:"collector"`
	Fallback  map[string][]string `json:"fallback"`
}

func renderShopPage(site fs.FS, dist string, sh *shop, wasmURL string) (*shopPage, error) {
	src, err := fs.ReadFile(site, "index.html")
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New("index.html").Parse(string(src))
	if err != nil {
		return nil, err
	}
	paint, err := os.ReadFile(filepath.Join(dist, "edgewise-paint.js"))
	if err != nil {
		return nil, err
	}
	paint = bytes.TrimSpace(paint)
	d := displayOf(sh.rs)
	items := map[string]pageItem{}
	for _, it := range d.Catalogue {
		price := ""
		if it.Price != "" {
			price = "$" + it.Price
		}
		items[it.ID] = pageItem{Title: it.Title, Price: price}
	}
	var cfg demoConfig
	if err := json.Unmarshal(sh.config, &cfg); err != nil {
		return nil, err
	}
	pc := pageConfig{PublicKey: cfg.PublicKey, Wasm: wasmURL, Collector: cfg.Collector.Base, Fallback: map[string][]string{}}
	limits := map[string][]struct{}{}
	for _, s := range d.Slots {
		pc.Fallback[s.ID] = s.Fallback
		limits[s.ID] = make([]struct{}, s.Limit)
	}
	// json.Marshal escapes <, > and &, so neither can end the script element.
	catalogue, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	config, err := json.Marshal(pc)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, map[string]any{
		"Wasm":      wasmURL,
		"Config":    template.JS(config),
		"Catalogue": template.JS(catalogue),
		"Paint":     template.JS(paint),
		"Slots":     limits,
	}); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(paint)
	csp := strings.Replace(securityHeaders["Content-Security-Policy"], "script-src 'self'",
		"script-src 'self' 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'", 1)
	return &shopPage{body: b.Bytes(), etag: etag(b.Bytes()), csp: csp}, nil
}
