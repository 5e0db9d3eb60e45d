package collector

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgewise/edgewise/engine"
)

// benchConns are the numbers of keep-alive connections BenchmarkIntake
// drives at once, each with one request in flight: the throughput a load
// reaches and the latency it costs, side by side.
var benchConns = []int{16, 32, 64}

// BenchmarkIntake drives the real handler in a real http.Server over
// loopback against a file database, and reports throughput and p50/p99
// latency of POST /v1/reports. Each connection is a lean HTTP/1.1
// keep-alive client (pre-built request, http.ReadResponse), the way load
// generators such as wrk work, so the two cores go to the collector rather
// than to net/http's client machinery. After the run the database is closed,
// reopened and checked to hold every acknowledged report.
func BenchmarkIntake(b *testing.B) {
	for _, conns := range benchConns {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) { benchmarkIntake(b, conns) })
	}
}

func benchmarkIntake(b *testing.B, conns int) {
	rs := testRuleset("shop", 50, 3, 3)
	dbPath := filepath.Join(b.TempDir(), "bench.db")
	// One address sends everything: no per-source allowance.
	cfg := Config{DB: dbPath, Rulesets: map[string]*engine.Ruleset{"shop": rs}, Now: func() time.Time { return fixedNow }, SourceReportsPerHour: -1}
	c, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: c.Handler()}
	go srv.Serve(l)

	requests := make([][]byte, 12)
	for i := range requests {
		body := fmt.Sprintf(`{"ruleset":"shop","epoch":%d,"mechanism":"krr","value":%d,"epsilon":2}`, thisEpoch, i)
		requests[i] = fmt.Appendf(nil, "POST /v1/reports HTTP/1.1\r\nHost: collector\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
	var next atomic.Int64 // requests handed out
	var acked atomic.Int64
	lat := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				b.Error(err)
				return
			}
			defer nc.Close()
			br := bufio.NewReader(nc)
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				t0 := time.Now()
				if _, err := nc.Write(requests[i%int64(len(requests))]); err != nil {
					b.Error(err)
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				acked.Add(1)
				lat[conn] = append(lat[conn], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	batches, reports := c.w.batches.Load(), c.w.reports.Load()
	srv.Shutdown(context.Background())
	if err := c.Close(); err != nil {
		b.Fatal(err)
	}

	all := slices.Concat(lat...)
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	p := func(q float64) float64 { return float64(all[int(q*float64(len(all)-1))]) / 1e6 }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "reports/s")
	b.ReportMetric(float64(reports)/float64(max(batches, 1)), "reports/batch")
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")

	// Every acknowledged report survives a close and reopen.
	c2, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer c2.Close()
	tl, err := c2.load(context.Background(), c2.sets["shop"], thisEpoch)
	if err != nil {
		b.Fatal(err)
	}
	var got int64
	if t := tl[MechanismKRR]; t != nil {
		got = t.n
	}
	if want := acked.Load(); got < want {
		b.Fatalf("%d reports stored after reopening, %d were acknowledged", got, want)
	}
}
