package engine

import (
	"slices"
	"strings"

	quotepkg "github.com/edgewise/edgewise/internal/quote"
)

// Limits the engine enforces whatever a ruleset says.
const (
	DefaultHalfLifeDays = 14
	MaxRetentionDays    = 90
	DefaultMaxEvents    = 500
	MaxEventsLimit      = 5000
	MaxItems            = 10000
	MaxSlots            = 64
	MaxTagsPerItem      = 32
	MaxSlotLimit        = 50
	MaxIDBytes          = 128
	MaxTitleBytes       = 256
)

// RulesetInfo summarizes the active ruleset.
type RulesetInfo struct {
	ID      string `msgpack:"id" json:"id"`
	Version string `msgpack:"version" json:"version"`
	Items   int    `msgpack:"items" json:"items"`
	Slots   int    `msgpack:"slots" json:"slots"`
	// Feeds are the context feeds the ruleset uses, for the host to fetch
	// and hand over with load_feed.
	Feeds []FeedLocation `msgpack:"feeds,omitempty" json:"feeds,omitempty"`
}

// FeedLocation is where the host fetches one of the ruleset's feeds.
type FeedLocation struct {
	ID   string `msgpack:"id" json:"id"`
	Kind string `msgpack:"kind" json:"kind"`
	URL  string `msgpack:"url" json:"url"`
}

// Event is one thing the person did on this site.
type Event struct {
	Type string `msgpack:"type" json:"type"`
	Item string `msgpack:"item" json:"item"`
	// At is Unix time in milliseconds, supplied by the host.
	At int64 `msgpack:"at" json:"at"`
}

// Event types and how much each says about an interest.
var eventWeights = map[string]float64{
	"view":        1,
	"click":       2,
	"add_to_cart": 3,
	"purchase":    5,
	// A custom event is a site's own signal of interest in an item (a
	// wishlist, a size guide opened); it counts like a view.
	EventCustom: 1,
	// A dismissal adds no interest: it hides the item for dismissHideMillis
	// and, repeated across items sharing a tag, lowers that tag (see affinities).
	EventDismiss: 0,
}

// EventTypes are the event types observe takes, in the order the docs list them.
var EventTypes = []string{"view", "click", "add_to_cart", "purchase", EventCustom, EventDismiss}

// EventDismiss is the event a host records when the person closes a pick.
const EventDismiss = "dismiss"

// EventCustom is a site-defined interaction with an item.
const EventCustom = "custom"

// eventReasons say, per event type, why an item was picked; %s is the title
// of the item the person interacted with.
var eventReasons = map[string][2]string{
	"view":        {"Because you viewed ", ""},
	"click":       {"Because you opened ", ""},
	"add_to_cart": {"Because you added ", " to your cart"},
	"purchase":    {"Because you bought ", ""},
	EventCustom:   {"Because of your interest in ", ""},
}

func knownEventTypes() string {
	names := make([]string, 0, len(eventWeights))
	for k := range eventWeights {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Context is what the host knows about the current moment. Every field but
// Now belongs to a signal kind (see context.go); fields whose kind the active
// ruleset does not declare are dropped on set_context and never used. Empty
// strings and a nil Visits mean "not known".
type Context struct {
	// Now is Unix time in milliseconds. Zero means the newest event's time.
	Now int64 `msgpack:"now" json:"now"`
	// TZOffsetMinutes is the person's offset from UTC (UTC+2 is 120); the
	// engine derives daypart, weekday and the local date from Now with it.
	TZOffsetMinutes int    `msgpack:"tz_offset_minutes,omitempty" json:"tz_offset_minutes,omitempty"`
	Daypart         string `msgpack:"daypart,omitempty" json:"daypart,omitempty"`   // morning, afternoon, evening, night; wins over the derived one
	Weekday         string `msgpack:"weekday,omitempty" json:"weekday,omitempty"`   // mon … sun; wins over the derived one
	Weather         string `msgpack:"weather,omitempty" json:"weather,omitempty"`   // clear, cloudy, rain, snow, storm, hot, cold
	Device          string `msgpack:"device,omitempty" json:"device,omitempty"`     // mobile, tablet, desktop
	Referrer        string `msgpack:"referrer,omitempty" json:"referrer,omitempty"` // direct, search, social, email, partner
	PageSection     string `msgpack:"page_section,omitempty" json:"page_section,omitempty"`
	Visits          *int   `msgpack:"visits,omitempty" json:"visits,omitempty"`
	// Country is ISO 3166-1 alpha-2 (DE), Subdivision ISO 3166-2 (US-WA).
	Country     string `msgpack:"country,omitempty" json:"country,omitempty"`
	Subdivision string `msgpack:"subdivision,omitempty" json:"subdivision,omitempty"`
	// Regions are ids of the ruleset's regions the host already resolved
	// the person to be in; unknown ids are ignored.
	Regions []string `msgpack:"regions,omitempty" json:"regions,omitempty"`
	// Geohash is the geohash cell of at most 3 characters (about 156 km)
	// the person is in; SetContext derives it from Location. Feeds keyed
	// by cell are joined with it.
	Geohash string `msgpack:"geohash,omitempty" json:"geohash,omitempty"`
	// TimeZone (an IANA name such as Europe/Paris) and Languages (BCP 47
	// tags, preferred first) are what a browser knows without asking.
	// With no country or location, SetContext derives the country and,
	// where the zone lies in one, the subdivision from them, and drops
	// both: they are never stored or returned (see geo.RegionOfTimeZone).
	TimeZone  string   `msgpack:"time_zone,omitempty" json:"time_zone,omitempty"`
	Languages []string `msgpack:"languages,omitempty" json:"languages,omitempty"`
	// Location is the device's coordinates. SetContext turns them into
	// country, subdivision and the ruleset's regions at once and drops them:
	// they are never stored, snapshotted or returned.
	Location *Coordinates `msgpack:"location,omitempty" json:"location,omitempty"`
}

// Coordinates are a latitude and longitude in degrees (WGS 84).
type Coordinates struct {
	Lat float64 `msgpack:"lat" json:"lat"`
	Lon float64 `msgpack:"lon" json:"lon"`
}

// Decision is what one slot shows.
type Decision struct {
	Slot  string `msgpack:"slot" json:"slot"`
	Items []Pick `msgpack:"items" json:"items"`
	// Fallback is true when the slot shows its fallback items because
	// nothing in the profile matched.
	Fallback bool `msgpack:"fallback" json:"fallback"`
	// Capped lists the items the slot would have shown, best first, had a
	// frequency cap not held them back: what the picks shown replace. Left
	// out when no cap held anything back.
	Capped []string `msgpack:"capped,omitempty" json:"capped,omitempty"`
	// Experiment is the experiment whose comparison group the person is
	// in here: the slot shows that experiment's control, and each pick's
	// reason says so. Left out otherwise.
	Experiment string `msgpack:"experiment,omitempty" json:"experiment,omitempty"`
}

// Pick is one chosen item with its score and a reason a person can read.
type Pick struct {
	Item   string  `msgpack:"item" json:"item"`
	Score  float64 `msgpack:"score" json:"score"`
	Reason string  `msgpack:"reason" json:"reason"`
	// Rules are the ids of the fired rules that boosted, buried or pinned
	// this item, in ruleset order; left out when none did.
	Rules []string `msgpack:"rules,omitempty" json:"rules,omitempty"`
	// Feeds are the context feed values the fired rules tested, with where
	// each came from; left out when no feed shaped the pick.
	Feeds []FeedSource `msgpack:"feeds,omitempty" json:"feeds,omitempty"`
}

// FeedSource is a value a context feed gave for the person's region.
type FeedSource struct {
	Feed  string `msgpack:"feed" json:"feed"`   // the feed's id
	Kind  string `msgpack:"kind" json:"kind"`   // weather, holidays or custom
	Value string `msgpack:"value" json:"value"` // what it said, such as rain
	// Place is the region key that matched: a geohash cell, a subdivision
	// or a country. Label is the feed's name for it, when it has one.
	Place  string `msgpack:"place" json:"place"`
	Label  string `msgpack:"label,omitempty" json:"label,omitempty"`
	Issued int64  `msgpack:"issued" json:"issued"` // when the feed was made, Unix ms
}

// Code classifies an Error. Codes are stable wire values.
type Code string

const (
	CodeBadRequest       Code = "bad_request"
	CodeTooLarge         Code = "too_large"
	CodeUnknownOp        Code = "unknown_op"
	CodeNoRuleset        Code = "no_ruleset"
	CodeInvalidRuleset   Code = "invalid_ruleset"
	CodePrivacyPolicy    Code = "privacy_policy"   // the ruleset breaks the privacy policy
	CodeBadRulesetFile   Code = "bad_ruleset_file" // not a well-formed .ewr file: unsigned, truncated, a future format
	CodeBadSignature     Code = "bad_signature"    // signed with another key, or changed after signing
	CodeBadFeed          Code = "bad_feed"         // not a well-formed feed file, or not one the ruleset names
	CodeUnknownSlot      Code = "unknown_slot"
	CodeUnknownItem      Code = "unknown_item"
	CodeUndeclaredSignal Code = "undeclared_signal"
	CodeCorruptSnapshot  Code = "corrupt_snapshot"
	CodeSnapshotVersion  Code = "snapshot_version"
	CodeConsent          Code = "consent" // the person's preferences do not allow it (see Preferences)
	CodeInternal         Code = "internal"
)

// Error is the engine's error type; its Code crosses the wasm boundary.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

func errNoRuleset() error {
	return &Error{Code: CodeNoRuleset, Message: "no ruleset is loaded; call load_ruleset first"}
}

// quote is kept out of line, as validator.add is: it is called from a
// hundred places.
//
//go:noinline
func quote(s string) string {
	if len(s) > MaxIDBytes {
		s = s[:MaxIDBytes] + "…"
	}
	return quotepkg.String(s)
}
