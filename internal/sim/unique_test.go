package sim

import (
	"reflect"
	"testing"
)

// TestUniqueSequences checks the measure on populations whose answer is
// known by construction.
func TestUniqueSequences(t *testing.T) {
	for _, tc := range []struct {
		name   string
		seqs   [][]string
		unique []int
	}{
		{
			// a and b share epoch 1, split in epoch 2; c is alone from the
			// start; d and e stay together; f and g differ only in epoch 3.
			name: "diverging",
			seqs: [][]string{
				{"x", "1", "p"}, // a
				{"x", "2", "p"}, // b
				{"y", "1", "p"}, // c
				{"z", "3", "q"}, // d
				{"z", "3", "q"}, // e
				{"w", "4", "r"}, // f
				{"w", "4", "s"}, // g
			},
			unique: []int{1, 3, 5},
		},
		{
			// No report ("") is a value like any other.
			name:   "missing reports",
			seqs:   [][]string{{"", "a"}, {"", "a"}, {"", ""}, {"b", ""}},
			unique: []int{1, 2},
		},
		{
			// Concatenation must not merge different sequences:
			// ("ab", "c") and ("a", "bc") are different.
			name:   "no concatenation collisions",
			seqs:   [][]string{{"ab", "c"}, {"a", "bc"}},
			unique: []int{2, 2},
		},
		{
			name:   "everyone identical",
			seqs:   [][]string{{"k", "k"}, {"k", "k"}, {"k", "k"}},
			unique: []int{0, 0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := UniqueSequences(tc.seqs)
			var unique []int
			for i, u := range got {
				unique = append(unique, u.Unique)
				if u.Epoch != i+1 || u.Of != len(tc.seqs) || u.Fraction != float64(u.Unique)/float64(len(tc.seqs)) {
					t.Errorf("epoch %d: %+v", i+1, u)
				}
			}
			if !reflect.DeepEqual(unique, tc.unique) {
				t.Errorf("unique per epoch = %v, want %v", unique, tc.unique)
			}
		})
	}
	if got := UniqueSequences(nil); got != nil {
		t.Errorf("no visitors: %v", got)
	}
}

func TestSizesFor(t *testing.T) {
	table := map[string]float64{"a=1": 900, "a=1/b=1": 300, "a=2": 60}
	for _, tc := range []struct {
		cohort string
		want   map[string]float64
	}{
		{"a=1/b=1/c=1", map[string]float64{"a=1/b=1": 300, "a=1": 900}}, // falls back to a=1/b=1
		{"a=1/b=1", nil}, // published: used as it is
		{"a=2/b=9/c=1", map[string]float64{"a=2": 60}}, // falls back to a=2
		{"a=3/b=1/c=1", map[string]float64{}},          // nothing published: no report, not "no table"
		{"", nil},
	} {
		got := sizesFor(table, tc.cohort)
		if !reflect.DeepEqual(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("sizesFor(%q) = %#v, want %#v", tc.cohort, got, tc.want)
		}
	}
}

func TestParseOffset(t *testing.T) {
	for in, want := range map[string]string{"0": "0s", "2d18h": "66h0m0s", "90m": "1h30m0s", "-1d": "-24h0m0s", "1.5d": "36h0m0s"} {
		d, err := parseOffset(in)
		if err != nil || d.String() != want {
			t.Errorf("parseOffset(%q) = %v, %v; want %s", in, d, err, want)
		}
	}
	for _, in := range []string{"", "d", "2x", "1d-3h", "tomorrow"} {
		if _, err := parseOffset(in); err == nil {
			t.Errorf("parseOffset(%q) succeeded", in)
		}
	}
}
