package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgewise/edgewise/engine"
)

// fixedNow is in the middle of epoch 2921 of 7 days.
var fixedNow = time.UnixMilli(2921*7*86_400_000 + 3*86_400_000).UTC()

const thisEpoch = 2921

// testRuleset has interest dimensions with the given bucket counts. It is
// a whole valid ruleset, as New validates it: one item per bucket, tagged
// for it.
func testRuleset(id string, minK int, buckets ...int) *engine.Ruleset {
	rs := &engine.Ruleset{ID: id, Version: "1",
		Signals: []engine.Signal{{ID: "history", Kind: engine.SignalHistory, Purpose: "Recommend gear like what you viewed.", RetentionDays: 30}}}
	for d, b := range buckets {
		dim := engine.Dimension{ID: fmt.Sprintf("d%d", d+1), From: engine.DimensionInterest}
		for i := range b {
			tag := fmt.Sprintf("d%d-b%d", d+1, i)
			rs.Catalogue = append(rs.Catalogue, engine.Item{ID: tag, Title: "Item " + tag, Tags: []string{tag}})
			dim.Buckets = append(dim.Buckets, engine.Bucket{ID: fmt.Sprintf("b%d", i), Tags: []string{tag}})
		}
		rs.Cohorts.Dimensions = append(rs.Cohorts.Dimensions, dim)
	}
	if len(rs.Catalogue) == 0 {
		rs.Catalogue = []engine.Item{{ID: "a", Title: "A", Tags: []string{"a"}}}
	}
	rs.Slots = []engine.Slot{{ID: "s", Limit: 1, Fallback: []string{rs.Catalogue[0].ID}}}
	rs.Reporting = engine.Reporting{Epsilon: 2, MinK: minK}
	return rs
}

func newCollector(t *testing.T, dbPath string, rulesets ...*engine.Ruleset) *Collector {
	t.Helper()
	m := map[string]*engine.Ruleset{}
	for _, rs := range rulesets {
		m[rs.ID] = rs
	}
	c, err := New(Config{DB: dbPath, Rulesets: m, Now: func() time.Time { return fixedNow }, SourceReportsPerHour: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// serve starts the handler on 127.0.0.1.
func serve(t *testing.T, c *Collector) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: c.Handler()}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, srv *httptest.Server, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(srv.URL+"/v1/reports", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestCatalogue(t *testing.T) {
	rs := testRuleset("x", 50, 2, 3)
	got := Catalogue(rs)
	want := []string{
		"d1=b0/d2=b0", "d1=b0/d2=b1", "d1=b0/d2=b2",
		"d1=b1/d2=b0", "d1=b1/d2=b1", "d1=b1/d2=b2",
		"d1=b0", "d1=b1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("catalogue:\n got %q\nwant %q", got, want)
	}
	for _, tc := range []struct {
		buckets []int
		k       int
	}{{[]int{3, 3}, 12}, {[]int{4, 2, 6}, 60}, {[]int{3, 3, 2}, 30}, {[]int{5}, 5}} {
		if k := len(Catalogue(testRuleset("x", 50, tc.buckets...))); k != tc.k {
			t.Errorf("%v: K = %d, want %d", tc.buckets, k, tc.k)
		}
	}
}

func TestStrictIntake(t *testing.T) { eachBackend(t, testStrictIntake) }

func testStrictIntake(t *testing.T, db string) {
	c := newCollector(t, db, testRuleset("shop", 50, 3, 3)) // K = 12
	srv := serve(t, c)
	ok := `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":3,"epsilon":2}`
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"krr", ok, 204},
		{"previous epoch, days after it ended", `{"ruleset":"shop","epoch":2920,"mechanism":"krr","value":0,"epsilon":2}`, 400},
		{"next epoch, days before it starts", `{"ruleset":"shop","epoch":2922,"mechanism":"krr","value":11,"epsilon":2}`, 400},
		{"a key twice (the last value would win)", `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":3,"value":7,"epsilon":2}`, 400},
		{"a key twice, same value", `{"ruleset":"shop","ruleset":"shop","epoch":2921,"mechanism":"krr","value":3,"epsilon":2}`, 400},
		{"unknown field", `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":3,"epsilon":2,"uid":"abc"}`, 400},
		{"oversize", `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":3,"epsilon":2,"ruleset":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `"}`, 413},
		{"bad mechanism", `{"ruleset":"shop","epoch":2921,"mechanism":"rappor","value":3,"epsilon":2}`, 400},
		{"value out of range", `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":12,"epsilon":2}`, 400},
		{"negative value", `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":-1,"epsilon":2}`, 400},
		{"wrong epsilon", `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":3,"epsilon":8}`, 400},
		{"missing epsilon", `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":3}`, 400},
		{"stale epoch", `{"ruleset":"shop","epoch":2919,"mechanism":"krr","value":3,"epsilon":2}`, 400},
		{"future epoch", `{"ruleset":"shop","epoch":2923,"mechanism":"krr","value":3,"epsilon":2}`, 400},
		{"missing epoch", `{"ruleset":"shop","mechanism":"krr","value":3,"epsilon":2}`, 400},
		{"unknown ruleset", `{"ruleset":"other","epoch":2921,"mechanism":"krr","value":3,"epsilon":2}`, 400},
		{"bits (unary encoding is not accepted)", `{"ruleset":"shop","epoch":2921,"mechanism":"oue","bits":"AAA=","epsilon":2}`, 400},
		{"krr with bits", `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":3,"bits":"AAA=","epsilon":2}`, 400},
		{"missing value", `{"ruleset":"shop","epoch":2921,"mechanism":"krr","epsilon":2}`, 400},
		{"missing value, empty outcomes", `{"ruleset":"shop","epoch":2921,"mechanism":"krr","epsilon":2,"outcomes":[]}`, 400},
		{"oue without bits", `{"ruleset":"shop","epoch":2921,"mechanism":"oue","value":3,"epsilon":2}`, 400},
		{"two values", ok + ok, 400},
		{"not json", `ruleset=shop`, 400},
		{"empty", ``, 400},
		{"wrong type", `{"ruleset":"shop","epoch":"2921","mechanism":"krr","value":3,"epsilon":2}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, srv, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q", got)
			}
			if resp.Header.Get("Set-Cookie") != "" || len(resp.Cookies()) > 0 {
				t.Errorf("a response set a cookie")
			}
			// No origins configured: no page of another site may post.
			if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("CORS headers: %v", resp.Header)
			}
		})
	}

	// GET on the intake is refused; a CORS preflight is answered.
	resp, _ := http.Get(srv.URL + "/v1/reports")
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET /v1/reports: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/v1/reports", nil)
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("preflight from an unlisted origin: %d %v", resp.StatusCode, resp.Header)
	}
}

// postWith posts body with a content type and headers.
func postWith(t *testing.T, srv *httptest.Server, contentType, body string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/reports", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

const okReport = `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":3,"epsilon":2}`

// Only the types a page sends: text/plain (fetch and sendBeacon with a
// string) and application/json.
func TestIntakeContentTypes(t *testing.T) {
	srv := serve(t, newCollector(t, "", testRuleset("shop", 50, 3, 3)))
	for ct, want := range map[string]int{
		"text/plain":                        204,
		"text/plain;charset=UTF-8":          204,
		"application/json":                  204,
		"Application/JSON; charset=utf-8":   204,
		"":                                  415,
		"application/x-www-form-urlencoded": 415,
		"multipart/form-data; boundary=x":   415,
		"text/html":                         415,
		"application/octet-stream":          415,
	} {
		if got := postWith(t, srv, ct, okReport, nil).StatusCode; got != want {
			t.Errorf("Content-Type %q: %d, want %d", ct, got, want)
		}
	}
}

// A page of another site cannot make its visitors post; the site's own
// pages, and pages of the collector's own origin, can.
func TestIntakeOrigins(t *testing.T) {
	rs := testRuleset("shop", 50, 3, 3)
	c, err := New(Config{Rulesets: map[string]*engine.Ruleset{"shop": rs}, Now: func() time.Time { return fixedNow },
		Origins: []string{"https://shop.example"}, SourceReportsPerHour: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	srv := serve(t, c)
	for origin, want := range map[string]int{
		"":                          204, // not a page's cross-origin request
		"https://shop.example":      204,
		srv.URL:                     204, // the collector's own origin
		"https://evil.example":      403,
		"https://shop.example.evil": 403,
		"null":                      403,
	} {
		h := map[string]string{}
		if origin != "" {
			h["Origin"] = origin
		}
		resp := postWith(t, srv, "text/plain", okReport, h)
		if resp.StatusCode != want {
			t.Errorf("Origin %q: %d, want %d", origin, resp.StatusCode, want)
		}
		if acao := resp.Header.Get("Access-Control-Allow-Origin"); origin == "https://shop.example" && acao != origin || origin != "https://shop.example" && acao != "" {
			t.Errorf("Origin %q: Access-Control-Allow-Origin %q", origin, acao)
		}
		// The site's pages may read Retry-After (the SDK waits that long).
		if expose := resp.Header.Get("Access-Control-Expose-Headers"); (origin == "https://shop.example") != (expose == "Retry-After") {
			t.Errorf("Origin %q: Access-Control-Expose-Headers %q", origin, expose)
		}
	}
	if _, err := New(Config{Rulesets: map[string]*engine.Ruleset{"shop": rs}, Origins: []string{"shop.example"}}); err == nil {
		t.Error("an origin without a scheme was accepted")
	}
	// The public reads stay open to any page.
	resp, err := http.Get(srv.URL + "/v1/cohort-sizes?ruleset=shop")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("cohort-sizes: Access-Control-Allow-Origin %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// Reports for the previous epoch only within the grace after it ended, for
// the next only within the grace before it starts.
func TestIntakeEpochWindow(t *testing.T) { eachBackend(t, testIntakeEpochWindow) }

func testIntakeEpochWindow(t *testing.T, db string) {
	rs := testRuleset("shop", 50, 3, 3)
	start := time.UnixMilli(2921 * 7 * 86_400_000).UTC() // epoch 2921 begins
	var now time.Time
	c, err := New(Config{DB: db, Rulesets: map[string]*engine.Ruleset{"shop": rs}, Now: func() time.Time { return now }, SourceReportsPerHour: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for _, tc := range []struct {
		at    time.Duration // after epoch 2921 begins
		epoch int64
		ok    bool
	}{
		{30 * time.Minute, 2920, true},
		{59 * time.Minute, 2920, true},
		{61 * time.Minute, 2920, false},
		{3 * 24 * time.Hour, 2920, false},
		{3 * 24 * time.Hour, 2921, true},
		{7*24*time.Hour - 30*time.Minute, 2922, true},
		{7*24*time.Hour - 2*time.Hour, 2922, false},
		{-30 * time.Minute, 2921, true},
		{30 * time.Minute, 2919, false},
	} {
		now = start.Add(tc.at)
		body := fmt.Sprintf(`{"ruleset":"shop","epoch":%d,"mechanism":"krr","value":1,"epsilon":2}`, tc.epoch)
		if err := c.Accept(context.Background(), []byte(body)); (err == nil) != tc.ok {
			t.Errorf("epoch %d at %v into 2921: %v, want accepted %v", tc.epoch, tc.at, err, tc.ok)
		}
	}
}

// One address gets a bounded number of reports an hour; another address is
// counted apart, the count starts again the next hour, and the key that
// tells addresses apart is new each day.
func TestIntakeRateLimitPerSource(t *testing.T) {
	l := newSourceLimiter(3)
	t0 := time.Date(2026, 12, 4, 10, 5, 0, 0, time.UTC)
	for i, want := range []bool{true, true, true, false, false} {
		if got := l.allow("198.51.100.7:5555", t0); got != want {
			t.Errorf("report %d from one address: %v, want %v", i, got, want)
		}
	}
	if !l.allow("198.51.100.8:5555", t0) {
		t.Error("another address was limited")
	}
	if !l.allow("198.51.100.7:6000", t0.Add(time.Hour)) {
		t.Error("the next hour is still limited")
	}
	before := l.keys.Of("198.51.100.7", t0)
	l.allow("198.51.100.7:1", t0.Add(24*time.Hour))
	if after := l.keys.Of("198.51.100.7", t0.Add(24*time.Hour)); after == before {
		t.Error("the key did not change with the day")
	}
	for src := range l.counts {
		for _, b := range [][]byte{[]byte("198.51.100.7"), []byte("198.51.100.8")} {
			if strings.Contains(string(src[:]), string(b)) {
				t.Error("an address is kept in the clear")
			}
		}
	}

	// Through HTTP, with the default allowance.
	c := newCollectorWith(t, Config{})
	srv := serve(t, c)
	refused := 0
	for range DefaultSourceReportsPerHour + 5 {
		if resp := postWith(t, srv, "text/plain", okReport, nil); resp.StatusCode == 429 {
			refused++
			if resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if refused != 5 {
		t.Errorf("%d of %d reports from one address refused, want 5", refused, DefaultSourceReportsPerHour+5)
	}
}

// newCollectorWith is a collector of testRuleset("shop", 50, 3, 3) with cfg.
func newCollectorWith(t *testing.T, cfg Config) *Collector {
	t.Helper()
	if cfg.Rulesets == nil {
		cfg.Rulesets = map[string]*engine.Ruleset{"shop": testRuleset("shop", 50, 3, 3)}
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return fixedNow }
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// The per-epoch cap is on by default, sized from the audience when given.
func TestEpochCapByDefault(t *testing.T) {
	if c := newCollectorWith(t, Config{}); c.maxN != DefaultMaxReportsPerEpoch {
		t.Errorf("default cap %d", c.maxN)
	}
	if c := newCollectorWith(t, Config{Audience: 40_000}); c.maxN != 80_000 {
		t.Errorf("cap for an audience of 40,000: %d", c.maxN)
	}
	if c := newCollectorWith(t, Config{MaxReportsPerEpoch: -1}); c.maxN != 0 {
		t.Errorf("cap turned off: %d", c.maxN)
	}
}

// TestNothingIdentifyingIsStored sends reports with identifying headers and
// cookies and checks the database holds only the count tables, with
// nothing in them but ruleset and experiment ids, epochs, mechanisms and
// numbers.
func TestNothingIdentifyingIsStored(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		c := newCollector(t, db, experimentRuleset())
		srv := serve(t, c)
		for i := range 5 {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/reports",
				strings.NewReader(fmt.Sprintf(`{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":%d,"epsilon":2}`, i)))
			req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
			req.Header.Set("User-Agent", "Mozilla/5.0 secret-agent")
			req.Header.Set("X-Forwarded-For", "203.0.113.7")
			req.AddCookie(&http.Cookie{Name: "uid", Value: "tracking-cookie"})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 204 || len(resp.Cookies()) > 0 {
				t.Fatalf("status %d, cookies %v", resp.StatusCode, resp.Cookies())
			}
		}
		for _, body := range []string{
			`{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":11,"epsilon":2,"outcomes":[{"experiment":"recs","epoch":2918,"value":1,"epsilon":0.5}]}`,
			`{"ruleset":"shop","epoch":2921,"mechanism":"krr","epsilon":2,"outcomes":[{"experiment":"hero-lift","epoch":2920,"value":3,"epsilon":1}]}`,
		} {
			if resp := post(t, srv, body); resp.StatusCode != 204 {
				t.Fatalf("%s: %d", body, resp.StatusCode)
			}
		}

		// Every table and column there is; the schema's version table
		// (PostgreSQL) holds only version numbers.
		var tables []string
		columns := func(table string) []string {
			if strings.HasPrefix(db, "postgres://") {
				return rawQuery(t, db, `SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`, table)
			}
			return rawQuery(t, db, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
		}
		if strings.HasPrefix(db, "postgres://") {
			tables = rawQuery(t, db, `SELECT c.relkind::text || ' ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = 'public' AND c.relkind NOT IN ('i') ORDER BY c.relname`)
			if want := []string{"r counts", "r edgewise_schema", "r outcome_only", "r outcomes", "r totals"}; !slices.Equal(tables, want) {
				t.Fatalf("relations %q, want %q", tables, want)
			}
			if got := columns("edgewise_schema"); !slices.Equal(got, []string{"version"}) {
				t.Errorf("edgewise_schema columns %q", got)
			}
		} else {
			tables = rawQuery(t, db, `SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name`)
			if want := []string{"table counts", "table outcome_only", "table outcomes", "table totals"}; !slices.Equal(tables, want) {
				t.Fatalf("schema objects %q, want %q", tables, want)
			}
		}
		for table, want := range map[string][]string{
			"counts":       {"ruleset", "epoch", "mechanism", "idx", "count"},
			"totals":       {"ruleset", "epoch", "mechanism", "n"},
			"outcomes":     {"ruleset", "experiment", "epoch", "value", "count"},
			"outcome_only": {"ruleset", "epoch", "n"},
		} {
			if got := columns(table); !slices.Equal(got, want) {
				t.Errorf("%s columns %q", table, got)
			}
		}
		var got []string
		for _, q := range []string{
			`SELECT ruleset || ' ' || epoch || ' ' || mechanism || ' ' || idx || ' ' || count FROM counts ORDER BY mechanism, idx`,
			`SELECT ruleset || ' ' || epoch || ' ' || mechanism || ' ' || n FROM totals ORDER BY mechanism`,
			`SELECT ruleset || ' ' || experiment || ' ' || epoch || ' ' || value || ' ' || count FROM outcomes ORDER BY experiment`,
			`SELECT ruleset || ' ' || epoch || ' ' || n FROM outcome_only`,
		} {
			got = append(got, rawQuery(t, db, q)...)
		}
		want := []string{
			"shop 2921 krr 0 1", "shop 2921 krr 1 1", "shop 2921 krr 2 1", "shop 2921 krr 3 1", "shop 2921 krr 4 1",
			"shop 2921 krr 11 1",
			"shop 2921 krr 6",
			"shop hero-lift 2920 3 1", "shop recs 2918 1 1",
			"shop 2921 1",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("rows:\n got %q\nwant %q", got, want)
		}
	})
}

// simulate noises reports from exact true counts with k-ary randomized
// response and feeds them through Accept, the intake's code path.
func simulate(t *testing.T, c *Collector, rs *engine.Ruleset, epoch int64, truth []int, seed uint64) {
	t.Helper()
	k := len(truth)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	eps := rs.Reporting.Epsilon
	e := math.Exp(eps)
	ctx := context.Background()
	// Reports are accepted only in their epoch: send them from its middle.
	restore := c.now
	defer func() { c.now = restore }()
	days := int64(rs.Reporting.EpochDays)
	if days == 0 {
		days = DefaultEpochDays
	}
	inEpoch := time.UnixMilli(epoch*days*86_400_000 + days*86_400_000/2).UTC()
	c.now = func() time.Time { return inEpoch }
	var bodies []string
	for idx, count := range truth {
		for range count {
			v := idx
			if r.Float64() >= e/(e+float64(k)-1) {
				v = r.IntN(k - 1)
				if v >= idx {
					v++
				}
			}
			bodies = append(bodies, fmt.Sprintf(`{"ruleset":%q,"epoch":%d,"mechanism":"krr","value":%d,"epsilon":%g}`, rs.ID, epoch, v, eps))
		}
	}
	// Sent by many senders at once, as devices do, so that group commit
	// batches them (one transaction per report would make these tests
	// slow, PostgreSQL's most of all).
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(len(bodies)); i = next.Add(1) - 1 {
				if err := c.Accept(ctx, []byte(bodies[i])); err != nil {
					t.Errorf("accept %s: %v", bodies[i], err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

func getEstimates(t *testing.T, srv *httptest.Server, query string) Estimates {
	t.Helper()
	resp, err := http.Get(srv.URL + "/v1/estimates?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Cache-Control"), "public, max-age=") {
		t.Fatalf("estimates: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	var est Estimates
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&est); err != nil {
		t.Fatal(err)
	}
	return est
}

func checkEstimates(t *testing.T, c *Collector, est Estimates, rs *engine.Ruleset, truth []int, mechanism string) {
	t.Helper()
	total := 0
	for _, n := range truth {
		total += n
	}
	if est.N != int64(total) || est.Mechanism[mechanism] != int64(total) {
		t.Fatalf("n = %d, mix %v; want %d %s", est.N, est.Mechanism, total, mechanism)
	}
	cat := Catalogue(rs)
	if len(est.Cohorts) != len(cat) {
		t.Fatalf("%d cohorts, want %d", len(est.Cohorts), len(cat))
	}
	suppressed := 0
	for i, id := range cat {
		e, ok := est.Cohorts[id]
		if !ok {
			t.Fatalf("no estimate for %s", id)
		}
		if e.Suppressed {
			suppressed++
			if e.Estimate != nil || e.StdErr != nil || e.Interval != nil {
				t.Errorf("%s: suppressed but shows %+v", id, e)
			}
			if truth[i] >= rs.Reporting.MinK*2 {
				t.Errorf("%s: true count %d suppressed", id, truth[i])
			}
			continue
		}
		if truth[i] < rs.Reporting.MinK {
			t.Errorf("%s: true count %d < min_k %d but published %.0f", id, truth[i], rs.Reporting.MinK, *e.Estimate)
		}
		if z := (*e.Estimate - float64(truth[i])) / *e.StdErr; math.Abs(z) > 4 {
			t.Errorf("%s: estimate %.1f ± %.1f, truth %d (z = %.2f)", id, *e.Estimate, *e.StdErr, truth[i], z)
		}
		if lo, hi := e.Interval[0], e.Interval[1]; math.Abs((hi-lo)/2-1.96**e.StdErr) > 1e-6 {
			t.Errorf("%s: interval [%f, %f] is not ±1.96 SE", id, lo, hi)
		}
	}
	if suppressed == 0 {
		t.Errorf("no cohort suppressed; the zero-count cohorts should be")
	}
}

func TestKRREstimates(t *testing.T) { eachBackend(t, testKRREstimates) }

func testKRREstimates(t *testing.T, db string) {
	rs := testRuleset("krr-shop", 500, 3, 3) // K = 12, ε = 2
	c := newCollector(t, db, rs)
	// 20,000 reports; the last cohort is empty.
	truth := []int{4000, 3000, 2500, 2000, 1500, 1500, 1000, 1000, 1500, 1000, 1000, 0}
	simulate(t, c, rs, thisEpoch-1, truth, 1)
	srv := serve(t, c)
	est := getEstimates(t, srv, fmt.Sprintf("ruleset=krr-shop&epoch=%d", thisEpoch-1))
	checkEstimates(t, c, est, rs, truth, MechanismKRR)
	if !est.Cohorts["d1=b2"].Suppressed {
		t.Errorf("the empty cohort d1=b2 is not suppressed")
	}
	// Without epoch, estimates are of the previous epoch.
	if def := getEstimates(t, srv, "ruleset=krr-shop"); def.Epoch != thisEpoch-1 || def.N != 20000 {
		t.Errorf("default epoch %d n %d", def.Epoch, def.N)
	}

	// cohort-sizes publishes the previous epoch's sizes, a coarse cohort
	// counting its finer cohorts too, rounded, when they reach min_k.
	resp, err := http.Get(srv.URL + "/v1/cohort-sizes?ruleset=krr-shop")
	if err != nil {
		t.Fatal(err)
	}
	var sizes map[string]int64
	json.NewDecoder(resp.Body).Decode(&sizes)
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("cohort-sizes CORS: %v", resp.Header)
	}
	s := c.sets["krr-shop"]
	raw, _, err := c.estimates(context.Background(), s, thisEpoch-1)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range s.catalogue {
		want, variance := raw[i].value, raw[i].variance
		if !strings.Contains(id, "/") {
			for j, fine := range s.catalogue {
				if e := raw[j]; strings.HasPrefix(fine, id+"/") && e.value-1.96*math.Sqrt(e.variance) > 0 {
					want += e.value
					variance += e.variance
				}
			}
		}
		lower := want - float64(DefaultForgeryMargin)*s.forgedWeight() - 1.96*math.Sqrt(variance)
		size, ok := sizes[id]
		if ok != (lower >= float64(rs.Reporting.MinK)) || (ok && size != int64(math.Round(want))) {
			t.Errorf("%s: published %v size %d, want %.1f with lower bound %.1f (min_k %d)", id, ok, size, want, lower, rs.Reporting.MinK)
		}
	}
	// d1=b2 was never reported itself, but its finer cohorts hold 3,500
	// people: it is published, about that size.
	if n := sizes["d1=b2"]; n < 3000 || n > 4000 {
		t.Errorf("d1=b2 published as %d, want about 3500 from its finer cohorts", n)
	}
	// min_k is 500 here: d1=b1/d2=b1 (1,500 people) is certainly above it,
	// d1=b0 (1,000 reported at that level) too.
	for _, id := range []string{"d1=b1/d2=b1", "d1=b0"} {
		if _, ok := sizes[id]; !ok {
			t.Errorf("%s is not published", id)
		}
	}
}

// TestCohortSizesCountFinerCohorts: with three dimensions, a cohort's size
// is its own estimate plus every finer cohort's inside it, at any depth.
func TestCohortSizesCountFinerCohorts(t *testing.T) {
	rs := testRuleset("sizes", 50, 2, 2, 2)
	cat := engine.CohortCatalogue(rs)
	est := make([]estimate, len(cat))
	for i := range est {
		est[i] = estimate{value: float64(100 * (i + 1)), variance: float64(10 * (i + 1))}
	}
	// An estimate whose interval reaches 0 could be an empty cohort: it
	// counts only for itself.
	noisy := slices.Index(cat, "d1=b1/d2=b1/d3=b0")
	est[noisy] = estimate{value: 30, variance: 400}
	got := cohortSizes(cat, est)
	at := func(id string) float64 { return est[slices.Index(cat, id)].value }
	want := at("d1=b1") + at("d1=b1/d2=b0") + at("d1=b1/d2=b1") +
		at("d1=b1/d2=b0/d3=b0") + at("d1=b1/d2=b0/d3=b1") + at("d1=b1/d2=b1/d3=b1")
	if got["d1=b1"].value != want || got["d1=b1"].variance != want/10 {
		t.Errorf("d1=b1 = %+v, want value %v, variance %v", got["d1=b1"], want, want/10)
	}
	if got["d1=b1/d2=b1/d3=b0"].value != 30 {
		t.Errorf("the noisy cohort's own size is %v, want its estimate 30", got["d1=b1/d2=b1/d3=b0"].value)
	}
	if w := at("d1=b0/d2=b1") + at("d1=b0/d2=b1/d3=b0") + at("d1=b0/d2=b1/d3=b1"); got["d1=b0/d2=b1"].value != w {
		t.Errorf("d1=b0/d2=b1 = %v, want %v", got["d1=b0/d2=b1"].value, w)
	}
	if got["d1=b0/d2=b1/d3=b1"].value != at("d1=b0/d2=b1/d3=b1") {
		t.Errorf("a full cohort's size is its own estimate")
	}
	if len(got) != len(cat) {
		t.Errorf("%d sizes for %d cohorts", len(got), len(cat))
	}
}

// TestLargeCatalogueEstimates: randomized response over K = 60 cohorts.
func TestLargeCatalogueEstimates(t *testing.T) { eachBackend(t, testLargeCatalogueEstimates) }

func testLargeCatalogueEstimates(t *testing.T, db string) {
	rs := testRuleset("large-shop", 500, 4, 2, 6) // K = 60, ε = 2
	c := newCollector(t, db, rs)
	// 20,000 reports spread over 16 cohorts; 44 are empty.
	truth := make([]int, 60)
	for i := 0; i < 60; i += 4 {
		truth[i] = 1250
	}
	truth[59] = 1250
	simulate(t, c, rs, thisEpoch, truth, 2)
	est := getEstimates(t, serve(t, c), fmt.Sprintf("ruleset=large-shop&epoch=%d", thisEpoch))
	checkEstimates(t, c, est, rs, truth, MechanismKRR)
}

// TestSmallCohortSuppressedAtDefaultMinK: with min_k 50, a cohort whose
// true count is below it and a noise-free-ish population is withheld.
func TestSmallCohortSuppressed(t *testing.T) { eachBackend(t, testSmallCohortSuppressed) }

func testSmallCohortSuppressed(t *testing.T, db string) {
	rs := testRuleset("small", 0, 2) // K = 2, default min_k 50
	c := newCollector(t, db, rs)
	simulate(t, c, rs, thisEpoch, []int{1000, 5}, 3)
	est := getEstimates(t, serve(t, c), fmt.Sprintf("ruleset=small&epoch=%d", thisEpoch))
	if est.MinK != 50 {
		t.Errorf("min_k %d", est.MinK)
	}
	if !est.Cohorts["d1=b1"].Suppressed || est.Cohorts["d1=b0"].Suppressed {
		t.Errorf("suppression: %+v", est.Cohorts)
	}
}

func TestPersistsAcrossReopen(t *testing.T) { eachBackend(t, testPersistsAcrossReopen) }

func testPersistsAcrossReopen(t *testing.T, path string) {
	rs := testRuleset("shop", 50, 3, 3)
	m := map[string]*engine.Ruleset{"shop": rs}
	now := func() time.Time { return fixedNow }
	c, err := New(Config{DB: path, Rulesets: m, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	truth := []int{300, 200, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	simulate(t, c, rs, thisEpoch, truth, 4)
	srv := serve(t, c)
	before := getEstimates(t, srv, "ruleset=shop&epoch=2921")
	srv.Close()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c2, err := New(Config{DB: path, Rulesets: m, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	after := getEstimates(t, serve(t, c2), "ruleset=shop&epoch=2921")
	if after.N != 600 {
		t.Fatalf("after reopen n = %d, want 600", after.N)
	}
	a, _ := json.Marshal(before)
	b, _ := json.Marshal(after)
	if string(a) != string(b) {
		t.Fatalf("estimates changed across reopen:\n%s\n%s", a, b)
	}
}

func TestMaxReportsPerEpoch(t *testing.T) { eachBackend(t, testMaxReportsPerEpoch) }

func testMaxReportsPerEpoch(t *testing.T, db string) {
	rs := testRuleset("shop", 50, 3)
	c, err := New(Config{DB: db, Rulesets: map[string]*engine.Ruleset{"shop": rs}, MaxReportsPerEpoch: 2, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv := serve(t, c)
	body := `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":1,"epsilon":2}`
	for i, want := range []int{204, 204, 429} {
		if got := post(t, srv, body).StatusCode; got != want {
			t.Errorf("report %d: %d, want %d", i, got, want)
		}
	}
	// The next epoch has its own allowance.
	c.now = func() time.Time { return fixedNow.Add(4 * 24 * time.Hour) }
	if got := post(t, srv, strings.Replace(body, "2921", "2922", 1)).StatusCode; got != 204 {
		t.Errorf("next epoch: %d", got)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("no rulesets accepted")
	}
	if _, err := New(Config{Rulesets: map[string]*engine.Ruleset{"a": testRuleset("b", 50, 2)}}); err == nil {
		t.Error("mismatched id accepted")
	}
	noCohorts := testRuleset("a", 50)
	if _, err := New(Config{Rulesets: map[string]*engine.Ruleset{"a": noCohorts}}); err == nil {
		t.Error("ruleset without cohorts accepted")
	}
	// A ruleset that fails validation is refused, the lexicon's
	// sensitive categories included, though the engine on a device would
	// leave that check to the signature.
	invalid := testRuleset("a", 50, 2)
	invalid.Reporting.MinK = 3
	sensitive := testRuleset("a", 50, 2)
	sensitive.Catalogue[0].Title = "Prenatal vitamins"
	for _, rs := range []*engine.Ruleset{invalid, sensitive} {
		_, err := New(Config{Rulesets: map[string]*engine.Ruleset{"a": rs}})
		var ee *engine.Error
		if !errors.As(err, &ee) || ee.Code != engine.CodePrivacyPolicy {
			t.Errorf("New = %v, want a privacy_policy refusal", err)
		}
	}
}

func TestEstimatesErrors(t *testing.T) {
	srv := serve(t, newCollector(t, "", testRuleset("shop", 50, 2)))
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/v1/estimates?ruleset=nope", 404},
		{"/v1/estimates?ruleset=shop&epoch=x", 400},
		{"/v1/cohort-sizes?ruleset=nope", 404},
		{"/v1/cohort-sizes?ruleset=shop", 200},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
	}
}

// Behind a trusted load balancer the allowance is per visitor, read from
// the right of X-Forwarded-For; without one the header changes nothing.
func TestSourceBehindAProxy(t *testing.T) {
	send := func(srv *httptest.Server, xff ...string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/reports", strings.NewReader(okReport))
		req.Header.Set("Content-Type", "text/plain")
		for _, h := range xff {
			req.Header.Add("X-Forwarded-For", h)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	behind := serve(t, newCollectorWith(t, Config{SourceReportsPerHour: 2, TrustedProxies: []string{"127.0.0.0/8", "10.1.2.3"}}))
	for i, want := range []int{204, 204, 429} {
		if got := send(behind, "203.0.113.7"); got != want {
			t.Errorf("visitor A, report %d: %d, want %d", i, got, want)
		}
	}
	// Another visitor through the same balancer has an allowance of its own,
	// and so does one behind a second trusted hop.
	if got := send(behind, "203.0.113.8"); got != 204 {
		t.Errorf("visitor B: %d", got)
	}
	if got := send(behind, "203.0.113.9, 10.1.2.3"); got != 204 {
		t.Errorf("visitor C through two proxies: %d", got)
	}
	// A client cannot pick its source: what it sends is left of what the
	// balancer appended.
	for _, spoof := range []string{"198.51.100.1, 203.0.113.7", "198.51.100.2"} {
		hops := strings.Split(spoof, ", ")
		if got := send(behind, strings.Join(append(hops[:len(hops)-1:len(hops)-1], "203.0.113.7"), ", ")); got != 429 {
			t.Errorf("visitor A claiming %q: %d, want 429", spoof, got)
		}
	}
	if got := send(behind, "198.51.100.3", "203.0.113.7"); got != 429 {
		t.Errorf("visitor A with a header of its own before the balancer's: %d, want 429", got)
	}

	// Untrusted: the header is ignored and the peer is the source.
	direct := serve(t, newCollectorWith(t, Config{SourceReportsPerHour: 2}))
	for i, want := range []int{204, 204, 429} {
		if got := send(direct, fmt.Sprintf("203.0.113.%d", 50+i)); got != want {
			t.Errorf("untrusted peer, report %d: %d, want %d", i, got, want)
		}
	}

	if _, err := New(Config{Rulesets: map[string]*engine.Ruleset{"shop": testRuleset("shop", 50, 3)}, TrustedProxies: []string{"lb.internal"}}); err == nil || !strings.Contains(err.Error(), `"lb.internal"`) {
		t.Errorf("a host name as a trusted proxy: %v", err)
	}
}

// A refused body is described by the kind of fault, never by its content.
func TestDecodeReportErrors(t *testing.T) {
	for body, want := range map[string]string{
		`{"ruleset":"s","value":1,"value":7}`:            "a key appears twice",
		`{"ruleset":"s","secret-uid":"abc123"}`:          "unknown or invalid field",
		`{"Ruleset":"s"}`:                                "unknown or invalid field",
		`{"ruleset":"s","epoch":"2921"}`:                 "field epoch has the wrong type",
		`{"ruleset":"s","epoch":2921`:                    "empty or truncated body",
		``:                                               "empty or truncated body",
		`{"ruleset":"s"} {"ruleset":"t"}`:                "invalid JSON",
		`ruleset=abc123`:                                 "invalid JSON",
		"{\"ruleset\":\"\xff\xfesecret-uid\"}":           "invalid JSON",
		`{"ruleset":"s","value":1e400,"secret-uid":"x"}`: "field value has the wrong type",
	} {
		_, err := decodeReport([]byte(body))
		if err == nil || err.Error() != "malformed report: "+want {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
		if err != nil && (strings.Contains(err.Error(), "abc123") || strings.Contains(err.Error(), "secret")) {
			t.Errorf("%q: the error echoes the body: %v", body, err)
		}
	}
}
