package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeWasm starts with the WebAssembly magic and version, which is all the
// server checks.
var fakeWasm = []byte("\x00asm\x01\x00\x00\x00")

// fakeDist writes a dist folder with the files the server needs.
func fakeDist(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := writeFakeDist(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeFakeDist writes the files the server needs into dir.
func writeFakeDist(dir string) error {
	files := map[string][]byte{
		"edgewise.wasm":   fakeWasm,
		"edgewise.js":     []byte("export const Edgewise = {};\n"),
		"edgewise.js.map": []byte(`{"version":3}`),
		// The worker's file, which the page's file starts.
		"edgewise-worker.js": []byte("export class Host {}\n"),
		"edgewise-track.js":  []byte("export function trackImpressions() {}\n"),
		// The pre-paint snippet, which the shop's page inlines.
		"edgewise-paint.js": []byte("(()=>{})();\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func newTestServer(t *testing.T) (*server, *httptest.Server) {
	t.Helper()
	return newTestServerWith(t, serverConfig{dist: fakeDist(t)})
}

// newTestServerWith starts a server made with cfg (dist defaults to a fake
// one) and closes it, its event streams and its collector after the test.
func newTestServerWith(t *testing.T, cfg serverConfig) (*server, *httptest.Server) {
	t.Helper()
	if cfg.dist == "" {
		cfg.dist = fakeDist(t)
	}
	s, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		s.close()
		ts.Close()
		if err := s.closeCollector(); err != nil {
			t.Errorf("closing the collector: %v", err)
		}
	})
	return s, ts
}

// epochOf is the number of the 7-day epoch holding t, counted here on its
// own so the tests check the collector's count rather than share it.
func epochOf(t time.Time, days int) int64 {
	return t.UnixMilli() / (int64(days) * 86_400_000)
}

// send makes one request and returns the response with its whole body.
func send(t *testing.T, method, url, contentType string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, out
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	return send(t, http.MethodGet, url, "", nil)
}

func fetchLog(t *testing.T, base string) logResponse {
	t.Helper()
	resp, body := get(t, base+"/api/requests")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/requests: %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET /api/requests Content-Type = %q, want application/json", ct)
	}
	var lr logResponse
	if err := json.Unmarshal(body, &lr); err != nil {
		t.Fatalf("decode /api/requests: %v\n%s", err, body)
	}
	return lr
}

func TestServesWasmAsApplicationWasm(t *testing.T) {
	_, ts := newTestServer(t)
	resp, body := get(t, ts.URL+"/dist/edgewise.wasm")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /dist/edgewise.wasm: %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/wasm" {
		t.Errorf("Content-Type = %q, want application/wasm", ct)
	}
	if !bytes.Equal(body, fakeWasm) {
		t.Errorf("body = %q, want the dist file", body)
	}
}

func TestServesSiteAndDist(t *testing.T) {
	_, ts := newTestServer(t)
	for _, tc := range []struct {
		path, ctype, contains string
	}{
		{"/", "text/html", `data-edgewise-slot="recommended"`},
		{"/", "text/html", `data-edgewise-slot="home-hero"`},
		{"/", "text/html", `data-edgewise-slot="weather-banner"`},
		{"/app.js", "text/javascript", "loading"},
		{"/js/start.js", "text/javascript", "Edgewise.load"},
		{"/js/slots.js", "text/javascript", "Why am I seeing this?"},
		{"/js/playground.js", "text/javascript", "/api/playground/compile"},
		{"/style.css", "text/css", ".rec-list"},
		{"/playground", "text/html", "data-editor"},
		{"/dashboard", "text/html", "What this server stores"},
		{"/ruleset.yaml", "text/yaml", "id: outdoor-shop"},
		{"/catalogue.json", "application/json", `"recommended"`},
		{"/config.json", "application/json", `"publicKey"`},
		{"/ruleset.ewr", "application/octet-stream", "EWRS"},
		{"/dist/edgewise.js", "text/javascript", "Edgewise"},
		{"/dist/edgewise.js.map", "application/json", `"version"`},
		{"/dist/edgewise-worker.js", "text/javascript", "Host"},
	} {
		resp, body := get(t, ts.URL+tc.path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", tc.path, resp.Status)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
			t.Errorf("GET %s: Content-Type = %q, want %s", tc.path, ct, tc.ctype)
		}
		if !strings.Contains(string(body), tc.contains) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy = %q, want connect-src 'self'", tc.path, csp)
		}
	}
	// Only the named dist files are reachable, nothing else in the folder.
	for _, path := range []string{"/dist/other.txt", "/dist/", "/dist/..%2fmain.go", "/nope.html"} {
		if resp, _ := get(t, ts.URL+path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", path, resp.Status)
		}
	}
}

func TestMissingSourceMapIsNotFound(t *testing.T) {
	dist := fakeDist(t)
	if err := os.Remove(filepath.Join(dist, "edgewise.js.map")); err != nil {
		t.Fatal(err)
	}
	s, err := newServer(serverConfig{dist: dist})
	if err != nil {
		t.Fatalf("the source map is optional, got %v", err)
	}
	defer s.closeCollector()
	ts := httptest.NewServer(s)
	defer ts.Close()
	if resp, _ := get(t, ts.URL+"/dist/edgewise.js.map"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /dist/edgewise.js.map: %s, want 404", resp.Status)
	}
}

func TestLogsRequests(t *testing.T) {
	_, ts := newTestServer(t)
	get(t, ts.URL+"/app.js?v=2")
	resp, err := http.Post(ts.URL+"/collect?x=1", "application/json", strings.NewReader(`{"item":"trail-runner-x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /collect: %s, want the server to accept no writes", resp.Status)
	}
	binary := bytes.Repeat([]byte{0, 1, 2, 0xff}, 10)
	resp, err = http.Post(ts.URL+"/upload", "application/octet-stream", bytes.NewReader(binary))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	lr := fetchLog(t, ts.URL)
	if lr.Capacity != logCapacity || lr.Total != 3 || len(lr.Requests) != 3 {
		t.Fatalf("log = capacity %d total %d, %d requests; want %d, 3, 3: %+v", lr.Capacity, lr.Total, len(lr.Requests), logCapacity, lr.Requests)
	}
	first, post, upload := lr.Requests[0], lr.Requests[1], lr.Requests[2]
	if first.Seq != 1 || first.Method != "GET" || first.Path != "/app.js" || first.Query != "v=2" || first.Status != 200 || first.BodySize != 0 {
		t.Errorf("GET entry = %+v", first)
	}
	if time.Since(first.Time) > time.Minute || first.Time.After(time.Now()) {
		t.Errorf("GET entry time = %v, want now", first.Time)
	}
	if post.Method != "POST" || post.Path != "/collect" || post.Query != "x=1" || post.ContentType != "application/json" ||
		post.BodySize != 25 || post.Body != `{"item":"trail-runner-x"}` {
		t.Errorf("POST entry = %+v", post)
	}
	if upload.BodySize != int64(len(binary)) || upload.Body != "" {
		t.Errorf("binary upload entry = %+v, want its size and no body", upload)
	}
	// The log records no IP address, user agent or other headers.
	_, raw := get(t, ts.URL+"/api/requests")
	for _, leak := range []string{"127.0.0.1", "Go-http-client", "user_agent", "remote"} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Errorf("/api/requests contains %q:\n%s", leak, raw)
		}
	}
}

func TestLogIsBounded(t *testing.T) {
	l := newRequestLog(3)
	for i := 0; i < 5; i++ {
		l.add(loggedRequest{Path: "/" + string(rune('a'+i))})
	}
	got, total, _ := l.since(0)
	if total != 5 || len(got) != 3 || got[0].Seq != 3 || got[0].Path != "/c" || got[2].Seq != 5 {
		t.Fatalf("since(0) = %+v, total %d; want seq 3..5 of 5", got, total)
	}
	if got, _, _ := l.since(4); len(got) != 1 || got[0].Seq != 5 {
		t.Errorf("since(4) = %+v, want seq 5", got)
	}
	if got, _, _ := l.since(5); len(got) != 0 {
		t.Errorf("since(5) = %+v, want nothing", got)
	}
}

func TestDoesNotLogItsOwnEndpoints(t *testing.T) {
	_, ts := newTestServer(t)
	get(t, ts.URL+"/")
	fetchLog(t, ts.URL)
	fetchLog(t, ts.URL)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/requests/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	lr := fetchLog(t, ts.URL)
	if len(lr.Requests) != 1 || lr.Requests[0].Path != "/" {
		t.Errorf("log = %+v, want only GET /", lr.Requests)
	}
}

func TestStreamSendsBacklogAndNewRequests(t *testing.T) {
	_, ts := newTestServer(t)
	get(t, ts.URL+"/style.css")
	resp, err := http.Get(ts.URL + "/api/requests/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q, want text/event-stream", ct)
	}
	events := make(chan loggedRequest)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var e loggedRequest
				if json.Unmarshal([]byte(data), &e) == nil {
					events <- e
				}
			}
		}
		close(events)
	}()
	next := func() loggedRequest {
		t.Helper()
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatal("stream ended")
			}
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no event within 5s")
		}
		return loggedRequest{}
	}
	if e := next(); e.Seq != 1 || e.Path != "/style.css" {
		t.Errorf("first event = %+v, want the backlog's GET /style.css", e)
	}
	get(t, ts.URL+"/catalogue.json?live=1")
	if e := next(); e.Seq != 2 || e.Path != "/catalogue.json" || e.Query != "live=1" {
		t.Errorf("second event = %+v, want the new GET /catalogue.json", e)
	}
}

func TestStreamResumesAfterLastEventID(t *testing.T) {
	_, ts := newTestServer(t)
	get(t, ts.URL+"/a")
	get(t, ts.URL+"/b")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/requests/stream", nil)
	req.Header.Set("Last-Event-ID", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "id: ") {
			if sc.Text() != "id: 2" {
				t.Errorf("first event after Last-Event-ID 1 is %q, want id: 2", sc.Text())
			}
			return
		}
	}
	t.Fatal("stream ended without an event")
}

func TestSetsNoCookies(t *testing.T) {
	_, ts := newTestServer(t)
	paths := []string{"/", "/index.html", "/app.js", "/style.css", "/ruleset.ewr", "/config.json", "/catalogue.json", "/dist/edgewise.wasm",
		"/dist/edgewise." + hex.EncodeToString(sha256Prefix(fakeWasm)) + ".wasm",
		"/dist/edgewise.js", "/dist/edgewise.js.map", "/api/requests", "/missing", "/dashboard", "/playground", "/ruleset.yaml",
		"/v1/cohorts?ruleset=outdoor-shop", "/v1/cohort-sizes?ruleset=outdoor-shop"}
	for _, path := range paths {
		resp, _ := get(t, ts.URL+path)
		if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
			t.Errorf("GET %s sets cookies %q", path, c)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/requests/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("GET /api/requests/stream sets cookies %q", c)
	}
}

func TestMissingDistFile(t *testing.T) {
	for _, name := range requiredDist {
		t.Run(name, func(t *testing.T) {
			dist := fakeDist(t)
			if err := os.Remove(filepath.Join(dist, name)); err != nil {
				t.Fatal(err)
			}
			_, err := newServer(serverConfig{dist: dist})
			if err == nil {
				t.Fatalf("newServer without %s succeeded", name)
			}
			for _, want := range []string{filepath.Join(dist, name), "run make build"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
	t.Run("not wasm", func(t *testing.T) {
		dist := fakeDist(t)
		if err := os.WriteFile(filepath.Join(dist, "edgewise.wasm"), []byte("<html>"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := newServer(serverConfig{dist: dist}); err == nil || !strings.Contains(err.Error(), "not a WebAssembly module") {
			t.Errorf("newServer with a non-wasm file: %v", err)
		}
	})
	t.Run("run", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-dist", t.TempDir()}, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "edgewise.wasm") || !strings.Contains(err.Error(), "run make build") {
			t.Errorf("run with an empty dist: %v", err)
		}
		if stdout.Len() != 0 {
			t.Errorf("run printed %q before failing", stdout.String())
		}
	})
}

// syncBuffer is a bytes.Buffer safe to write from run and read from the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRunListensAndShutsDown(t *testing.T) {
	dist := fakeDist(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-dist", dist}, &stdout, &stderr) }()

	line := regexp.MustCompile(`^Edgewise demo listening on (http://127\.0\.0\.1:(\d+))\n$`)
	var url string
	for deadline := time.Now().Add(5 * time.Second); url == ""; {
		if m := line.FindStringSubmatch(stdout.String()); m != nil {
			if m[2] == "0" {
				t.Fatalf("printed port 0: %q", m[0])
			}
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no listening line; stdout %q stderr %q", stdout.String(), stderr.String())
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if resp, _ := get(t, url+"/dist/edgewise.wasm"); resp.Header.Get("Content-Type") != "application/wasm" {
		t.Errorf("GET /dist/edgewise.wasm Content-Type = %q", resp.Header.Get("Content-Type"))
	}
	// An open event stream must not hold up shutdown.
	resp, err := http.Get(url + "/api/requests/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v after shutdown", err)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("run did not return within 4s of shutdown")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %v with an open event stream", d)
	}
	if n := strings.Count(stdout.String(), "\n"); n != 1 {
		t.Errorf("stdout has %d lines, want exactly 1: %q", n, stdout.String())
	}
}

// The engine is served as a site should serve it: under a content-hashed
// URL cached for good, as the build's brotli or gzip copy when the browser
// takes it, and never as a copy older than the file.
func TestServesEngineHashedAndPrecompressed(t *testing.T) {
	dist := fakeDist(t)
	wasm := filepath.Join(dist, "edgewise.wasm")
	brotli := []byte("brotli bytes, as the build wrote them")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(fakeWasm)
	zw.Close()
	for name, data := range map[string][]byte{"edgewise.wasm.br": brotli, "edgewise.wasm.gz": gz.Bytes()} {
		if err := os.WriteFile(filepath.Join(dist, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, ts := newTestServerWith(t, serverConfig{dist: dist})

	var config demoConfig
	if _, body := get(t, ts.URL+"/config.json"); json.Unmarshal(body, &config) != nil {
		t.Fatalf("/config.json: %s", body)
	}
	hashed := "/dist/edgewise." + hex.EncodeToString(sha256Prefix(fakeWasm)) + ".wasm"
	if config.Wasm != hashed {
		t.Fatalf("/config.json wasm = %q, want %q", config.Wasm, hashed)
	}

	fetch := func(path, acceptEncoding string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gunzip
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s (Accept-Encoding %q): %s", path, acceptEncoding, resp.Status)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/wasm" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if v := resp.Header.Get("Vary"); v != "Accept-Encoding" {
			t.Errorf("GET %s: Vary %q", path, v)
		}
		return resp, body
	}
	for _, tc := range []struct{ accept, encoding string }{
		{"gzip, deflate, br, zstd", "br"},
		{"br;q=0, gzip", "gzip"},
		{"gzip;q=0.5", "gzip"},
		{"", ""},
		{"identity", ""},
	} {
		resp, body := fetch(hashed, tc.accept)
		if got := resp.Header.Get("Content-Encoding"); got != tc.encoding {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.accept, got, tc.encoding)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("the hashed URL's Cache-Control is %q", cc)
		}
		want := map[string][]byte{"br": brotli, "gzip": gz.Bytes(), "": fakeWasm}[tc.encoding]
		if !bytes.Equal(body, want) {
			t.Errorf("Accept-Encoding %q: body %q, want %q", tc.accept, body, want)
		}
	}
	// The plain name is revalidated: it changes with every build.
	if resp, _ := fetch("/dist/edgewise.wasm", "br"); resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("/dist/edgewise.wasm Cache-Control %q, want no-cache", resp.Header.Get("Cache-Control"))
	}
	// A copy older than the engine is stale: the browser gets the file itself.
	old := time.Now().Add(-time.Hour)
	for _, name := range []string{"edgewise.wasm.br", "edgewise.wasm.gz"} {
		if err := os.Chtimes(filepath.Join(dist, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(wasm, time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if resp, body := fetch(hashed, "br, gzip"); resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, fakeWasm) {
		t.Errorf("stale copies: Content-Encoding %q, body %q", resp.Header.Get("Content-Encoding"), body)
	}
	if resp, _ := get(t, ts.URL+"/dist/edgewise.0123456789abcdef.wasm"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another hash: %s, want 404", resp.Status)
	}
}

func sha256Prefix(data []byte) []byte {
	sum := sha256.Sum256(data)
	return sum[:8]
}

// Every file of the site has a validator, so a repeat visit revalidates it
// for a 304 instead of downloading it again (the files are no-cache).
func TestSiteFilesRevalidate(t *testing.T) {
	_, ts := newTestServer(t)
	for _, path := range []string{"/", "/index.html", "/app.js", "/js/slots.js", "/style.css", "/config.json", "/catalogue.json", "/ruleset.ewr"} {
		resp, body := get(t, ts.URL+path)
		tag := resp.Header.Get("ETag")
		if resp.StatusCode != http.StatusOK || tag == "" || len(body) == 0 {
			t.Errorf("GET %s: %s, ETag %q, %d bytes", path, resp.Status, tag, len(body))
			continue
		}
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		req.Header.Set("If-None-Match", tag)
		again, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		again.Body.Close()
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %s: %s, want 304", path, tag, again.Status)
		}
	}
	// The SDK goes by its file's modification time instead.
	resp, _ := get(t, ts.URL+"/dist/edgewise.js")
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/dist/edgewise.js", nil)
	req.Header.Set("If-Modified-Since", resp.Header.Get("Last-Modified"))
	again, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("GET /dist/edgewise.js with If-Modified-Since: %s, want 304", again.Status)
	}
	if a, b := etagOf(t, ts.URL+"/app.js"), etagOf(t, ts.URL+"/style.css"); a == b {
		t.Errorf("two files share the ETag %s", a)
	}
}

func etagOf(t *testing.T, url string) string {
	t.Helper()
	resp, _ := get(t, url)
	return resp.Header.Get("ETag")
}

// The page, its scripts and styles and the catalogue go out gzip-compressed
// to a browser that takes it, with their own ETag, and as they are to one
// that does not: on a slow network the page's text shares the line with
// the engine's download.
func TestSiteTextIsCompressed(t *testing.T) {
	_, ts := newTestServer(t)
	for _, path := range []string{"/", "/app.js", "/js/slots.js", "/style.css", "/catalogue.json"} {
		plainResp, plain := fetchEncoded(t, ts.URL+path, "")
		if plainResp.Header.Get("Content-Encoding") != "" {
			t.Errorf("GET %s without Accept-Encoding: Content-Encoding %q", path, plainResp.Header.Get("Content-Encoding"))
		}
		resp, body := fetchEncoded(t, ts.URL+path, "br;q=0, gzip")
		if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("GET %s with gzip: Content-Encoding %q, Vary %q", path, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
			continue
		}
		if len(body) >= len(plain) {
			t.Errorf("GET %s: %d bytes gzip, %d plain", path, len(body), len(plain))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(unzipped, plain) {
			t.Errorf("GET %s: the gzip copy is not the file (%v)", path, err)
		}
		tag := resp.Header.Get("ETag")
		if tag == "" || tag == plainResp.Header.Get("ETag") {
			t.Errorf("GET %s: ETag %q gzip, %q plain; want two different ones", path, tag, plainResp.Header.Get("ETag"))
		}
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		req.Header.Set("If-None-Match", tag)
		again, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		again.Body.Close()
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %s: %s, want 304", path, tag, again.Status)
		}
	}
}

// fetchEncoded GETs url with the Accept-Encoding given, and returns the body
// as it came over the wire (the transport does not decompress it).
func fetchEncoded(t *testing.T, url, accept string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept-Encoding", accept)
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}
