package sim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abi"
)

// Preview is what each persona saw on each visit, and why.
type Preview struct {
	Ruleset  string           `json:"ruleset"` // id@version
	Start    time.Time        `json:"start"`
	Personas []PersonaPreview `json:"personas"`
	// Experiments are the ruleset's experiments' power figures, when the
	// caller gave a traffic to plan with (PlanExperiments).
	Experiments *Experiments `json:"experiments,omitempty"`
}

// PersonaPreview is one persona's visits.
type PersonaPreview struct {
	ID          string                      `json:"id"`
	Name        string                      `json:"name,omitempty"`
	Preferences engine.EffectivePreferences `json:"preferences"`
	Visits      []VisitPreview              `json:"visits"`
	// Cohort is the cohort the engine places the person in after the last
	// visit (export's cohort: before noise and k-anonymity coarsening);
	// NoReport says why the person sends no reports.
	Cohort   string `json:"cohort,omitempty"`
	NoReport string `json:"no_report,omitempty"`
}

// VisitPreview is one visit: the events observed, the context set, and what
// each slot showed.
type VisitPreview struct {
	At        time.Time         `json:"at"` // the engine's now
	Context   engine.Context    `json:"context"`
	Events    []EventPreview    `json:"events,omitempty"`
	Decisions []engine.Decision `json:"decisions"`
}

// EventPreview is one observed event; Refused is the engine's reason when
// it did not record it (history off, sharing off).
type EventPreview struct {
	Type    string    `json:"type"`
	Item    string    `json:"item"`
	At      time.Time `json:"at"`
	Refused string    `json:"refused,omitempty"`
}

// Preview replays every persona's visits, in order, on a fresh engine each:
// preferences, then per visit its events, its context, a decision for its
// slots and the impressions of what was shown (for caps). Engine errors the
// personas file caused come back as Errors at the place in the file.
func (r *Runner) Preview(ctx context.Context, t Target, ps *Personas) (*Preview, error) {
	s, err := r.session(ctx, t, 1)
	if err != nil {
		return nil, err
	}
	defer s.close(ctx)
	x := s.pool[0]
	out := &Preview{Ruleset: t.name(), Start: ps.Start.UTC()}
	var errs Errors
	fail := func(pos Pos, err error) error {
		var ee *EngineError
		if errors.As(err, &ee) {
			errs = append(errs, &Error{Pos: pos, Msg: ee.Message})
			return nil
		}
		return err
	}
	for _, p := range ps.Personas {
		pp := PersonaPreview{ID: p.ID, Name: p.Name}
		if err := x.reset(ctx); err != nil {
			return nil, err
		}
		var pr abi.PreferencesResult
		if err := x.call(ctx, abi.OpSetPreferences, abi.SetPreferencesRequest{Preferences: p.Preferences}, &pr); err != nil {
			if err := fail(p.Pos, err); err != nil {
				return nil, err
			}
			continue
		}
		pp.Preferences = pr.Preferences
		var now time.Time
		for _, v := range p.Visits {
			at := ps.Start.Add(v.At)
			now = at
			vp := VisitPreview{}
			for _, ev := range v.Events {
				t := at.Add(ev.After)
				if t.After(now) {
					now = t
				}
				ep := EventPreview{Type: ev.Type, Item: ev.Item, At: t.UTC()}
				err := x.call(ctx, abi.OpObserve, abi.ObserveRequest{Event: engine.Event{Type: ev.Type, Item: ev.Item, At: ms(t)}}, nil)
				var ee *EngineError
				switch {
				case errors.As(err, &ee) && ee.Code == engine.CodeConsent:
					ep.Refused = ee.Message
				case err != nil:
					if err := fail(ev.Pos, err); err != nil {
						return nil, err
					}
				}
				vp.Events = append(vp.Events, ep)
			}
			vp.At = now.UTC()
			vp.Context = v.Context
			vp.Context.Now = ms(now)
			if err := x.call(ctx, abi.OpSetContext, abi.SetContextRequest{Context: vp.Context}, nil); err != nil {
				if err := fail(v.Pos, err); err != nil {
					return nil, err
				}
				continue
			}
			var d abi.DecideResult
			if err := x.call(ctx, abi.OpDecide, abi.DecideRequest{Slots: v.slotsOf(t.Ruleset)}, &d); err != nil {
				if err := fail(v.Pos, err); err != nil {
					return nil, err
				}
				continue
			}
			vp.Decisions = d.Decisions
			var shown []string
			for _, dec := range d.Decisions {
				for _, pick := range dec.Items {
					shown = append(shown, pick.Item)
				}
			}
			if len(shown) > 0 && pp.Preferences.Sharing != engine.SharingOff {
				if err := x.call(ctx, abi.OpRecordImpressions, abi.RecordImpressionsRequest{Items: shown, At: ms(now)}, nil); err != nil {
					return nil, fmt.Errorf("persona %s: %w", p.ID, err)
				}
			}
			pp.Visits = append(pp.Visits, vp)
		}
		var ex exportResult
		if err := x.call(ctx, abi.OpExport, struct{}{}, &ex); err != nil {
			return nil, fmt.Errorf("persona %s: %w", p.ID, err)
		}
		pp.Cohort = ex.Export.Cohort
		if pp.Preferences.Sharing != engine.SharingCohorts {
			pp.NoReport = "sharing is " + pp.Preferences.Sharing
			if pp.Preferences.GPCApplied {
				pp.NoReport += " (Global Privacy Control)"
			}
		}
		out.Personas = append(out.Personas, pp)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}
