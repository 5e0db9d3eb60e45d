package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgewise/edgewise/collector"
	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/keyfile"
	"github.com/edgewise/edgewise/internal/loadgen"
)

// Collectors and the load generator as separate processes: the test binary
// re-executed with cliArgsEnv set, which runs the CLI (or the load
// generator) instead of the tests. A collector killed with SIGKILL is then
// a real process dying, not a goroutine stopping.

const cliArgsEnv = "EDGEWISE_TEST_CHILD"

// runChild runs what cliArgsEnv names: a JSON list of CLI arguments, or
// {"loadgen": …} for the load generator, which prints its result as JSON.
func runChild(spec string) int {
	var lg struct {
		Loadgen *loadSpec `json:"loadgen"`
	}
	if json.Unmarshal([]byte(spec), &lg) == nil && lg.Loadgen != nil {
		res, err := runLoad(context.Background(), *lg.Loadgen)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		json.NewEncoder(os.Stdout).Encode(res)
		return 0
	}
	var args []string
	if err := json.Unmarshal([]byte(spec), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// $EDGEWISE_CHILD_CPUPROFILE: where a collector writes its CPU profile
	// (suffixed with its pid), to see where a benchmark's time goes.
	if prefix := os.Getenv("EDGEWISE_CHILD_CPUPROFILE"); prefix != "" {
		if f, err := os.Create(fmt.Sprintf("%s.%d", prefix, os.Getpid())); err == nil {
			pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	return run(args, os.Stdout, os.Stderr)
}

// loadSpec is a load generator run: reports for one ruleset and epoch,
// their values cycling through the catalogue.
type loadSpec struct {
	Targets  []string      `json:"targets"`
	Conns    int           `json:"conns"`
	Duration time.Duration `json:"duration"`
	Ruleset  string        `json:"ruleset"`
	Epoch    int64         `json:"epoch"`
	K        int           `json:"k"`
	Epsilon  float64       `json:"epsilon"`
}

func runLoad(ctx context.Context, s loadSpec) (*loadgen.Result, error) {
	return loadgen.Run(ctx, s.config())
}

// config is the load generator's configuration for s.
func (s loadSpec) config() loadgen.Config {
	return loadgen.Config{Targets: s.Targets, Conns: s.Conns, Duration: s.Duration,
		Body: func(i int64) []byte { return []byte(reportBody(s, i)) }}
}

// reportBody is report i: its value cycles through the catalogue.
func reportBody(s loadSpec, i int64) string {
	return fmt.Sprintf(`{"ruleset":%q,"epoch":%d,"mechanism":"krr","value":%d,"epsilon":%g}`, s.Ruleset, s.Epoch, i%int64(s.K), s.Epsilon)
}

// site is a signed ruleset and its public key, with what reports need.
type site struct {
	ewr, pub string
	load     loadSpec // Ruleset, Epoch, K, Epsilon filled in
}

func newSite(t testing.TB) site {
	t.Helper()
	dir := t.TempDir()
	key, pub := filepath.Join(dir, "site.key"), filepath.Join(dir, "site.pub")
	var out, errOut strings.Builder
	if code := run([]string{"keygen", "-o", key}, &out, &errOut); code != 0 {
		t.Fatalf("keygen: %s", errOut.String())
	}
	ewr := filepath.Join(dir, "outdoor.ewr")
	if code := run([]string{"build", "../../examples/outdoor-shop.yaml", "--key", key, "-o", ewr}, &out, &errOut); code != 0 {
		t.Fatalf("build: %s", errOut.String())
	}
	data, _ := os.ReadFile(ewr)
	pk, _ := keyfile.ReadPublic(pub)
	rs, err := engine.DecodeRuleset(data, pk)
	if err != nil {
		t.Fatal(err)
	}
	days := int64(rs.Reporting.EpochDays)
	if days == 0 {
		days = collector.DefaultEpochDays
	}
	eps := rs.Reporting.Epsilon
	if eps == 0 {
		eps = engine.DefaultEpsilon
	}
	return site{ewr: ewr, pub: pub, load: loadSpec{Ruleset: rs.ID, Epoch: time.Now().UnixMilli() / (days * 86_400_000),
		K: len(collector.Catalogue(rs)), Epsilon: eps}}
}

// child is a running child process.
type child struct {
	cmd    *exec.Cmd
	url    string // a collector's base URL
	mu     sync.Mutex
	output strings.Builder // everything it wrote, for the log checks
	exited chan struct{}
}

func (c *child) logs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.output.String()
}

type lockedWriter struct{ c *child }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	return w.c.output.Write(b)
}

// startCollector runs `edgewise collect` for s on db as a process.
func startCollector(t testing.TB, s site, db string, extra ...string) *child {
	t.Helper()
	args := append([]string{"collect", "--ruleset", s.ewr, "--key", s.pub, "--db", db, "--addr", "127.0.0.1:0",
		"--per-source-hour", "-1"}, extra...)
	spec, _ := json.Marshal(args)
	c := &child{cmd: exec.Command(os.Args[0]), exited: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), cliArgsEnv+"="+string(spec))
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stderr = lockedWriter{c}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
		}
	})
	lines := bufio.NewReader(stdout)
	line, err := lines.ReadString('\n')
	const prefix = "Edgewise collector listening on "
	if err != nil || !strings.HasPrefix(line, prefix) {
		t.Fatalf("collector did not start: %q %v\n%s", line, err, c.logs())
	}
	go io.Copy(lockedWriter{c}, lines)
	c.url = strings.TrimSpace(strings.TrimPrefix(line, prefix))
	return c
}

// kill ends the process with SIGKILL, as a crash or an OOM kill does.
func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
}

// balancer is a load balancer in front of collectors, as a site would run:
// it sends each request to the next backend whose /healthz answered at the
// last check (every 100 ms), and answers 502 when the backend fails.
type balancer struct {
	backends []*url.URL
	healthy  []atomic.Bool
	next     atomic.Uint64
	proxies  []*httputil.ReverseProxy
}

func newBalancer(t testing.TB, urls ...string) string {
	t.Helper()
	b := &balancer{healthy: make([]atomic.Bool, len(urls))}
	for i, u := range urls {
		pu, _ := url.Parse(u)
		b.backends = append(b.backends, pu)
		b.healthy[i].Store(true)
		p := httputil.NewSingleHostReverseProxy(pu)
		p.Transport = &http.Transport{MaxIdleConnsPerHost: 256, ResponseHeaderTimeout: 30 * time.Second}
		p.ErrorLog = nil
		p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) { w.WriteHeader(http.StatusBadGateway) }
		b.proxies = append(b.proxies, p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		client := &http.Client{Timeout: 500 * time.Millisecond}
		for ctx.Err() == nil {
			for i, u := range b.backends {
				resp, err := client.Get(u.String() + "/healthz")
				ok := err == nil && resp.StatusCode == 200
				if resp != nil {
					resp.Body.Close()
				}
				b.healthy[i].Store(ok)
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	ts := httptest.NewServer(b)
	t.Cleanup(func() { cancel(); ts.Close() })
	return ts.URL
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for range len(b.backends) {
		i := int(b.next.Add(1) % uint64(len(b.backends)))
		if b.healthy[i].Load() {
			b.proxies[i].ServeHTTP(w, r)
			return
		}
	}
	w.Header().Set("X-Balancer", "no healthy backend")
	http.Error(w, "no healthy backend", http.StatusServiceUnavailable)
}
