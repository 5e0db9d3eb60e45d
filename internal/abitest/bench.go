package abitest

import (
	"fmt"

	"github.com/edgewise/edgewise/engine"
)

// BenchStart is the time of the first event in benchmark profiles.
const BenchStart = int64(1764400000000)

var benchTags = []string{"running", "trail", "road", "hiking", "camping", "cooking", "climbing", "cycling", "winter", "rain", "wool", "night", "travel", "snow", "water", "sun"}

// BenchRuleset is a deterministic catalogue of n items, each with three of
// sixteen tags, and one slot "recs" of 8 items over the whole catalogue.
func BenchRuleset(n int) engine.Ruleset {
	rs := engine.Ruleset{ID: "bench", Version: "1", Signals: []engine.Signal{
		{ID: "history", Kind: engine.SignalHistory, Purpose: "Recommend items like the ones you viewed.", RetentionDays: 90},
	}}
	for i := 0; i < n; i++ {
		rs.Catalogue = append(rs.Catalogue, engine.Item{
			ID:    fmt.Sprintf("item-%d", i),
			Title: fmt.Sprintf("Item %d", i),
			Tags:  []string{benchTags[i%16], benchTags[(i/16)%16], benchTags[(i*7+3)%16]},
		})
	}
	rs.Slots = []engine.Slot{{ID: "recs", Limit: 8, Fallback: []string{"item-0", "item-1"}}}
	return rs
}
