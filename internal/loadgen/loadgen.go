// Package loadgen posts cohort reports to collectors as fast as they take
// them, and says what happened to each: for the collector's benchmarks and
// its fault tests. Each connection is a keep-alive HTTP/1.1 connection with
// one request in flight, as a browser's beacon is.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config says what to send, where and for how long.
type Config struct {
	// Targets are collectors' base URLs; connection i posts to target
	// i mod len(Targets).
	Targets []string
	// Conns is how many connections post at once.
	Conns int
	// Duration stops the run; Reports (when > 0) stops it sooner, after
	// that many reports were sent.
	Duration time.Duration
	Reports  int64
	// Body is report i's body.
	Body func(i int64) []byte
	// Timeout bounds one request (default 10 s).
	Timeout time.Duration
}

// Result is what happened.
type Result struct {
	Sent      int64         `json:"sent"`
	Acked     int64         `json:"acked"`  // 204: counted and committed
	Status    map[int]int64 `json:"status"` // every answer, by status code
	NetErrors int64         `json:"net_errors"`
	// RetryAfter is how many non-2xx answers carried Retry-After.
	RetryAfter int64         `json:"retry_after"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	// P50 and P99 are the latencies of acknowledged reports.
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
	// PerSecond is acknowledged reports per second.
	PerSecond float64 `json:"per_second"`
}

// Run sends until ctx is done, the duration passes or Reports were sent.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if len(cfg.Targets) == 0 || cfg.Conns <= 0 || cfg.Body == nil {
		return nil, errors.New("loadgen: needs targets, connections and a body")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	var next atomic.Int64
	res := &Result{Status: map[int]int64{}}
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for g := range cfg.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{
				DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
				MaxIdleConnsPerHost: 1,
				DisableCompression:  true,
			}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: cfg.Timeout}
			url := cfg.Targets[g%len(cfg.Targets)] + "/v1/reports"
			var mine []time.Duration
			status := map[int]int64{}
			var netErrs, retryAfter int64
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if cfg.Reports > 0 && i >= cfg.Reports {
					break
				}
				t0 := time.Now()
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(cfg.Body(i)))
				req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
				resp, err := client.Do(req)
				if err != nil {
					netErrs++
					// A refused or reset connection: don't spin.
					time.Sleep(10 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status[resp.StatusCode]++
				if resp.StatusCode == http.StatusNoContent {
					mine = append(mine, time.Since(t0))
				} else {
					if resp.Header.Get("Retry-After") != "" {
						retryAfter++
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			for s, n := range status {
				res.Status[s] += n
				res.Sent += n
			}
			res.NetErrors += netErrs
			res.Sent += netErrs
			res.RetryAfter += retryAfter
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Acked = res.Status[http.StatusNoContent]
	if len(lat) > 0 {
		slices.Sort(lat)
		res.P50 = lat[len(lat)/2]
		res.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	res.PerSecond = float64(res.Acked) / res.Elapsed.Seconds()
	return res, nil
}

// String is one line for a log.
func (r *Result) String() string {
	return fmt.Sprintf("%d sent, %d acknowledged (%.0f/s, p50 %v, p99 %v), statuses %v, %d network errors",
		r.Sent, r.Acked, r.PerSecond, r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Status, r.NetErrors)
}
