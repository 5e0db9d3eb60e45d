package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Report is the body of POST /v1/reports: a noised cohort index (Value) by
// k-ary randomized response at the ruleset's Epsilon, and the noised
// outcome answers of the ruleset's experiments (engine.Report). Value may
// be left out when there are outcome answers: a device below k-anonymity
// still answers for its experiments.
type Report struct {
	Ruleset   string          `json:"ruleset"`
	Epoch     *int64          `json:"epoch"`
	Mechanism string          `json:"mechanism"`
	Value     *int            `json:"value,omitempty"`
	Epsilon   *float64        `json:"epsilon"`
	Outcomes  []OutcomeAnswer `json:"outcomes,omitempty"`
}

// OutcomeAnswer is one experiment's noised outcome answer about an
// earlier epoch (engine.Outcome): Value is 2·arm + goal (lift's
// categories), noised on the device at the experiment's Epsilon as
// engine.Outcome says. The collector only counts the values; lift knows
// the noise.
type OutcomeAnswer struct {
	Experiment string   `json:"experiment"`
	Epoch      *int64   `json:"epoch"`
	Value      *int     `json:"value"`
	Epsilon    *float64 `json:"epsilon"`
}

// intakeError is a refused report: an HTTP status and a short reason. The
// reason never echoes the body back.
type intakeError struct {
	status int
	msg    string
}

func (e *intakeError) Error() string { return e.msg }

func bad(format string, args ...any) error {
	return &intakeError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// headers sets what every response carries: no caching (the reads relax
// it once they succeed, see cacheFor), and CORS without
// credentials: for the site's configured origins only on the intake, for
// any origin on the public reads. No cookies are ever set.
func (c *Collector) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		if r.URL.Path == "/v1/reports" {
			// Only the site's pages may post (see originAllowed).
			h.Add("Vary", "Origin")
			if o := r.Header.Get("Origin"); c.origins[o] {
				h.Set("Access-Control-Allow-Origin", o)
				// The SDK honours Retry-After, which a page on another
				// origin can read only when it is exposed.
				h.Set("Access-Control-Expose-Headers", "Retry-After")
			}
		} else {
			// The estimates and sizes are public aggregates, for any page.
			h.Set("Access-Control-Allow-Origin", "*")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type")
			h.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (c *Collector) serveReports(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		httpError(w, http.StatusMethodNotAllowed, "POST a report")
		return
	}
	if !c.originAllowed(r) {
		httpError(w, http.StatusForbidden, "reports are accepted only from the site's own pages")
		return
	}
	if !acceptedType(r.Header.Get("Content-Type")) {
		httpError(w, http.StatusUnsupportedMediaType, "a report is text/plain or application/json")
		return
	}
	if !c.limiter.allow(c.source(r), c.now()) {
		w.Header().Set("Retry-After", "3600")
		httpError(w, http.StatusTooManyRequests, "too many reports from this address; try again later")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, http.StatusRequestEntityTooLarge, "report body too large")
			return
		}
		httpError(w, http.StatusBadRequest, "unreadable body")
		return
	}
	if err := c.Accept(r.Context(), body); err != nil {
		var ie *intakeError
		if errors.As(err, &ie) {
			if ie.status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", retryAfter)
			}
			httpError(w, ie.status, ie.msg)
			return
		}
		httpError(w, http.StatusInternalServerError, "could not count the report")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Accept validates one report body and counts it: the code path of
// POST /v1/reports after the body is read.
func (c *Collector) Accept(ctx context.Context, body []byte) error {
	return c.AcceptAsOf(ctx, body, c.now())
}

// AcceptAsOf is Accept as if the report arrived at now, so that a
// simulation in the same process (the demo's crowd) can fill a past epoch.
// Reports from outside always arrive now.
func (c *Collector) AcceptAsOf(ctx context.Context, body []byte, now time.Time) error {
	if int64(len(body)) > c.maxBody {
		return &intakeError{http.StatusRequestEntityTooLarge, "report body too large"}
	}
	rep, err := decodeReport(body)
	if err != nil {
		return err
	}
	s, ok := c.sets[rep.Ruleset]
	if !ok {
		return bad("unknown ruleset")
	}
	if rep.Epoch == nil {
		return bad("epoch is required")
	}
	if rep.Epsilon == nil {
		return bad("epsilon is required")
	}
	if math.Abs(*rep.Epsilon-s.epsilon) > 1e-9 {
		return bad("epsilon must be %g for this ruleset", s.epsilon)
	}
	if e := *rep.Epoch; !s.epochAccepted(e, now, c.grace) {
		return bad("epoch %d is not accepted now: reports are for the current epoch, %d", e, s.epoch(now))
	}
	if rep.Mechanism != MechanismKRR {
		return bad(`mechanism must be "krr"`)
	}
	value := noCohort
	switch {
	case rep.Value != nil:
		if value = *rep.Value; value < 0 || value >= len(s.catalogue) {
			return bad("value must be in [0, %d)", len(s.catalogue))
		}
	case len(rep.Outcomes) == 0:
		return bad("value is required unless outcomes are given")
	}
	outcomes, err := s.outcomesOf(rep.Outcomes, *rep.Epoch)
	if err != nil {
		return err
	}
	if err := c.add(ctx, s.id, *rep.Epoch, rep.Mechanism, value, outcomes); err != nil {
		if errors.Is(err, errEpochFull) {
			return &intakeError{http.StatusTooManyRequests, err.Error()}
		}
		if errors.Is(err, errClosed) {
			return &intakeError{http.StatusServiceUnavailable, "the collector is shutting down"}
		}
		var se *errStore
		if errors.As(err, &se) || errors.Is(err, errBusy) {
			// Nothing of the report was stored: the device keeps it and
			// sends it again later (jsbridge/src/report.js).
			return &intakeError{http.StatusServiceUnavailable, "the report could not be stored now; send it again later"}
		}
		return err
	}
	return nil
}

// retryAfter is what a 503 asks a device to wait, in seconds. A device
// retries on a later page view anyway; this keeps a recovering database
// from meeting every device's retry at once.
const retryAfter = "30"

// acceptedType says whether a report's Content-Type is one a page sends:
// text/plain (fetch and sendBeacon with a string body, which needs no CORS
// preflight) or application/json, with any parameters.
func acceptedType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "text/plain" || mt == "application/json"
}

// decodeReport reads a report body strictly, in one pass: one JSON object
// with known keys, each at most once (encoding/json would keep the last
// of a key given twice, so {"value":1,"value":7} could slip a second value
// past a proxy or log that read the first), matched exactly, and nothing
// after it. Errors say what kind of thing is wrong without echoing the
// body.
func decodeReport(body []byte) (Report, error) {
	var rep Report
	err := jsonv2.Unmarshal(body, &rep, jsonv2.RejectUnknownMembers(true))
	if err == nil {
		return rep, nil
	}
	var se *jsonv2.SemanticError
	var why string
	switch {
	case errors.Is(err, jsontext.ErrDuplicateName):
		why = "a key appears twice"
	case errors.Is(err, jsonv2.ErrUnknownName):
		why = "unknown or invalid field"
	case errors.Is(err, io.ErrUnexpectedEOF), len(bytes.TrimSpace(body)) == 0:
		why = "empty or truncated body"
	case errors.As(err, &se) && se.JSONPointer != "":
		// The pointer names one of Report's fields (unknown ones are
		// refused above) and places in outcomes, never content.
		why = "field " + fieldPath(se.JSONPointer) + " has the wrong type"
	default:
		why = "invalid JSON"
	}
	return Report{}, bad("malformed report: %s", why)
}

// fieldPath writes a JSON pointer into a report as the intake's errors
// name places: "/outcomes/1/epsilon" is outcomes[1].epsilon. A token that
// is neither a field of Report or OutcomeAnswer nor an index is left out,
// so that nothing of the body is ever echoed.
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		switch {
		case tok != "" && strings.Trim(tok, "0123456789") == "":
			b.WriteString("[" + tok + "]")
		case reportFields[tok]:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
		default:
			b.WriteString("…")
		}
	}
	return b.String()
}

// reportFields are the keys of Report and OutcomeAnswer.
var reportFields = map[string]bool{"ruleset": true, "epoch": true, "mechanism": true, "value": true, "epsilon": true, "outcomes": true, "experiment": true}

func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// Estimate is one cohort's debiased size. Estimate, Interval and StdErr are
// omitted when Suppressed.
type Estimate struct {
	Estimate   *float64  `json:"estimate,omitempty"`
	StdErr     *float64  `json:"stderr,omitempty"`
	Interval   []float64 `json:"ci95,omitempty"`
	Suppressed bool      `json:"suppressed"`
}

// Estimates is the body of GET /v1/cohorts (and its alias GET /v1/estimates).
type Estimates struct {
	Ruleset   string              `json:"ruleset"`
	Epoch     int64               `json:"epoch"`
	N         int64               `json:"n"`
	Mechanism map[string]int64    `json:"mechanisms"`
	MinK      int                 `json:"min_k"`
	Cohorts   map[string]Estimate `json:"cohorts"`
}

// estimate holds the unsuppressed figures, for the handlers and tests.
type estimate struct {
	value, variance float64
}

// z95 is the normal quantile of two-sided 95% intervals.
const z95 = 1.96

// estimates debiases the tallies of one epoch. Reports of the two
// mechanisms come from different people, so each mechanism's debiased
// counts estimate its own reporters' cohort sizes; the sum estimates the
// whole, with the sum of the variances.
func (c *Collector) estimates(ctx context.Context, s *set, epoch int64) ([]estimate, map[string]int64, error) {
	tallies, err := c.load(ctx, s, epoch)
	if err != nil {
		return nil, nil, err
	}
	est, mix := s.debias(tallies)
	return est, mix, nil
}

// debias turns tallies, by mechanism, into each cohort's estimate, and
// says how many reports each mechanism had.
func (s *set) debias(tallies map[string]*tally) ([]estimate, map[string]int64) {
	out := make([]estimate, len(s.catalogue))
	mix := map[string]int64{MechanismKRR: 0}
	for m, t := range tallies {
		mix[m] = t.n
		if t.n == 0 {
			continue
		}
		p, q := s.probabilities()
		n := float64(t.n)
		d := p - q
		for i, cnt := range t.counts {
			est := (float64(cnt) - n*q) / d
			// Var[c_i] = n_i p(1-p) + (n-n_i) q(1-q); with n_i estimated
			// (clamped to [0, n]) that is the noise term n q(1-q) plus
			// n_i (p(1-p) - q(1-q)).
			ni := math.Min(math.Max(est, 0), n)
			v := (n*q*(1-q) + ni*(p*(1-p)-q*(1-q))) / (d * d)
			out[i].value += est
			out[i].variance += math.Max(v, 0)
		}
	}
	return out, mix
}

// readTarget checks that r is a GET or HEAD naming a known ruleset, and
// answers the request itself when it is not.
func (c *Collector) readTarget(w http.ResponseWriter, r *http.Request, what string) (*set, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		httpError(w, http.StatusMethodNotAllowed, "GET "+what)
		return nil, false
	}
	s, ok := c.sets[r.URL.Query().Get("ruleset")]
	if !ok {
		httpError(w, http.StatusNotFound, "unknown ruleset")
	}
	return s, ok
}

func (c *Collector) serveEstimates(w http.ResponseWriter, r *http.Request) {
	s, ok := c.readTarget(w, r, "estimates")
	if !ok {
		return
	}
	epoch := s.epoch(c.now()) - 1
	if e := r.URL.Query().Get("epoch"); e != "" {
		var err error
		if epoch, err = strconv.ParseInt(e, 10, 64); err != nil {
			httpError(w, http.StatusBadRequest, "epoch must be an integer")
			return
		}
	}
	res, err := c.estimatesOf(r.Context(), s, epoch)
	if err != nil {
		readFailed(w)
		return
	}
	c.cacheFor(w, s, epoch)
	writeJSON(w, res)
}

// readFailed answers a read the database could not serve.
func readFailed(w http.ResponseWriter) {
	w.Header().Set("Retry-After", retryAfter)
	httpError(w, http.StatusServiceUnavailable, "could not read the counts now; try again later")
}

// How long the public reads may be cached, by browsers and by a CDN in
// front of the collectors: an epoch still taking reports changes with
// every batch, but a minute-old estimate is as good as a fresh one for a
// dashboard or a device's k-anonymity check, and a CDN then absorbs nearly
// every read. An epoch past its grace period never changes again.
const (
	openEpochMaxAge  = 60
	finalEpochMaxAge = 24 * 3600
)

// cacheFor sets Cache-Control on a successful read of epoch.
func (c *Collector) cacheFor(w http.ResponseWriter, s *set, epoch int64) {
	cacheControl(w, s.epochFinal(epoch, c.now(), c.grace))
}

// cacheControl sets Cache-Control on a successful read: a day when what it
// read is final, a minute while it may change.
func cacheControl(w http.ResponseWriter, final bool) {
	age := openEpochMaxAge
	if final {
		age = finalEpochMaxAge
	}
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d, stale-if-error=%d", age, finalEpochMaxAge))
}

// serveHealth says the process answers: for a load balancer's liveness
// check.
func (c *Collector) serveHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]string{"status": "ok"})
}

// serveReady says whether the collector can take reports: the process
// answers and so does the database. A load balancer sends reports only to
// ready collectors.
func (c *Collector) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := c.store.ping(ctx); err != nil {
		w.Header().Set("Retry-After", retryAfter)
		httpError(w, http.StatusServiceUnavailable, "the database does not answer")
		return
	}
	writeJSON(w, map[string]string{"status": "ready"})
}

// ErrUnknownRuleset is the error of Estimates, CohortSizes, Experiments and
// Epoch for a ruleset the collector does not serve.
var ErrUnknownRuleset = errors.New("collector: unknown ruleset")

// Estimates is what GET /v1/cohorts serves for one ruleset and epoch.
func (c *Collector) Estimates(ctx context.Context, ruleset string, epoch int64) (Estimates, error) {
	s, ok := c.sets[ruleset]
	if !ok {
		return Estimates{}, ErrUnknownRuleset
	}
	return c.estimatesOf(ctx, s, epoch)
}

// CohortSizes is what GET /v1/cohort-sizes serves for one ruleset.
func (c *Collector) CohortSizes(ctx context.Context, ruleset string) (map[string]int64, error) {
	s, ok := c.sets[ruleset]
	if !ok {
		return nil, ErrUnknownRuleset
	}
	return c.sizesOf(ctx, s)
}

// Epoch is the number of the ruleset's epoch holding t, as reports count it.
func (c *Collector) Epoch(ruleset string, t time.Time) (int64, error) {
	s, ok := c.sets[ruleset]
	if !ok {
		return 0, ErrUnknownRuleset
	}
	return s.epoch(t), nil
}

func (c *Collector) estimatesOf(ctx context.Context, s *set, epoch int64) (Estimates, error) {
	est, mix, err := c.estimates(ctx, s, epoch)
	if err != nil {
		return Estimates{}, err
	}
	res := Estimates{Ruleset: s.id, Epoch: epoch, Mechanism: mix, MinK: s.minK, Cohorts: map[string]Estimate{}}
	for _, n := range mix {
		res.N += n
	}
	for i, id := range s.catalogue {
		e := est[i]
		if e.value < float64(s.minK) {
			res.Cohorts[id] = Estimate{Suppressed: true}
			continue
		}
		v, se := e.value, math.Sqrt(e.variance)
		res.Cohorts[id] = Estimate{Estimate: &v, StdErr: &se, Interval: []float64{v - z95*se, v + z95*se}}
	}
	return res, nil
}

// serveCohortSizes publishes the previous epoch's sizes of the cohorts that
// certainly reach min_k, rounded: what the engine's k-anonymity fallback
// reads (see publish).
func (c *Collector) serveCohortSizes(w http.ResponseWriter, r *http.Request) {
	s, ok := c.readTarget(w, r, "cohort sizes")
	if !ok {
		return
	}
	sizes, err := c.sizesOf(r.Context(), s)
	if err != nil {
		readFailed(w)
		return
	}
	c.cacheFor(w, s, s.epoch(c.now())-1)
	writeJSON(w, sizes)
}

func (c *Collector) sizesOf(ctx context.Context, s *set) (map[string]int64, error) {
	est, _, err := c.estimates(ctx, s, s.epoch(c.now())-1)
	if err != nil {
		return nil, err
	}
	return s.publish(est, c.forgeryMargin), nil
}

// cohortSizes is each cohort's estimated size: its own estimate plus those
// of the finer cohorts inside it (whose ids extend its id, see
// engine/cohort.go) that are certainly not empty, with the variances added.
// Most finer cohorts of a large catalogue hold nobody, and adding their
// noise would bury the coarse cohorts' sizes; leaving out the uncertain ones
// can only make a size smaller, which errs on the side of k-anonymity. The
// counts of one epoch's randomized responses are negatively correlated, so
// the added variance is, if anything, too large, which errs the same way.
func cohortSizes(catalogue []string, estimates []estimate) map[string]estimate {
	out := make(map[string]estimate, len(catalogue))
	add := func(id string, e estimate) {
		o := out[id]
		o.value += e.value
		o.variance += e.variance
		out[id] = o
	}
	for i, id := range catalogue {
		e := estimates[i]
		add(id, e)
		if e.value-z95*math.Sqrt(e.variance) <= 0 {
			continue
		}
		for j := strings.IndexByte(id, '/'); j >= 0; j = nextSlash(id, j) {
			add(id[:j], e)
		}
	}
	return out
}

// nextSlash is the index of the next '/' in id after index i, or -1.
func nextSlash(id string, i int) int {
	if k := strings.IndexByte(id[i+1:], '/'); k >= 0 {
		return i + 1 + k
	}
	return -1
}
