package engine

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestGeohash(t *testing.T) {
	for _, tc := range []struct {
		lat, lon float64
		want     string
	}{
		{57.64911, 10.40744, "u4pru"}, // the reference point of the geohash spec
		{47.6062, -122.3321, "c23nb"}, // Seattle
		{-33.8688, 151.2093, "r3gx2"}, // Sydney
		{0, 0, "s0000"},
	} {
		if got := Geohash(tc.lat, tc.lon, 5); got != tc.want {
			t.Errorf("Geohash(%v, %v) = %s, want %s", tc.lat, tc.lon, got, tc.want)
		}
	}
}

// TestLocationIsCoarsenedAndDropped: coordinates become country, subdivision
// and region ids at once, and the stored context holds no coordinates.
func TestLocationIsCoarsenedAndDropped(t *testing.T) {
	rs := with(func(rs *Ruleset) {
		rs.Regions = append(rs.Regions,
			Region{ID: "sound-box", Name: "Puget Sound", Boxes: []Box{{South: 47, West: -123, North: 48, East: -122}}},
			Region{ID: "cell", Name: "A geohash cell", Geohashes: []string{"c23"}},
			Region{ID: "far-box", Name: "Elsewhere", Boxes: []Box{{South: 10, West: 10, North: 12, East: 12}}},
		)
	})
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	if err := e.SetContext(Context{Now: now, Location: &Coordinates{Lat: 47.6062, Lon: -122.3321}}); err != nil {
		t.Fatal(err)
	}
	got := e.context
	if got.Location != nil {
		t.Fatalf("coordinates were stored: %+v", got.Location)
	}
	if got.Country != "US" || got.Subdivision != "US-WA" {
		t.Errorf("country, subdivision = %q, %q, want US, US-WA", got.Country, got.Subdivision)
	}
	if !reflect.DeepEqual(got.Regions, []string{"sound-box", "cell"}) {
		t.Errorf("regions = %v, want the box and the geohash cell around Seattle", got.Regions)
	}
	// The subdivision puts the person in "west", which region rules then see.
	rs.Rules = []Rule{{ID: "west-coast", Reason: "Popular on the west coast", When: Condition{Region: []string{"west"}}, Items: Selector{Items: []string{"g"}}, Pin: 1}}
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	if err := e.SetContext(Context{Now: now, Location: &Coordinates{Lat: 47.6062, Lon: -122.3321}}); err != nil {
		t.Fatal(err)
	}
	if d := decide(t, e, "s")[0]; len(d.Items) == 0 || d.Items[0].Item != "g" || d.Items[0].Reason != "Popular on the west coast" {
		t.Errorf("region rule from coordinates: %+v", d.Items)
	}
}

func TestLocationNeedsTheLocationSignal(t *testing.T) {
	rs := world()
	var kept []Signal
	for _, s := range rs.Signals {
		if s.Kind != SignalLocation {
			kept = append(kept, s)
		}
	}
	rs.Signals = kept
	rs.Catalogue[4].Regions = nil // availability by region needs location
	e := New()
	if err := e.Load(rs); err != nil {
		t.Fatal(err)
	}
	if err := e.SetContext(Context{Now: now, Location: &Coordinates{Lat: 59.33, Lon: 18.07}}); err != nil {
		t.Fatal(err)
	}
	if c := e.context; c.Country != "" || c.Subdivision != "" || c.Regions != nil || c.Location != nil {
		t.Errorf("undeclared location was used: %+v", c)
	}
}

func TestBadLocation(t *testing.T) {
	e := New()
	if err := e.Load(world()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []Coordinates{{Lat: 91, Lon: 0}, {Lat: 0, Lon: -181}, {Lat: math.NaN(), Lon: 0}} {
		err := e.SetContext(Context{Now: now, Location: &p})
		var ee *Error
		if !errors.As(err, &ee) || ee.Code != CodeBadRequest {
			t.Errorf("SetContext(%+v) = %v, want bad_request", p, err)
		}
	}
}

// Every length, the edges of the world, and what is not a point.
func TestGeohashBounds(t *testing.T) {
	for _, c := range []struct {
		lat, lon float64
		n        int
		want     string
	}{
		{48.86, 2.35, 3, "u09"}, {48.86, 2.35, 4, "u09t"}, {35.68, 139.69, 3, "xn7"},
		{57.64911, 10.40744, 11, "u4pruydqqvj"}, {-90, -180, 3, "000"}, {90, 180, 3, "zzz"},
		{0, 0, 13, ""}, {91, 0, 3, ""}, {math.NaN(), 0, 3, ""},
	} {
		if got := Geohash(c.lat, c.lon, c.n); got != c.want {
			t.Errorf("Geohash(%v, %v, %d) = %q, want %q", c.lat, c.lon, c.n, got, c.want)
		}
	}
}
