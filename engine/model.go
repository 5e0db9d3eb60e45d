package engine

// The ruleset model. Marketers write it in YAML (package ruleset parses it
// with positions); it is compiled to msgpack inside a signed .ewr file; the
// engine decodes that into these same types. Field names are the same in
// YAML, JSON and msgpack, and the JSON Schema is generated from these types'
// json tags plus the keywords in ruleset/schema_tags.go, so the three cannot
// drift apart. The keywords are not struct tags here because tags ship in
// edgewise.wasm's type metadata to every visitor.

// Ruleset is everything a site tells the engine: what it may collect and why,
// what it can show, where, and how it reports.
type Ruleset struct {
	ID          string `msgpack:"id" json:"id" yaml:"id"`
	Version     string `msgpack:"version" json:"version" yaml:"version"`
	Description string `msgpack:"description,omitempty" json:"description,omitempty" yaml:"description,omitempty"`

	Profile   ProfileSettings `msgpack:"profile,omitempty" json:"profile,omitempty" yaml:"profile,omitempty"`
	Signals   []Signal        `msgpack:"signals" json:"signals" yaml:"signals"`
	Regions   []Region        `msgpack:"regions,omitempty" json:"regions,omitempty" yaml:"regions,omitempty"`
	Catalogue []Item          `msgpack:"catalogue" json:"catalogue" yaml:"catalogue"`
	Slots     []Slot          `msgpack:"slots" json:"slots" yaml:"slots"`
	Rules     []Rule          `msgpack:"rules,omitempty" json:"rules,omitempty" yaml:"rules,omitempty"`
	Caps      []Cap           `msgpack:"caps,omitempty" json:"caps,omitempty" yaml:"caps,omitempty"`
	Cohorts   Cohorts         `msgpack:"cohorts,omitempty" json:"cohorts,omitempty" yaml:"cohorts,omitempty"`
	Reporting Reporting       `msgpack:"reporting,omitempty" json:"reporting,omitempty" yaml:"reporting,omitempty"`
	Feeds     []FeedRef       `msgpack:"feeds,omitempty" json:"feeds,omitempty" yaml:"feeds,omitempty"`
	// Experiments compare the personalized picks with the shop's own in
	// some slots, measured by outcome reports (see experiment.go).
	Experiments []Experiment `msgpack:"experiments,omitempty" json:"experiments,omitempty" yaml:"experiments,omitempty"`
}

// Feed kinds. A weather feed supplies the weather signal; rules test the
// others with a feed condition.
const (
	FeedWeather  = "weather"  // a weather category per region, for weather conditions
	FeedHolidays = "holidays" // public holidays and school breaks per country or subdivision, by date
	FeedCustom   = "custom"   // a site's own values per region, such as whether the store is open
)

// FeedKinds lists every feed kind.
var FeedKinds = []string{FeedWeather, FeedHolidays, FeedCustom}

// FeedRef names a signed context feed (.ewf, made by edgewise feed build)
// that the ruleset uses.
type FeedRef struct {
	ID          string   `msgpack:"id" json:"id" yaml:"id"`
	Kind        string   `msgpack:"kind" json:"kind" yaml:"kind"`
	URL         string   `msgpack:"url" json:"url" yaml:"url"`
	Key         string   `msgpack:"key,omitempty" json:"key,omitempty" yaml:"key,omitempty"`
	Values      []string `msgpack:"values,omitempty" json:"values,omitempty" yaml:"values,omitempty"`
	Description string   `msgpack:"description,omitempty" json:"description,omitempty" yaml:"description,omitempty"`
}

// ProfileSettings tune how interest is learned and forgotten.
type ProfileSettings struct {
	HalfLifeDays float64 `msgpack:"half_life_days,omitempty" json:"half_life_days,omitempty" yaml:"half_life_days,omitempty"`
	MaxEvents    int     `msgpack:"max_events,omitempty" json:"max_events,omitempty" yaml:"max_events,omitempty"`
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
	ID            string `msgpack:"id" json:"id" yaml:"id"`
	Kind          string `msgpack:"kind" json:"kind" yaml:"kind"`
	Purpose       string `msgpack:"purpose" json:"purpose" yaml:"purpose"`
	RetentionDays int    `msgpack:"retention_days" json:"retention_days" yaml:"retention_days"`
}

// Region is a named coarse area: whole countries, first-level subdivisions,
// or large boxes and geohash cells. Nothing finer than about 100 km.
type Region struct {
	ID           string   `msgpack:"id" json:"id" yaml:"id"`
	Name         string   `msgpack:"name" json:"name" yaml:"name"`
	Countries    []string `msgpack:"countries,omitempty" json:"countries,omitempty" yaml:"countries,omitempty"`
	Subdivisions []string `msgpack:"subdivisions,omitempty" json:"subdivisions,omitempty" yaml:"subdivisions,omitempty"`
	Boxes        []Box    `msgpack:"boxes,omitempty" json:"boxes,omitempty" yaml:"boxes,omitempty"`
	Geohashes    []string `msgpack:"geohashes,omitempty" json:"geohashes,omitempty" yaml:"geohashes,omitempty"`
}

// Box is a latitude/longitude rectangle in degrees.
type Box struct {
	South float64 `msgpack:"south" json:"south" yaml:"south"`
	West  float64 `msgpack:"west" json:"west" yaml:"west"`
	North float64 `msgpack:"north" json:"north" yaml:"north"`
	East  float64 `msgpack:"east" json:"east" yaml:"east"`
}

// Item is one piece of content the engine can pick.
type Item struct {
	ID         string            `msgpack:"id" json:"id" yaml:"id"`
	Title      string            `msgpack:"title" json:"title" yaml:"title"`
	Tags       []string          `msgpack:"tags" json:"tags" yaml:"tags"`
	Campaign   string            `msgpack:"campaign,omitempty" json:"campaign,omitempty" yaml:"campaign,omitempty"`
	Attributes map[string]string `msgpack:"attributes,omitempty" json:"attributes,omitempty" yaml:"attributes,omitempty"`
	Regions    []string          `msgpack:"regions,omitempty" json:"regions,omitempty" yaml:"regions,omitempty"`
	Schedule   []Window          `msgpack:"schedule,omitempty" json:"schedule,omitempty" yaml:"schedule,omitempty"`
}

// Window is a span of dates, inclusive, in the person's time zone.
type Window struct {
	From  string `msgpack:"from,omitempty" json:"from,omitempty" yaml:"from,omitempty"`
	Until string `msgpack:"until,omitempty" json:"until,omitempty" yaml:"until,omitempty"`
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
	ID          string    `msgpack:"id" json:"id" yaml:"id"`
	Candidates  Selector  `msgpack:"candidates,omitempty" json:"candidates,omitempty" yaml:"candidates,omitempty"`
	Limit       int       `msgpack:"limit" json:"limit" yaml:"limit"`
	Fallback    []string  `msgpack:"fallback" json:"fallback" yaml:"fallback"`
	Diversity   Diversity `msgpack:"diversity,omitempty" json:"diversity,omitempty" yaml:"diversity,omitempty"`
	ExcludeSeen *bool     `msgpack:"exclude_seen,omitempty" json:"exclude_seen,omitempty" yaml:"exclude_seen,omitempty"`
}

// ExcludesSeen reports whether the slot leaves out items the person
// already viewed or bought: unless the ruleset turned it off, it does, so
// a shopper is not offered what they just looked at or bought.
func (s *Slot) ExcludesSeen() bool { return s.ExcludeSeen == nil || *s.ExcludeSeen }

// Diversity keeps one theme from filling a slot.
type Diversity struct {
	MaxPerTag      int `msgpack:"max_per_tag,omitempty" json:"max_per_tag,omitempty" yaml:"max_per_tag,omitempty"`
	MaxPerCampaign int `msgpack:"max_per_campaign,omitempty" json:"max_per_campaign,omitempty" yaml:"max_per_campaign,omitempty"`
}

// Rule applies one action to some items while its condition holds.
// Exactly one of Boost, Bury, Pin and Exclude is set.
type Rule struct {
	ID          string    `msgpack:"id" json:"id" yaml:"id"`
	Description string    `msgpack:"description,omitempty" json:"description,omitempty" yaml:"description,omitempty"`
	Reason      string    `msgpack:"reason,omitempty" json:"reason,omitempty" yaml:"reason,omitempty"`
	When        Condition `msgpack:"when,omitempty" json:"when,omitempty" yaml:"when,omitempty"`
	Items       Selector  `msgpack:"items" json:"items" yaml:"items"`
	Slots       []string  `msgpack:"slots,omitempty" json:"slots,omitempty" yaml:"slots,omitempty"`
	Boost       float64   `msgpack:"boost,omitempty" json:"boost,omitempty" yaml:"boost,omitempty"`
	Bury        float64   `msgpack:"bury,omitempty" json:"bury,omitempty" yaml:"bury,omitempty"`
	Pin         int       `msgpack:"pin,omitempty" json:"pin,omitempty" yaml:"pin,omitempty"`
	Exclude     bool      `msgpack:"exclude,omitempty" json:"exclude,omitempty" yaml:"exclude,omitempty"`
}

// Condition holds when every listed test holds. Lists mean "any of".
type Condition struct {
	Weather     []string       `msgpack:"weather,omitempty" json:"weather,omitempty" yaml:"weather,omitempty"`
	Region      []string       `msgpack:"region,omitempty" json:"region,omitempty" yaml:"region,omitempty"`
	Daypart     []string       `msgpack:"daypart,omitempty" json:"daypart,omitempty" yaml:"daypart,omitempty"`
	Weekday     []string       `msgpack:"weekday,omitempty" json:"weekday,omitempty" yaml:"weekday,omitempty"`
	Device      []string       `msgpack:"device,omitempty" json:"device,omitempty" yaml:"device,omitempty"`
	Referrer    []string       `msgpack:"referrer,omitempty" json:"referrer,omitempty" yaml:"referrer,omitempty"`
	PageSection []string       `msgpack:"page_section,omitempty" json:"page_section,omitempty" yaml:"page_section,omitempty"`
	Visits      *Range         `msgpack:"visits,omitempty" json:"visits,omitempty" yaml:"visits,omitempty"`
	Interest    []InterestTest `msgpack:"interest,omitempty" json:"interest,omitempty" yaml:"interest,omitempty"`
	Viewed      *RecentTest    `msgpack:"viewed,omitempty" json:"viewed,omitempty" yaml:"viewed,omitempty"`
	Purchased   *RecentTest    `msgpack:"purchased,omitempty" json:"purchased,omitempty" yaml:"purchased,omitempty"`
	// Feed tests holidays and custom feeds: feed id → any of these values.
	Feed map[string][]string `msgpack:"feed,omitempty" json:"feed,omitempty" yaml:"feed,omitempty"`
}

// Range is an inclusive integer range; a missing bound is open.
type Range struct {
	Min *int `msgpack:"min,omitempty" json:"min,omitempty" yaml:"min,omitempty"`
	Max *int `msgpack:"max,omitempty" json:"max,omitempty" yaml:"max,omitempty"`
}

// InterestTest holds when interest in Tag is at least AtLeast, on a scale
// where 1 is one fresh view.
type InterestTest struct {
	Tag     string  `msgpack:"tag" json:"tag" yaml:"tag"`
	AtLeast float64 `msgpack:"at_least" json:"at_least" yaml:"at_least"`
}

// RecentTest holds when a matching item was seen within the last WithinDays days.
type RecentTest struct {
	Selector   `msgpack:",inline" json:",inline" yaml:",inline"`
	WithinDays int `msgpack:"within_days" json:"within_days" yaml:"within_days"`
}

// Cap limits how often the selected items may be shown to one person.
type Cap struct {
	ID      string   `msgpack:"id" json:"id" yaml:"id"`
	Items   Selector `msgpack:"items" json:"items" yaml:"items"`
	PerDay  int      `msgpack:"per_day,omitempty" json:"per_day,omitempty" yaml:"per_day,omitempty"`
	PerWeek int      `msgpack:"per_week,omitempty" json:"per_week,omitempty" yaml:"per_week,omitempty"`
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
	ID      string   `msgpack:"id" json:"id" yaml:"id"`
	From    string   `msgpack:"from" json:"from" yaml:"from"`
	Buckets []Bucket `msgpack:"buckets" json:"buckets" yaml:"buckets"`
}

// Bucket is one value of a dimension. Which field applies depends on the
// dimension's source; the last bucket may be a catch-all with none set.
type Bucket struct {
	ID      string   `msgpack:"id" json:"id" yaml:"id"`
	Tags    []string `msgpack:"tags,omitempty" json:"tags,omitempty" yaml:"tags,omitempty"`
	Regions []string `msgpack:"regions,omitempty" json:"regions,omitempty" yaml:"regions,omitempty"`
	Visits  *Range   `msgpack:"visits,omitempty" json:"visits,omitempty" yaml:"visits,omitempty"`
}

// Reporting sets the privacy parameters of cohort reports.
type Reporting struct {
	EpochDays int     `msgpack:"epoch_days,omitempty" json:"epoch_days,omitempty" yaml:"epoch_days,omitempty"`
	Epsilon   float64 `msgpack:"epsilon,omitempty" json:"epsilon,omitempty" yaml:"epsilon,omitempty"`
	MinK      int     `msgpack:"min_k,omitempty" json:"min_k,omitempty" yaml:"min_k,omitempty"`
}

// Experiment compares personalization with the shop's default in some
// slots: a share of people, drawn on the device, are in its holdout (the
// comparison group) and see Control there; everyone else sees the
// personalized picks. Once an epoch each person in it reports one noised
// answer about (arm, whether a goal happened).
type Experiment struct {
	ID          string `msgpack:"id" json:"id" yaml:"id"`
	Description string `msgpack:"description,omitempty" json:"description,omitempty" yaml:"description,omitempty"`
	// Slots are the slots the experiment covers.
	Slots []string `msgpack:"slots" json:"slots" yaml:"slots"`
	// Holdout is the share of people in the comparison group, in (0, 1).
	Holdout float64 `msgpack:"holdout" json:"holdout" yaml:"holdout"`
	// Control is what the comparison group sees in the covered slots:
	// ControlFallback (the default) or ControlWithoutRules.
	Control string `msgpack:"control,omitempty" json:"control,omitempty" yaml:"control,omitempty"`
	// Rules are the rules the comparison group's picks leave out, with
	// ControlWithoutRules.
	Rules []string `msgpack:"rules,omitempty" json:"rules,omitempty" yaml:"rules,omitempty"`
	// Goals are the events that count as an outcome, within the epoch and
	// after the person first saw a covered slot in it: GoalPurchase,
	// GoalAddToCart or GoalClick.
	Goals []string `msgpack:"goals" json:"goals" yaml:"goals"`
	// Within names an experiment this one runs inside: only people in that
	// one's personalized arm have an arm in this one. Two experiments may
	// share a slot only when one is within the other.
	Within string `msgpack:"within,omitempty" json:"within,omitempty" yaml:"within,omitempty"`
	// Epsilon is the local differential privacy of one outcome answer
	// (default DefaultOutcomeEpsilon); all experiments' together are at
	// most MaxOutcomeEpsilon an epoch.
	Epsilon float64 `msgpack:"epsilon,omitempty" json:"epsilon,omitempty" yaml:"epsilon,omitempty"`
	// MinLift is the smallest relative lift worth finding (0.1 is 10%,
	// the default DefaultMinLift), for the power estimates of simulate and
	// audit and the dashboard's verdict. It changes nothing on the device.
	MinLift float64 `msgpack:"min_lift,omitempty" json:"min_lift,omitempty" yaml:"min_lift,omitempty"`
}

// DefaultMinLift is Experiment.MinLift when it is 0.
const DefaultMinLift = 0.1

// WithDefaults is x with the defaults the engine and the collector apply:
// ε DefaultOutcomeEpsilon and min_lift DefaultMinLift when 0, control
// fallback when unset.
func (x Experiment) WithDefaults() Experiment {
	if x.Epsilon == 0 {
		x.Epsilon = DefaultOutcomeEpsilon
	}
	if x.MinLift == 0 {
		x.MinLift = DefaultMinLift
	}
	if x.Control == "" {
		x.Control = ControlFallback
	}
	return x
}

// What an experiment's comparison group sees.
const (
	ControlFallback     = "fallback"      // the slots' fallback items, the shop's own picks
	ControlWithoutRules = "without_rules" // the picks, with the experiment's rules left out
)

// Experiment goals.
const (
	GoalPurchase  = "purchase"    // any purchase on the site
	GoalAddToCart = "add_to_cart" // anything added to the cart
	GoalClick     = "click"       // a click on an item a covered slot showed
)

// ExperimentGoals lists every goal, in the order the docs explain them.
var ExperimentGoals = []string{GoalPurchase, GoalAddToCart, GoalClick}
