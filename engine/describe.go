package engine

import (
	"math"
	"slices"
)

// Description is what a page may show a person about the active ruleset:
// what it collects and why, the interests they can hide, and how reports
// work. It holds nothing about the person.
type Description struct {
	Ruleset   RulesetInfo       `msgpack:"ruleset" json:"ruleset"`
	Signals   []Signal          `msgpack:"signals" json:"signals"`
	Interests []InterestGroup   `msgpack:"interests" json:"interests"`
	Slots     []SlotDescription `msgpack:"slots" json:"slots"`
	Reporting ReportingPolicy   `msgpack:"reporting" json:"reporting"`
}

// InterestGroup is one interest a person can hide: hiding it hides all its
// tags. The groups are the buckets of the ruleset's interest dimension, or,
// without one, each catalogue tag on its own.
type InterestGroup struct {
	ID   string   `msgpack:"id" json:"id"`
	Tags []string `msgpack:"tags" json:"tags"`
}

// SlotDescription is a slot and what it shows without the engine.
type SlotDescription struct {
	ID       string   `msgpack:"id" json:"id"`
	Fallback []string `msgpack:"fallback" json:"fallback"`
}

// ReportingPolicy is the ruleset's reporting with the defaults applied.
type ReportingPolicy struct {
	Epsilon   float64 `msgpack:"epsilon" json:"epsilon"`
	EpochDays int     `msgpack:"epoch_days" json:"epoch_days"`
	MinK      int     `msgpack:"min_k" json:"min_k"`
	// Cohorts is the size of the cohort catalogue; 0 means nothing is
	// ever reported.
	Cohorts int `msgpack:"cohorts" json:"cohorts"`
}

// Describe returns the description of the active ruleset.
func (e *Engine) Describe() (Description, error) {
	c := e.rules
	if c == nil {
		return Description{}, errNoRuleset()
	}
	d := Description{
		Ruleset:   c.info(),
		Signals:   slices.Clone(c.signals),
		Interests: c.interestGroups(),
		Slots:     make([]SlotDescription, len(c.slots)),
		Reporting: ReportingPolicy{
			Epsilon:   c.epsilon(),
			EpochDays: int(c.epochMillis() / dayMillis),
			MinK:      int(c.minK()),
			Cohorts:   catalogueSize(c.cohorts.Dimensions),
		},
	}
	if d.Signals == nil {
		d.Signals = []Signal{}
	}
	for i, s := range c.slots {
		ids := make([]string, len(s.fallback))
		for j, n := range s.fallback {
			ids[j] = c.items[n].ID
		}
		d.Slots[i] = SlotDescription{ID: s.id, Fallback: ids}
	}
	return d, nil
}

func (c *compiledRuleset) interestGroups() []InterestGroup {
	for _, d := range c.cohorts.Dimensions {
		if d.From != DimensionInterest {
			continue
		}
		var out []InterestGroup
		for _, b := range d.Buckets {
			if len(b.Tags) > 0 {
				out = append(out, InterestGroup{ID: b.ID, Tags: slices.Clone(b.Tags)})
			}
		}
		return out
	}
	out := make([]InterestGroup, 0, len(c.tags))
	tags := slices.Sorted(slices.Values(c.tags))
	for _, t := range tags {
		out = append(out, InterestGroup{ID: t, Tags: []string{t}})
	}
	return out
}

// Export is everything the engine holds about the person, readable: what a
// person gets when they ask for their data. Coordinates are not in it
// because the engine never keeps them.
type Export struct {
	Ruleset     RulesetInfo          `msgpack:"ruleset" json:"ruleset"`
	Preferences EffectivePreferences `msgpack:"preferences" json:"preferences"`
	// Context is the current context as the engine keeps it: only the
	// signals the ruleset declares, location already coarsened. Its regions
	// are every ruleset region the person is in, however it was matched
	// (box, geohash, country or subdivision).
	Context Context `msgpack:"context" json:"context"`
	Events  []Event `msgpack:"events" json:"events"`
	// Impressions are the showings the engine counts for frequency caps.
	Impressions []Impression `msgpack:"impressions" json:"impressions"`
	// Caps are the ruleset's frequency caps as they stand for the person:
	// how often their items were shown in the last day and week, and what
	// each cap allows, so a page can say it in plain words.
	Caps []CapStatus `msgpack:"caps" json:"caps"`
	// Interests are the tags the history points to, strongest first, with
	// weights scaled so the strongest is 1. Hidden interests are left out.
	Interests []InterestWeight `msgpack:"interests" json:"interests"`
	// Cohort is the cohort the person would be reported in, before any
	// k-anonymity coarsening, or "" when there is none.
	Cohort  string   `msgpack:"cohort" json:"cohort"`
	Reports []Report `msgpack:"reports" json:"reports"`
	// ReportPauses are what Forget me keeps: that a report went out in an
	// answer period not yet over, so that no second, freshly noised answer
	// follows it (see ReportPause).
	ReportPauses []ReportPause `msgpack:"report_pauses" json:"report_pauses"`

	Ledger       []LedgerEntry `msgpack:"ledger" json:"ledger"`
	EpsilonSpent float64       `msgpack:"epsilon_spent" json:"epsilon_spent"`
}

// CapStatus is one frequency cap for the person, at the engine's now.
type CapStatus struct {
	ID string `msgpack:"id" json:"id"`
	// Items are the catalogue items the cap counts, in catalogue order.
	Items []string `msgpack:"items" json:"items"`
	// ShownToday and ShownThisWeek count their showings in the 24 hours and
	// the 7 days before now.
	ShownToday    int `msgpack:"shown_today" json:"shown_today"`
	ShownThisWeek int `msgpack:"shown_this_week" json:"shown_this_week"`
	// PerDay and PerWeek are what the cap allows the person, scaled by
	// their frequency choice; 0 when the cap sets no such limit.
	// RulesetPerDay and RulesetPerWeek are the ruleset's own figures.
	PerDay         int `msgpack:"per_day" json:"per_day"`
	PerWeek        int `msgpack:"per_week" json:"per_week"`
	RulesetPerDay  int `msgpack:"ruleset_per_day" json:"ruleset_per_day"`
	RulesetPerWeek int `msgpack:"ruleset_per_week" json:"ruleset_per_week"`
	// Reached is true when the cap hides its items until a showing ages out.
	Reached bool `msgpack:"reached" json:"reached"`
}

// capShowings counts the showings of cap cp's items in the day and in the
// week ending at now: what decide's cap budgets and the export's cap status
// both start from.
func (e *Engine) capShowings(cp *compiledCap, now int64) (day, week int) {
	for _, im := range e.profile.impressions {
		idx, ok := e.rules.itemIndex[im.Item]
		if !ok || !cp.selected[idx] || im.At > now {
			continue
		}
		if now-im.At < 7*dayMillis {
			week++
		}
		if now-im.At < dayMillis {
			day++
		}
	}
	return day, week
}

// capStatus is cap n as it stands for the person at now.
func (e *Engine) capStatus(n int, now int64) CapStatus {
	c := e.rules
	cp := &c.caps[n]
	st := CapStatus{ID: cp.id, Items: []string{}, RulesetPerDay: cp.perDay, RulesetPerWeek: cp.perWeek}
	for i, sel := range cp.selected {
		if sel {
			st.Items = append(st.Items, c.items[i].ID)
		}
	}
	st.ShownToday, st.ShownThisWeek = e.capShowings(cp, now)
	if cp.perDay > 0 {
		st.PerDay = e.prefs.scaleCap(cp.perDay)
		st.Reached = st.ShownToday >= st.PerDay
	}
	if cp.perWeek > 0 {
		st.PerWeek = e.prefs.scaleCap(cp.perWeek)
		st.Reached = st.Reached || st.ShownThisWeek >= st.PerWeek
	}
	return st
}

// Impression is one showing of an item, counted for frequency caps.
type Impression struct {
	Item string `msgpack:"item" json:"item"`
	At   int64  `msgpack:"at" json:"at"`
}

// InterestWeight is how strongly the history points to one tag.
type InterestWeight struct {
	Tag    string  `msgpack:"tag" json:"tag"`
	Weight float64 `msgpack:"weight" json:"weight"`
}

// Export returns everything the engine holds about the person.
func (e *Engine) Export() (Export, error) {
	c := e.rules
	if c == nil {
		return Export{}, errNoRuleset()
	}
	out := Export{
		Ruleset:     c.info(),
		Preferences: e.prefs.effective(),
		Context:     c.minimize(e.context),
		Events:      slices.Clone(e.profile.events),
		Impressions: slices.Clone(e.profile.impressions),
		Interests:   []InterestWeight{},
		Reports:     slices.Clone(e.profile.reports),
	}
	if out.Events == nil {
		out.Events = []Event{}
	}
	if out.Reports == nil {
		out.Reports = []Report{}
	}
	out.ReportPauses = []ReportPause{}
	for _, p := range e.pauses {
		if p.Until > e.context.Now {
			out.ReportPauses = append(out.ReportPauses, p)
		}
	}
	in := c.personRegions(out.Context)
	out.Context.Regions = nil
	for n := range in {
		if in[n] {
			out.Context.Regions = append(out.Context.Regions, c.regions[n].ID)
		}
	}
	if out.Impressions == nil {
		out.Impressions = []Impression{}
	}
	out.Caps = make([]CapStatus, len(c.caps))
	now := e.now()
	for n := range c.caps {
		out.Caps[n] = e.capStatus(n, now)
	}
	aff := e.affinities()
	top := 0.0
	for n, a := range aff {
		if a.weight > 0 && (e.hiddenTag == nil || !e.hiddenTag[n]) {
			top = math.Max(top, a.weight)
		}
	}
	for n, a := range aff {
		if a.weight > 0 && top > 0 && (e.hiddenTag == nil || !e.hiddenTag[n]) {
			out.Interests = append(out.Interests, InterestWeight{Tag: c.tags[n], Weight: math.Round(a.weight/top*1000) / 1000})
		}
	}
	// Strongest first, ties in tag order. An insertion sort: sort.SliceStable
	// would link reflection's swapper into edgewise.wasm for a short list.
	for i := 1; i < len(out.Interests); i++ {
		for j := i; j > 0 && out.Interests[j].Weight > out.Interests[j-1].Weight; j-- {
			out.Interests[j], out.Interests[j-1] = out.Interests[j-1], out.Interests[j]
		}
	}
	if len(c.cohorts.Dimensions) > 0 && !e.prefs.off() {
		if buckets, _ := e.assignCohort(); buckets != nil {
			out.Cohort = cohortID(c.cohorts.Dimensions, buckets)
		}
	}
	out.Ledger, out.EpsilonSpent = e.Ledger()
	if out.Ledger == nil {
		out.Ledger = []LedgerEntry{}
	}
	return out, nil
}
