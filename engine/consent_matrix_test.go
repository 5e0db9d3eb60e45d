package engine

import (
	"fmt"
	"testing"
)

// TestConsentMatrix walks every sharing level × history switch × location
// switch × GPC combination and checks what each allows: storing events,
// using location, serving personalized picks, and reporting.
func TestConsentMatrix(t *testing.T) {
	rs := with(func(rs *Ruleset) {
		rs.Cohorts = Cohorts{Dimensions: []Dimension{
			{ID: "region", From: DimensionRegion, Buckets: []Bucket{{ID: "north", Regions: []string{"nordics"}}, {ID: "elsewhere"}}},
			{ID: "interest", From: DimensionInterest, Buckets: []Bucket{{ID: "xs", Tags: []string{"x"}}, {ID: "other"}}},
		}}
	})
	for _, level := range []string{SharingOff, SharingOnDevice, SharingCohorts} {
		for _, history := range []bool{true, false} {
			for _, location := range []bool{true, false} {
				for _, gpc := range []bool{false, true} {
					name := fmt.Sprintf("%s/history=%v/location=%v/gpc=%v", level, history, location, gpc)
					t.Run(name, func(t *testing.T) {
						e := New()
						if err := e.Load(rs); err != nil {
							t.Fatal(err)
						}
						// Something to erase, recorded before the choice.
						if _, err := e.Observe(view("a", now-hour)); err != nil {
							t.Fatal(err)
						}
						eff, err := e.SetPreferences(Preferences{Sharing: level, History: &history, Location: &location, GPC: gpc})
						if err != nil {
							t.Fatal(err)
						}
						wantSharing := level
						if gpc && level == SharingCohorts {
							wantSharing = SharingOnDevice
						}
						if eff.Sharing != wantSharing || eff.GPCApplied != (gpc && level == SharingCohorts) {
							t.Fatalf("effective sharing %q (gpc applied %v), want %q", eff.Sharing, eff.GPCApplied, wantSharing)
						}
						storing := level != SharingOff && history
						if got := e.Events() > 0; got != storing {
							t.Errorf("earlier events kept = %v, want %v", got, storing)
						}
						_, err = e.Observe(view("c", now))
						if storing && err != nil {
							t.Errorf("observe refused: %v", err)
						}
						if !storing {
							wantCode(t, err, CodeConsent)
						}
						if err := e.SetContext(Context{Now: now, Country: "SE"}); err != nil {
							t.Fatal(err)
						}
						usesLocation := level != SharingOff && location
						if got := e.context.Country == "SE"; got != usesLocation {
							t.Errorf("country kept = %v, want %v", got, usesLocation)
						}
						d := decide(t, e, "s")[0]
						if d.Fallback != !storing {
							t.Errorf("fallback = %v, want %v (personalized only with stored history)", d.Fallback, !storing)
						}
						rep, reason, err := e.Report(now, nil)
						if err != nil {
							t.Fatal(err)
						}
						if wantReport := wantSharing == SharingCohorts; (rep != nil) != wantReport {
							t.Errorf("report = %v (%q), want a report: %v", rep, reason, wantReport)
						}
						if _, spent := e.Ledger(); (spent > 0) != (wantSharing == SharingCohorts) {
							t.Errorf("epsilon spent %v with sharing %s", spent, wantSharing)
						}
					})
				}
			}
		}
	}
}
