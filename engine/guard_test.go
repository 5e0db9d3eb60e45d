package engine

import (
	"slices"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/internal/mp/mptest"
	"github.com/edgewise/edgewise/internal/refcodec"
)

// The device's policy guards are exactly Validate's numeric policy checks,
// in Validate's words: every problem they report, Validate reports the same,
// and every policy error Validate reports, other than the text checks that
// run only where rulesets are signed, they report too.
func checkGuards(t *testing.T, rs *Ruleset) {
	t.Helper()
	full := Validate(rs, nil)
	guards := policyGuards(rs)
	for _, g := range guards {
		if !slices.Contains(full, g) {
			t.Fatalf("the guards report %+v, which Validate does not", g)
		}
	}
	for _, p := range full {
		textCheck := strings.Contains(p.Message, "precise location")
		if p.Category == CategoryPolicy && p.Severity == SeverityError && !textCheck && !slices.Contains(guards, p) {
			t.Fatalf("Validate reports the policy error %+v, which the guards miss", p)
		}
	}
}

func TestGuardsAreValidatesPolicyChecks(t *testing.T) {
	box := func(s, w, n, e float64) Region {
		return Region{ID: "r", Name: "R", Boxes: []Box{{South: s, West: w, North: n, East: e}}}
	}
	for name, rs := range map[string]*Ruleset{
		"retention":           {Signals: []Signal{{ID: "h", Kind: SignalHistory, RetentionDays: 91}, {Kind: SignalHistory, RetentionDays: -1}}},
		"max events":          {Profile: ProfileSettings{MaxEvents: MaxEventsLimit + 1, HalfLifeDays: -2}},
		"small box":           {Regions: []Region{box(47, -122, 47.5, -121), box(91, 0, 0, 1), box(2, 2, 1, 1)}},
		"geohash":             {Regions: []Region{{ID: "g", Geohashes: []string{"c23n", "a", ""}}}},
		"cohorts":             {Cohorts: Cohorts{Dimensions: []Dimension{{Buckets: make([]Bucket, 9)}, {Buckets: make([]Bucket, 9)}, {Buckets: make([]Bucket, 9)}, {}}}},
		"reporting":           {Reporting: Reporting{Epsilon: 4.5, MinK: 3, EpochDays: 91}},
		"epsilon NaN":         {Reporting: Reporting{Epsilon: -1}},
		"text is not a guard": {Catalogue: []Item{{ID: "a", Title: "Store at 47.6062,-122.3321"}}},
	} {
		t.Run(name, func(t *testing.T) {
			checkGuards(t, rs)
			if name != "text is not a guard" && len(policyGuards(rs)) == 0 {
				t.Errorf("the guards found nothing in %+v", rs)
			}
		})
	}
}

// FuzzGuards: the same on any ruleset that decodes.
func FuzzGuards(f *testing.F) {
	for _, s := range mptest.Seeds(f, 7, 30, mptest.Codec[Ruleset]{Name: "Ruleset", Decode: mpDecodeRuleset}) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var rs Ruleset
		if refcodec.Decode(data, &rs) != nil {
			return
		}
		checkGuards(t, &rs)
	})
}
