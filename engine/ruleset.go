package engine

import (
	"slices"
	"strconv"
	"strings"
)

// compiledRuleset is a validated Ruleset indexed for decide.
type compiledRuleset struct {
	id, version     string
	items           []Item
	itemIndex       map[string]int
	tags            []string // tag names by tag number
	tagIndex        map[string]int32
	itemTags        [][]int32 // each item's tag numbers, in the item's order
	slots           []compiledSlot
	slotIndex       map[string]int
	halfLifeMillis  int64
	retentionMillis int64
	maxEvents       int
	// history is whether the ruleset declares the history signal; without
	// it the engine stores no events at all.
	history bool
	// declared holds the signal kinds the ruleset declares; signals are
	// the declarations, for describe.
	declared map[string]bool
	signals  []Signal
	regions  []Region
	// itemRegions and itemSchedule are each item's availability: region
	// numbers (nil: everywhere) and windows as [from, until] YYYYMMDD
	// numbers, 0 for an open end (nil: always).
	itemRegions  [][]int
	itemSchedule [][][2]int
	ruleList     []compiledRule
	caps         []compiledCap
	// capped marks items some cap selects; only their impressions are kept.
	capped []bool
	// itemCaps lists each item's cap numbers.
	itemCaps [][]int
	// itemCamp is each item's campaign number, -1 for none; campaigns is
	// how many there are.
	itemCamp  []int32
	campaigns int
	// cohorts and reporting are the ruleset's, for report (see cohort.go).
	cohorts   Cohorts
	reporting Reporting
	// feeds are the context feeds the ruleset uses, in its order;
	// weatherFeed is the number of its first weather feed, -1 for none.
	feeds       []compiledFeedRef
	weatherFeed int
	// experiments are the ruleset's, in its order; slotExperiments lists,
	// by slot number, the experiments covering the slot, outer ones first.
	experiments     []compiledExperiment
	slotExperiments [][]int
}

type compiledSlot struct {
	id          string
	candidates  []int
	fallback    []int
	limit       int
	excludeSeen bool
	maxPerTag   int
	maxPerCamp  int
	// rules are the numbers of the rules that may act in this slot.
	rules []int
	// ruleItems holds, for each of rules, the positions in candidates of
	// the items the rule selects, in order.
	ruleItems [][]int32
}

// Rule actions.
const (
	actBoost = iota + 1
	actBury
	actPin
	actExclude
)

type compiledRule struct {
	id, reason string
	slots      []string // nil: every slot
	when       *compiledCondition
	selected   []bool // by item number
	action     int
	factor     float64 // boost or bury
	pin        int     // 1-based position
}

type compiledCondition struct {
	Condition
	regions   []int // region numbers
	interest  []interestTest
	viewed    []bool // items the viewed test matches, nil when no test
	viewedMs  int64
	bought    []bool
	boughtMs  int64
	unknownIn bool // an interest tag no item has, or a feed the ruleset lacks: the test never holds
	feeds     []feedTest
}

// feedTest holds when feed number feed says one of values.
type feedTest struct {
	feed   int
	values []string
}

type interestTest struct {
	tag     int32
	atLeast float64
}

type compiledCap struct {
	id              string
	selected        []bool
	perDay, perWeek int
}

const dayMillis = 24 * 60 * 60 * 1000

// maxListedProblems is how many errors a refused load names.
const maxListedProblems = 5

// Refusal turns Validate's problems into the error Load returns, or nil
// when there are only warnings. Any policy error makes it a privacy_policy
// error, so hosts can tell "fix a typo" from "this may not be done".
// engine/buildtime.EncodeRuleset refuses to sign with the same error.
func Refusal(ps []Problem) error {
	code := CodeInvalidRuleset
	var listed []string
	errs := 0
	for _, p := range ps {
		if p.Severity != SeverityError {
			continue
		}
		errs++
		if p.Category == CategoryPolicy {
			code = CodePrivacyPolicy
		}
		if len(listed) < maxListedProblems {
			listed = append(listed, p.Path+": "+p.Message)
		}
	}
	if errs == 0 {
		return nil
	}
	msg := strings.Join(listed, "; ")
	if errs > len(listed) {
		msg += " (and " + strconv.Itoa(errs-len(listed)) + " more)"
	}
	return &Error{Code: code, Message: msg}
}

// compile checks rs against the policy guards (guard.go) and indexes it for
// decide. Any error problem refuses it (see Refusal). The rest of Validate
// ran before the file was signed, and the signature vouches for it.
func compile(rs Ruleset) (*compiledRuleset, error) {
	collect(len(rs.Catalogue))
	if err := Refusal(policyGuards(&rs)); err != nil {
		return nil, err
	}
	collect(len(rs.Catalogue))
	c := buildIndexes(&rs)
	collect(len(rs.Catalogue))
	return c, nil
}

// buildIndexes indexes a ruleset Validate accepted. Given an invalid one
// anyway it still returns without panicking, leaving out what it cannot
// resolve and keeping numbers in range.
func buildIndexes(rs *Ruleset) *compiledRuleset {
	c := &compiledRuleset{
		id:             rs.ID,
		version:        rs.Version,
		itemIndex:      make(map[string]int, len(rs.Catalogue)),
		slotIndex:      make(map[string]int, len(rs.Slots)),
		tagIndex:       make(map[string]int32),
		halfLifeMillis: DefaultHalfLifeDays * dayMillis,
		maxEvents:      DefaultMaxEvents,
		cohorts:        rs.Cohorts,
		reporting:      rs.Reporting,
	}
	c.compileFeeds(rs.Feeds)
	if h := rs.Profile.HalfLifeDays; h > 0 && h <= 365 {
		c.halfLifeMillis = int64(h * dayMillis)
	}
	if m := rs.Profile.MaxEvents; m > 0 {
		c.maxEvents = min(m, MaxEventsLimit)
	}
	c.declared = make(map[string]bool)
	c.signals = slices.Clone(rs.Signals)
	for _, sig := range rs.Signals {
		c.declared[sig.Kind] = true
		if sig.Kind == SignalHistory && !c.history {
			c.history = true
			c.retentionMillis = int64(min(max(sig.RetentionDays, 0), MaxRetentionDays)) * dayMillis
		}
	}
	c.items = slices.Clone(rs.Catalogue)
	c.itemCamp = make([]int32, len(c.items))
	campIndex := map[string]int32{}
	for i, it := range c.items {
		if _, dup := c.itemIndex[it.ID]; !dup {
			c.itemIndex[it.ID] = i
		}
		c.itemTags = append(c.itemTags, c.tagNumbers(it.Tags))
		c.itemCamp[i] = -1
		if it.Campaign != "" {
			n, ok := campIndex[it.Campaign]
			if !ok {
				n = int32(len(campIndex))
				campIndex[it.Campaign] = n
			}
			c.itemCamp[i] = n
		}
	}
	c.campaigns = len(campIndex)
	c.regions = slices.Clone(rs.Regions)
	regionIndex := make(map[string]int, len(c.regions))
	for i, r := range c.regions {
		if _, dup := regionIndex[r.ID]; !dup {
			regionIndex[r.ID] = i
		}
	}
	regionNumbers := func(ids []string) []int {
		out := make([]int, 0, len(ids))
		for _, id := range ids {
			if n, ok := regionIndex[id]; ok {
				out = append(out, n)
			}
		}
		return out
	}
	c.itemRegions = make([][]int, len(c.items))
	c.itemSchedule = make([][][2]int, len(c.items))
	for i, it := range c.items {
		if len(it.Regions) > 0 {
			// Never nil: an item limited to regions the ruleset lacks is
			// available nowhere, not everywhere.
			c.itemRegions[i] = regionNumbers(it.Regions)
		}
		for _, w := range it.Schedule {
			from, _ := parseDate(w.From)
			until, _ := parseDate(w.Until)
			c.itemSchedule[i] = append(c.itemSchedule[i], [2]int{from, until})
		}
	}
	for _, r := range rs.Rules {
		cr := compiledRule{id: r.ID, reason: r.Reason, slots: r.Slots, selected: c.itemSet(r.Items)}
		switch {
		case r.Exclude:
			cr.action = actExclude
		case r.Pin > 0:
			cr.action, cr.pin = actPin, min(r.Pin, MaxSlotLimit)
		case r.Boost > 1:
			cr.action, cr.factor = actBoost, min(r.Boost, 10)
		case r.Bury > 0 && r.Bury < 1:
			cr.action, cr.factor = actBury, r.Bury
		default:
			continue
		}
		cr.when = c.compileCondition(r.When, regionNumbers)
		c.ruleList = append(c.ruleList, cr)
	}
	c.capped = make([]bool, len(c.items))
	c.itemCaps = make([][]int, len(c.items))
	for _, cp := range rs.Caps {
		if cp.Items.Empty() || (cp.PerDay <= 0 && cp.PerWeek <= 0) {
			continue
		}
		cc := compiledCap{id: cp.ID, selected: c.itemSet(cp.Items), perDay: cp.PerDay, perWeek: cp.PerWeek}
		for i, s := range cc.selected {
			c.capped[i] = c.capped[i] || s
		}
		for i, s := range cc.selected {
			if s {
				c.itemCaps[i] = append(c.itemCaps[i], len(c.caps))
			}
		}
		c.caps = append(c.caps, cc)
	}
	for _, s := range rs.Slots {
		if _, dup := c.slotIndex[s.ID]; dup {
			continue
		}
		c.slotIndex[s.ID] = len(c.slots)
		c.slots = append(c.slots, compiledSlot{
			id:          s.ID,
			candidates:  c.selectItems(s.Candidates),
			fallback:    c.lookupItems(s.Fallback),
			limit:       min(max(s.Limit, 1), MaxSlotLimit),
			excludeSeen: s.ExcludesSeen(),
			maxPerTag:   max(s.Diversity.MaxPerTag, 0),
			maxPerCamp:  max(s.Diversity.MaxPerCampaign, 0),
		})
		cs := &c.slots[len(c.slots)-1]
		for n, r := range c.ruleList {
			if len(r.slots) == 0 || slices.Contains(r.slots, s.ID) {
				cs.rules = append(cs.rules, n)
				var picks []int32
				for p, idx := range cs.candidates {
					if r.selected[idx] {
						picks = append(picks, int32(p))
					}
				}
				cs.ruleItems = append(cs.ruleItems, picks)
			}
		}
	}
	c.compileExperiments(rs)
	return c
}

// itemSet marks the items a selector picks; an empty selector picks none.
func (c *compiledRuleset) itemSet(sel Selector) []bool {
	set := make([]bool, len(c.items))
	if sel.Empty() {
		return set
	}
	for i, it := range c.items {
		set[i] = c.selects(sel, it)
	}
	return set
}

func (c *compiledRuleset) compileCondition(w Condition, regionNumbers func([]string) []int) *compiledCondition {
	cc := &compiledCondition{Condition: w, regions: regionNumbers(w.Region)}
	for _, t := range w.Interest {
		n, ok := c.tagIndex[t.Tag]
		if !ok {
			cc.unknownIn = true
			continue
		}
		cc.interest = append(cc.interest, interestTest{n, t.AtLeast})
	}
	if w.Viewed != nil {
		cc.viewed, cc.viewedMs = c.itemSet(w.Viewed.Selector), int64(w.Viewed.WithinDays)*dayMillis
	}
	if w.Purchased != nil {
		cc.bought, cc.boughtMs = c.itemSet(w.Purchased.Selector), int64(w.Purchased.WithinDays)*dayMillis
	}
	// Every test must hold, so their order does not matter.
	for id, values := range w.Feed {
		n := slices.IndexFunc(c.feeds, func(r compiledFeedRef) bool { return r.ID == id })
		if n < 0 {
			cc.unknownIn = true
			continue
		}
		cc.feeds = append(cc.feeds, feedTest{n, values})
	}
	return cc
}

// compileFeeds resolves each feed's signing key. A key that does not
// decode leaves the feed unusable rather than trusting another key.
func (c *compiledRuleset) compileFeeds(refs []FeedRef) {
	c.weatherFeed = -1
	for _, r := range refs {
		cr := compiledFeedRef{FeedRef: r}
		if r.Key != "" {
			k, ok := decodeKey(r.Key)
			if !ok {
				k = make([]byte, 1) // matches no key id check: never verifies
			}
			cr.key = k
		}
		if r.Kind == FeedWeather && c.weatherFeed < 0 {
			c.weatherFeed = len(c.feeds)
		}
		c.feeds = append(c.feeds, cr)
	}
}

// decodeKey decodes a 32-byte key in padded standard base64 (44
// characters). It is a loop, not encoding/base64, to keep the wasm small.
func decodeKey(s string) ([]byte, bool) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	if len(s) != 44 || s[43] != '=' {
		return nil, false
	}
	var acc uint32
	bits := 0
	out := make([]byte, 0, 33)
	for i := 0; i < 43; i++ {
		v := -1
		for k := 0; k < len(alphabet); k++ {
			if alphabet[k] == s[i] {
				v = k
				break
			}
		}
		if v < 0 {
			return nil, false
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	if acc&(1<<bits-1) != 0 { // non-canonical: leftover bits must be zero
		return nil, false
	}
	return out, len(out) == publicKeySize
}

// tagNumbers interns tags so decide indexes slices instead of hashing strings.
// A tag listed twice on one item counts once.
func (c *compiledRuleset) tagNumbers(tags []string) []int32 {
	out := make([]int32, 0, len(tags))
	for _, tag := range tags {
		n, ok := c.tagIndex[tag]
		if !ok {
			n = int32(len(c.tags))
			c.tags = append(c.tags, tag)
			c.tagIndex[tag] = n
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// selectItems returns the catalogue positions a selector picks, in catalogue
// order; an empty selector picks every item.
func (c *compiledRuleset) selectItems(sel Selector) []int {
	var out []int
	for i, it := range c.items {
		if sel.Empty() || c.selects(sel, it) {
			out = append(out, i)
		}
	}
	return out
}

func (c *compiledRuleset) selects(sel Selector, it Item) bool {
	return slices.Contains(sel.Items, it.ID) ||
		(it.Campaign != "" && slices.Contains(sel.Campaigns, it.Campaign)) ||
		slices.ContainsFunc(it.Tags, func(t string) bool { return slices.Contains(sel.Tags, t) })
}

// lookupItems returns the catalogue positions of ids, leaving out unknown ones.
func (c *compiledRuleset) lookupItems(ids []string) []int {
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if idx, ok := c.itemIndex[id]; ok {
			out = append(out, idx)
		}
	}
	return out
}

func (c *compiledRuleset) info() RulesetInfo {
	info := RulesetInfo{ID: c.id, Version: c.version, Items: len(c.items), Slots: len(c.slots)}
	for _, f := range c.feeds {
		info.Feeds = append(info.Feeds, FeedLocation{ID: f.ID, Kind: f.Kind, URL: f.URL})
	}
	return info
}
