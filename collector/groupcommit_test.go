package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgewise/edgewise/engine"
)

// TestCohortsEndpoint: GET /v1/cohorts, the spec's name, serves exactly
// what GET /v1/estimates (kept as an alias) serves, including errors.
func TestCohortsEndpoint(t *testing.T) { eachBackend(t, testCohortsEndpoint) }

func testCohortsEndpoint(t *testing.T, db string) {
	rs := testRuleset("shop", 50, 3, 3)
	c := newCollector(t, db, rs)
	simulate(t, c, rs, thisEpoch-1, []int{900, 600, 300, 200, 0, 0, 0, 0, 0, 0, 0, 0}, 5)
	simulate(t, c, rs, thisEpoch, []int{100, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 6)
	srv := serve(t, c)
	get := func(path string) (int, string, http.Header) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	for _, q := range []string{"?ruleset=shop", "?ruleset=shop&epoch=2921", "?ruleset=shop&epoch=2920", "?ruleset=nope", "?ruleset=shop&epoch=x", ""} {
		st1, b1, h1 := get("/v1/cohorts" + q)
		st2, b2, _ := get("/v1/estimates" + q)
		if st1 != st2 || b1 != b2 {
			t.Errorf("%s: /v1/cohorts %d %s\n/v1/estimates %d %s", q, st1, b1, st2, b2)
		}
		// A read that succeeds may be cached (a minute while its epoch
		// takes reports, a day once it is final); an error never is.
		wantCache := map[string]string{
			"?ruleset=shop":            "public, max-age=86400, stale-if-error=86400",
			"?ruleset=shop&epoch=2920": "public, max-age=86400, stale-if-error=86400",
			"?ruleset=shop&epoch=2921": "public, max-age=60, stale-if-error=86400",
		}[q]
		if wantCache == "" {
			wantCache = "no-store"
		}
		if h1.Get("Cache-Control") != wantCache || h1.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: Cache-Control %q, want %q; headers %v", q, h1.Get("Cache-Control"), wantCache, h1)
		}
	}
	st, body, _ := get("/v1/cohorts?ruleset=shop")
	var est Estimates
	if err := json.Unmarshal([]byte(body), &est); st != 200 || err != nil || est.Epoch != thisEpoch-1 || est.N != 2000 {
		t.Fatalf("/v1/cohorts: %d %v %+v", st, err, est)
	}
	resp, err := http.Post(srv.URL+"/v1/cohorts?ruleset=shop", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST /v1/cohorts: %d", resp.StatusCode)
	}
}

// TestNoAcknowledgedReportLost posts reports concurrently, closes the
// collector while some may still be in flight, reopens the database and
// checks the stored totals equal the number of 204s.
func TestNoAcknowledgedReportLost(t *testing.T) { eachBackend(t, testNoAcknowledgedReportLost) }

func testNoAcknowledgedReportLost(t *testing.T, path string) {
	rs := testRuleset("shop", 50, 3, 3)
	m := map[string]*engine.Ruleset{"shop": rs}
	now := func() time.Time { return fixedNow }
	c, err := New(Config{DB: path, Rulesets: m, Now: now, SourceReportsPerHour: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(c.Handler())
	srv.Start()
	defer srv.Close()

	const clients, perClient = 32, 150
	var acked, refused atomic.Int64
	var wg sync.WaitGroup
	var closeOnce sync.Once
	closed := make(chan struct{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for g := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				mech := `"krr","value":` + fmt.Sprint((g+i)%12)
				body := `{"ruleset":"shop","epoch":2921,"mechanism":` + mech + `,"epsilon":2}`
				resp, err := client.Post(srv.URL+"/v1/reports", "application/json", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case 204:
					acked.Add(1)
				case 503:
					refused.Add(1)
				default:
					t.Errorf("status %d", resp.StatusCode)
				}
				// Halfway through, close the collector under load.
				if g == 0 && i == perClient/2 {
					closeOnce.Do(func() {
						go func() {
							if err := c.Close(); err != nil {
								t.Error(err)
							}
							close(closed)
						}()
					})
				}
			}
		}()
	}
	wg.Wait()
	<-closed
	if acked.Load() == 0 || acked.Load()+refused.Load() != clients*perClient {
		t.Fatalf("acked %d, refused %d of %d", acked.Load(), refused.Load(), clients*perClient)
	}
	t.Logf("%d acknowledged, %d refused after close", acked.Load(), refused.Load())

	c2, err := New(Config{DB: path, Rulesets: m, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	tallies, err := c2.load(context.Background(), c2.sets["shop"], thisEpoch)
	if err != nil {
		t.Fatal(err)
	}
	var n, krrCounts int64
	for m, tl := range tallies {
		n += tl.n
		if m == MechanismKRR {
			for _, x := range tl.counts {
				krrCounts += x
			}
			if krrCounts != tl.n {
				t.Errorf("krr counts sum %d, krr n %d", krrCounts, tl.n)
			}
		}
	}
	if n != acked.Load() {
		t.Fatalf("stored %d reports, acknowledged %d", n, acked.Load())
	}
}

// TestGroupCommitCap: the per-epoch cap holds when many reports for one
// epoch land in the same batch.
func TestGroupCommitCap(t *testing.T) { eachBackend(t, testGroupCommitCap) }

func testGroupCommitCap(t *testing.T, db string) {
	rs := testRuleset("shop", 50, 3)
	c, err := New(Config{DB: db, Rulesets: map[string]*engine.Ruleset{"shop": rs}, MaxReportsPerEpoch: 100, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ok, full atomic.Int64
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.Accept(context.Background(), []byte(fmt.Sprintf(`{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":%d,"epsilon":2}`, i%3)))
			if err == nil {
				ok.Add(1)
			} else if ie, _ := err.(*intakeError); ie != nil && ie.status == 429 {
				full.Add(1)
			} else {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 100 || full.Load() != 200 {
		t.Fatalf("%d counted, %d refused; want 100, 200", ok.Load(), full.Load())
	}
	tl, err := c.load(context.Background(), c.sets["shop"], thisEpoch)
	if err != nil {
		t.Fatal(err)
	}
	if n := tl[MechanismKRR].n; n != 100 || tl[MechanismKRR].counts[0]+tl[MechanismKRR].counts[1]+tl[MechanismKRR].counts[2] != 100 {
		t.Fatalf("stored %+v", tl[MechanismKRR])
	}
}
