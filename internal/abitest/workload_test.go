package abitest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
)

var update = flag.Bool("update", false, "rewrite testdata/bench/standard.json")

const standardPath = "../../testdata/bench/standard.json"

// TestStandardWorkloadFresh fails when testdata/bench/standard.json is not
// what StandardWorkload generates; go test ./internal/abitest -update
// rewrites it.
func TestStandardWorkloadFresh(t *testing.T) {
	want, err := MarshalWorkload(StandardWorkload(StandardItems, StandardEvents))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(standardPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(standardPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(standardPath)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/abitest -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale; run go test ./internal/abitest -update", standardPath)
	}
	w, err := LoadWorkload(standardPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Ruleset.Catalogue) != StandardItems || len(w.Ruleset.Rules) != StandardRules || len(w.Events) != StandardEvents || len(w.Slots) != 3 {
		t.Fatalf("workload has %d items, %d rules, %d events, %d slots", len(w.Ruleset.Catalogue), len(w.Ruleset.Rules), len(w.Events), len(w.Slots))
	}
}

// TestStandardWorkloadValid: the workload's ruleset passes Validate without
// errors, uses every condition and action kind, and decides.
func TestStandardWorkloadValid(t *testing.T) {
	for _, size := range []int{StandardItems, 10000} {
		w := StandardWorkload(size, StandardEvents)
		for _, p := range buildtime.Validate(&w.Ruleset) {
			if p.Severity == engine.SeverityError {
				t.Errorf("%d items: %s: %s", size, p.Path, p.Message)
			}
		}
	}
	w := StandardWorkload(StandardItems, StandardEvents)
	kinds := map[string]bool{}
	for _, r := range w.Ruleset.Rules {
		c := r.When
		for k, set := range map[string]bool{
			"weather": len(c.Weather) > 0, "region": len(c.Region) > 0, "daypart": len(c.Daypart) > 0,
			"weekday": len(c.Weekday) > 0, "device": len(c.Device) > 0, "referrer": len(c.Referrer) > 0,
			"page_section": len(c.PageSection) > 0, "visits": c.Visits != nil, "interest": len(c.Interest) > 0,
			"viewed": c.Viewed != nil, "purchased": c.Purchased != nil,
			"boost": r.Boost > 0, "bury": r.Bury > 0, "pin": r.Pin > 0, "exclude": r.Exclude,
		} {
			kinds[k] = kinds[k] || set
		}
	}
	for k, ok := range kinds {
		if !ok {
			t.Errorf("no rule uses %s", k)
		}
	}
	e := engine.New()
	if err := w.Apply(e); err != nil {
		t.Fatal(err)
	}
	ds, err := e.Decide(w.Slots)
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		out, _ := json.MarshalIndent(ds, "", " ")
		t.Logf("%s", out)
	}
}
