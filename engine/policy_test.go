package engine

import (
	"errors"
	"strings"
	"testing"
)

func TestLocationIn(t *testing.T) {
	for _, tc := range []struct {
		text  string
		loose bool
		want  string
	}{
		{"47.6062, -122.3321", false, "coordinates"},
		{"lat 47.606 lon -122.332", false, "coordinates"},
		{"47.6,-122.3", false, ""},
		{"Weight 1.234 kg", false, ""},
		{"Prices 19.99, 24.99", false, ""},
		{"SW1A 1AA", false, "a postcode"},
		{"Size M10 2XL", false, ""},
		{"K1A 0B6", false, "a postcode"},
		{"98101-1234", false, "a postcode"},
		{"zip code 98101", false, "a postcode"},
		{"Postleitzahl 80331", false, "a postcode"},
		{"Half-zip fleece, 300 g", false, ""},
		{"Model 12345", false, ""},
		{"Seattle 98101", true, "a postcode"},
		{"80331 München", true, "a postcode"},
		{"1012 AB Amsterdam", true, "a postcode"},
		{"Alps 2025", true, ""},
		{"Pacific Northwest", true, ""},
		{"12.50", true, ""},
	} {
		if got := locationIn(tc.text, tc.loose); got != tc.want {
			t.Errorf("locationIn(%q, %v) = %q, want %q", tc.text, tc.loose, got, tc.want)
		}
	}
	for _, k := range []string{"zipcode", "Post Code", "postal_code", "lat", "Longitude", "latLng"} {
		if !locationKey(k) {
			t.Errorf("locationKey(%q) = false", k)
		}
	}
	for _, k := range []string{"zip", "price", "image", "store", "weight"} {
		if locationKey(k) {
			t.Errorf("locationKey(%q) = true", k)
		}
	}
}

// compile refuses what the policy guards refuse, and buildIndexes survives
// rulesets Validate would refuse: the device trusts the signature for the
// structure, and must not break if it is wrong anyway.
func TestCompileNeverPanics(t *testing.T) {
	_, err := compile(Ruleset{Signals: []Signal{{ID: "h", Kind: SignalHistory, RetentionDays: 900}}})
	var ee *Error
	if !errors.As(err, &ee) || ee.Code != CodePrivacyPolicy || !strings.Contains(ee.Message, "keeps data for 900 days") {
		t.Errorf("compile(900-day retention) = %v", err)
	}
	if c, err := compile(Ruleset{}); err != nil || len(c.items) != 0 || len(c.slots) != 0 {
		t.Errorf("compile(zero) = %v, %v; the guards have nothing to refuse in it", c, err)
	}
	for _, rs := range []Ruleset{
		{},
		{Catalogue: []Item{{}, {}}, Slots: []Slot{{}, {}}},
		{Signals: []Signal{{Kind: SignalHistory, RetentionDays: -4}, {Kind: SignalHistory, RetentionDays: 900}},
			Profile:   ProfileSettings{HalfLifeDays: -1, MaxEvents: 1 << 30},
			Catalogue: []Item{{ID: "a", Tags: []string{"x", "x"}}},
			Slots:     []Slot{{ID: "s", Limit: -3, Fallback: []string{"nope"}, Candidates: Selector{Tags: []string{"none"}}}}},
	} {
		c := buildIndexes(&rs)
		if c.maxEvents < 1 || c.maxEvents > MaxEventsLimit || c.halfLifeMillis <= 0 || c.retentionMillis < 0 || c.retentionMillis > MaxRetentionDays*dayMillis {
			t.Errorf("buildIndexes kept a value out of range: %+v", c)
		}
		for _, s := range c.slots {
			if s.limit < 1 || s.limit > MaxSlotLimit {
				t.Errorf("slot limit %d", s.limit)
			}
		}
	}
}
