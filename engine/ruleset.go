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
}

type compiledSlot struct {
	id          string
	candidates  []int
	fallback    []int
	limit       int
	excludeSeen bool
}

const dayMillis = 24 * 60 * 60 * 1000

// maxListedProblems is how many errors a refused load names.
const maxListedProblems = 5

// refusal turns Validate's problems into the error Load returns, or nil
// when there are only warnings. Any policy error makes it a privacy_policy
// error, so hosts can tell "fix a typo" from "this may not be done".
func refusal(ps []Problem) error {
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

// compile validates rs and indexes it for decide. Any error problem from
// Validate refuses it (see refusal); compile does no checking of its own.
func compile(rs Ruleset) (*compiledRuleset, error) {
	if err := refusal(Validate(&rs)); err != nil {
		return nil, err
	}
	return buildIndexes(&rs), nil
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
	}
	if h := rs.Profile.HalfLifeDays; h > 0 && h <= 365 {
		c.halfLifeMillis = int64(h * dayMillis)
	}
	if m := rs.Profile.MaxEvents; m > 0 {
		c.maxEvents = min(m, MaxEventsLimit)
	}
	for _, sig := range rs.Signals {
		if sig.Kind == SignalHistory && !c.history {
			c.history = true
			c.retentionMillis = int64(min(max(sig.RetentionDays, 0), MaxRetentionDays)) * dayMillis
		}
	}
	c.items = slices.Clone(rs.Catalogue)
	for i, it := range c.items {
		if _, dup := c.itemIndex[it.ID]; !dup {
			c.itemIndex[it.ID] = i
		}
		c.itemTags = append(c.itemTags, c.tagNumbers(it.Tags))
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
			excludeSeen: s.ExcludeSeen,
		})
	}
	return c
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
	return RulesetInfo{ID: c.id, Version: c.version, Items: len(c.items), Slots: len(c.slots)}
}
