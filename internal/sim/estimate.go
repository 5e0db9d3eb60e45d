package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/edgewise/edgewise/collector"
	"github.com/edgewise/edgewise/engine"
)

// estimate feeds reports, all of one epoch, to an in-memory collector
// through its intake (collector.Accept, the code path of POST /v1/reports)
// and sets each cohort's estimate from what it publishes at GET
// /v1/cohorts: the collector's own debiasing and suppression. It returns
// how many reports the collector counted.
func estimate(ctx context.Context, rs *engine.Ruleset, at time.Time, reports []*engine.Report, stats []CohortStat) (int64, error) {
	c, err := collector.New(collector.Config{
		Rulesets: map[string]*engine.Ruleset{rs.ID: rs},
		Now:      func() time.Time { return at },
	})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	// Accept returns once its report is committed; many at once share a
	// commit.
	const senders = 64
	var wg sync.WaitGroup
	errs := make([]error, senders)
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(reports); i += senders {
				body, err := reportBody(reports[i])
				if err == nil {
					err = c.Accept(ctx, body)
				}
				if err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1/cohorts?ruleset="+rs.ID+"&epoch="+strconv.FormatInt(reports[0].Epoch, 10), nil)
	c.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return 0, fmt.Errorf("GET /v1/cohorts: %d %s", rec.Code, rec.Body)
	}
	var est collector.Estimates
	if err := json.Unmarshal(rec.Body.Bytes(), &est); err != nil {
		return 0, err
	}
	for i := range stats {
		e, ok := est.Cohorts[stats[i].ID]
		if !ok {
			return 0, fmt.Errorf("the collector has no estimate for cohort %s", stats[i].ID)
		}
		stats[i].Suppressed = e.Suppressed
		stats[i].Estimate, stats[i].StdErr = e.Estimate, e.StdErr
	}
	return est.N, nil
}

// reportBody is a report as the SDK posts it (collector.Report; the SDK's
// is reportBody in jsbridge/src/report.js): the cohort answer, if any, and
// the outcome answers, if any.
func reportBody(r *engine.Report) ([]byte, error) {
	body := collector.Report{Ruleset: r.Ruleset, Epoch: &r.Epoch, Mechanism: r.Mechanism, Value: r.Value, Epsilon: &r.Epsilon}
	for _, o := range r.Outcomes {
		body.Outcomes = append(body.Outcomes, collector.OutcomeAnswer{Experiment: o.Experiment, Epoch: &o.Epoch, Value: &o.Value, Epsilon: &o.Epsilon})
	}
	return json.Marshal(body)
}
