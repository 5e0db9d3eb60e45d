package abitest

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/edgewise/edgewise/engine"
)

// Workload is a benchmark scenario: a ruleset, a profile's events and
// impressions, and the context a decide runs in. The standard workload
// (StandardWorkload(1000, 500)) is checked in as testdata/bench/standard.json.
type Workload struct {
	Ruleset     engine.Ruleset    `json:"ruleset"`
	Events      []engine.Event    `json:"events"`
	Impressions []WorkloadShowing `json:"impressions"`
	Context     engine.Context    `json:"context"`
	Slots       []string          `json:"slots"`
}

// WorkloadShowing is one record_impressions call.
type WorkloadShowing struct {
	Items []string `json:"items"`
	At    int64    `json:"at"`
}

// StandardItems, StandardEvents and StandardRules size the standard workload.
const (
	StandardItems  = 1000
	StandardEvents = 500
	StandardRules  = 60
)

var wlTags = []string{
	"running", "trail", "road", "hiking", "camping", "cooking", "climbing", "cycling",
	"winter", "rain", "wool", "night", "travel", "snow", "water", "sun",
	"shoes", "jacket", "tent", "stove", "rope", "helmet", "gloves", "socks",
	"bag", "lamp", "bottle", "map", "compact", "light", "warm", "sale",
}

var wlCampaigns = []string{"spring-launch", "summer-camp", "autumn-trail", "winter-warm", "rainy-days", "city-bike"}

// rng is a small deterministic generator (xorshift64*), so the workload is
// the same bytes on every platform and Go version.
type rng uint64

func (r *rng) next() uint64 {
	x := uint64(*r)
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	*r = rng(x)
	return x * 2685821657736338717
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func itemID(i int) string { return fmt.Sprintf("item-%d", i) }

// StandardWorkload returns the deterministic benchmark workload with n items
// and a profile of events events: 60 rules covering every condition and
// action kind, three slots (one with pins, one excluding seen items, all
// with diversity), two caps, every signal kind declared, and a context
// supplying each signal.
func StandardWorkload(n, events int) Workload {
	r := rng(0x9e3779b97f4a7c15)
	rs := engine.Ruleset{
		ID: "bench-standard", Version: "1",
		Description: "The standard benchmark workload.",
		Profile:     engine.ProfileSettings{HalfLifeDays: 14, MaxEvents: max(events, engine.DefaultMaxEvents)},
		Signals: []engine.Signal{
			{ID: "history", Kind: engine.SignalHistory, Purpose: "Recommend items like the ones you viewed.", RetentionDays: 90},
			{ID: "location", Kind: engine.SignalLocation, Purpose: "Show items available where you are."},
			{ID: "weather", Kind: engine.SignalWeather, Purpose: "Suggest gear for today's weather."},
			{ID: "time", Kind: engine.SignalTime, Purpose: "Suggest items for the time of day."},
			{ID: "device", Kind: engine.SignalDevice, Purpose: "Fit suggestions to your screen."},
			{ID: "referrer", Kind: engine.SignalReferrer, Purpose: "Continue what brought you here."},
			{ID: "page", Kind: engine.SignalPage, Purpose: "Suggest items for the section you browse."},
			{ID: "visits", Kind: engine.SignalVisits, Purpose: "Welcome new visitors differently."},
		},
		Regions: []engine.Region{
			{ID: "dach", Name: "Germany, Austria and Switzerland", Countries: []string{"DE", "AT", "CH"}},
			{ID: "nordics", Name: "The Nordics", Countries: []string{"SE", "NO", "DK", "FI"}},
			{ID: "pnw", Name: "Pacific Northwest", Subdivisions: []string{"US-WA", "US-OR"}},
		},
	}
	for i := 0; i < n; i++ {
		nt := 2 + r.intn(4)
		var tags []string
		for len(tags) < nt {
			t := wlTags[r.intn(len(wlTags))]
			if !contains(tags, t) {
				tags = append(tags, t)
			}
		}
		it := engine.Item{
			ID:         itemID(i),
			Title:      fmt.Sprintf("%s %s no. %d", tags[0], tags[1], i),
			Tags:       tags,
			Attributes: map[string]string{"price": fmt.Sprintf("%d.%02d", 5+r.intn(300), r.intn(100))},
		}
		if i%7 == 0 {
			it.Campaign = wlCampaigns[r.intn(len(wlCampaigns))]
		}
		switch i % 23 {
		case 5:
			it.Regions = []string{"dach"}
		case 11:
			it.Regions = []string{"nordics", "pnw"}
		case 17:
			it.Schedule = []engine.Window{{From: "2025-11-01", Until: "2026-03-31"}}
		case 19:
			it.Schedule = []engine.Window{{Until: "2025-10-31"}, {From: "2026-06-01"}}
		}
		rs.Catalogue = append(rs.Catalogue, it)
	}
	// The home and cart slots show seen items too, as the workload always
	// had them; exclude_seen now defaults to true.
	yes, no := true, false
	rs.Slots = []engine.Slot{
		{ID: "home", Limit: 8, ExcludeSeen: &no, Fallback: []string{itemID(0), itemID(1), itemID(2), itemID(3)},
			Diversity: engine.Diversity{MaxPerTag: 3, MaxPerCampaign: 2}},
		{ID: "product", Limit: 6, ExcludeSeen: &yes,
			Candidates: engine.Selector{Tags: []string{"running", "trail", "hiking", "shoes", "socks", "jacket", "rain", "wool"}},
			Fallback:   []string{firstWithTag(rs.Catalogue, "running"), firstWithTag(rs.Catalogue, "hiking")},
			Diversity:  engine.Diversity{MaxPerTag: 2}},
		{ID: "cart", Limit: 4, ExcludeSeen: &no,
			Candidates: engine.Selector{Tags: []string{"camping", "cooking", "stove", "tent", "lamp", "bottle", "sale"}, Campaigns: []string{"summer-camp", "rainy-days"}},
			Fallback:   []string{firstWithTag(rs.Catalogue, "camping")},
			Diversity:  engine.Diversity{MaxPerTag: 2, MaxPerCampaign: 1}},
	}
	one, three, ten, fifty := 1, 3, 10, 50
	conds := []func(k int) engine.Condition{
		func(k int) engine.Condition {
			return engine.Condition{Weather: []string{[]string{"rain", "snow", "cold", "clear"}[k%4]}}
		},
		func(k int) engine.Condition { return engine.Condition{Region: []string{rs.Regions[k%3].ID}} },
		func(k int) engine.Condition {
			return engine.Condition{Daypart: []string{[]string{"morning", "afternoon", "evening", "night"}[k%4]}}
		},
		func(k int) engine.Condition {
			return engine.Condition{Weekday: []string{"sat", "sun", []string{"mon", "fri"}[k%2]}}
		},
		func(k int) engine.Condition {
			return engine.Condition{Device: []string{[]string{"mobile", "desktop", "tablet"}[k%3]}}
		},
		func(k int) engine.Condition {
			return engine.Condition{Referrer: []string{[]string{"search", "social", "email"}[k%3]}}
		},
		func(k int) engine.Condition {
			return engine.Condition{PageSection: []string{[]string{"outdoor", "sale", "kitchen"}[k%3]}}
		},
		func(k int) engine.Condition {
			if k%2 == 0 {
				return engine.Condition{Visits: &engine.Range{Min: &three, Max: &fifty}}
			}
			return engine.Condition{Visits: &engine.Range{Max: &one}}
		},
		func(k int) engine.Condition {
			return engine.Condition{Interest: []engine.InterestTest{{Tag: wlTags[k%16], AtLeast: float64(1 + k%5)}}}
		},
		func(k int) engine.Condition {
			return engine.Condition{Viewed: &engine.RecentTest{Selector: engine.Selector{Tags: []string{wlTags[(k+3)%16]}}, WithinDays: 7 + k%14}}
		},
		func(k int) engine.Condition {
			return engine.Condition{Purchased: &engine.RecentTest{Selector: engine.Selector{Tags: []string{wlTags[(k+5)%16]}}, WithinDays: 30}}
		},
		func(k int) engine.Condition { return engine.Condition{} },
		func(k int) engine.Condition {
			return engine.Condition{Weather: []string{"rain", "storm"}, Device: []string{"mobile"}, Visits: &engine.Range{Min: &one, Max: &ten}}
		},
	}
	for k := 0; k < StandardRules; k++ {
		rule := engine.Rule{ID: fmt.Sprintf("rule-%02d", k), When: conds[k%len(conds)](k)}
		switch k % 3 {
		case 0:
			rule.Items = engine.Selector{Tags: []string{wlTags[(k*5)%len(wlTags)]}}
		case 1:
			rule.Items = engine.Selector{Campaigns: []string{wlCampaigns[k%len(wlCampaigns)]}}
		case 2:
			rule.Items = engine.Selector{Items: []string{itemID((k * 97) % n), itemID((k*131 + 7) % n)}, Tags: []string{wlTags[16+k%16]}}
		}
		switch k % 10 {
		case 0, 2, 4, 6:
			rule.Boost = 1.5 + float64(k%4)
			if k%4 == 0 {
				rule.Reason = fmt.Sprintf("Picked for you by rule %d", k)
			}
		case 1, 5, 7:
			rule.Bury = 0.25 + 0.1*float64(k%5)
		case 3, 9:
			rule.Pin = 1 + k%3
			rule.Slots = []string{"cart"}
			rule.Items = engine.Selector{Tags: []string{[]string{"camping", "stove", "tent", "lamp"}[k%4]}}
			rule.Reason = "Goes well with your cart"
		case 8:
			rule.Exclude = true
			rule.Items = engine.Selector{Items: []string{itemID((k * 53) % n), itemID((k*59 + 1) % n)}}
		}
		if k%11 == 4 && rule.Pin == 0 {
			rule.Slots = []string{"home", "product"}
		}
		rs.Rules = append(rs.Rules, rule)
	}
	rs.Caps = []engine.Cap{
		{ID: "campaign-daily", Items: engine.Selector{Campaigns: []string{"summer-camp", "rainy-days"}}, PerDay: 3, PerWeek: 10},
		{ID: "sale-weekly", Items: engine.Selector{Tags: []string{"sale"}}, PerWeek: 40},
	}

	w := Workload{Ruleset: rs, Slots: []string{"home", "product", "cart"}}
	types := []string{"view", "view", "view", "view", "click", "click", "add_to_cart", "purchase", "dismiss"}
	at := BenchStart
	for i := 0; i < events; i++ {
		at += int64(30000 + r.intn(4*3600000))
		ev := engine.Event{Type: types[r.intn(len(types))], Item: itemID(zipf(&r, n)), At: at}
		if i%50 == 49 {
			ev.At -= int64(r.intn(3600000)) // a few arrive late, out of order
		}
		w.Events = append(w.Events, ev)
	}
	for i := 0; i < 20; i++ {
		w.Impressions = append(w.Impressions, WorkloadShowing{
			Items: []string{firstWithCampaign(rs.Catalogue, "summer-camp"), firstWithTag(rs.Catalogue, "sale")},
			At:    at - int64(20-i)*3600000,
		})
	}
	visits := 7
	w.Context = engine.Context{
		Now: at + 600000, TZOffsetMinutes: 60, Weather: "rain", Device: "mobile", Referrer: "search",
		PageSection: "outdoor", Visits: &visits, Country: "DE",
	}
	return w
}

// zipf-ish popularity: most events fall on a few hundred items.
func zipf(r *rng, n int) int {
	a, b := r.intn(n), r.intn(n)
	return min(a, b) * min(a, b) / n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstWithTag(cat []engine.Item, tag string) string {
	for _, it := range cat {
		if contains(it.Tags, tag) {
			return it.ID
		}
	}
	return cat[0].ID
}

func firstWithCampaign(cat []engine.Item, camp string) string {
	for _, it := range cat {
		if it.Campaign == camp {
			return it.ID
		}
	}
	return cat[0].ID
}

// MarshalWorkload is the checked-in form of a workload: indented JSON.
func MarshalWorkload(w Workload) ([]byte, error) {
	data, err := json.MarshalIndent(w, "", " ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Apply loads the workload into e: the ruleset, the events, the impressions
// and the context.
func (w Workload) Apply(e *engine.Engine) error {
	if err := e.Load(w.Ruleset); err != nil {
		return err
	}
	for _, ev := range w.Events {
		if _, err := e.Observe(ev); err != nil {
			return err
		}
	}
	for _, im := range w.Impressions {
		if _, err := e.RecordImpressions(im.Items, im.At); err != nil {
			return err
		}
	}
	return e.SetContext(w.Context)
}

// LoadWorkload reads a workload file such as testdata/bench/standard.json.
func LoadWorkload(path string) (Workload, error) {
	var w Workload
	data, err := os.ReadFile(path)
	if err != nil {
		return w, err
	}
	err = json.Unmarshal(data, &w)
	return w, err
}
