package suggest

import "testing"

func TestClosest(t *testing.T) {
	fields := []string{"id", "title", "tags", "campaign", "attributes", "regions", "schedule", "retention_days", "exclude_seen", "boost", "bury"}
	for in, want := range map[string]string{
		"tagz": "tags", "Tags": "tags", "campain": "campaign", "retention": "retention_days",
		"exclude-seen": "exclude_seen", "ExcludeSeen": "exclude_seen", "colour": "", "i": "id", "region": "regions", "x": "",
		// Two neighbouring letters swapped count as one slip.
		"titel": "title", "boots": "boost",
	} {
		if got := Closest(in, fields); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
	ids := []string{"house-espresso", "recommended", "history", "hero", "trail-shoe"}
	for in, want := range map[string]string{
		"house-espreso": "house-espresso", "recomended": "recommended", "histroy": "history",
		"heroes": "hero", "kayak": "",
	} {
		if got := Closest(in, ids); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"titel", "title", 1}, {"ab", "ba", 1}, {"éa", "aé", 1}} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}
