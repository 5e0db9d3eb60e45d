// Package collector is the server side of Edgewise cohort reports. A device
// sends at most one locally-noised report per epoch (k-ary randomized
// response, see engine/ldp.go); the collector keeps nothing but counts per
// (ruleset, epoch, cohort index) and the number of reports per (ruleset,
// epoch, mechanism), and publishes debiased estimates of cohort sizes,
// suppressing any below the ruleset's min_k. A report may also carry the
// ruleset's experiments' noised outcome answers about earlier epochs,
// which are counted per (ruleset, experiment, epoch, value) and analysed
// for the lift of personalization (experiments.go).
//
// Nothing identifying is stored or logged: no IP address, user agent,
// cookie, raw body or timestamp finer than the epoch.
package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/internal/lift"
)

// MechanismKRR names k-ary randomized response, the one mechanism reports
// use: a report is one noised cohort index.
const MechanismKRR = "krr"

// Defaults for settings a ruleset or Config leaves out.
const (
	DefaultEpochDays = 7
	// DefaultMaxBodyBytes fits a report with an outcome answer for each
	// of engine.MaxExperiments experiments with the longest ids (about
	// 1.8 KB), with room to spare.
	DefaultMaxBodyBytes = 4 << 10
)

// Config configures a Collector.
type Config struct {
	// DB names the database: "sqlite:FILE" (or a bare file path) for the
	// embedded SQLite backend, one collector process; "postgres://…" for
	// PostgreSQL, shared by any number of collectors; "" or ":memory:"
	// keeps counts in memory (tests). The schema is created or brought up
	// to date when the collector starts.
	DB string
	// Rulesets maps a ruleset id to its ruleset, loaded by the caller from a
	// verified .ewr (engine.DecodeRuleset) or a linted YAML file. New
	// validates each in full, sensitive categories included
	// (buildtime.Validate), and refuses one with any error: the collector
	// serves only rulesets a device would load and a signer would sign.
	Rulesets map[string]*engine.Ruleset
	// MaxBodyBytes bounds a report body (default 4 KiB).
	MaxBodyBytes int64
	// MaxReportsPerEpoch caps the reports counted per (ruleset, epoch);
	// further reports get 429. It bounds how far a flood can skew an epoch
	// without keeping anything about who sent what. When it is 0 it is
	// AudienceHeadroom times Audience, or DefaultMaxReportsPerEpoch without
	// an audience; negative turns the cap off.
	MaxReportsPerEpoch int64
	// Audience is how many people are expected to report per ruleset and
	// epoch, which sizes the default MaxReportsPerEpoch.
	Audience int64
	// Origins are the site's page origins ("https://shop.example") whose
	// pages may post reports cross-origin; the collector's own origin always
	// may. A browser request from any other origin is refused with 403, and
	// CORS headers name only these origins.
	Origins []string
	// EpochGrace is how long reports for the previous epoch are accepted
	// after it ends, and for the next before it starts (default
	// DefaultEpochGrace; negative accepts the current epoch only).
	EpochGrace time.Duration
	// SourceReportsPerHour bounds the reports one source may send an hour
	// (default DefaultSourceReportsPerHour; negative turns it off). Sources
	// are told apart by a keyed hash of the address, in memory only.
	SourceReportsPerHour int
	// KeepEpochs is how many of each ruleset's epochs are kept, the
	// current one included: older ones are deleted when the collector
	// starts and every hour after. 0 keeps everything; otherwise it is at
	// least 2, since devices read the previous epoch's sizes.
	KeepEpochs int
	// TrustedProxies are the addresses or CIDR prefixes of the site's load
	// balancers and proxies in front of the collectors. A request from one
	// of them is counted against the address it names in X-Forwarded-For
	// (the nearest one not itself trusted), so that the per-source
	// allowance applies to visitors, not to the balancer. Without any, the
	// header is ignored, since anyone can send it.
	TrustedProxies []string
	// ForgeryMargin is how many forged reports must not be enough to
	// publish the size of a cohort nobody is in: sizes are published only
	// when they reach min_k with that many reports' worth taken off
	// (default DefaultForgeryMargin; negative: none). A larger margin
	// withholds more small real cohorts; see publish.
	ForgeryMargin int
	// ExperimentHorizon is the number of outcome answers at which each
	// experiment's confidence sequences are tightest (lift.Design.Horizon;
	// default lift.DefaultHorizon). Fix it before an experiment starts, at
	// the answers it plans for (lift.Plan): chosen after looking at the
	// data, it would void the sequences' guarantee.
	ExperimentHorizon float64
	// Now is the clock (default time.Now); tests fix it.
	Now func() time.Time
	// Log receives the collector's own events, such as the database going
	// away and coming back (default slog.Default()). Nothing logged holds a
	// report, an address or any other request content.
	Log *slog.Logger
}

// Collector collects cohort reports. It is safe for concurrent use.
type Collector struct {
	store    store
	metrics  *metrics
	log      *slog.Logger
	now      func() time.Time
	maxBody  int64
	maxN     int64
	sets     map[string]*set
	w        *writer
	keep     int
	stop     chan struct{} // closed by Close, to stop the pruning
	stopOnce sync.Once
	pruned   chan struct{} // closed when the pruning has stopped
	origins  map[string]bool
	grace    time.Duration
	limiter  *sourceLimiter
	proxies  []netip.Prefix
	// forgeryMargin is Config.ForgeryMargin resolved.
	forgeryMargin int
	// horizon is Config.ExperimentHorizon resolved.
	horizon float64
}

// set is one ruleset with its resolved privacy parameters.
type set struct {
	id        string
	catalogue []string
	epochDays int
	epsilon   float64
	minK      int
	// experiments are the ruleset's, in its order, with defaults applied.
	experiments []engine.Experiment
}

// New opens (creating if need be) the database and prepares the rulesets.
func New(cfg Config) (*Collector, error) {
	if len(cfg.Rulesets) == 0 {
		return nil, errors.New("collector: no rulesets")
	}
	c := &Collector{now: cfg.Now, maxBody: cfg.MaxBodyBytes, maxN: cfg.MaxReportsPerEpoch, sets: map[string]*set{}, forgeryMargin: resolveMargin(cfg.ForgeryMargin)}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log = cfg.Log; c.log == nil {
		c.log = slog.Default()
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	switch {
	case c.maxN < 0:
		c.maxN = 0 // no cap
	case c.maxN == 0 && cfg.Audience > 0:
		c.maxN = AudienceHeadroom * cfg.Audience
	case c.maxN == 0:
		c.maxN = DefaultMaxReportsPerEpoch
	}
	c.origins = map[string]bool{}
	for _, o := range cfg.Origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("collector: origin %q is not an origin such as https://shop.example", o)
		}
		c.origins[u.Scheme+"://"+u.Host] = true
	}
	switch c.grace = cfg.EpochGrace; {
	case c.grace == 0:
		c.grace = DefaultEpochGrace
	case c.grace < 0:
		c.grace = 0
	}
	perHour := cfg.SourceReportsPerHour
	if perHour == 0 {
		perHour = DefaultSourceReportsPerHour
	}
	c.limiter = newSourceLimiter(perHour)
	switch c.keep = cfg.KeepEpochs; {
	case c.keep < 0, c.keep == 1:
		return nil, fmt.Errorf("collector: KeepEpochs %d: keep 0 (every epoch) or at least 2 (this one and the previous, whose sizes devices read)", c.keep)
	}
	var err error
	if c.proxies, err = parseProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	switch c.horizon = cfg.ExperimentHorizon; {
	case c.horizon == 0:
		c.horizon = lift.DefaultHorizon
	case !(c.horizon >= 1) || math.IsInf(c.horizon, 1):
		return nil, fmt.Errorf("collector: ExperimentHorizon %g: give a number of outcome answers, at least 1", c.horizon)
	}
	for id, rs := range cfg.Rulesets {
		if rs == nil {
			return nil, fmt.Errorf("collector: ruleset %q is nil", id)
		}
		if rs.ID != "" && rs.ID != id {
			return nil, fmt.Errorf("collector: ruleset registered as %q has id %q", id, rs.ID)
		}
		if err := engine.Refusal(buildtime.Validate(rs)); err != nil {
			return nil, fmt.Errorf("collector: ruleset %q is refused: %w", id, err)
		}
		cat := Catalogue(rs)
		if len(cat) == 0 && len(rs.Experiments) == 0 {
			// With experiments, devices still send their outcome answers.
			return nil, fmt.Errorf("collector: ruleset %q has no cohorts and no experiments", id)
		}
		s := &set{id: id, catalogue: cat, epochDays: rs.Reporting.EpochDays, epsilon: rs.Reporting.Epsilon, minK: rs.Reporting.MinK}
		s.defaults()
		if s.experiments, err = experimentsOf(rs); err != nil {
			return nil, fmt.Errorf("collector: ruleset %q: %w", id, err)
		}
		c.sets[id] = s
	}
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	st, err := openStore(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	c.store = st
	c.startWriter()
	c.metrics = newMetrics(c)
	c.stop, c.pruned = make(chan struct{}), make(chan struct{})
	go c.pruneHourly()
	return c, nil
}

// pruneHourly deletes the epochs Config.KeepEpochs no longer keeps, now
// and every hour until Close.
func (c *Collector) pruneHourly() {
	defer close(c.pruned)
	if c.keep == 0 {
		return
	}
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := c.prune(ctx); err != nil {
			c.log.Error("collector: cannot delete old epochs", "err", err)
		}
		cancel()
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
	}
}

// prune deletes each ruleset's epochs older than the last KeepEpochs.
func (c *Collector) prune(ctx context.Context) (int64, error) {
	var total int64
	for _, s := range c.sets {
		n, err := c.store.prune(ctx, s.id, s.epoch(c.now())-int64(c.keep)+1)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// openTimeout bounds opening the database and migrating its schema.
const openTimeout = time.Minute

// Close stops intake, commits every report already queued (their senders
// get their answers), then closes the database. Reports arriving after
// Close are refused.
func (c *Collector) Close() error {
	c.w.close()
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.pruned
	return c.store.close()
}

// Handler serves POST /v1/reports, GET /v1/cohorts (also under its older
// name GET /v1/estimates), GET /v1/cohort-sizes and GET /v1/experiments,
// and for operators GET /metrics (Prometheus), /healthz (the process
// answers) and /readyz (the database answers too).
func (c *Collector) Handler() http.Handler {
	mux := http.NewServeMux()
	m := c.metrics
	mux.Handle("/v1/reports", m.instrument("reports", c.serveReports))
	mux.Handle("/v1/cohorts", m.instrument("cohorts", c.serveEstimates))
	mux.Handle("/v1/estimates", m.instrument("cohorts", c.serveEstimates))
	mux.Handle("/v1/cohort-sizes", m.instrument("cohort-sizes", c.serveCohortSizes))
	mux.Handle("/v1/experiments", m.instrument("experiments", c.serveExperiments))
	mux.Handle("/metrics", m.handler())
	mux.HandleFunc("/healthz", c.serveHealth)
	mux.HandleFunc("/readyz", c.serveReady)
	return c.headers(mux)
}

// Catalogue lists a ruleset's cohort ids in the order report indices refer
// to (the shared spec in engine/cohort.go): every full cohort (all n
// dimensions) in row-major order (the first dimension slowest), then every
// cohort of the first n-1 dimensions, and so on down to the first dimension
// alone. An id is "dim=bucket/dim=bucket".
func Catalogue(rs *engine.Ruleset) []string {
	return engine.CohortCatalogue(rs)
}

// epoch is the epoch number of t: whole epochs of epoch_days days since the
// Unix epoch (UTC).
func (s *set) epoch(t time.Time) int64 {
	ms := t.UnixMilli()
	per := int64(s.epochDays) * 86_400_000
	e := ms / per
	if ms < 0 && ms%per != 0 {
		e--
	}
	return e
}

// defaults fills in the reporting parameters a ruleset left out.
func (s *set) defaults() {
	if s.epochDays <= 0 {
		s.epochDays = DefaultEpochDays
	}
	if s.epsilon <= 0 {
		s.epsilon = engine.DefaultEpsilon
	}
	if s.minK <= 0 {
		s.minK = engine.DefaultMinK
	}
}

// probabilities of the mechanism: p that a true entry reads 1, q that any
// other entry does.
func (s *set) probabilities() (p, q float64) {
	e := math.Exp(s.epsilon)
	k := float64(len(s.catalogue))
	return e / (e + k - 1), 1 / (e + k - 1)
}
