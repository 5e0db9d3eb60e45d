package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/edgewise/edgewise/internal/loadgen"
	"github.com/edgewise/edgewise/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// The collector's fault tests: real collector processes sharing a real
// PostgreSQL server behind a load balancer, under load.

// stored is what the database holds for the site's epoch: the reports
// (totals) and the sum of the per-cohort counts, which must agree.
func stored(t testing.TB, dsn string, s site) (reports, counted int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	err = conn.QueryRow(ctx, `SELECT COALESCE((SELECT sum(n) FROM totals WHERE ruleset = $1 AND epoch = $2), 0)::bigint,
		COALESCE((SELECT sum(count) FROM counts WHERE ruleset = $1 AND epoch = $2), 0)::bigint`, s.load.Ruleset, s.load.Epoch).Scan(&reports, &counted)
	if err != nil {
		t.Fatal(err)
	}
	return reports, counted
}

func loadThrough(s site, target string, conns int, d time.Duration) loadgen.Config {
	spec := s.load
	spec.Targets, spec.Conns, spec.Duration = []string{target}, conns, d
	return spec.config()
}

// noBodiesLogged fails when a collector's output holds anything of a
// report.
func noBodiesLogged(t *testing.T, children ...*child) {
	t.Helper()
	for _, c := range children {
		if out := c.logs(); strings.Contains(out, "mechanism") || strings.Contains(out, "krr") || strings.Contains(out, "epsilon") {
			t.Errorf("a collector logged report content or an address:\n%s", out)
		}
	}
}

// fleet is two collector processes behind a load balancer, sharing one
// PostgreSQL server of the test's own.
type fleet struct {
	t    *testing.T
	pg   *pgtest.Server
	site site
	a, b *child
	lb   string
}

func newFleet(t *testing.T) *fleet {
	f := &fleet{t: t, pg: pgtest.Start(t), site: newSite(t)}
	f.a = startCollector(t, f.site, f.pg.DSN)
	f.b = startCollector(t, f.site, f.pg.DSN)
	f.lb = newBalancer(t, f.a.url, f.b.url)
	return f
}

// load posts reports through the balancer from 16 connections for d, in
// the background; the channel gets what happened.
func (f *fleet) load(d time.Duration) <-chan *loadgen.Result {
	done := make(chan *loadgen.Result, 1)
	go func() {
		res, err := loadgen.Run(context.Background(), loadThrough(f.site, f.lb, 16, d))
		if err != nil {
			f.t.Error(err)
		}
		done <- res
	}()
	return done
}

// Two collectors behind one address share a database; one of them is
// killed with SIGKILL under load. Every acknowledged report is counted
// exactly once: none is lost, none counted twice, and the only stored
// reports not acknowledged are the few in flight on the killed process.
func TestCollectorKilledUnderLoad(t *testing.T) {
	f := newFleet(t)
	s, pg, a, b := f.site, f.pg, f.a, f.b
	done := f.load(4 * time.Second)
	time.Sleep(1500 * time.Millisecond)
	a.kill()
	res := <-done
	if res == nil {
		t.FailNow()
	}
	reports, counted := stored(t, pg.DSN, s)
	failed := res.Sent - res.Acked
	t.Logf("sent %d, acknowledged %d, failed %d (statuses %v, network errors %d); stored %d", res.Sent, res.Acked, failed, res.Status, res.NetErrors, reports)
	if reports != counted {
		t.Fatalf("totals say %d reports, the cohort counts add up to %d", reports, counted)
	}
	if reports < res.Acked {
		t.Fatalf("lost %d acknowledged reports: %d acknowledged, %d stored", res.Acked-reports, res.Acked, reports)
	}
	if reports > res.Acked+failed {
		t.Fatalf("stored %d, more than the %d sent", reports, res.Acked+failed)
	}
	if failed == 0 {
		t.Fatal("no request failed: the kill did not happen under load")
	}
	// What the survivor took alone after the kill.
	if res.Acked < 1000 {
		t.Fatalf("only %d reports acknowledged", res.Acked)
	}
	noBodiesLogged(t, a, b)
}

// PostgreSQL restarts under load. While it is down the collectors answer
// 503 with Retry-After and never 2xx for a report not stored; afterwards
// they take reports again by themselves, and what was acknowledged is
// exactly what is stored.
func TestCollectorsRideOutAPostgresRestart(t *testing.T) {
	f := newFleet(t)
	s, pg, a, b := f.site, f.pg, f.a, f.b
	ctx := context.Background()
	done := f.load(6 * time.Second)
	time.Sleep(1500 * time.Millisecond)
	if err := pg.Shutdown(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := pg.Restart(rctx); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res == nil {
		t.FailNow()
	}
	t.Logf("during the restart: %s", res)
	for code := range res.Status {
		if code != 204 && code != 503 {
			t.Errorf("answered %d %d times; only 204 and 503 are right", code, res.Status[code])
		}
	}
	if res.Status[503] == 0 {
		t.Fatal("no 503 while the database was down")
	}
	if res.RetryAfter != res.Status[503] {
		t.Errorf("%d of %d 503s carried Retry-After", res.RetryAfter, res.Status[503])
	}
	if res.NetErrors != 0 {
		t.Errorf("%d requests failed without an answer", res.NetErrors)
	}

	// Recovered by themselves: every report now goes through, on both.
	spec := s.load
	spec.Targets, spec.Conns = []string{a.url, b.url}, 8
	cfg := spec.config()
	cfg.Reports = 2000
	after, err := loadgen.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if after.Acked != 2000 {
		t.Fatalf("after the restart: %s", after)
	}
	reports, counted := stored(t, pg.DSN, s)
	t.Logf("acknowledged %d + %d, stored %d", res.Acked, after.Acked, reports)
	if reports != counted || reports != res.Acked+after.Acked {
		t.Fatalf("stored %d reports (cohort counts %d), acknowledged %d", reports, counted, res.Acked+after.Acked)
	}
	noBodiesLogged(t, a, b)
	// The outage is in the log, once when it starts and once when it ends.
	for _, c := range []*child{a, b} {
		if out := c.logs(); strings.Count(out, "cannot write reports") != 1 || strings.Count(out, "writing reports again") != 1 {
			t.Errorf("a collector's log should say once that writing failed and once that it recovered:\n%s", out)
		}
	}
	t.Logf("collector A's log:\n%s", a.logs())
}
