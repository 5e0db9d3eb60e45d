package engine_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/internal/abitest"
	"github.com/edgewise/edgewise/internal/mp/mptest"
	"github.com/edgewise/edgewise/internal/refcodec"
	"github.com/vmihailenco/msgpack/v5"
)

// yes is a *bool's true.
var yes = true

func num(i int) *int { return &i }

// trailhead is a valid, realistic ruleset that uses every section: every
// signal kind, regions of each shape, schedules, attributes, campaigns,
// candidates, every condition and action, caps, three cohort dimensions and
// reporting. Validate finds nothing wrong with it; each test case below
// breaks one thing.
func trailhead() *engine.Ruleset {
	return &engine.Ruleset{
		ID:          "trailhead-outfitters",
		Version:     "2025.1",
		Description: "Personal picks for an outdoor shop.",
		Profile:     engine.ProfileSettings{HalfLifeDays: 14, MaxEvents: 500},
		Signals: []engine.Signal{
			{ID: "history", Kind: engine.SignalHistory, Purpose: "Recommend gear like what you viewed in this shop.", RetentionDays: 60},
			{ID: "region", Kind: engine.SignalLocation, Purpose: "Show gear suited to your part of the world.", RetentionDays: 0},
			{ID: "weather", Kind: engine.SignalWeather, Purpose: "Show gear for today's weather where you are.", RetentionDays: 0},
			{ID: "time", Kind: engine.SignalTime, Purpose: "Show headlamps when evenings are dark.", RetentionDays: 0},
			{ID: "device", Kind: engine.SignalDevice, Purpose: "Keep picks short on small screens.", RetentionDays: 0},
			{ID: "referrer", Kind: engine.SignalReferrer, Purpose: "Welcome readers of our newsletter.", RetentionDays: 0},
			{ID: "page", Kind: engine.SignalPage, Purpose: "Match picks to the section you are browsing.", RetentionDays: 0},
			{ID: "visits", Kind: engine.SignalVisits, Purpose: "Show returning visitors what is new.", RetentionDays: 0},
		},
		Regions: []engine.Region{
			{ID: "pnw", Name: "Pacific Northwest", Subdivisions: []string{"US-WA", "US-OR"}},
			{ID: "alps", Name: "The Alps", Countries: []string{"CH", "AT"}, Boxes: []engine.Box{{South: 45, West: 5, North: 48, East: 16}}},
			{ID: "nordics", Name: "Nordic countries", Countries: []string{"NO", "SE", "FI"}, Geohashes: []string{"u4", "u6"}},
		},
		Catalogue: []engine.Item{
			{ID: "trail-shoe", Title: "Trail running shoes", Tags: []string{"running", "trail"},
				Attributes: map[string]string{"price": "129.00 EUR", "image": "https://cdn.example/img/trail-shoe.jpg", "Weight (g)": "310"}},
			{ID: "road-shoe", Title: "Road running shoes", Tags: []string{"running", "road"}},
			{ID: "rain-shell", Title: "Rain shell jacket", Tags: []string{"rain", "hiking"}, Campaign: "autumn-rain"},
			{ID: "hiking-boot", Title: "Hiking boots", Tags: []string{"hiking", "trail"}},
			{ID: "tent-2p", Title: "Two-person tent", Tags: []string{"camping"}},
			{ID: "stove", Title: "Camping stove", Tags: []string{"camping", "cooking"}},
			{ID: "headlamp", Title: "Headlamp", Tags: []string{"camping", "running", "night"}},
			{ID: "snowshoe", Title: "Snowshoes", Tags: []string{"winter", "snow"}, Regions: []string{"alps", "nordics"},
				Schedule: []engine.Window{{From: "2025-11-01", Until: "2026-03-31"}}},
			{ID: "race-vest", Title: "Race hydration vest", Tags: []string{"running", "race"}},
		},
		Slots: []engine.Slot{
			{ID: "recommended", Limit: 4, Fallback: []string{"tent-2p", "rain-shell"}, ExcludeSeen: &yes, Diversity: engine.Diversity{MaxPerTag: 2}},
			{ID: "hero", Limit: 1, Candidates: engine.Selector{Items: []string{"tent-2p", "rain-shell", "trail-shoe"}}, Fallback: []string{"rain-shell"}},
			{ID: "winter", Limit: 2, Candidates: engine.Selector{Tags: []string{"winter", "snow"}}, Fallback: []string{"snowshoe"}},
		},
		Rules: []engine.Rule{
			{ID: "rainy-day", Description: "Rain gear when it rains in the Northwest.", Reason: "Because it's raining in your region",
				When: engine.Condition{Weather: []string{"rain", "storm"}, Region: []string{"pnw"}}, Items: engine.Selector{Tags: []string{"rain"}}, Boost: 2},
			{ID: "evening-headlamp", When: engine.Condition{Daypart: []string{"evening"}, Weekday: []string{"fri", "sat"}},
				Items: engine.Selector{Items: []string{"headlamp"}}, Slots: []string{"recommended"}, Pin: 1},
			{ID: "mobile-bury", When: engine.Condition{Device: []string{"mobile"}}, Items: engine.Selector{Tags: []string{"cooking"}}, Bury: 0.5},
			{ID: "newsletter", When: engine.Condition{Referrer: []string{"email"}, PageSection: []string{"running"}},
				Items: engine.Selector{Campaigns: []string{"autumn-rain"}}, Boost: 1.5},
			{ID: "returning", When: engine.Condition{Visits: &engine.Range{Min: num(3)}}, Items: engine.Selector{Items: []string{"race-vest"}}, Boost: 1.2},
			{ID: "trail-fans", When: engine.Condition{
				Interest: []engine.InterestTest{{Tag: "trail", AtLeast: 2}},
				Viewed:   &engine.RecentTest{Selector: engine.Selector{Tags: []string{"running"}}, WithinDays: 30}},
				Items: engine.Selector{Tags: []string{"trail"}}, Boost: 1.5},
			{ID: "bought-tent", When: engine.Condition{Purchased: &engine.RecentTest{Selector: engine.Selector{Items: []string{"tent-2p"}}, WithinDays: 60}},
				Items: engine.Selector{Items: []string{"tent-2p"}}, Exclude: true},
		},
		Caps: []engine.Cap{{ID: "autumn-rain-cap", Items: engine.Selector{Campaigns: []string{"autumn-rain"}}, PerDay: 3, PerWeek: 10}},
		Cohorts: engine.Cohorts{Dimensions: []engine.Dimension{
			{ID: "interest", From: engine.DimensionInterest, Buckets: []engine.Bucket{
				{ID: "runners", Tags: []string{"running"}}, {ID: "campers", Tags: []string{"camping", "cooking"}}, {ID: "other"}}},
			{ID: "area", From: engine.DimensionRegion, Buckets: []engine.Bucket{
				{ID: "pnw", Regions: []string{"pnw"}}, {ID: "alps", Regions: []string{"alps"}}, {ID: "elsewhere"}}},
			{ID: "engagement", From: engine.DimensionEngagement, Buckets: []engine.Bucket{
				{ID: "new", Visits: &engine.Range{Max: num(1)}}, {ID: "returning", Visits: &engine.Range{Min: num(2)}}}},
		}},
		Reporting: engine.Reporting{EpochDays: 7, Epsilon: 2, MinK: 50},
	}
}

// wantProblem is one expected problem; every word must appear in its message.
type wantProblem struct {
	path  string
	sev   engine.Severity
	cat   string
	words []string
}

func errAt(path, cat string, words ...string) wantProblem {
	return wantProblem{path, engine.SeverityError, cat, words}
}

func warnAt(path, cat string, words ...string) wantProblem {
	return wantProblem{path, engine.SeverityWarning, cat, words}
}

type rulesetMutation struct {
	name        string
	mutate      func(rs *engine.Ruleset)
	wantProblem []wantProblem
}

func checkProblems(t *testing.T, got []engine.Problem, wants []wantProblem) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(wants), dumpProblems(got))
	}
	for i, wt := range wants {
		p := got[i]
		if p.Path != wt.path || p.Severity != wt.sev || p.Category != wt.cat {
			t.Errorf("problem %d = %s %s %s, wantProblem %s %s %s\n%s", i, p.Path, p.Severity, p.Category, wt.path, wt.sev, wt.cat, dumpProblems(got))
		}
		for _, word := range wt.words {
			if !strings.Contains(p.Message, word) {
				t.Errorf("problem %d message %q lacks %q", i, p.Message, word)
			}
		}
		if p.Hint == "" {
			t.Errorf("problem %d (%s) has no hint", i, p.Message)
		}
	}
}

func dumpProblems(ps []engine.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %s %s %s: %s (hint: %s)\n", p.Path, p.Severity, p.Category, p.Message, p.Hint)
	}
	return b.String()
}

// withoutSensitive is what the device's validation (engine.Validate with
// no lexicon) must find: the full validation's problems, in the same order,
// minus the sensitive-category ones.
func withoutSensitive(ps []engine.Problem) []engine.Problem {
	var out []engine.Problem
	for _, p := range ps {
		if !strings.Contains(p.Message, " a sensitive category: ") {
			out = append(out, p)
		}
	}
	return out
}

// checkDevice checks that the device's validation of rs finds exactly the
// full validation's problems but the sensitive-category ones.
func checkDevice(t *testing.T, rs *engine.Ruleset, full []engine.Problem) {
	t.Helper()
	// Hints aside: the build's "did you mean" suggestions are its own.
	if got, want := withoutHints(engine.Validate(rs, nil)), withoutHints(withoutSensitive(full)); !reflect.DeepEqual(got, want) {
		t.Errorf("the device's validation differs from the full one without the lexicon:\n got:\n%s\nwant:\n%s", dumpProblems(got), dumpProblems(want))
	}
}

func withoutHints(ps []engine.Problem) []engine.Problem {
	out := make([]engine.Problem, len(ps))
	for i, p := range ps {
		p.Hint = ""
		out[i] = p
	}
	return out
}

func runMutations(t *testing.T, cases []rulesetMutation) {
	t.Helper()
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("two cases are named %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			rs := trailhead()
			tc.mutate(rs)
			full := buildtime.Validate(rs)
			checkProblems(t, full, tc.wantProblem)
			checkDevice(t, rs, full)
		})
	}
}

func TestValidRulesetHasNoProblems(t *testing.T) {
	if ps := buildtime.Validate(trailhead()); len(ps) != 0 {
		t.Fatalf("the valid ruleset has problems:\n%s", dumpProblems(ps))
	}
	e := engine.New()
	if err := e.Load(*trailhead()); err != nil {
		t.Fatalf("the engine refuses the valid ruleset: %v", err)
	}
}

func TestBenchRulesetHasNoProblems(t *testing.T) {
	rs := abitest.BenchRuleset(1000)
	if ps := buildtime.Validate(&rs); len(ps) != 0 {
		t.Fatalf("the benchmark ruleset has problems:\n%s", dumpProblems(ps))
	}
}

func TestSchema(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	runMutations(t, []rulesetMutation{
		{"ruleset id missing", func(rs *engine.Ruleset) { rs.ID = "" },
			[]wantProblem{errAt("$.id", engine.CategorySchema, "ruleset has no id")}},
		{"ruleset id with capitals and spaces", func(rs *engine.Ruleset) { rs.ID = "Trailhead Outfitters" },
			[]wantProblem{errAt("$.id", engine.CategorySchema, "invalid id", `"Trailhead Outfitters"`)}},
		{"ruleset id starting with a dash", func(rs *engine.Ruleset) { rs.ID = "-shop" },
			[]wantProblem{errAt("$.id", engine.CategorySchema, "invalid id")}},
		{"ruleset id too long", func(rs *engine.Ruleset) { rs.ID = strings.Repeat("a", 129) },
			[]wantProblem{errAt("$.id", engine.CategorySchema, "longer than 128")}},
		{"version missing", func(rs *engine.Ruleset) { rs.Version = "" },
			[]wantProblem{errAt("$.version", engine.CategorySchema, "no version")}},
		{"version too long", func(rs *engine.Ruleset) { rs.Version = long(65) },
			[]wantProblem{errAt("$.version", engine.CategorySchema, "longer than 64")}},
		{"description too long", func(rs *engine.Ruleset) { rs.Description = long(501) },
			[]wantProblem{errAt("$.description", engine.CategorySchema, "longer than 500")}},
		{"half life over a year", func(rs *engine.Ruleset) { rs.Profile.HalfLifeDays = 366 },
			[]wantProblem{errAt("$.profile.half_life_days", engine.CategorySchema, "366", "at most 365")}},
		{"half life negative", func(rs *engine.Ruleset) { rs.Profile.HalfLifeDays = -1 },
			[]wantProblem{errAt("$.profile.half_life_days", engine.CategorySchema, "more than 0")}},
		{"max events negative", func(rs *engine.Ruleset) { rs.Profile.MaxEvents = -5 },
			[]wantProblem{errAt("$.profile.max_events", engine.CategorySchema, "-5")}},
		{"signal id missing", func(rs *engine.Ruleset) { rs.Signals[2].ID = "" },
			[]wantProblem{errAt("$.signals[2].id", engine.CategorySchema, "signal signals[2] has no id")}},
		{"signal id with a dot", func(rs *engine.Ruleset) { rs.Signals[2].ID = "weather.today" },
			[]wantProblem{errAt("$.signals[2].id", engine.CategorySchema, "invalid id")}},
		{"signal kind unknown", func(rs *engine.Ruleset) {
			rs.Signals = append(rs.Signals, engine.Signal{ID: "gps", Kind: "gps", Purpose: "Know exactly where you are."})
		}, []wantProblem{errAt("$.signals[8].kind", engine.CategorySchema, `signal "gps" kind "gps"`, "history, location")}},
		{"signal kind missing", func(rs *engine.Ruleset) {
			rs.Signals = append(rs.Signals, engine.Signal{ID: "mystery", Purpose: "Something we will decide later."})
		}, []wantProblem{errAt("$.signals[8].kind", engine.CategorySchema, `signal "mystery" has no kind`)}},
		{"signal purpose missing", func(rs *engine.Ruleset) { rs.Signals[4].Purpose = "" },
			[]wantProblem{errAt("$.signals[4].purpose", engine.CategorySchema, `signal "device" has no purpose`)}},
		{"signal purpose too short", func(rs *engine.Ruleset) { rs.Signals[4].Purpose = "Layout." },
			[]wantProblem{errAt("$.signals[4].purpose", engine.CategorySchema, "shorter than 10")}},
		{"signal purpose too long", func(rs *engine.Ruleset) { rs.Signals[4].Purpose = long(301) },
			[]wantProblem{errAt("$.signals[4].purpose", engine.CategorySchema, "longer than 300")}},
		{"signal retention negative", func(rs *engine.Ruleset) { rs.Signals[0].RetentionDays = -1 },
			[]wantProblem{errAt("$.signals[0].retention_days", engine.CategorySchema, "-1")}},
		{"region without an area", func(rs *engine.Ruleset) { rs.Regions[2].Countries, rs.Regions[2].Geohashes = nil, nil },
			[]wantProblem{errAt("$.regions[2]", engine.CategorySchema, `region "nordics" names no area`)}},
		{"region name missing", func(rs *engine.Ruleset) { rs.Regions[0].Name = "" },
			[]wantProblem{errAt("$.regions[0].name", engine.CategorySchema, `region "pnw" has no name`)}},
		{"country in lowercase", func(rs *engine.Ruleset) { rs.Regions[1].Countries[1] = "at" },
			[]wantProblem{errAt("$.regions[1].countries[1]", engine.CategorySchema, `"at"`, "ISO 3166-1")}},
		{"subdivision without country", func(rs *engine.Ruleset) { rs.Regions[0].Subdivisions[1] = "OR" },
			[]wantProblem{errAt("$.regions[0].subdivisions[1]", engine.CategorySchema, `"OR"`, "ISO 3166-2")}},
		{"box north out of range", func(rs *engine.Ruleset) { rs.Regions[1].Boxes[0].North = 95 },
			[]wantProblem{errAt("$.regions[1].boxes[0].north", engine.CategorySchema, "95", "-90 and 90")}},
		{"box upside down", func(rs *engine.Ruleset) { rs.Regions[1].Boxes[0].South, rs.Regions[1].Boxes[0].North = 48, 45 },
			[]wantProblem{errAt("$.regions[1].boxes[0]", engine.CategorySchema, "south 48", "north 45")}},
		{"box west of east reversed", func(rs *engine.Ruleset) { rs.Regions[1].Boxes[0].West, rs.Regions[1].Boxes[0].East = 16, 5 },
			[]wantProblem{errAt("$.regions[1].boxes[0]", engine.CategorySchema, "west 16", "east 5")}},
		{"geohash with a letter geohash lacks", func(rs *engine.Ruleset) { rs.Regions[2].Geohashes[1] = "ua" },
			[]wantProblem{errAt("$.regions[2].geohashes[1]", engine.CategorySchema, `"ua" is not a geohash`)}},
		{"item id with capitals", func(rs *engine.Ruleset) { rs.Catalogue[5].ID = "Camping-Stove" },
			[]wantProblem{errAt("$.catalogue[5].id", engine.CategorySchema, `item "Camping-Stove" has an invalid id`)}},
		{"item title missing", func(rs *engine.Ruleset) { rs.Catalogue[5].Title = "" },
			[]wantProblem{errAt("$.catalogue[5].title", engine.CategorySchema, `item "stove" has no title`)}},
		{"item title too long", func(rs *engine.Ruleset) { rs.Catalogue[5].Title = long(257) },
			[]wantProblem{errAt("$.catalogue[5].title", engine.CategorySchema, "longer than 256")}},
		{"item title not UTF-8", func(rs *engine.Ruleset) { rs.Catalogue[5].Title = "Stove \xff" },
			[]wantProblem{errAt("$.catalogue[5].title", engine.CategorySchema, "UTF-8")}},
		{"item without tags", func(rs *engine.Ruleset) { rs.Catalogue[6].Tags = nil },
			[]wantProblem{errAt("$.catalogue[6].tags", engine.CategorySchema, `item "headlamp" has no tags`)}},
		{"item with too many tags", func(rs *engine.Ruleset) {
			for i := 0; i < 31; i++ {
				rs.Catalogue[6].Tags = append(rs.Catalogue[6].Tags, fmt.Sprintf("t%d", i))
			}
		}, []wantProblem{errAt("$.catalogue[6].tags", engine.CategorySchema, "34 tags", "32")}},
		{"item with an empty tag", func(rs *engine.Ruleset) { rs.Catalogue[6].Tags[2] = "" },
			[]wantProblem{errAt("$.catalogue[6].tags[2]", engine.CategorySchema, "empty tag")}},
		{"schedule date that does not exist", func(rs *engine.Ruleset) { rs.Catalogue[7].Schedule[0].Until = "2026-02-30" },
			[]wantProblem{errAt("$.catalogue[7].schedule[0].until", engine.CategorySchema, `"2026-02-30" is not a date`)}},
		{"schedule date in another format", func(rs *engine.Ruleset) { rs.Catalogue[7].Schedule[0].From = "1.11.2025" },
			[]wantProblem{errAt("$.catalogue[7].schedule[0].from", engine.CategorySchema, "not a date")}},
		{"schedule ending before it starts", func(rs *engine.Ruleset) { rs.Catalogue[7].Schedule[0].From = "2026-04-01" },
			[]wantProblem{errAt("$.catalogue[7].schedule[0].until", engine.CategorySchema, "ends on 2026-03-31, before it starts on 2026-04-01")}},
		{"schedule window empty", func(rs *engine.Ruleset) { rs.Catalogue[7].Schedule[0] = engine.Window{} },
			[]wantProblem{errAt("$.catalogue[7].schedule[0]", engine.CategorySchema, "neither from nor until")}},
		{"slot limit missing", func(rs *engine.Ruleset) { rs.Slots[0].Limit = 0 },
			[]wantProblem{errAt("$.slots[0].limit", engine.CategorySchema, `slot "recommended" has no limit`)}},
		{"slot limit over 50", func(rs *engine.Ruleset) { rs.Slots[0].Limit = 51 },
			[]wantProblem{errAt("$.slots[0].limit", engine.CategorySchema, "51", "between 1 and 50")}},
		{"slot without fallback", func(rs *engine.Ruleset) { rs.Slots[1].Fallback = nil },
			[]wantProblem{errAt("$.slots[1].fallback", engine.CategorySchema, `slot "hero" has no fallback`)}},
		{"slot diversity negative", func(rs *engine.Ruleset) { rs.Slots[0].Diversity.MaxPerTag = -1 },
			[]wantProblem{errAt("$.slots[0].diversity.max_per_tag", engine.CategorySchema, "at least 1")}},
		{"rule without an action", func(rs *engine.Ruleset) { rs.Rules[0].Boost = 0 },
			[]wantProblem{errAt("$.rules[0]", engine.CategorySchema, `rule "rainy-day" has no action`)}},
		{"rule with two actions", func(rs *engine.Ruleset) { rs.Rules[2].Exclude = true },
			[]wantProblem{errAt("$.rules[2]", engine.CategorySchema, `rule "mobile-bury" has 2 actions (bury, exclude)`)}},
		{"rule id missing", func(rs *engine.Ruleset) { rs.Rules[2].ID = "" },
			[]wantProblem{errAt("$.rules[2].id", engine.CategorySchema, "rule rules[2] has no id")}},
		{"boost of exactly 1", func(rs *engine.Ruleset) { rs.Rules[0].Boost = 1 },
			[]wantProblem{errAt("$.rules[0].boost", engine.CategorySchema, "boost is 1", "more than 1")}},
		{"boost over 10", func(rs *engine.Ruleset) { rs.Rules[0].Boost = 11 },
			[]wantProblem{errAt("$.rules[0].boost", engine.CategorySchema, "11", "at most 10")}},
		{"bury of 1", func(rs *engine.Ruleset) { rs.Rules[2].Bury = 1 },
			[]wantProblem{errAt("$.rules[2].bury", engine.CategorySchema, "bury is 1", "between 0 and 1")}},
		{"bury negative", func(rs *engine.Ruleset) { rs.Rules[2].Bury = -0.5 },
			[]wantProblem{errAt("$.rules[2].bury", engine.CategorySchema, "-0.5")}},
		{"pin past 50", func(rs *engine.Ruleset) { rs.Rules[1].Pin = 51 },
			[]wantProblem{errAt("$.rules[1].pin", engine.CategorySchema, "51", "1 to 50")}},
		{"reason too long", func(rs *engine.Ruleset) { rs.Rules[0].Reason = long(201) },
			[]wantProblem{errAt("$.rules[0].reason", engine.CategorySchema, "longer than 200")}},
		{"weather not in the enum", func(rs *engine.Ruleset) { rs.Rules[0].When.Weather[1] = "sunny" },
			[]wantProblem{errAt("$.rules[0].when.weather[1]", engine.CategorySchema, `weather "sunny"`, "clear, cloudy")}},
		{"daypart not in the enum", func(rs *engine.Ruleset) { rs.Rules[1].When.Daypart[0] = "dusk" },
			[]wantProblem{errAt("$.rules[1].when.daypart[0]", engine.CategorySchema, `daypart "dusk"`)}},
		{"weekday spelled out", func(rs *engine.Ruleset) { rs.Rules[1].When.Weekday[0] = "friday" },
			[]wantProblem{errAt("$.rules[1].when.weekday[0]", engine.CategorySchema, `weekday "friday"`, "mon, tue")}},
		{"device not in the enum", func(rs *engine.Ruleset) { rs.Rules[2].When.Device[0] = "watch" },
			[]wantProblem{errAt("$.rules[2].when.device[0]", engine.CategorySchema, `device "watch"`)}},
		{"referrer not in the enum", func(rs *engine.Ruleset) { rs.Rules[3].When.Referrer[0] = "ads" },
			[]wantProblem{errAt("$.rules[3].when.referrer[0]", engine.CategorySchema, `referrer "ads"`)}},
		{"page section empty", func(rs *engine.Ruleset) { rs.Rules[3].When.PageSection[0] = "" },
			[]wantProblem{errAt("$.rules[3].when.page_section[0]", engine.CategorySchema, "empty page section")}},
		{"visits min negative", func(rs *engine.Ruleset) { rs.Rules[4].When.Visits.Min = num(-1) },
			[]wantProblem{errAt("$.rules[4].when.visits.min", engine.CategorySchema, "min is -1")}},
		{"interest at_least zero", func(rs *engine.Ruleset) { rs.Rules[5].When.Interest[0].AtLeast = 0 },
			[]wantProblem{errAt("$.rules[5].when.interest[0].at_least", engine.CategorySchema, "more than 0")}},
		{"interest at_least over 100", func(rs *engine.Ruleset) { rs.Rules[5].When.Interest[0].AtLeast = 101 },
			[]wantProblem{errAt("$.rules[5].when.interest[0].at_least", engine.CategorySchema, "101", "at most 100")}},
		{"interest without a tag", func(rs *engine.Ruleset) { rs.Rules[5].When.Interest[0].Tag = "" },
			[]wantProblem{errAt("$.rules[5].when.interest[0].tag", engine.CategorySchema, "without a tag")}},
		{"viewed without within_days", func(rs *engine.Ruleset) { rs.Rules[5].When.Viewed.WithinDays = 0 },
			[]wantProblem{errAt("$.rules[5].when.viewed.within_days", engine.CategorySchema, "viewed has no within_days")}},
		{"purchased within_days over 90", func(rs *engine.Ruleset) { rs.Rules[6].When.Purchased.WithinDays = 91 },
			[]wantProblem{errAt("$.rules[6].when.purchased.within_days", engine.CategorySchema, "91", "between 1 and 90")}},
		{"rule without items", func(rs *engine.Ruleset) { rs.Rules[2].Items = engine.Selector{} },
			[]wantProblem{errAt("$.rules[2].items", engine.CategorySchema, `rule "mobile-bury" names no items`)}},
		{"cap without a limit", func(rs *engine.Ruleset) { rs.Caps[0].PerDay, rs.Caps[0].PerWeek = 0, 0 },
			[]wantProblem{errAt("$.caps[0]", engine.CategorySchema, "neither per_day nor per_week")}},
		{"cap per_day over 100", func(rs *engine.Ruleset) { rs.Caps[0].PerDay, rs.Caps[0].PerWeek = 101, 0 },
			[]wantProblem{errAt("$.caps[0].per_day", engine.CategorySchema, "101")}},
		{"cap per_week over 500", func(rs *engine.Ruleset) { rs.Caps[0].PerWeek = 501 },
			[]wantProblem{errAt("$.caps[0].per_week", engine.CategorySchema, "501")}},
		{"cap without items", func(rs *engine.Ruleset) { rs.Caps[0].Items = engine.Selector{} },
			[]wantProblem{errAt("$.caps[0].items", engine.CategorySchema, `cap "autumn-rain-cap" names no items`)}},
		{"dimension from unknown", func(rs *engine.Ruleset) { rs.Cohorts.Dimensions[2].From = "age" },
			[]wantProblem{errAt("$.cohorts.dimensions[2].from", engine.CategorySchema, `from "age"`)}},
		{"dimension with one bucket", func(rs *engine.Ruleset) {
			rs.Cohorts.Dimensions[2].Buckets = rs.Cohorts.Dimensions[2].Buckets[:1]
		}, []wantProblem{errAt("$.cohorts.dimensions[2].buckets", engine.CategorySchema, "has 1 bucket;", "at least 2")}},
		{"catch-all bucket not last", func(rs *engine.Ruleset) { rs.Cohorts.Dimensions[0].Buckets[0].Tags = nil },
			[]wantProblem{errAt("$.cohorts.dimensions[0].buckets[0]", engine.CategorySchema, `bucket "runners"`, "only the last bucket")}},
		{"interest bucket with regions", func(rs *engine.Ruleset) { rs.Cohorts.Dimensions[0].Buckets[1].Regions = []string{"pnw"} },
			[]wantProblem{errAt("$.cohorts.dimensions[0].buckets[1].regions", engine.CategorySchema, "apply only to region dimensions")}},
		{"engagement bucket upside down", func(rs *engine.Ruleset) {
			rs.Cohorts.Dimensions[2].Buckets[1].Visits.Max = num(1)
		}, []wantProblem{errAt("$.cohorts.dimensions[2].buckets[1].visits", engine.CategorySchema, "min 2 is above max 1")}},
		{"epoch of 91 days", func(rs *engine.Ruleset) { rs.Reporting.EpochDays = 91 },
			[]wantProblem{errAt("$.reporting.epoch_days", engine.CategorySchema, "91", "between 7 and 90")}},
		{"epsilon negative", func(rs *engine.Ruleset) { rs.Reporting.Epsilon = -1 },
			[]wantProblem{errAt("$.reporting.epsilon", engine.CategorySchema, "more than 0")}},
	})
}

func TestDuplicates(t *testing.T) {
	runMutations(t, []rulesetMutation{
		{"signal id twice", func(rs *engine.Ruleset) { rs.Signals[2].ID = "history" },
			[]wantProblem{errAt("$.signals[2].id", engine.CategoryDuplicate, `signal id "history" is already used by signals[0]`)}},
		{"signal kind twice", func(rs *engine.Ruleset) {
			rs.Signals = append(rs.Signals, engine.Signal{ID: "forecast", Kind: engine.SignalWeather, Purpose: "Show gear for tomorrow's weather."})
		}, []wantProblem{errAt("$.signals[8].kind", engine.CategoryDuplicate, `signal "forecast" declares kind weather again`, `signal "weather"`)}},
		{"region id twice", func(rs *engine.Ruleset) {
			rs.Regions = append(rs.Regions, engine.Region{ID: "pnw", Name: "Cascadia", Countries: []string{"CA"}})
		}, []wantProblem{errAt("$.regions[3].id", engine.CategoryDuplicate, `region id "pnw" is already used by regions[0]`)}},
		{"item id twice", func(rs *engine.Ruleset) {
			rs.Catalogue = append(rs.Catalogue, engine.Item{ID: "stove", Title: "Another stove", Tags: []string{"cooking"}})
		}, []wantProblem{errAt("$.catalogue[9].id", engine.CategoryDuplicate, `item id "stove" is already used by catalogue[5]`)}},
		{"slot id twice", func(rs *engine.Ruleset) {
			rs.Slots = append(rs.Slots, engine.Slot{ID: "hero", Limit: 1, Fallback: []string{"tent-2p"}})
		}, []wantProblem{errAt("$.slots[3].id", engine.CategoryDuplicate, `slot id "hero" is already used by slots[1]`)}},
		{"fallback item twice", func(rs *engine.Ruleset) { rs.Slots[0].Fallback = []string{"tent-2p", "tent-2p"} },
			[]wantProblem{warnAt("$.slots[0].fallback[1]", engine.CategoryDuplicate, `lists item "tent-2p" twice`)}},
		{"rule id twice", func(rs *engine.Ruleset) { rs.Rules[3].ID = "rainy-day" },
			[]wantProblem{errAt("$.rules[3].id", engine.CategoryDuplicate, `rule id "rainy-day" is already used by rules[0]`)}},
		{"slot twice in a rule", func(rs *engine.Ruleset) { rs.Rules[1].Slots = []string{"recommended", "recommended"} },
			[]wantProblem{warnAt("$.rules[1].slots[1]", engine.CategoryDuplicate, `lists slot "recommended" twice`)}},
		{"cap id twice", func(rs *engine.Ruleset) {
			rs.Caps = append(rs.Caps, engine.Cap{ID: "autumn-rain-cap", Items: engine.Selector{Items: []string{"stove"}}, PerWeek: 3})
		}, []wantProblem{errAt("$.caps[1].id", engine.CategoryDuplicate, `cap id "autumn-rain-cap" is already used by caps[0]`)}},
		{"dimension id twice", func(rs *engine.Ruleset) { rs.Cohorts.Dimensions[1].ID = "interest" },
			[]wantProblem{errAt("$.cohorts.dimensions[1].id", engine.CategoryDuplicate, `cohort dimension id "interest" is already used`)}},
		{"bucket id twice in a dimension", func(rs *engine.Ruleset) { rs.Cohorts.Dimensions[1].Buckets[1].ID = "pnw" },
			[]wantProblem{errAt("$.cohorts.dimensions[1].buckets[1].id", engine.CategoryDuplicate, `bucket id "pnw" is already used by cohorts.dimensions[1].buckets[0]`)}},
	})
}

func TestReferences(t *testing.T) {
	runMutations(t, []rulesetMutation{
		{"fallback item unknown", func(rs *engine.Ruleset) { rs.Slots[0].Fallback[0] = "kayak" },
			[]wantProblem{errAt("$.slots[0].fallback[0]", engine.CategoryReference, `slot "recommended" fallback names item "kayak", which is not in the catalogue`)}},
		{"fallback outside the candidates", func(rs *engine.Ruleset) { rs.Slots[1].Fallback[0] = "stove" },
			[]wantProblem{warnAt("$.slots[1].fallback[0]", engine.CategoryReference, `fallback item "stove" is not among the slot's candidates`)}},
		{"candidate item unknown", func(rs *engine.Ruleset) { rs.Slots[1].Candidates.Items[0] = "tent-3p" },
			[]wantProblem{errAt("$.slots[1].candidates.items[0]", engine.CategoryReference, `slot "hero" candidates name item "tent-3p"`)}},
		{"candidate tag no item carries", func(rs *engine.Ruleset) { rs.Slots[2].Candidates.Tags[1] = "ski" },
			[]wantProblem{errAt("$.slots[2].candidates.tags[1]", engine.CategoryReference, `tag "ski", which no catalogue item carries`)}},
		{"rule item unknown", func(rs *engine.Ruleset) { rs.Rules[4].Items.Items[0] = "race-vest-2" },
			[]wantProblem{errAt("$.rules[4].items.items[0]", engine.CategoryReference, `rule "returning" items name item "race-vest-2"`)}},
		{"rule tag unknown", func(rs *engine.Ruleset) { rs.Rules[2].Items.Tags[0] = "kitchen" },
			[]wantProblem{errAt("$.rules[2].items.tags[0]", engine.CategoryReference, `rule "mobile-bury" items name tag "kitchen"`)}},
		{"rule campaign unknown", func(rs *engine.Ruleset) { rs.Rules[3].Items.Campaigns[0] = "spring-rain" },
			[]wantProblem{errAt("$.rules[3].items.campaigns[0]", engine.CategoryReference, `campaign "spring-rain", which no catalogue item belongs to`)}},
		{"rule slot unknown", func(rs *engine.Ruleset) { rs.Rules[1].Slots[0] = "sidebar" },
			[]wantProblem{errAt("$.rules[1].slots[0]", engine.CategoryReference, `rule "evening-headlamp" names slot "sidebar"`)}},
		{"condition region undeclared", func(rs *engine.Ruleset) { rs.Rules[0].When.Region[0] = "scotland" },
			[]wantProblem{errAt("$.rules[0].when.region[0]", engine.CategoryReference, `rule "rainy-day" tests region "scotland", which is not declared`)}},
		{"interest tag no item carries", func(rs *engine.Ruleset) { rs.Rules[5].When.Interest[0].Tag = "ski" },
			[]wantProblem{errAt("$.rules[5].when.interest[0].tag", engine.CategoryReference, `tests interest in tag "ski"`)}},
		{"viewed tag no item carries", func(rs *engine.Ruleset) { rs.Rules[5].When.Viewed.Tags[0] = "jogging" },
			[]wantProblem{errAt("$.rules[5].when.viewed.tags[0]", engine.CategoryReference, `viewed test names tag "jogging"`)}},
		{"purchased item unknown", func(rs *engine.Ruleset) { rs.Rules[6].When.Purchased.Items[0] = "tent-1p" },
			[]wantProblem{errAt("$.rules[6].when.purchased.items[0]", engine.CategoryReference, `purchased test names item "tent-1p"`)}},
		{"cap campaign unknown", func(rs *engine.Ruleset) { rs.Caps[0].Items.Campaigns[0] = "autumn" },
			[]wantProblem{errAt("$.caps[0].items.campaigns[0]", engine.CategoryReference, `cap "autumn-rain-cap" items name campaign "autumn"`)}},
		{"item region undeclared", func(rs *engine.Ruleset) { rs.Catalogue[7].Regions[1] = "andes" },
			[]wantProblem{errAt("$.catalogue[7].regions[1]", engine.CategoryReference, `item "snowshoe" names region "andes"`)}},
		{"bucket tag no item carries", func(rs *engine.Ruleset) { rs.Cohorts.Dimensions[0].Buckets[1].Tags[1] = "fishing" },
			[]wantProblem{errAt("$.cohorts.dimensions[0].buckets[1].tags[1]", engine.CategoryReference, `bucket "campers" names tag "fishing"`)}},
		{"bucket region undeclared", func(rs *engine.Ruleset) { rs.Cohorts.Dimensions[1].Buckets[1].Regions[0] = "pyrenees" },
			[]wantProblem{errAt("$.cohorts.dimensions[1].buckets[1].regions[0]", engine.CategoryReference, `region "pyrenees"`)}},
	})
}

func TestSignals(t *testing.T) {
	without := func(kind string) func(rs *engine.Ruleset) {
		return func(rs *engine.Ruleset) {
			kept := rs.Signals[:0]
			for _, s := range rs.Signals {
				if s.Kind != kind {
					kept = append(kept, s)
				}
			}
			rs.Signals = kept
		}
	}
	runMutations(t, []rulesetMutation{
		{"weather test without the weather signal", without(engine.SignalWeather),
			[]wantProblem{errAt("$.rules[0].when.weather", engine.CategorySignal, `rule "rainy-day" tests the weather`, "kind weather")}},
		{"region tests without the location signal", without(engine.SignalLocation), []wantProblem{
			errAt("$.catalogue[7].regions", engine.CategorySignal, `item "snowshoe" is available only in some regions`, "kind location"),
			errAt("$.rules[0].when.region", engine.CategorySignal, `rule "rainy-day" tests the region`, "kind location"),
			errAt("$.cohorts.dimensions[1].from", engine.CategorySignal, `cohort dimension "area" groups people by region`, "kind location"),
		}},
		{"daypart and weekday without the time signal", without(engine.SignalTime), []wantProblem{
			errAt("$.rules[1].when.daypart", engine.CategorySignal, `rule "evening-headlamp" tests the time of day`, "kind time"),
			errAt("$.rules[1].when.weekday", engine.CategorySignal, `rule "evening-headlamp" tests the weekday`, "kind time"),
		}},
		{"device test without the device signal", without(engine.SignalDevice),
			[]wantProblem{errAt("$.rules[2].when.device", engine.CategorySignal, `rule "mobile-bury" tests the device`, "kind device")}},
		{"referrer and page tests without their signals", func(rs *engine.Ruleset) {
			without(engine.SignalReferrer)(rs)
			without(engine.SignalPage)(rs)
		}, []wantProblem{
			errAt("$.rules[3].when.referrer", engine.CategorySignal, `rule "newsletter" tests the referrer`, "kind referrer"),
			errAt("$.rules[3].when.page_section", engine.CategorySignal, `rule "newsletter" tests the page section`, "kind page"),
		}},
		{"visits without the visits signal", without(engine.SignalVisits), []wantProblem{
			errAt("$.rules[4].when.visits", engine.CategorySignal, `rule "returning" tests the visit count`, "kind visits"),
			errAt("$.cohorts.dimensions[2].from", engine.CategorySignal, `cohort dimension "engagement" groups people by engagement`, "kind visits"),
		}},
		{"history uses without the history signal", without(engine.SignalHistory), []wantProblem{
			warnAt("$.slots[0].exclude_seen", engine.CategorySignal, `slot "recommended" leaves out items already seen`, "no effect"),
			errAt("$.rules[5].when.interest", engine.CategorySignal, `rule "trail-fans" tests interests`, "kind history"),
			errAt("$.rules[5].when.viewed", engine.CategorySignal, `rule "trail-fans" tests what the person viewed`, "kind history"),
			errAt("$.rules[6].when.purchased", engine.CategorySignal, `rule "bought-tent" tests what the person purchased`, "kind history"),
			errAt("$.cohorts.dimensions[0].from", engine.CategorySignal, `cohort dimension "interest" groups people by interest`, "kind history"),
		}},
		{"a signal nothing uses", func(rs *engine.Ruleset) { rs.Rules = append(rs.Rules[:2], rs.Rules[3:]...) },
			[]wantProblem{warnAt("$.signals[4]", engine.CategorySignal, `signal "device" (device) is declared but nothing uses it`)}},
	})
}

func TestRules(t *testing.T) {
	runMutations(t, []rulesetMutation{
		{"visits min above max", func(rs *engine.Ruleset) { rs.Rules[4].When.Visits.Max = num(2) },
			[]wantProblem{errAt("$.rules[4].when.visits", engine.CategoryRule, `rule "returning" visits min 3 is above max 2, so it can never hold`)}},
		{"exclude and boost under the same condition", func(rs *engine.Ruleset) {
			rs.Rules = append(rs.Rules, engine.Rule{ID: "no-vest-for-regulars", When: engine.Condition{Visits: &engine.Range{Min: num(3)}},
				Items: engine.Selector{Tags: []string{"race"}}, Exclude: true})
		}, []wantProblem{warnAt("$.rules[7].exclude", engine.CategoryRule,
			`rule "no-vest-for-regulars" contradicts rule "returning"`, `under the same condition rule "returning" boosts item "race-vest"`)}},
		{"boost and bury under the same condition", func(rs *engine.Ruleset) {
			rs.Rules = append(rs.Rules, engine.Rule{ID: "mobile-boost", When: engine.Condition{Device: []string{"mobile"}},
				Items: engine.Selector{Items: []string{"stove"}}, Boost: 2})
		}, []wantProblem{warnAt("$.rules[7].boost", engine.CategoryRule, `rule "mobile-boost" contradicts rule "mobile-bury"`, `buries item "stove"`)}},
		{"conditions equal as sets contradict too", func(rs *engine.Ruleset) {
			rs.Rules = append(rs.Rules, engine.Rule{ID: "storm-hide", When: engine.Condition{Weather: []string{"storm", "rain", "rain"}, Region: []string{"pnw"}},
				Items: engine.Selector{Items: []string{"rain-shell"}}, Exclude: true})
		}, []wantProblem{warnAt("$.rules[7].exclude", engine.CategoryRule, `contradicts rule "rainy-day"`)}},
		{"a later boost of an item always excluded", func(rs *engine.Ruleset) {
			rs.Rules = append(rs.Rules,
				engine.Rule{ID: "no-stoves", Items: engine.Selector{Items: []string{"stove"}}, Exclude: true},
				engine.Rule{ID: "evening-stoves", When: engine.Condition{Daypart: []string{"evening"}}, Items: engine.Selector{Tags: []string{"cooking"}}, Boost: 3})
		}, []wantProblem{warnAt("$.rules[8].boost", engine.CategoryRule, `rule "evening-stoves" contradicts rule "no-stoves"`, "the exclude holds always")}},
		{"an exclude that empties a slot", func(rs *engine.Ruleset) {
			rs.Rules = append(rs.Rules, engine.Rule{ID: "no-snow", Items: engine.Selector{Tags: []string{"snow"}}, Slots: []string{"winter"}, Exclude: true})
		}, []wantProblem{errAt("$.rules[7].exclude", engine.CategoryRule, `rule "no-snow" always excludes every remaining candidate of slot "winter"`, "can never show anything")}},
		{"two excludes that empty a slot together", func(rs *engine.Ruleset) {
			rs.Slots[1].Candidates.Items = []string{"tent-2p", "stove"}
			rs.Slots[1].Fallback = []string{"tent-2p"}
			rs.Rules = append(rs.Rules,
				engine.Rule{ID: "no-tents", Items: engine.Selector{Items: []string{"tent-2p"}}, Slots: []string{"hero"}, Exclude: true},
				engine.Rule{ID: "no-stoves", Items: engine.Selector{Items: []string{"stove"}}, Slots: []string{"hero"}, Exclude: true})
		}, []wantProblem{errAt("$.rules[8].exclude", engine.CategoryRule, `rule "no-stoves" always excludes every remaining candidate of slot "hero"`)}},
		{"a rule limited to slots that cannot show its items", func(rs *engine.Ruleset) { rs.Rules[1].Slots = []string{"winter"} },
			[]wantProblem{warnAt("$.rules[1].slots", engine.CategoryRule, `rule "evening-headlamp" applies only to slot "winter", and none of its candidates is among its items`, "never has an effect")}},
		{"a rule whose items no slot shows", func(rs *engine.Ruleset) {
			rs.Catalogue = append(rs.Catalogue, engine.Item{ID: "gift-card", Title: "Gift card", Tags: []string{"gift"}})
			rs.Slots[0].Candidates.Tags = []string{"running", "camping", "rain", "hiking"}
			rs.Rules = append(rs.Rules, engine.Rule{ID: "gifts", Items: engine.Selector{Items: []string{"gift-card"}}, Boost: 2})
		}, []wantProblem{warnAt("$.rules[7].items", engine.CategoryRule, `rule "gifts" selects no candidate of any slot`)}},
		{"a pin past the slot's end", func(rs *engine.Ruleset) { rs.Rules[1].Pin = 5 },
			[]wantProblem{warnAt("$.rules[1].pin", engine.CategoryRule, `rule "evening-headlamp" pins to position 5, but its slots show at most 4 items`)}},
		{"a look back longer than history keeps", func(rs *engine.Ruleset) { rs.Rules[5].When.Viewed.WithinDays = 90 },
			[]wantProblem{warnAt("$.rules[5].when.viewed.within_days", engine.CategoryRule, "looks back 90 days for views", "keeps events for only 60")}},
		{"a daily cap the weekly cap never allows", func(rs *engine.Ruleset) { rs.Caps[0].PerDay, rs.Caps[0].PerWeek = 5, 3 },
			[]wantProblem{warnAt("$.caps[0].per_day", engine.CategoryRule, "per_day 5 can never be reached", "per_week is 3")}},
	})
}

func TestPolicyInRulesets(t *testing.T) {
	addItem := func(it engine.Item) func(rs *engine.Ruleset) {
		return func(rs *engine.Ruleset) { rs.Catalogue = append(rs.Catalogue, it) }
	}
	runMutations(t, []rulesetMutation{
		{"item title", addItem(engine.Item{ID: "vitamins", Title: "Prenatal vitamins", Tags: []string{"camping"}}), []wantProblem{
			errAt("$.catalogue[9].title", engine.CategoryPolicy, `item "vitamins" title "Prenatal vitamins" reveals a sensitive category: pregnancy and fertility (matched "prenatal")`),
		}},
		{"item id and title", addItem(engine.Item{ID: "prenatal-vitamins", Title: "Prenatal vitamins", Tags: []string{"camping"}}), []wantProblem{
			errAt("$.catalogue[9].id", engine.CategoryPolicy, `item id "prenatal-vitamins" reveals a sensitive category: pregnancy and fertility (matched "prenatal")`),
			errAt("$.catalogue[9].title", engine.CategoryPolicy, `item "prenatal-vitamins" title "Prenatal vitamins" reveals a sensitive category: pregnancy and fertility (matched "prenatal")`),
		}},
		{"item tag", func(rs *engine.Ruleset) { rs.Catalogue[1].Tags = append(rs.Catalogue[1].Tags, "diabetic-friendly") }, []wantProblem{
			errAt("$.catalogue[1].tags[2]", engine.CategoryPolicy, `item "road-shoe" tag "diabetic-friendly" reveals a sensitive category: health and medical conditions (matched "diabetic")`),
		}},
		{"item campaign", func(rs *engine.Ruleset) { rs.Catalogue[4].Campaign = "pride-month-lgbtq" }, []wantProblem{
			errAt("$.catalogue[4].campaign", engine.CategoryPolicy, "sexual orientation and gender identity", `"pride month"`),
		}},
		{"item attribute key and value", func(rs *engine.Ruleset) {
			rs.Catalogue[0].Attributes["halal"] = "no"
			rs.Catalogue[0].Attributes["note"] = "Popular with union members"
		}, []wantProblem{
			errAt("$.catalogue[0].attributes.halal", engine.CategoryPolicy, `item "trail-shoe" attribute "halal" reveals a sensitive category: religion`),
			errAt("$.catalogue[0].attributes.note", engine.CategoryPolicy, `attribute "note" value "Popular with union members" reveals a sensitive category: trade-union membership (matched "union member")`),
		}},
		{"region id and name", func(rs *engine.Ruleset) {
			rs.Regions = append(rs.Regions, engine.Region{ID: "gay-village", Name: "Mosque district", Countries: []string{"GB"}})
		}, []wantProblem{
			errAt("$.regions[3].id", engine.CategoryPolicy, `region id "gay-village" reveals a sensitive category: sexual orientation and gender identity`),
			errAt("$.regions[3].name", engine.CategoryPolicy, `region "gay-village" name "Mosque district" reveals a sensitive category: religion (matched "mosque")`),
		}},
		{"rule id, description and reason", func(rs *engine.Ruleset) {
			rs.Rules[2].ID = "debt-relief"
			rs.Rules[2].Description = "For people in bankruptcy"
			rs.Rules[2].Reason = "Because you are pregnant"
		}, []wantProblem{
			errAt("$.rules[2].id", engine.CategoryPolicy, `rule id "debt-relief" reveals a sensitive category: debt or financial hardship`),
			errAt("$.rules[2].description", engine.CategoryPolicy, `rule "debt-relief" description "For people in bankruptcy" reveals`, "debt or financial hardship"),
			errAt("$.rules[2].reason", engine.CategoryPolicy, `rule "debt-relief" reason`, "pregnancy and fertility"),
		}},
		{"interest in a sensitive tag", func(rs *engine.Ruleset) { rs.Rules[5].When.Interest[0].Tag = "church" }, []wantProblem{
			errAt("$.rules[5].when.interest[0].tag", engine.CategoryReference, `tag "church", which no catalogue item carries`),
			errAt("$.rules[5].when.interest[0].tag", engine.CategoryPolicy, `rule "trail-fans" interest in tag "church" targets a sensitive category: religion`),
		}},
		{"page section", func(rs *engine.Ruleset) { rs.Rules[3].When.PageSection[0] = "mental-health" }, []wantProblem{
			errAt("$.rules[3].when.page_section[0]", engine.CategoryPolicy, `page section "mental-health" targets a sensitive category: mental health and addiction`),
		}},
		{"slot id", func(rs *engine.Ruleset) {
			rs.Slots = append(rs.Slots, engine.Slot{ID: "for-teens", Limit: 2, Fallback: []string{"tent-2p"}})
		}, []wantProblem{errAt("$.slots[3].id", engine.CategoryPolicy, `slot id "for-teens" reveals a sensitive category: children as targets`)}},
		{"signal purpose", func(rs *engine.Ruleset) { rs.Signals[6].Purpose = "Spot visitors of our medication pages." }, []wantProblem{
			errAt("$.signals[6].purpose", engine.CategoryPolicy, `signal "page" purpose "Spot visitors of our medication pages." reveals a sensitive category: medication`),
		}},
		{"cap id", func(rs *engine.Ruleset) { rs.Caps[0].ID = "ethnic-cap" }, []wantProblem{
			errAt("$.caps[0].id", engine.CategoryPolicy, `cap id "ethnic-cap" reveals a sensitive category: ethnicity`),
		}},
		{"cohort dimension, bucket and tag", func(rs *engine.Ruleset) {
			rs.Catalogue[5].Tags = append(rs.Catalogue[5].Tags, "kosher")
			rs.Cohorts.Dimensions[0].ID = "religion"
			rs.Cohorts.Dimensions[0].Buckets[1] = engine.Bucket{ID: "jewish", Tags: []string{"kosher"}}
		}, []wantProblem{
			errAt("$.catalogue[5].tags[2]", engine.CategoryPolicy, `tag "kosher" reveals a sensitive category: religion`),
			errAt("$.cohorts.dimensions[0].id", engine.CategoryPolicy, `cohort dimension id "religion" targets a sensitive category: religion`),
			errAt("$.cohorts.dimensions[0].buckets[1].id", engine.CategoryPolicy, `bucket id "jewish" targets a sensitive category: religion`),
			errAt("$.cohorts.dimensions[0].buckets[1].tags[0]", engine.CategoryPolicy, `tag "kosher" targets a sensitive category: religion`),
		}},
		{"a box smaller than a degree", func(rs *engine.Ruleset) {
			rs.Regions[1].Boxes[0] = engine.Box{South: 46.5, West: 7.9, North: 47, East: 8.4}
		},
			[]wantProblem{errAt("$.regions[1].boxes[0]", engine.CategoryPolicy, "0.5° by 0.5°", "at least 1 degree")}},
		{"a geohash of four characters", func(rs *engine.Ruleset) { rs.Regions[2].Geohashes[0] = "u4pr" },
			[]wantProblem{errAt("$.regions[2].geohashes[0]", engine.CategoryPolicy, `geohash "u4pr" has 4 characters`, "at most 3")}},
		{"a postcode as region name", func(rs *engine.Ruleset) { rs.Regions[0].Name = "Seattle 98101" },
			[]wantProblem{errAt("$.regions[0].name", engine.CategoryPolicy, `region "pnw" name "Seattle 98101" contains a postcode`)}},
		{"a postcode as region id", func(rs *engine.Ruleset) {
			rs.Regions[0].ID = "80331"
			rs.Rules[0].When.Region[0] = "80331"
			rs.Cohorts.Dimensions[1].Buckets[0].Regions[0] = "80331"
		}, []wantProblem{errAt("$.regions[0].id", engine.CategoryPolicy, `region id "80331" contains a postcode`)}},
		{"coordinates in an attribute", func(rs *engine.Ruleset) { rs.Catalogue[0].Attributes["store"] = "47.6062, -122.3321" },
			[]wantProblem{errAt("$.catalogue[0].attributes.store", engine.CategoryPolicy, `attribute "store" value "47.6062, -122.3321" contains coordinates`)}},
		{"a location attribute key", func(rs *engine.Ruleset) { rs.Catalogue[0].Attributes["Post Code"] = "WA" },
			[]wantProblem{errAt("$.catalogue[0].attributes['Post Code']", engine.CategoryPolicy, `attribute "Post Code" names a precise location`)}},
		{"a UK postcode in a title", func(rs *engine.Ruleset) { rs.Catalogue[4].Title = "Tent, collect at SW1A 1AA" },
			[]wantProblem{errAt("$.catalogue[4].title", engine.CategoryPolicy, "contains a postcode")}},
		{"a ZIP+4 in a description", func(rs *engine.Ruleset) { rs.Rules[0].Description = "Only near 98101-1234" },
			[]wantProblem{errAt("$.rules[0].description", engine.CategoryPolicy, "contains a postcode")}},
		{"retention over 90 days", func(rs *engine.Ruleset) { rs.Signals[0].RetentionDays = 91 },
			[]wantProblem{errAt("$.signals[0].retention_days", engine.CategoryPolicy, `signal "history" keeps data for 91 days`, "at most 90")}},
		{"max events over 5000", func(rs *engine.Ruleset) { rs.Profile.MaxEvents = 5001 },
			[]wantProblem{errAt("$.profile.max_events", engine.CategoryPolicy, "5001", "at most 5000")}},
		{"four cohort dimensions", func(rs *engine.Ruleset) {
			d := rs.Cohorts.Dimensions[2]
			d.ID = "engagement-2"
			rs.Cohorts.Dimensions = append(rs.Cohorts.Dimensions, d)
		}, []wantProblem{errAt("$.cohorts.dimensions", engine.CategoryPolicy, "4 dimensions", "at most 3")}},
		{"more cohorts than 64", func(rs *engine.Ruleset) {
			var bs []engine.Bucket
			for i := 0; i < 11; i++ {
				bs = append(bs, engine.Bucket{ID: fmt.Sprintf("b%d", i), Tags: []string{"running"}})
			}
			rs.Cohorts.Dimensions[0].Buckets = append(bs, engine.Bucket{ID: "rest"})
		}, []wantProblem{warnAt("$.cohorts.dimensions", engine.CategoryPolicy, "72 combinations", "above 64")}},
		{"more cohorts than 256", func(rs *engine.Ruleset) {
			var bs []engine.Bucket
			for i := 0; i < 15; i++ {
				bs = append(bs, engine.Bucket{ID: fmt.Sprintf("b%d", i), Tags: []string{"running"}})
			}
			rs.Cohorts.Dimensions[0].Buckets = append(bs, engine.Bucket{ID: "rest"})
			rs.Cohorts.Dimensions[1].Buckets = []engine.Bucket{
				{ID: "pnw", Regions: []string{"pnw"}}, {ID: "alps", Regions: []string{"alps"}},
				{ID: "nordics", Regions: []string{"nordics"}}, {ID: "rest"}, {ID: "rest-2"}, {ID: "rest-3"}, {ID: "rest-4"}, {ID: "rest-5"}, {ID: "rest-6"}}
		}, []wantProblem{
			errAt("$.cohorts.dimensions", engine.CategoryPolicy, "288 combinations", "MaxCohorts = 256"),
			errAt("$.cohorts.dimensions[1].buckets[3]", engine.CategorySchema, `bucket "rest"`, "only the last bucket"),
			errAt("$.cohorts.dimensions[1].buckets[4]", engine.CategorySchema, `bucket "rest-2"`),
			errAt("$.cohorts.dimensions[1].buckets[5]", engine.CategorySchema, `bucket "rest-3"`),
			errAt("$.cohorts.dimensions[1].buckets[6]", engine.CategorySchema, `bucket "rest-4"`),
			errAt("$.cohorts.dimensions[1].buckets[7]", engine.CategorySchema, `bucket "rest-5"`),
		}},
		{"epsilon over 4", func(rs *engine.Ruleset) { rs.Reporting.Epsilon = 4.5 },
			[]wantProblem{errAt("$.reporting.epsilon", engine.CategoryPolicy, "4.5", "at most 4")}},
		{"epsilon over the default", func(rs *engine.Ruleset) { rs.Reporting.Epsilon = 3 },
			[]wantProblem{warnAt("$.reporting.epsilon", engine.CategoryPolicy, "above the default of 2")}},
		{"min_k under 10", func(rs *engine.Ruleset) { rs.Reporting.MinK = 5 },
			[]wantProblem{errAt("$.reporting.min_k", engine.CategoryPolicy, "min_k is 5", "at least 10")}},
	})
}

func TestEveryProblemInDocumentOrder(t *testing.T) {
	rs := trailhead()
	rs.Version = ""
	rs.Signals[0].RetentionDays = 400
	rs.Catalogue[2].Tags = append(rs.Catalogue[2].Tags, "Pregnancy")
	rs.Slots[0].Limit = 0
	rs.Slots[1].Fallback[0] = "ghost"
	rs.Rules[0].When.Weather[0] = "drizzle"
	rs.Rules[0].Boost = 20
	rs.Reporting.Epsilon = 9
	checkProblems(t, buildtime.Validate(rs), []wantProblem{
		errAt("$.version", engine.CategorySchema),
		errAt("$.signals[0].retention_days", engine.CategoryPolicy),
		errAt("$.catalogue[2].tags[2]", engine.CategoryPolicy, "pregnancy"),
		errAt("$.slots[0].limit", engine.CategorySchema),
		errAt("$.slots[1].fallback[0]", engine.CategoryReference, `"ghost"`),
		errAt("$.rules[0].when.weather[0]", engine.CategorySchema, `"drizzle"`),
		errAt("$.rules[0].boost", engine.CategorySchema, "20"),
		errAt("$.reporting.epsilon", engine.CategoryPolicy, "9"),
	})
}

func TestZeroAndEmptyRulesets(t *testing.T) {
	zero := []wantProblem{
		errAt("$.id", engine.CategorySchema, "no id"),
		errAt("$.version", engine.CategorySchema, "no version"),
		errAt("$.catalogue", engine.CategorySchema, "catalogue is empty"),
		errAt("$.slots", engine.CategorySchema, "no slots"),
	}
	checkProblems(t, buildtime.Validate(nil), zero)
	checkProblems(t, buildtime.Validate(&engine.Ruleset{}), zero)
	empty := &engine.Ruleset{Signals: []engine.Signal{}, Regions: []engine.Region{}, Catalogue: []engine.Item{}, Slots: []engine.Slot{},
		Rules: []engine.Rule{}, Caps: []engine.Cap{}, Cohorts: engine.Cohorts{Dimensions: []engine.Dimension{}}}
	checkProblems(t, buildtime.Validate(empty), zero)
	// Zero values inside every list.
	odd := &engine.Ruleset{ID: "odd", Version: "1",
		Signals: []engine.Signal{{}}, Regions: []engine.Region{{Boxes: []engine.Box{{}}}}, Catalogue: []engine.Item{{Schedule: []engine.Window{{}}}},
		Slots: []engine.Slot{{}}, Rules: []engine.Rule{{When: engine.Condition{Visits: &engine.Range{}, Viewed: &engine.RecentTest{}, Interest: []engine.InterestTest{{}}}}},
		Caps: []engine.Cap{{}}, Cohorts: engine.Cohorts{Dimensions: []engine.Dimension{{Buckets: []engine.Bucket{{Visits: &engine.Range{}}}}}}}
	ps := buildtime.Validate(odd)
	if len(ps) == 0 {
		t.Fatal("a ruleset of zero values passed")
	}
	if again := buildtime.Validate(odd); !reflect.DeepEqual(ps, again) {
		t.Fatal("Validate is not deterministic")
	}
}

func TestCatalogueOverTheLimit(t *testing.T) {
	rs := abitest.BenchRuleset(engine.MaxItems + 1)
	checkProblems(t, buildtime.Validate(&rs), []wantProblem{errAt("$.catalogue", engine.CategorySchema, "10001 items", "at most 10000")})
}

func TestLoadRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(rs *engine.Ruleset)
		code   engine.Code
		msg    string
	}{
		{"a privacy breach", func(rs *engine.Ruleset) { rs.Signals[0].RetentionDays = 400 }, engine.CodePrivacyPolicy,
			`$.signals[0].retention_days: signal "history" keeps data for 400 days; the privacy policy allows at most 90`},
		{"a policy error among others", func(rs *engine.Ruleset) {
			rs.Slots[0].Limit = 0 // vouched for by the signature: not the device's to check
			rs.Reporting.Epsilon = 8
		}, engine.CodePrivacyPolicy, `$.reporting.epsilon: reporting epsilon is 8; the privacy policy allows at most 4`},
		{"a one-day epoch", func(rs *engine.Ruleset) { rs.Reporting.EpochDays = 1 }, engine.CodePrivacyPolicy,
			`$.reporting.epoch_days: reporting epoch_days is 1; the privacy policy needs at least 7 days between a person's reports`},
		{"a number out of range", func(rs *engine.Ruleset) { rs.Reporting.EpochDays = 365 }, engine.CodeInvalidRuleset,
			`$.reporting.epoch_days: reporting epoch_days is 365; it must be between 7 and 90`},
		{"many policy errors", func(rs *engine.Ruleset) {
			rs.Reporting = engine.Reporting{Epsilon: 9, MinK: 2}
			rs.Regions[0].Geohashes = []string{"c23nb", "c23nc"}
		}, engine.CodePrivacyPolicy, `$.regions[0].geohashes[0]: region "pnw" geohash "c23nb" has 5 characters`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := engine.New()
			if err := e.Load(*trailhead()); err != nil {
				t.Fatal(err)
			}
			rs := trailhead()
			tc.mutate(rs)
			err := e.Load(*rs)
			var ee *engine.Error
			if !errors.As(err, &ee) || ee.Code != tc.code || !strings.HasPrefix(ee.Message, tc.msg) {
				t.Fatalf("Load = %v, wantProblem %s starting %q", err, tc.code, tc.msg)
			}
			if info, _ := e.Ruleset(); info.ID != "trailhead-outfitters" {
				t.Errorf("a refused load replaced the active ruleset: %+v", info)
			}
		})
	}
}

// The device refuses only what breaks the policy's numbers: a ruleset whose
// structure is wrong (which edgewise build never signs) still loads, and
// decide, describe, export and report work on it without failing.
func TestLoadTrustsTheSignatureForStructure(t *testing.T) {
	rs := trailhead()
	rs.Slots[0].Fallback[0] = "kayak"
	rs.Slots[0].Limit = 0
	for i := range rs.Catalogue {
		rs.Catalogue[i].Title = ""
	}
	if len(buildtime.Validate(rs)) == 0 {
		t.Fatal("the broken ruleset passes Validate; the test needs one that does not")
	}
	exerciseLoaded(t, rs)
}

// exerciseLoaded loads rs and runs every operation on it; none may panic.
// When rs loads, decide must answer every slot.
func exerciseLoaded(t *testing.T, rs *engine.Ruleset) {
	t.Helper()
	e := engine.New()
	if err := e.Load(*rs); err != nil {
		t.Fatalf("Load = %v", err)
	}
	var ids []string
	for _, s := range rs.Slots {
		ids = append(ids, s.ID)
	}
	if len(rs.Catalogue) > 0 {
		e.Observe(engine.Event{Type: "view", Item: rs.Catalogue[0].ID, At: 1764400000000}) // an unknown item is an error, not a panic
	}
	if len(ids) > 0 {
		if _, err := e.Decide(ids); err != nil && !strings.Contains(err.Error(), "slot") {
			t.Fatalf("Decide = %v", err)
		}
	}
	if _, err := e.Describe(); err != nil {
		t.Fatalf("Describe = %v", err)
	}
	if _, err := e.Export(); err != nil {
		t.Fatalf("Export = %v", err)
	}
	if _, err := e.SetPreferences(engine.Preferences{Sharing: engine.SharingCohorts}); err != nil {
		t.Fatalf("SetPreferences = %v", err)
	}
	e.Report(1764400000000, nil)
}

// The device leaves the sensitive-category check to the signer: Load takes
// a ruleset only the lexicon would refuse, while the full validation
// reports it and buildtime.EncodeRuleset refuses to sign it, with the error
// Load gave before the lexicon left the device.
func TestSensitiveCategoriesAreCheckedWhereRulesetsAreSigned(t *testing.T) {
	rs := trailhead()
	rs.Catalogue[0].Title = "Trail shoes for diabetics"
	const msg = `$.catalogue[0].title: item "trail-shoe" title "Trail shoes for diabetics" reveals a sensitive category: health and medical conditions (matched "diabetic")`
	full := buildtime.Validate(rs)
	checkProblems(t, full, []wantProblem{errAt("$.catalogue[0].title", engine.CategoryPolicy, "diabetic")})
	if ps := engine.Validate(rs, nil); len(ps) != 0 {
		t.Errorf("the device's validation reports:\n%s", dumpProblems(ps))
	}
	if err := engine.New().Load(*rs); err != nil {
		t.Errorf("Load = %v; the device trusts the signature for the lexicon", err)
	}
	_, err := buildtime.EncodeRuleset(rs, abitest.TestKey())
	var ee *engine.Error
	if !errors.As(err, &ee) || ee.Code != engine.CodePrivacyPolicy || ee.Message != msg {
		t.Fatalf("EncodeRuleset = %v, want %s %q", err, engine.CodePrivacyPolicy, msg)
	}
}

func TestLoadAcceptsWarnings(t *testing.T) {
	rs := trailhead()
	rs.Reporting.Epsilon = 3
	if ps := buildtime.Validate(rs); len(ps) != 1 || ps[0].Severity != engine.SeverityWarning {
		t.Fatalf("wantProblem one warning, got:\n%s", dumpProblems(ps))
	}
	if err := engine.New().Load(*rs); err != nil {
		t.Fatalf("a ruleset with only warnings was refused: %v", err)
	}
}

// FuzzValidate decodes arbitrary bytes into a Ruleset and validates it:
// Validate must not panic and must give the same problems twice; Load
// refuses nothing Validate accepts, and whatever it loads, every operation
// runs on without panicking. The bytes
// are decoded with the wire's checks (refcodec.Decode, which the engine's
// generated decoder is held to): plain
// msgpack.Unmarshal trusts declared lengths and would allocate gigabytes.
func FuzzValidate(f *testing.F) {
	for _, rs := range []*engine.Ruleset{trailhead(), {}, {ID: "x", Catalogue: []engine.Item{{ID: "a"}}}} {
		b, err := msgpack.Marshal(rs)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	bad := trailhead()
	bad.Rules[4].When.Visits.Max = num(1)
	bad.Cohorts.Dimensions[0].Buckets[0].Visits = &engine.Range{Min: num(-3)}
	bad.Catalogue[0].Title = "Pr3gn@ncy p.r.e.n.a.t.a.l 47.6062,-122.3321"
	b, _ := msgpack.Marshal(bad)
	f.Add(b)
	f.Add([]byte{0x80})
	// Random rulesets: every field set or not, to odd values.
	for _, b := range mptest.Seeds(f, 11, 300, mptest.Codec[engine.Ruleset]{Name: "Ruleset"}) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var rs engine.Ruleset
		if err := refcodec.Decode(data, &rs); err != nil {
			return
		}
		full := buildtime.Validate(&rs)
		if again := buildtime.Validate(&rs); !reflect.DeepEqual(full, again) {
			t.Fatalf("Validate is not deterministic:\n%s\n%s", dumpProblems(full), dumpProblems(again))
		}
		checkDevice(t, &rs, full)
		first := engine.Validate(&rs, nil)
		hasError := false
		for _, p := range first {
			if p.Path == "" || p.Message == "" || (p.Severity != engine.SeverityError && p.Severity != engine.SeverityWarning) {
				t.Fatalf("malformed problem %+v", p)
			}
			hasError = hasError || p.Severity == engine.SeverityError
		}
		if err := engine.New().Load(rs); err != nil && !hasError {
			t.Fatalf("Load = %v, but Validate found no error", err)
		} else if err == nil && len(rs.Catalogue) > 0 {
			// Loaded, perhaps with problems the signature vouches for:
			// nothing may panic on it.
			exerciseLoaded(t, &rs)
		}
	})
}

// BenchmarkValidate validates the 1,000-item benchmark catalogue as every
// load does: on the device, without the lexicon.
func BenchmarkValidate(b *testing.B) {
	rs := abitest.BenchRuleset(1000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if ps := engine.Validate(&rs, nil); len(ps) != 0 {
			b.Fatal(dumpProblems(ps))
		}
	}
}

// BenchmarkValidateFull validates the same catalogue as lint and build do,
// with the lexicon.
func BenchmarkValidateFull(b *testing.B) {
	rs := abitest.BenchRuleset(1000)
	buildtime.Validate(&rs) // the lexicon is parsed once per process
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ps := buildtime.Validate(&rs); len(ps) != 0 {
			b.Fatal(dumpProblems(ps))
		}
	}
}

// BenchmarkValidateRealistic validates the ruleset with every section.
func BenchmarkValidateRealistic(b *testing.B) {
	rs := trailhead()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buildtime.Validate(rs)
	}
}

// Feeds: the ruleset names each with a fixed URL, a kind and, for custom
// feeds, its values; rules test holidays and custom feeds with feed and
// weather feeds with weather; every feed needs the location signal.
func TestValidateFeeds(t *testing.T) {
	withFeeds := func(edit func(rs *engine.Ruleset)) func(rs *engine.Ruleset) {
		return func(rs *engine.Ruleset) {
			rs.Feeds = []engine.FeedRef{
				{ID: "weather", Kind: engine.FeedWeather, URL: "/feeds/weather.ewf"},
				{ID: "holidays", Kind: engine.FeedHolidays, URL: "https://cdn.example.com/holidays.ewf"},
				{ID: "stores", Kind: engine.FeedCustom, URL: "/feeds/stores.ewf", Values: []string{"open", "closed"}},
			}
			rs.Rules[0].When.Feed = map[string][]string{"holidays": {"school_break"}, "stores": {"open"}}
			edit(rs)
		}
	}
	rs := trailhead()
	withFeeds(func(*engine.Ruleset) {})(rs)
	if ps := buildtime.Validate(rs); len(ps) != 0 {
		t.Fatalf("a ruleset with good feeds has problems:\n%s", dumpProblems(ps))
	}
	runMutations(t, []rulesetMutation{
		{"a query string in the url", withFeeds(func(rs *engine.Ruleset) { rs.Feeds[0].URL = "/feeds/weather.ewf?cell=u09" }),
			[]wantProblem{errAt("$.feeds[0].url", engine.CategoryPolicy, `feed "weather" url`, "query string")}},
		{"a plain http url", withFeeds(func(rs *engine.Ruleset) { rs.Feeds[1].URL = "http://cdn.example.com/h.ewf" }),
			[]wantProblem{errAt("$.feeds[1].url", engine.CategorySchema, "neither a path on this site nor an https URL")}},
		{"a key that is not a key", withFeeds(func(rs *engine.Ruleset) { rs.Feeds[2].Key = "not-a-key" }),
			[]wantProblem{errAt("$.feeds[2].key", engine.CategorySchema, "32-byte Ed25519 public key")}},
		{"a custom feed without values", withFeeds(func(rs *engine.Ruleset) { rs.Feeds[2].Values = nil; rs.Rules[0].When.Feed = nil }),
			[]wantProblem{errAt("$.feeds[2].values", engine.CategorySchema, "custom feed without values")}},
		{"two weather feeds", withFeeds(func(rs *engine.Ruleset) {
			rs.Feeds[1].Kind = engine.FeedWeather
			rs.Rules[0].When.Feed = map[string][]string{"stores": {"open"}}
		}),
			[]wantProblem{errAt("$.feeds[1].kind", engine.CategorySchema, `second weather feed after "weather"`)}},
		{"a feed the ruleset does not use", withFeeds(func(rs *engine.Ruleset) { rs.Rules[0].When.Feed["holiday"] = []string{"school_break"} }),
			[]wantProblem{errAt("$.rules[0].when.feed.holiday", engine.CategoryReference, `tests feed "holiday", which the ruleset does not use`)}},
		{"a value the feed cannot say", withFeeds(func(rs *engine.Ruleset) { rs.Rules[0].When.Feed["stores"] = []string{"busy"} }),
			[]wantProblem{errAt("$.rules[0].when.feed.stores[0]", engine.CategorySchema, `"busy"`, "open, closed")}},
		{"the weather feed tested with feed", withFeeds(func(rs *engine.Ruleset) { rs.Rules[0].When.Feed["weather"] = []string{"rain"} }),
			[]wantProblem{errAt("$.rules[0].when.feed.weather", engine.CategorySchema, `tests weather feed "weather" with feed`)}},
		{"feeds without the location signal", withFeeds(func(rs *engine.Ruleset) {
			rs.Feeds = rs.Feeds[1:]
			rs.Rules[0].When = engine.Condition{Feed: map[string][]string{"holidays": {"public_holiday"}}}
			rs.Catalogue[7].Regions = nil
			rs.Cohorts.Dimensions = rs.Cohorts.Dimensions[:1]
			rs.Signals = slices.DeleteFunc(rs.Signals, func(s engine.Signal) bool { return s.Kind == engine.SignalLocation })
		}), []wantProblem{
			warnAt("$.signals[1]", engine.CategorySignal, `signal "weather" (weather) is declared but nothing uses it`),
			errAt("$.feeds[0]", engine.CategorySignal, `feed "holidays" is joined with the person's region`, "kind location"),
			errAt("$.feeds[1]", engine.CategorySignal, `feed "stores" is joined with the person's region`, "kind location"),
			errAt("$.rules[0].when.feed", engine.CategorySignal, `rule "rainy-day" tests a feed joined with the person's region`, "kind location"),
		}},
	})
}
