// Command demo serves the Edgewise demo shop on a local address.
//
//	go run ./demo [-addr 127.0.0.1:8080] [-dist dist] [-key FILE] [-reports FILE]
//	              [-crowd N [-crowd-base RATE] [-crowd-lift LIFT]] [-clock TIME]
//
// The page loads dist/edgewise.js and dist/edgewise.wasm and personalizes
// itself in the browser. The server hands out static files and keeps a log
// of every request it receives, which the page shows next to the shop:
// viewing products and getting recommendations send nothing back.
//
// At startup the server checks the example ruleset (examples/outdoor-shop.yaml,
// embedded) as `edgewise build` does, refusing to start on any error, and
// signs it with a key made fresh for this run, or the one in -key FILE (from
// `edgewise keygen`). It serves the signed file as /ruleset.ewr, the public
// key and the collector's address in /config.json, and the shop's public
// display catalogue as /catalogue.json.
//
// The cohort-report collector (package collector) is mounted at /v1/, with
// its counts in memory or in the SQLite file -reports FILE; /dashboard shows
// its debiased estimates and the lift its experiments measure. -crowd N
// sends it N simulated devices' reports at startup (crowd.go), so there are
// published cohorts to show and to report into, and outcome answers with a
// known lift (-crowd-base, -crowd-lift) for the experiments to find.
// -clock TIME runs the server's clock from TIME instead of now, for tests
// and screenshots. /playground lints and compiles an edited ruleset
// through /api/playground/lint and /api/playground/compile, signed with the
// same key so the page's engine loads it; those endpoints keep nothing.
//
// The server sets no cookies and records no IP addresses or user agents.
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/edgewise/edgewise/collector"
	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/examples"
	"github.com/edgewise/edgewise/internal/keyfile"
	"github.com/edgewise/edgewise/internal/sourcekey"
)

//go:embed site templates
var embedded embed.FS

const (
	// logCapacity bounds the request log; older entries are dropped.
	logCapacity = 500
	// maxLoggedBody is the largest body kept verbatim in the log, if textual.
	maxLoggedBody = 2 << 10
	// bodyTimeout bounds how long reading one request's body may take.
	bodyTimeout = 30 * time.Second
	// heartbeat keeps idle event streams open through proxies.
	heartbeat = 25 * time.Second
)

// distTypes lists the files served from the -dist folder and their types.
// Only these names are served; nothing else in the folder is reachable.
var distTypes = map[string]string{
	"edgewise.wasm":          "application/wasm",
	"edgewise.js":            "text/javascript; charset=utf-8",
	"edgewise.js.map":        "application/json",
	"edgewise-worker.js":     "text/javascript; charset=utf-8",
	"edgewise-worker.js.map": "application/json",
	"edgewise-track.js":      "text/javascript; charset=utf-8",
	"edgewise-track.js.map":  "application/json",
}

// requiredDist are the dist files the demo cannot run without.
var requiredDist = []string{"edgewise.wasm", "edgewise.js", "edgewise-worker.js", "edgewise-track.js", "edgewise-paint.js"}

// securityHeaders go on every response. The policy lets the page talk to
// this origin only, so the demo could not send browsing data elsewhere even
// if it tried.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
		"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	"Referrer-Policy":        "no-referrer",
	"X-Content-Type-Options": "nosniff",
	"Cache-Control":          "no-cache",
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "edgewise demo:", err)
		os.Exit(1)
	}
}

// run parses args, serves until ctx is done and then shuts down gracefully.
// It prints exactly one line to stdout, once the server is listening.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("demo", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:8080", "`host:port` to listen on; port 0 picks a free port")
	dist := flags.String("dist", "dist", "`folder` holding edgewise.wasm and the SDK's files (make build)")
	keyPath := flags.String("key", "", "private key `FILE` (from edgewise keygen) to sign the ruleset with (default: a fresh key each run)")
	reports := flags.String("reports", "", "where the collector keeps its cohort counts: a SQLite `FILE` (or sqlite:FILE) or postgres://… (default: in memory)")
	weather := flags.String("weather", "", "Open-Meteo forecast `FILE` (JSON, or .json.gz) to build the weather feed from (default: the example's world forecast)")
	crowd := flags.Int("crowd", 0, fmt.Sprintf("send the collector `N` simulated devices' reports at startup: cohorts for the previous and the current epoch, so the dashboard and k-anonymity have published cohorts, and outcome answers about the %d epochs before this one, with a known lift", crowdEpochs))
	crowdBase := flags.Float64("crowd-base", defaultCrowdBase, "the simulated comparison group's conversion `RATE` in an epoch it visits (with -crowd)")
	crowdLift := flags.Float64("crowd-lift", defaultCrowdLift, "the true relative `LIFT` of personalized picks in the simulation: they convert at the base rate × (1 + LIFT) (with -crowd; 0 for an A/A test)")
	clock := flags.String("clock", "", "run the server's clock from `TIME` (RFC 3339, as 2026-12-02T23:30:00Z) instead of now: the collector's epochs, the dashboard, the weather feed and -crowd follow it; for tests and screenshots")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	var key ed25519.PrivateKey
	if *keyPath != "" {
		var err error
		if key, err = keyfile.ReadPrivate(*keyPath); err != nil {
			return err
		}
	}
	cfg := serverConfig{dist: *dist, key: key, reports: *reports, crowd: crowdConfig{devices: *crowd, base: *crowdBase, lift: *crowdLift}}
	if err := cfg.crowd.check(); err != nil {
		return err
	}
	if *clock != "" {
		start, err := time.Parse(time.RFC3339, *clock)
		if err != nil {
			return fmt.Errorf("-clock: %w", err)
		}
		started := time.Now()
		cfg.now = func() time.Time { return start.Add(time.Since(started)) }
	}
	if *weather != "" {
		var err error
		cfg.weatherName = *weather
		if cfg.weatherSrc, err = os.ReadFile(*weather); err != nil {
			return err
		}
	}
	handler, err := newServer(cfg)
	if err != nil {
		return err
	}
	defer handler.closeCollector()
	fmt.Fprintf(stderr, "edgewise demo: serving ruleset %s signed with key %s\n", handler.shop.name, handler.shop.keyID)
	if *reports == "" {
		fmt.Fprintln(stderr, "edgewise demo: cohort reports are counted in memory (-reports FILE keeps them)")
	} else {
		fmt.Fprintf(stderr, "edgewise demo: cohort reports are counted in %s\n", *reports)
	}
	if *crowd > 0 {
		fmt.Fprintf(stderr, "edgewise demo: %d simulated devices sent their reports for the last %d epochs (true lift %g at a base rate of %g)\n", *crowd, crowdEpochs, *crowdLift, *crowdBase)
	}
	if *clock != "" {
		fmt.Fprintf(stderr, "edgewise demo: the server's clock started at %s\n", *clock)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := newHTTPServer(handler)
	// Event streams never end by themselves; closing handler.done on
	// shutdown ends them so Shutdown does not wait for its timeout.
	srv.RegisterOnShutdown(handler.close)
	fmt.Fprintf(stdout, "Edgewise demo listening on http://%s\n", ln.Addr())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "edgewise demo: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// server is the demo's HTTP handler: embedded site, dist files, the signed
// ruleset, the collector, the dashboard, the playground and the request log.
type server struct {
	shop      *shop
	collector *collector.Collector
	dist      string
	// hashedWasm is the engine's content-hashed file name under /dist/.
	hashedWasm string
	mux        *http.ServeMux
	log        *requestLog
	done       chan struct{}
	closeOnce  sync.Once
	dashboard  *template.Template
	// clock is the collector's clock (nil: time.Now), for the dashboard's epochs.
	clock func() time.Time
	// crowd is what the simulated devices of -crowd N sent at startup.
	crowd *crowdResult
	// sources tells visitors apart in the request log (see visitorSources).
	sources *visitorSources
	// bodyTimeout is bodyTimeout; tests shorten it.
	bodyTimeout time.Duration
}

// serverConfig configures newServer.
type serverConfig struct {
	// dist is the folder holding edgewise.wasm and the SDK's files.
	dist string
	// key signs the ruleset and the playground's; nil makes a fresh one.
	key ed25519.PrivateKey
	// rulesetName and rulesetSrc are the YAML ruleset the shop serves;
	// empty means the example, examples.OutdoorShop.
	rulesetName string
	rulesetSrc  []byte
	// reports is the collector's SQLite file; "" keeps counts in memory.
	reports string
	// now is the collector's clock; nil is time.Now.
	now func() time.Time
	// crowd is the simulated devices that report at startup (see crowd.go).
	crowd crowdConfig
	// weatherName and weatherSrc are the Open-Meteo forecast the weather
	// feed is built from; empty means the example's, examples.WorldWeather.
	weatherName string
	weatherSrc  []byte
}

// newServer checks that dist holds the built SDK, compiles and signs the
// ruleset, opens the collector and returns the handler. The caller closes
// the collector with closeCollector.
func newServer(cfg serverConfig) (*server, error) {
	dist := cfg.dist
	for _, name := range requiredDist {
		path := filepath.Join(dist, name)
		st, err := os.Stat(path)
		if err != nil || st.IsDir() {
			return nil, fmt.Errorf("%s is missing: run make build first, or point -dist at the folder holding %s and %s",
				path, strings.Join(requiredDist[:len(requiredDist)-1], ", "), requiredDist[len(requiredDist)-1])
		}
	}
	wasm := filepath.Join(dist, "edgewise.wasm")
	if head, err := readHead(wasm, 4); err != nil || !bytes.Equal(head, []byte("\x00asm")) {
		return nil, fmt.Errorf("%s is not a WebAssembly module: run make build", wasm)
	}
	hashedWasm, err := contentHashedName(wasm)
	if err != nil {
		return nil, err
	}
	site, err := fs.Sub(embedded, "site")
	if err != nil {
		return nil, err
	}
	if cfg.rulesetSrc == nil {
		cfg.rulesetName, cfg.rulesetSrc = examples.OutdoorShopName, examples.OutdoorShop
	}
	key := cfg.key
	if key == nil {
		if _, key, err = ed25519.GenerateKey(rand.Reader); err != nil {
			return nil, err
		}
	}
	sh, err := newShop(cfg.rulesetName, cfg.rulesetSrc, key, "/dist/"+hashedWasm)
	if err != nil {
		return nil, err
	}
	if cfg.weatherSrc == nil {
		cfg.weatherName, cfg.weatherSrc = examples.WorldWeatherName, examples.WorldWeather
	}
	now := cfg.now
	if now == nil {
		now = time.Now
	}
	// The ruleset's weather feeds, signed with the site's key as the ruleset
	// names no other; the demo serves them at the paths it names.
	var feeds []*weatherFeed
	for _, ref := range sh.rs.Feeds {
		if ref.Kind != engine.FeedWeather || !strings.HasPrefix(ref.URL, "/") {
			continue
		}
		f, err := newWeatherFeed(ref.ID, cfg.weatherName, cfg.weatherSrc, key, now)
		if err != nil {
			return nil, err
		}
		f.path = ref.URL
		feeds = append(feeds, f)
	}
	dash, err := template.New("dashboard.html").Funcs(dashboardFuncs).ParseFS(embedded, "templates/dashboard.html")
	if err != nil {
		return nil, err
	}
	col, err := collector.New(collector.Config{
		DB:       cfg.reports,
		Rulesets: map[string]*engine.Ruleset{sh.rs.ID: sh.rs},
		Now:      cfg.now,
	})
	if err != nil {
		return nil, fmt.Errorf("collector: %w", err)
	}
	s := &server{shop: sh, collector: col, dist: dist, hashedWasm: hashedWasm, mux: http.NewServeMux(), log: newRequestLog(logCapacity), sources: newVisitorSources(),
		done: make(chan struct{}), dashboard: dash, clock: cfg.now}
	if s.crowd, err = seedCrowd(context.Background(), col, sh.rs, cfg.crowd, s.now()); err != nil {
		col.Close()
		return nil, err
	}
	assets, err := siteAssets(site)
	if err != nil {
		col.Close()
		return nil, err
	}
	page, err := renderShopPage(site, dist, sh, "/dist/"+hashedWasm)
	if err != nil {
		col.Close()
		return nil, err
	}
	pageAsset := newAsset("text/html; charset=utf-8", page.body)
	s.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name == "" || strings.HasSuffix(name, "/") {
			name += "index.html"
		}
		if name == "index.html" {
			w.Header().Set("Content-Security-Policy", page.csp)
			pageAsset.serve(w, r, name)
			return
		}
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		a.serve(w, r, name)
	})
	for _, f := range []struct {
		path, ctype string
		body        []byte
	}{
		{"/ruleset.ewr", "application/octet-stream", sh.ewr},
		{"/config.json", "application/json", sh.config},
		{"/catalogue.json", "application/json", sh.catalogue},
		// The playground starts from the YAML the shop serves.
		{"/ruleset.yaml", "text/yaml; charset=utf-8", cfg.rulesetSrc},
	} {
		a := newAsset(f.ctype, f.body)
		s.mux.HandleFunc("GET "+f.path, func(w http.ResponseWriter, r *http.Request) { a.serve(w, r, f.path) })
	}
	for _, f := range feeds {
		s.mux.HandleFunc("GET "+f.path, f.serve)
	}
	s.mux.HandleFunc("GET /dist/{file}", s.serveDist)
	s.mux.HandleFunc("GET /api/requests", s.serveLog)
	s.mux.HandleFunc("GET /api/requests/stream", s.serveStream)
	// The collector, as `edgewise collect` serves it: POST /v1/reports,
	// GET /v1/cohorts, /v1/estimates and /v1/cohort-sizes.
	// Patterns with a method, so they do not clash with GET /.
	for _, method := range []string{"GET", "POST", "OPTIONS"} {
		s.mux.Handle(method+" /v1/", col.Handler())
	}
	s.mux.HandleFunc("GET /dashboard", s.serveDashboard)
	s.mux.HandleFunc("GET /playground", s.servePlayground)
	s.mux.HandleFunc("POST /api/playground/lint", s.servePlaygroundLint)
	s.mux.HandleFunc("POST /api/playground/compile", s.servePlaygroundCompile)
	for _, path := range []string{"/api/playground/lint", "/api/playground/compile"} {
		// Without this GET / would answer 404.
		s.mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "POST")
			writeJSONStatus(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST the ruleset's YAML"})
		})
	}
	return s, nil
}

// closeCollector commits the reports already accepted and closes the
// collector's database.
func (s *server) closeCollector() error { return s.collector.Close() }

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	_, err = io.ReadFull(f, buf)
	return buf, err
}

// close ends open event streams. It is safe to call more than once.
func (s *server) close() { s.closeOnce.Do(func() { close(s.done) }) }

// newHTTPServer serves the demo with the collector's limits: headers within
// 10 s and 16 KiB, and idle connections closed after a minute. Bodies are
// read with their own deadline (bodyTimeout), not a server-wide
// ReadTimeout, which would also cut the event streams, and no write
// timeout, since event streams stay open as long as the page does.
func newHTTPServer(s *server) *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
}

// bodyLimit is the largest body the server reads for a request: what its
// route takes (the playground's rulesets, the collector's reports), and for
// every other route no more than the log shows, so that the log can still
// show what a page tried to send where nothing is taken.
func bodyLimit(r *http.Request) int64 {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/reports":
		return collector.DefaultMaxBodyBytes
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/api/playground/"):
		return maxPlaygroundBody
	}
	return maxLoggedBody
}

// unlogged are the log's own endpoints: watching the log does not grow it.
func unlogged(path string) bool {
	return path == "/api/requests" || path == "/api/requests/stream"
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k, v := range securityHeaders {
		w.Header().Set(k, v)
	}
	if unlogged(r.URL.Path) {
		s.mux.ServeHTTP(w, r)
		return
	}
	entry := loggedRequest{
		// A second is fine enough to follow a page's requests, and no finer.
		Time:        time.Now().UTC().Truncate(time.Second),
		Method:      r.Method,
		Path:        r.URL.Path,
		Query:       r.URL.RawQuery,
		ContentType: r.Header.Get("Content-Type"),
		source:      s.sources.of(r.RemoteAddr),
	}
	if r.Body != nil && r.Body != http.NoBody {
		timeout := s.bodyTimeout
		if timeout <= 0 {
			timeout = bodyTimeout
		}
		// Not every ResponseWriter can set deadlines (test recorders).
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
	}
	body, tooLarge := readBody(r, bodyLimit(r))
	entry.BodySize = int64(len(body))
	if len(body) <= maxLoggedBody && textual(entry.ContentType, body) {
		entry.Body = string(body)
	}
	rec := &statusRecorder{ResponseWriter: w}
	if tooLarge {
		entry.BodyTruncated = true
		http.Error(rec, "request body too large", http.StatusRequestEntityTooLarge)
	} else {
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mux.ServeHTTP(rec, r)
	}
	entry.Status = rec.code()
	s.log.add(entry)
}

// readBody reads at most limit bytes of the request body. tooLarge is true
// when there was more, or a declared length says there will be: such a
// body is not read at all.
func readBody(r *http.Request, limit int64) (body []byte, tooLarge bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, false
	}
	if r.ContentLength > limit {
		return nil, true
	}
	body, _ = io.ReadAll(io.LimitReader(r.Body, limit+1))
	if int64(len(body)) > limit {
		return body[:limit], true
	}
	return body, false
}

// textual reports whether a body is text a person can read in the log.
func textual(contentType string, body []byte) bool {
	if len(body) == 0 || !utf8.Valid(body) {
		return false
	}
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			return false
		}
		switch {
		case strings.HasPrefix(mt, "text/"),
			mt == "application/json", mt == "application/x-www-form-urlencoded",
			mt == "application/xml", mt == "application/csp-report",
			strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		default:
			return false
		}
	}
	for _, c := range string(body) {
		if unicode.IsControl(c) && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

// serveDist serves the SDK and the engine as a site should: the engine
// under its content-hashed name is cached for good (a new build is a new
// URL), everything else is revalidated, and each file goes out as the
// build's brotli or gzip copy when the browser takes it and the copy is
// not older than the file.
func (s *server) serveDist(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == s.hashedWasm {
		name = "edgewise.wasm"
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	ctype, ok := distTypes[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	path := filepath.Join(s.dist, name)
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Vary", "Accept-Encoding")
	for _, enc := range precompressed {
		pst, err := os.Stat(path + enc.suffix)
		if err != nil || pst.ModTime().Before(st.ModTime()) || !accepts(r.Header.Get("Accept-Encoding"), enc.name) {
			continue
		}
		if f, err := os.Open(path + enc.suffix); err == nil {
			defer f.Close()
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Content-Encoding", enc.name)
			http.ServeContent(w, r, name, pst.ModTime(), f)
			return
		}
	}
	f, err := os.Open(path)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", ctype)
	http.ServeContent(w, r, name, st.ModTime(), f)
}

// precompressed are the copies `make build` writes beside each dist file,
// best first.
var precompressed = []struct{ name, suffix string }{{"br", ".br"}, {"gzip", ".gz"}}

// accepts reports whether an Accept-Encoding header takes coding (q > 0).
func accepts(header, coding string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		q := strings.TrimSpace(params)
		if v, ok := strings.CutPrefix(q, "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// etag is a strong validator for body: with Cache-Control: no-cache, a
// repeat visit revalidates each file and gets 304 Not Modified, not the
// file again. (Embedded files have no modification time to go by.)
func etag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// contentHashedName is edgewise.<first 16 hex digits of SHA-256>.wasm.
func contentHashedName(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return "edgewise." + hex.EncodeToString(sum[:8]) + ".wasm", nil
}

// logResponse is the body of GET /api/requests.
type logResponse struct {
	// Capacity is how many requests the log keeps; older ones are dropped.
	Capacity int `json:"capacity"`
	// Total is how many requests the server has logged since it started.
	Total    uint64          `json:"total"`
	Requests []loggedRequest `json:"requests"`
}

// own keeps the entries sent from the same address as r.
func (s *server) own(entries []loggedRequest, r *http.Request) []loggedRequest {
	src := s.sources.of(r.RemoteAddr)
	out := entries[:0:0]
	for _, e := range entries {
		if e.source == src {
			out = append(out, e)
		}
	}
	return out
}

func (s *server) serveLog(w http.ResponseWriter, r *http.Request) {
	entries, total, _ := s.log.since(0)
	entries = s.own(entries, r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(logResponse{Capacity: s.log.capacity(), Total: total, Requests: entries})
}

// serveStream sends every logged request as a Server-Sent Event, first the
// ones already in the log and then each new one as it happens. Each event's
// id is the request's seq, so a reconnecting EventSource resumes where it
// left off.
func (s *server) serveStream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	var after uint64
	if id, err := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 64); err == nil {
		after = id
	}
	if _, total, _ := s.log.since(0); after > total {
		after = 0 // the server restarted since the client's last event
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, "retry: 2000\n\n"); err != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		entries, _, changed := s.log.since(after)
		if len(entries) > 0 {
			after = entries[len(entries)-1].Seq
		}
		for _, e := range s.own(entries, r) {
			data, err := json.Marshal(e)
			if err != nil {
				return
			}
			if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n\n", e.Seq, data); err != nil {
				return
			}
			after = e.Seq
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-changed:
		case <-tick.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}

// statusRecorder remembers the status code a handler sent.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusRecorder) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// loggedRequest is what the log keeps of one request: no IP address, no user
// agent, no cookies, no other headers.
type loggedRequest struct {
	Seq         uint64    `json:"seq"`
	Time        time.Time `json:"time"`
	Method      string    `json:"method"`
	Path        string    `json:"path"`
	Query       string    `json:"query"`
	ContentType string    `json:"content_type"`
	BodySize    int64     `json:"body_size"`
	// Body is the body itself when it is small and textual.
	Body string `json:"body,omitempty"`
	// BodyTruncated is true when the body was over the size the server reads.
	BodyTruncated bool `json:"body_truncated,omitempty"`
	Status        int  `json:"status"`
	// source is who sent it, as visitorSources tells them apart; each
	// visitor sees only their own requests.
	source sourcekey.Source
}

// requestLog is a bounded ring of logged requests, numbered from 1.
type requestLog struct {
	mu      sync.Mutex
	ring    []loggedRequest
	total   uint64
	changed chan struct{} // closed and replaced on every add
}

func newRequestLog(capacity int) *requestLog {
	return &requestLog{ring: make([]loggedRequest, capacity), changed: make(chan struct{})}
}

func (l *requestLog) capacity() int { return len(l.ring) }

func (l *requestLog) add(e loggedRequest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total++
	e.Seq = l.total
	l.ring[(e.Seq-1)%uint64(len(l.ring))] = e
	close(l.changed)
	l.changed = make(chan struct{})
}

// since returns the kept requests numbered after seq, oldest first, the
// number of requests logged so far, and a channel closed on the next add.
func (l *requestLog) since(seq uint64) ([]loggedRequest, uint64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := seq + 1
	if n := uint64(len(l.ring)); l.total > n && first <= l.total-n {
		first = l.total - n + 1
	}
	out := make([]loggedRequest, 0)
	for i := first; i <= l.total; i++ {
		out = append(out, l.ring[(i-1)%uint64(len(l.ring))])
	}
	return out, l.total, l.changed
}
