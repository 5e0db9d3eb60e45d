// Package sim previews a ruleset with the engine browsers run: it replays
// personas' visits through edgewise.wasm in wazero and shows what each
// would see and why (Runner.Preview), and simulates a synthetic population
// over several report epochs to measure what cohort reports reveal: cohort
// sizes, k-anonymity fallbacks, the collector's debiased estimates and how
// many visitors' report sequences are unique (Runner.Population). Audit
// turns a population into a privacy report.
//
// Every engine access is an ABI call to edgewise.wasm (see wasm/abi.go);
// nothing here reimplements the engine. A visitor's true cohort comes from
// the engine's export operation; the WASI random_get that the engine's
// report noise reads is fed a stream seeded by (seed, visitor), so a
// population is reproducible whichever worker ran which visitor.
package sim

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abi"
	"github.com/edgewise/edgewise/internal/wasmhost"
	"github.com/tetratelabs/wazero"
)

// Config tunes NewRunner.
type Config struct {
	// Cache, when set, keeps compiled code between runs (for the CLI, a
	// directory cache under the user's cache directory).
	Cache wazero.CompilationCache
	// Workers is how many engines run a population in parallel (default
	// runtime.NumCPU()).
	Workers int
}

// Runner holds edgewise.wasm compiled once; it makes the engines that
// previews and populations run on.
type Runner struct {
	mod     *wasmhost.Module
	workers int
}

// NewRunner compiles edgewise.wasm.
func NewRunner(ctx context.Context, wasm []byte, cfg Config) (*Runner, error) {
	mod, err := wasmhost.Compile(ctx, wasm, wasmhost.Config{Cache: cfg.Cache})
	if err != nil {
		return nil, err
	}
	w := cfg.Workers
	if w <= 0 {
		w = runtime.NumCPU()
	}
	return &Runner{mod: mod, workers: w}, nil
}

// Close releases the compiled module and every engine made from it.
func (r *Runner) Close(ctx context.Context) error { return r.mod.Close(ctx) }

// Target is the ruleset under simulation: what load_ruleset receives, and
// the ruleset itself, for its ids, cohorts and reporting settings.
type Target struct {
	Load    abi.LoadRulesetRequest
	Ruleset *engine.Ruleset
	// Feeds are signed context feeds loaded after the ruleset, as a page's
	// SDK loads them.
	Feeds []FeedFile
}

// FeedFile is a signed context feed (.ewf) and the file it came from.
type FeedFile struct {
	Name string
	EWF  []byte
}

func (t Target) name() string { return t.Ruleset.ID + "@" + t.Ruleset.Version }

func ms(t time.Time) int64 { return t.UnixMilli() }

// session is a pool of engines with one target ruleset loaded.
type session struct {
	r         *Runner
	t         Target
	pool      []*instance
	catalogue []string
	policy    engine.ReportingPolicy // from describe: the defaults applied
}

// session makes n engines with t loaded.
func (r *Runner) session(ctx context.Context, t Target, n int) (*session, error) {
	s := &session{r: r, t: t, catalogue: engine.CohortCatalogue(t.Ruleset)}
	for i := 0; i < max(n, 1); i++ {
		x, err := r.newInstance(ctx, t.Load, t.Feeds)
		if err != nil {
			s.close(ctx)
			return nil, err
		}
		s.pool = append(s.pool, x)
	}
	var d engine.Description
	if err := s.pool[0].call(ctx, abi.OpDescribe, struct{}{}, &d); err != nil {
		s.close(ctx)
		return nil, err
	}
	s.policy = d.Reporting
	if d.Reporting.Cohorts != len(s.catalogue) {
		s.close(ctx)
		return nil, fmt.Errorf("the engine has %d cohorts where the ruleset has %d", d.Reporting.Cohorts, len(s.catalogue))
	}
	return s, nil
}

func (s *session) close(ctx context.Context) {
	for _, x := range s.pool {
		x.close(ctx)
	}
}

func (s *session) epoch() time.Duration { return time.Duration(s.policy.EpochDays) * 24 * time.Hour }
