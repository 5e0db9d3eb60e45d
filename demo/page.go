package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// shopPage is the shop's HTML (site/index.html), rendered once at startup
// with what a real site's server puts in the page so that nothing waits
// for a second round trip:
//   - a preload of the engine under its content-hashed URL, so its download
//     starts while the page is parsed, and a module preload of the SDK and
//     of every module app.js imports, so they all come in one round trip;
//   - the page's configuration (public key, engine URL, collector, fallback
//     items), so js/start.js starts the engine as soon as the SDK arrives;
//   - the display catalogue the slots' templates read, and the pre-paint
//     snippet (dist/edgewise-paint.js) inlined after the slots, so a repeat
//     visit paints its cached picks before the first paint;
//   - per slot, as many placeholder cards as it shows picks, so the slot
//     has its final size from the first paint.
type shopPage struct {
	body []byte
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
	modules, err := moduleGraph(site, "app.js", "js/start.js")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, map[string]any{
		"Modules":   modules,
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
	return &shopPage{body: b.Bytes(), csp: csp}, nil
}

// staticImport matches a module's static imports (the SDK's, the site's).
var staticImport = regexp.MustCompile(`(?m)^\s*import\s+(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]`)

// moduleGraph lists, as absolute paths, the site's modules that entry
// imports, directly or not, leaving out entry, the SDK and the modules the
// page loads itself (omit): the page hints each with modulepreload, so a
// browser fetches the whole graph at once instead of one level of imports
// per round trip.
func moduleGraph(site fs.FS, entry string, omit ...string) ([]string, error) {
	seen := map[string]bool{entry: true}
	queue := []string{entry}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		src, err := fs.ReadFile(site, name)
		if err != nil {
			return nil, fmt.Errorf("the page's module %s: %w", name, err)
		}
		for _, m := range staticImport.FindAllSubmatch(src, -1) {
			spec := string(m[1])
			var dep string
			switch {
			case strings.HasPrefix(spec, "/dist/"):
				continue // the SDK: hinted in the page itself
			case strings.HasPrefix(spec, "/"):
				dep = strings.TrimPrefix(spec, "/")
			case strings.HasPrefix(spec, "./"), strings.HasPrefix(spec, "../"):
				dep = path.Join(path.Dir(name), spec)
			default:
				return nil, fmt.Errorf("the page's module %s imports %q, which a browser cannot resolve", name, spec)
			}
			if !seen[dep] {
				seen[dep] = true
				queue = append(queue, dep)
			}
		}
	}
	delete(seen, entry)
	for _, name := range omit {
		delete(seen, name)
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, "/"+name)
	}
	sort.Strings(out)
	return out, nil
}
