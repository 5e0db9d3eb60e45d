// Package loadgen posts cohort reports to collectors as fast as they take
// them, and says what happened to each: for the collector's benchmarks and
// its fault tests. Each connection is a keep-alive HTTP/1.1 connection with
// one request in flight, as a browser's beacon is, written and read by hand
// (http.ReadResponse) the way load generators such as wrk work, so that
// the machine's cores go to the collectors rather than to net/http's client.
package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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
			target := cfg.Targets[g%len(cfg.Targets)]
			u, err := url.Parse(target)
			if err != nil || u.Host == "" {
				return
			}
			var nc net.Conn
			var br *bufio.Reader
			defer func() {
				if nc != nil {
					nc.Close()
				}
			}()
			var mine []time.Duration
			status := map[int]int64{}
			var netErrs, retryAfter int64
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if cfg.Reports > 0 && i >= cfg.Reports {
					break
				}
				t0 := time.Now()
				code, retry, err := func() (int, bool, error) {
					if nc == nil {
						c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
						if err != nil {
							return 0, false, err
						}
						nc, br = c, bufio.NewReader(c)
					}
					nc.SetDeadline(time.Now().Add(cfg.Timeout))
					body := cfg.Body(i)
					req := fmt.Appendf(nil, "POST /v1/reports HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: %d\r\n\r\n", u.Host, len(body))
					if _, err := nc.Write(append(req, body...)); err != nil {
						return 0, false, err
					}
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						return 0, false, err
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.Close {
						nc.Close()
						nc = nil
					}
					return resp.StatusCode, resp.Header.Get("Retry-After") != "", nil
				}()
				if err != nil {
					// Refused, reset or timed out: the answer is unknown.
					netErrs++
					if nc != nil {
						nc.Close()
						nc = nil
					}
					time.Sleep(10 * time.Millisecond) // don't spin on a dead target
					continue
				}
				status[code]++
				if code == http.StatusNoContent {
					mine = append(mine, time.Since(t0))
					continue
				}
				if retry {
					retryAfter++
				}
				time.Sleep(10 * time.Millisecond)
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
