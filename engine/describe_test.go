package engine

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDescribeWithoutInterestDimension(t *testing.T) {
	rs := shop()
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	d, err := e.Describe()
	if err != nil {
		t.Fatal(err)
	}
	// Without an interest dimension every catalogue tag is its own interest.
	tags := map[string]bool{}
	for _, it := range rs.Catalogue {
		for _, tag := range it.Tags {
			tags[tag] = true
		}
	}
	if len(d.Interests) != len(tags) {
		t.Fatalf("%d interests for %d tags: %+v", len(d.Interests), len(tags), d.Interests)
	}
	for i, g := range d.Interests {
		if !tags[g.ID] || !reflect.DeepEqual(g.Tags, []string{g.ID}) {
			t.Errorf("interest %+v", g)
		}
		if i > 0 && d.Interests[i-1].ID >= g.ID {
			t.Errorf("interests not sorted: %q before %q", d.Interests[i-1].ID, g.ID)
		}
	}
	if !reflect.DeepEqual(d.Signals, rs.Signals) {
		t.Errorf("signals %+v, want %+v", d.Signals, rs.Signals)
	}
	if d.Reporting != (ReportingPolicy{Epsilon: DefaultEpsilon, EpochDays: DefaultEpochDays, MinK: DefaultMinK}) {
		t.Errorf("reporting %+v: want the defaults and no cohorts", d.Reporting)
	}
	if len(d.Slots) != len(rs.Slots) || !reflect.DeepEqual(d.Slots[0].Fallback, rs.Slots[0].Fallback) {
		t.Errorf("slots %+v", d.Slots)
	}
}

// Export after reports: the stored report, the ledger and the epsilon spent
// are all there, and nothing is coordinates.
func TestExportAfterReports(t *testing.T) {
	e := cohortEngine(t, cohortShop())
	observe(t, e, "view", "tent", t0)
	if err := e.SetContext(Context{Now: t0, Visits: ip(3), Location: &Coordinates{Lat: 47.37, Lon: 8.54}}); err != nil {
		t.Fatal(err)
	}
	week := int64(7 * dayMillis)
	for _, now := range []int64{t0, t0 + week} {
		if r, reason, err := e.Report(now, nil); err != nil || r == nil {
			t.Fatalf("report: %v %q %v", r, reason, err)
		}
	}
	x, err := e.Export()
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Ledger) != 2 || x.EpsilonSpent != 2 || len(x.Reports) != 1 || x.Reports[0].Epoch != (t0+week)/week {
		t.Errorf("ledger %+v, spent %v, reports %+v", x.Ledger, x.EpsilonSpent, x.Reports)
	}
	if x.Cohort != "interest=campers/area=alps/engagement=returning" {
		t.Errorf("cohort %q", x.Cohort)
	}
	if x.Context.Country != "CH" || x.Context.Location != nil || !reflect.DeepEqual(x.Context.Regions, []string{"alps"}) {
		t.Errorf("context %+v: want CH, the alps region (matched by country) and no coordinates", x.Context)
	}
	if len(x.Interests) == 0 || x.Interests[0].Weight != 1 {
		t.Errorf("interests %+v: the strongest should weigh 1", x.Interests)
	}
	js, _ := json.Marshal(x)
	for _, coord := range []string{"47.37", "8.54"} {
		if strings.Contains(string(js), coord) {
			t.Errorf("export holds coordinate %s: %s", coord, js)
		}
	}
	// The export is a copy: changing it changes nothing in the engine.
	x.Events[0].Item = "changed"
	if y, _ := e.Export(); y.Events[0].Item != "tent" {
		t.Errorf("export aliases the profile: %+v", y.Events)
	}
}

// The export's regions keep those the coordinates resolved to (a box) as
// well as those matched by country.
func TestExportKeepsRegionsFromCoordinates(t *testing.T) {
	rs := cohortShop()
	rs.Regions = append(rs.Regions, Region{ID: "bay", Name: "Bay Area", Boxes: []Box{{South: 37, West: -123, North: 38, East: -122}}})
	e := cohortEngine(t, rs)
	if err := e.SetContext(Context{Now: t0, Location: &Coordinates{Lat: 37.77, Lon: -122.42}}); err != nil {
		t.Fatal(err)
	}
	x, err := e.Export()
	if err != nil {
		t.Fatal(err)
	}
	if x.Context.Country != "US" || !reflect.DeepEqual(x.Context.Regions, []string{"bay"}) {
		t.Errorf("context %+v: want US and the bay box region", x.Context)
	}
}
