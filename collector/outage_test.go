package collector

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgewise/edgewise/internal/pgtest"
)

// With its database away, a collector says so on every path: 503 with
// Retry-After for reports and reads (never a 2xx for a report not stored,
// nor a cached error), 503 on /readyz while /healthz stays 200, and 0 for
// edgewise_collector_database_up. When the database is back it serves
// again without a restart.
func TestDatabaseOutage(t *testing.T) {
	server := pgtest.Start(t)
	c := newCollector(t, server.DSN, testRuleset("shop", 50, 3))
	srv := serve(t, c)
	report := `{"ruleset":"shop","epoch":2921,"mechanism":"krr","value":1,"epsilon":2}`
	get := func(path string) *http.Response {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	body := func(resp *http.Response) string {
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := post(t, srv, report).StatusCode; got != 204 {
		t.Fatalf("before: %d", got)
	}
	if err := server.Shutdown(); err != nil {
		t.Fatal(err)
	}

	resp := post(t, srv, report)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("report while down: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for _, path := range []string{"/v1/cohorts?ruleset=shop", "/v1/cohort-sizes?ruleset=shop", "/readyz"} {
		resp := get(path)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s while down: %d, headers %v", path, resp.StatusCode, resp.Header)
		}
		resp.Body.Close()
	}
	if resp := get("/healthz"); resp.StatusCode != 200 {
		t.Errorf("/healthz while down: %d", resp.StatusCode)
	}
	if m := body(get("/metrics")); !strings.Contains(m, "edgewise_collector_database_up 0") ||
		!strings.Contains(m, `edgewise_collector_requests_total{code="503",endpoint="reports"} 1`) {
		t.Errorf("metrics while down:\n%s", m)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := server.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if got := post(t, srv, report).StatusCode; got != 204 {
		t.Fatalf("after the restart: %d", got)
	}
	if resp := get("/readyz"); resp.StatusCode != 200 {
		t.Errorf("/readyz after the restart: %d", resp.StatusCode)
	}
	m := body(get("/metrics"))
	for _, want := range []string{
		"edgewise_collector_database_up 1",
		`edgewise_collector_requests_total{code="204",endpoint="reports"} 2`,
		`edgewise_collector_commits_total{result="ok"} 2`,
		"edgewise_collector_commit_seconds_count 2",
		"edgewise_collector_batch_reports_sum 2",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
	tl, err := c.load(ctx, c.sets["shop"], thisEpoch)
	if err != nil || tl[MechanismKRR].n != 2 {
		t.Fatalf("stored %+v, %v; want the two acknowledged reports", tl[MechanismKRR], err)
	}
}
