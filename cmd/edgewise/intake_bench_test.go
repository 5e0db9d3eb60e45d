package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgewise/edgewise/internal/loadgen"
	"github.com/edgewise/edgewise/internal/pgtest"
)

// BenchmarkCollectorIntake measures report intake end to end, every part
// a process of its own as in production: the load generator (64
// keep-alive connections, one request in flight each, spread evenly over
// the collectors), one or two `edgewise collect` processes, and the
// database: a SQLite file, or a PostgreSQL server that syncs to disk as a
// production one does. A report is acknowledged only after its batch
// committed, and the run fails unless every acknowledged report is stored.
//
// Besides reports/s and the latency of acknowledged reports, it reports how
// many of the machine's cores each part kept busy (from the processes'
// rusage and /proc/stat), which is where the time goes.
func BenchmarkCollectorIntake(b *testing.B) {
	for _, tc := range []struct {
		backend    string
		collectors int
	}{{"sqlite", 1}, {"postgres", 1}, {"postgres", 2}} {
		b.Run(fmt.Sprintf("%s/collectors=%d", tc.backend, tc.collectors), func(b *testing.B) {
			benchmarkCollectorIntake(b, tc.backend, tc.collectors)
		})
	}
}

// benchDuration is how long each run loads the collectors, and
// benchConns with how many connections: 64, or $EDGEWISE_BENCH_CONNS.
// $EDGEWISE_BENCH_COLLECT adds flags to every collector (for experiments:
// "--max-per-epoch -1" takes the cap's lock out of the picture).
const benchDuration = 5 * time.Second

var benchConns = func() int {
	if n, err := strconv.Atoi(os.Getenv("EDGEWISE_BENCH_CONNS")); err == nil && n > 0 {
		return n
	}
	return 64
}()

func benchmarkCollectorIntake(b *testing.B, backend string, collectors int) {
	s := newSite(b)
	var db string
	if backend == "postgres" {
		db = pgtest.Durable(b).DSN
	} else {
		db = "sqlite:" + filepath.Join(b.TempDir(), "counts.db")
	}
	var cs []*child
	var targets []string
	for range collectors {
		c := startCollector(b, s, db, strings.Fields(os.Getenv("EDGEWISE_BENCH_COLLECT"))...)
		cs = append(cs, c)
		targets = append(targets, c.url)
	}
	spec := s.load
	spec.Targets, spec.Conns, spec.Duration = targets, benchConns, benchDuration
	specJSON, _ := json.Marshal(map[string]any{"loadgen": spec})
	gen := exec.Command(os.Args[0])
	gen.Env = append(os.Environ(), cliArgsEnv+"="+string(specJSON))
	gen.Stderr = os.Stderr

	busy0, total0 := machineCPU(b)
	b.ResetTimer()
	out, err := gen.Output()
	b.StopTimer()
	busy1, total1 := machineCPU(b)
	if err != nil {
		b.Fatalf("load generator: %v", err)
	}
	var res loadgen.Result
	if err := json.Unmarshal(out, &res); err != nil {
		b.Fatalf("load generator said %q: %v", out, err)
	}
	if res.Acked == 0 || res.Sent != res.Acked {
		b.Fatalf("not every report was acknowledged: %s", &res)
	}
	// What the collectors' own metrics say about their batches.
	var commits, commitSecs, batched float64
	for _, c := range cs {
		m := scrape(b, c.url)
		commits += m["edgewise_collector_commit_seconds_count"]
		commitSecs += m["edgewise_collector_commit_seconds_sum"]
		batched += m["edgewise_collector_batch_reports_sum"]
	}
	// The collectors' CPU, once they have exited (SIGTERM: they finish
	// what is queued).
	var collectorCPU time.Duration
	for _, c := range cs {
		c.cmd.Process.Signal(syscall.SIGTERM)
		<-c.exited
		collectorCPU += c.cmd.ProcessState.UserTime() + c.cmd.ProcessState.SystemTime()
	}
	genCPU := gen.ProcessState.UserTime() + gen.ProcessState.SystemTime()
	if backend == "postgres" {
		reports, counted := stored(b, db, s)
		if reports < res.Acked || reports != counted {
			b.Fatalf("stored %d (counts %d), acknowledged %d", reports, counted, res.Acked)
		}
	}
	secs := res.Elapsed.Seconds()
	perCore := float64(total1-total0) / float64(numCPU()) // ticks that passed on each core
	busyCores := float64(busy1-busy0) / perCore           // cores kept busy, on average
	b.ReportMetric(res.PerSecond, "reports/s")
	b.ReportMetric(float64(res.P50)/1e6, "p50-ms")
	b.ReportMetric(float64(res.P99)/1e6, "p99-ms")
	b.ReportMetric(batched/max(commits, 1), "reports/batch")
	b.ReportMetric(commitSecs/max(commits, 1)*1e3, "commit-ms")
	b.ReportMetric(collectorCPU.Seconds()/secs, "collector-cores")
	b.ReportMetric(genCPU.Seconds()/secs, "loadgen-cores")
	b.ReportMetric(max(busyCores-(collectorCPU+genCPU).Seconds()/secs, 0), "db+rest-cores")
	b.ReportMetric(0, "ns/op") // one timed run, not per-op figures
}

// machineCPU reads /proc/stat's first line: busy and total ticks of all
// cores.
func machineCPU(b *testing.B) (busy, total int64) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Fatal(err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)[1:]
	for i, f := range fields {
		n, _ := strconv.ParseInt(f, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

func numCPU() int {
	data, _ := os.ReadFile("/proc/stat")
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "cpu") && len(l) > 3 && l[3] >= '0' && l[3] <= '9' {
			n++
		}
	}
	return max(n, 1)
}

// scrape reads a collector's /metrics: the value of each unlabelled series.
func scrape(b *testing.B, base string) map[string]float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") || strings.Contains(name, "{") {
			continue
		}
		out[name], _ = strconv.ParseFloat(value, 64)
	}
	return out
}
