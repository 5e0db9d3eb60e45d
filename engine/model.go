package engine

// The ruleset model. Marketers write it in YAML (package ruleset parses it
// with positions); it is compiled to msgpack inside a signed .ewr file; the
// engine decodes that into these same types. Field names are the same in
// YAML, JSON and msgpack, and the JSON Schema is generated from these types
// (the jsonschema tags), so the three cannot drift apart.

// Ruleset is everything a site tells the engine: what it may collect and why,
// what it can show, where, and how it reports.
type Ruleset struct {
	ID          string `msgpack:"id" json:"id" yaml:"id" jsonschema:"title=Ruleset id,description=A short stable name for this ruleset; reports are keyed by it.,pattern=^[a-z0-9][a-z0-9._-]*$,maxLength=128"`
	Version     string `msgpack:"version" json:"version" yaml:"version" jsonschema:"description=The ruleset's own version; shown in previews and reports.,minLength=1,maxLength=64"`
	Description string `msgpack:"description,omitempty" json:"description,omitempty" yaml:"description,omitempty" jsonschema:"description=What this ruleset is for\\, in a sentence.,maxLength=500"`

	Profile   ProfileSettings `msgpack:"profile,omitempty" json:"profile,omitempty" yaml:"profile,omitempty" jsonschema:"description=How the on-device profile learns and forgets."`
	Signals   []Signal        `msgpack:"signals" json:"signals" yaml:"signals" jsonschema:"description=Every signal the engine may use\\, each with the purpose shown to people. Nothing undeclared is collected."`
	Regions   []Region        `msgpack:"regions,omitempty" json:"regions,omitempty" yaml:"regions,omitempty" jsonschema:"description=Named coarse areas that rules and availability refer to."`
	Catalogue []Item          `msgpack:"catalogue" json:"catalogue" yaml:"catalogue" jsonschema:"description=The content the engine can pick from.,minItems=1"`
	Slots     []Slot          `msgpack:"slots" json:"slots" yaml:"slots" jsonschema:"description=The places on a page that show picks.,minItems=1"`
	Rules     []Rule          `msgpack:"rules,omitempty" json:"rules,omitempty" yaml:"rules,omitempty" jsonschema:"description=When a condition holds\\, boost\\, bury\\, pin or exclude some items."`
	Caps      []Cap           `msgpack:"caps,omitempty" json:"caps,omitempty" yaml:"caps,omitempty" jsonschema:"description=How often an item or campaign may be shown to one person."`
	Cohorts   Cohorts         `msgpack:"cohorts,omitempty" json:"cohorts,omitempty" yaml:"cohorts,omitempty" jsonschema:"description=The coarse groups a person may be counted in\\, if they allow reports."`
	Reporting Reporting       `msgpack:"reporting,omitempty" json:"reporting,omitempty" yaml:"reporting,omitempty" jsonschema:"description=How cohort reports are noised and how often they may be sent."`
}

// ProfileSettings tune how interest is learned and forgotten.
type ProfileSettings struct {
	HalfLifeDays float64 `msgpack:"half_life_days,omitempty" json:"half_life_days,omitempty" yaml:"half_life_days,omitempty" jsonschema:"description=An event counts half as much after this many days (default 14).,exclusiveMinimum=0,maximum=365"`
	MaxEvents    int     `msgpack:"max_events,omitempty" json:"max_events,omitempty" yaml:"max_events,omitempty" jsonschema:"description=The most events kept on the device (default 500).,minimum=1,maximum=5000"`
}

// Signal kinds. Each condition a rule can test needs the matching signal.
const (
	SignalHistory  = "history"  // views, clicks, carts and purchases on this site
	SignalLocation = "location" // the coarse region, derived on the device
	SignalWeather  = "weather"  // a weather category the page supplies
	SignalTime     = "time"     // daypart and weekday in the person's time zone
	SignalDevice   = "device"   // mobile, tablet or desktop
	SignalReferrer = "referrer" // the category of the referring site
	SignalPage     = "page"     // the section of the site being viewed
	SignalVisits   = "visits"   // how many visits the person has made
)

// SignalKinds lists every kind, in the order the docs explain them.
var SignalKinds = []string{SignalHistory, SignalLocation, SignalWeather, SignalTime, SignalDevice, SignalReferrer, SignalPage, SignalVisits}

// Signal declares one thing the engine may use, and why.
type Signal struct {
	ID            string `msgpack:"id" json:"id" yaml:"id" jsonschema:"description=A name for this signal.,pattern=^[a-z0-9][a-z0-9_-]*$"`
	Kind          string `msgpack:"kind" json:"kind" yaml:"kind" jsonschema:"enum=history,enum=location,enum=weather,enum=time,enum=device,enum=referrer,enum=page,enum=visits"`
	Purpose       string `msgpack:"purpose" json:"purpose" yaml:"purpose" jsonschema:"description=One sentence shown to the person: what this signal is used for.,minLength=10,maxLength=300"`
	RetentionDays int    `msgpack:"retention_days" json:"retention_days" yaml:"retention_days" jsonschema:"description=How long data from this signal is kept on the device; 0 means it is used and never stored.,minimum=0,maximum=90"`
}

// Region is a named coarse area: whole countries, first-level subdivisions,
// or large boxes and geohash cells. Nothing finer than about 100 km.
type Region struct {
	ID           string   `msgpack:"id" json:"id" yaml:"id" jsonschema:"pattern=^[a-z0-9][a-z0-9_-]*$"`
	Name         string   `msgpack:"name" json:"name" yaml:"name" jsonschema:"description=The name people see.,minLength=1"`
	Countries    []string `msgpack:"countries,omitempty" json:"countries,omitempty" yaml:"countries,omitempty" jsonschema:"description=ISO 3166-1 alpha-2 codes.,pattern=^[A-Z]{2}$"`
	Subdivisions []string `msgpack:"subdivisions,omitempty" json:"subdivisions,omitempty" yaml:"subdivisions,omitempty" jsonschema:"description=ISO 3166-2 codes such as US-WA.,pattern=^[A-Z]{2}-[A-Z0-9]{1\\,3}$"`
	Boxes        []Box    `msgpack:"boxes,omitempty" json:"boxes,omitempty" yaml:"boxes,omitempty" jsonschema:"description=Bounding boxes at least 1 degree on each side."`
	Geohashes    []string `msgpack:"geohashes,omitempty" json:"geohashes,omitempty" yaml:"geohashes,omitempty" jsonschema:"description=Geohash cells of at most 3 characters (about 156 km).,pattern=^[0-9b-hjkmnp-z]{1\\,3}$"`
}

// Box is a latitude/longitude rectangle in degrees.
type Box struct {
	South float64 `msgpack:"south" json:"south" yaml:"south" jsonschema:"minimum=-90,maximum=90"`
	West  float64 `msgpack:"west" json:"west" yaml:"west" jsonschema:"minimum=-180,maximum=180"`
	North float64 `msgpack:"north" json:"north" yaml:"north" jsonschema:"minimum=-90,maximum=90"`
	East  float64 `msgpack:"east" json:"east" yaml:"east" jsonschema:"minimum=-180,maximum=180"`
}

// Item is one piece of content the engine can pick.
type Item struct {
	ID         string            `msgpack:"id" json:"id" yaml:"id" jsonschema:"pattern=^[a-z0-9][a-z0-9._-]*$,maxLength=128"`
	Title      string            `msgpack:"title" json:"title" yaml:"title" jsonschema:"description=Shown in reasons: Because you viewed <title>.,minLength=1,maxLength=256"`
	Tags       []string          `msgpack:"tags" json:"tags" yaml:"tags" jsonschema:"description=What the item is about; interests are learned per tag.,minItems=1,maxItems=32"`
	Campaign   string            `msgpack:"campaign,omitempty" json:"campaign,omitempty" yaml:"campaign,omitempty" jsonschema:"description=The campaign the item belongs to\\, for caps and rules."`
	Attributes map[string]string `msgpack:"attributes,omitempty" json:"attributes,omitempty" yaml:"attributes,omitempty" jsonschema:"description=Free-form details the page can render (price\\, image\\, link)."`
	Regions    []string          `msgpack:"regions,omitempty" json:"regions,omitempty" yaml:"regions,omitempty" jsonschema:"description=Available only in these regions; empty means everywhere."`
	Schedule   []Window          `msgpack:"schedule,omitempty" json:"schedule,omitempty" yaml:"schedule,omitempty" jsonschema:"description=Available only inside these windows; empty means always."`
}

// Window is a span of dates, inclusive, in the person's time zone.
type Window struct {
	From  string `msgpack:"from,omitempty" json:"from,omitempty" yaml:"from,omitempty" jsonschema:"format=date,description=First day\\, YYYY-MM-DD."`
	Until string `msgpack:"until,omitempty" json:"until,omitempty" yaml:"until,omitempty" jsonschema:"format=date,description=Last day\\, YYYY-MM-DD."`
}

// Selector picks items by id, tag or campaign; an item matching any list is selected.
type Selector struct {
	Items     []string `msgpack:"items,omitempty" json:"items,omitempty" yaml:"items,omitempty"`
	Tags      []string `msgpack:"tags,omitempty" json:"tags,omitempty" yaml:"tags,omitempty"`
	Campaigns []string `msgpack:"campaigns,omitempty" json:"campaigns,omitempty" yaml:"campaigns,omitempty"`
}

// Empty reports whether the selector names nothing.
func (s Selector) Empty() bool { return len(s.Items) == 0 && len(s.Tags) == 0 && len(s.Campaigns) == 0 }

// Slot is a place on a page that shows up to Limit items.
// A Slot's ExcludeSeen is nil unless the ruleset says: nil and true leave
// seen items out (see Slot.ExcludesSeen).
type Slot struct {
	ID          string    `msgpack:"id" json:"id" yaml:"id" jsonschema:"pattern=^[a-z0-9][a-z0-9_-]*$"`
	Candidates  Selector  `msgpack:"candidates,omitempty" json:"candidates,omitempty" yaml:"candidates,omitempty" jsonschema:"description=Which items this slot may show; empty means all."`
	Limit       int       `msgpack:"limit" json:"limit" yaml:"limit" jsonschema:"minimum=1,maximum=50"`
	Fallback    []string  `msgpack:"fallback" json:"fallback" yaml:"fallback" jsonschema:"description=Shown\\, in order\\, when nothing personal qualifies.,minItems=1"`
	Diversity   Diversity `msgpack:"diversity,omitempty" json:"diversity,omitempty" yaml:"diversity,omitempty"`
	ExcludeSeen *bool     `msgpack:"exclude_seen,omitempty" json:"exclude_seen,omitempty" yaml:"exclude_seen,omitempty" jsonschema:"description=Leave out items the person already viewed or bought (default true); false lets the slot show them\\, e.g. for buy again.,default=true"`
}

// ExcludesSeen reports whether the slot leaves out items the person
// already viewed or bought: unless the ruleset turned it off, it does, so
// a shopper is not offered what they just looked at or bought.
func (s *Slot) ExcludesSeen() bool { return s.ExcludeSeen == nil || *s.ExcludeSeen }

// Diversity keeps one theme from filling a slot.
type Diversity struct {
	MaxPerTag      int `msgpack:"max_per_tag,omitempty" json:"max_per_tag,omitempty" yaml:"max_per_tag,omitempty" jsonschema:"minimum=1"`
	MaxPerCampaign int `msgpack:"max_per_campaign,omitempty" json:"max_per_campaign,omitempty" yaml:"max_per_campaign,omitempty" jsonschema:"minimum=1"`
}

// Rule applies one action to some items while its condition holds.
// Exactly one of Boost, Bury, Pin and Exclude is set.
type Rule struct {
	ID          string    `msgpack:"id" json:"id" yaml:"id" jsonschema:"pattern=^[a-z0-9][a-z0-9_-]*$"`
	Description string    `msgpack:"description,omitempty" json:"description,omitempty" yaml:"description,omitempty" jsonschema:"description=The rule in a sentence\\, for people reviewing it."`
	Reason      string    `msgpack:"reason,omitempty" json:"reason,omitempty" yaml:"reason,omitempty" jsonschema:"description=Shown to the person when this rule shaped a pick\\, e.g. Because it's raining in your region.,maxLength=200"`
	When        Condition `msgpack:"when,omitempty" json:"when,omitempty" yaml:"when,omitempty" jsonschema:"description=All listed conditions must hold; an empty condition always holds."`
	Items       Selector  `msgpack:"items" json:"items" yaml:"items" jsonschema:"description=The items the action applies to."`
	Slots       []string  `msgpack:"slots,omitempty" json:"slots,omitempty" yaml:"slots,omitempty" jsonschema:"description=Only in these slots; empty means every slot."`
	Boost       float64   `msgpack:"boost,omitempty" json:"boost,omitempty" yaml:"boost,omitempty" jsonschema:"description=Multiply the items' scores by this (more than 1\\, at most 10).,exclusiveMinimum=1,maximum=10"`
	Bury        float64   `msgpack:"bury,omitempty" json:"bury,omitempty" yaml:"bury,omitempty" jsonschema:"description=Multiply the items' scores by this (between 0 and 1).,exclusiveMinimum=0,exclusiveMaximum=1"`
	Pin         int       `msgpack:"pin,omitempty" json:"pin,omitempty" yaml:"pin,omitempty" jsonschema:"description=Put the first matching item at this position (1 is first).,minimum=1,maximum=50"`
	Exclude     bool      `msgpack:"exclude,omitempty" json:"exclude,omitempty" yaml:"exclude,omitempty" jsonschema:"description=Never show the items while the condition holds."`
}

// Condition holds when every listed test holds. Lists mean "any of".
type Condition struct {
	Weather     []string       `msgpack:"weather,omitempty" json:"weather,omitempty" yaml:"weather,omitempty" jsonschema:"enum=clear,enum=cloudy,enum=rain,enum=snow,enum=storm,enum=hot,enum=cold"`
	Region      []string       `msgpack:"region,omitempty" json:"region,omitempty" yaml:"region,omitempty" jsonschema:"description=Region ids from regions."`
	Daypart     []string       `msgpack:"daypart,omitempty" json:"daypart,omitempty" yaml:"daypart,omitempty" jsonschema:"enum=morning,enum=afternoon,enum=evening,enum=night"`
	Weekday     []string       `msgpack:"weekday,omitempty" json:"weekday,omitempty" yaml:"weekday,omitempty" jsonschema:"enum=mon,enum=tue,enum=wed,enum=thu,enum=fri,enum=sat,enum=sun"`
	Device      []string       `msgpack:"device,omitempty" json:"device,omitempty" yaml:"device,omitempty" jsonschema:"enum=mobile,enum=tablet,enum=desktop"`
	Referrer    []string       `msgpack:"referrer,omitempty" json:"referrer,omitempty" yaml:"referrer,omitempty" jsonschema:"enum=direct,enum=search,enum=social,enum=email,enum=partner"`
	PageSection []string       `msgpack:"page_section,omitempty" json:"page_section,omitempty" yaml:"page_section,omitempty" jsonschema:"description=Site section names the page reports."`
	Visits      *Range         `msgpack:"visits,omitempty" json:"visits,omitempty" yaml:"visits,omitempty" jsonschema:"description=The person's visit count is in this range."`
	Interest    []InterestTest `msgpack:"interest,omitempty" json:"interest,omitempty" yaml:"interest,omitempty" jsonschema:"description=The person's interest in a tag is at least this strong."`
	Viewed      *RecentTest    `msgpack:"viewed,omitempty" json:"viewed,omitempty" yaml:"viewed,omitempty" jsonschema:"description=The person viewed a matching item recently."`
	Purchased   *RecentTest    `msgpack:"purchased,omitempty" json:"purchased,omitempty" yaml:"purchased,omitempty" jsonschema:"description=The person bought a matching item recently."`
}

// Range is an inclusive integer range; a missing bound is open.
type Range struct {
	Min *int `msgpack:"min,omitempty" json:"min,omitempty" yaml:"min,omitempty" jsonschema:"minimum=0"`
	Max *int `msgpack:"max,omitempty" json:"max,omitempty" yaml:"max,omitempty" jsonschema:"minimum=0"`
}

// InterestTest holds when interest in Tag is at least AtLeast, on a scale
// where 1 is one fresh view.
type InterestTest struct {
	Tag     string  `msgpack:"tag" json:"tag" yaml:"tag"`
	AtLeast float64 `msgpack:"at_least" json:"at_least" yaml:"at_least" jsonschema:"exclusiveMinimum=0,maximum=100"`
}

// RecentTest holds when a matching item was seen within the last WithinDays days.
type RecentTest struct {
	Selector   `msgpack:",inline" json:",inline" yaml:",inline"`
	WithinDays int `msgpack:"within_days" json:"within_days" yaml:"within_days" jsonschema:"minimum=1,maximum=90"`
}

// Cap limits how often the selected items may be shown to one person.
type Cap struct {
	ID      string   `msgpack:"id" json:"id" yaml:"id" jsonschema:"pattern=^[a-z0-9][a-z0-9_-]*$"`
	Items   Selector `msgpack:"items" json:"items" yaml:"items"`
	PerDay  int      `msgpack:"per_day,omitempty" json:"per_day,omitempty" yaml:"per_day,omitempty" jsonschema:"minimum=1,maximum=100"`
	PerWeek int      `msgpack:"per_week,omitempty" json:"per_week,omitempty" yaml:"per_week,omitempty" jsonschema:"minimum=1,maximum=500"`
}

// Cohorts are the product of coarse dimensions; a person's cohort id is one
// bucket from each.
type Cohorts struct {
	Dimensions []Dimension `msgpack:"dimensions,omitempty" json:"dimensions,omitempty" yaml:"dimensions,omitempty"`
}

// Dimension sources.
const (
	DimensionInterest   = "interest"   // the person's strongest interest among the buckets' tags
	DimensionRegion     = "region"     // the person's coarse region
	DimensionEngagement = "engagement" // the person's visit count
)

// Dimension is one coarse property of a person, cut into a few buckets.
type Dimension struct {
	ID      string   `msgpack:"id" json:"id" yaml:"id" jsonschema:"pattern=^[a-z0-9][a-z0-9_-]*$"`
	From    string   `msgpack:"from" json:"from" yaml:"from" jsonschema:"enum=interest,enum=region,enum=engagement"`
	Buckets []Bucket `msgpack:"buckets" json:"buckets" yaml:"buckets" jsonschema:"minItems=2,maxItems=16"`
}

// Bucket is one value of a dimension. Which field applies depends on the
// dimension's source; the last bucket may be a catch-all with none set.
type Bucket struct {
	ID      string   `msgpack:"id" json:"id" yaml:"id" jsonschema:"pattern=^[a-z0-9][a-z0-9_-]*$"`
	Tags    []string `msgpack:"tags,omitempty" json:"tags,omitempty" yaml:"tags,omitempty" jsonschema:"description=For interest: the tags that make up this bucket."`
	Regions []string `msgpack:"regions,omitempty" json:"regions,omitempty" yaml:"regions,omitempty" jsonschema:"description=For region: the region ids in this bucket."`
	Visits  *Range   `msgpack:"visits,omitempty" json:"visits,omitempty" yaml:"visits,omitempty" jsonschema:"description=For engagement: the visit counts in this bucket."`
}

// Reporting sets the privacy parameters of cohort reports.
type Reporting struct {
	EpochDays int     `msgpack:"epoch_days,omitempty" json:"epoch_days,omitempty" yaml:"epoch_days,omitempty" jsonschema:"description=At most one report per epoch (default 7 days\\, at least 7).,minimum=7,maximum=90"`
	Epsilon   float64 `msgpack:"epsilon,omitempty" json:"epsilon,omitempty" yaml:"epsilon,omitempty" jsonschema:"description=Local differential privacy budget per report (default 2\\, at most 4).,exclusiveMinimum=0,maximum=4"`
	MinK      int     `msgpack:"min_k,omitempty" json:"min_k,omitempty" yaml:"min_k,omitempty" jsonschema:"description=Smallest cohort reported as itself (default 50).,minimum=10"`
}
