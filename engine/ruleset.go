package engine

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// compiledRuleset is a Ruleset checked once and indexed for decide.
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

func invalid(format string, args ...string) error {
	msg := format
	for _, a := range args {
		msg += a
	}
	return &Error{Code: CodeInvalidRuleset, Message: msg}
}

func checkID(what, id string) error {
	if id == "" {
		return invalid(what, " has an empty id")
	}
	if len(id) > MaxIDBytes || !utf8.ValidString(id) {
		return invalid(what, " id ", quote(id), " must be valid UTF-8 of at most ", strconv.Itoa(MaxIDBytes), " bytes")
	}
	return nil
}

func compile(rs Ruleset) (*compiledRuleset, error) {
	if err := checkID("ruleset", rs.ID); err != nil {
		return nil, err
	}
	c := &compiledRuleset{
		id:        rs.ID,
		version:   rs.Version,
		itemIndex: make(map[string]int, len(rs.Catalogue)),
		slotIndex: make(map[string]int, len(rs.Slots)),
		tagIndex:  make(map[string]int32),
		maxEvents: DefaultMaxEvents,
	}
	halfLife := rs.Profile.HalfLifeDays
	if halfLife == 0 {
		halfLife = DefaultHalfLifeDays
	}
	if !(halfLife > 0 && halfLife <= 365) {
		return nil, invalid("profile.half_life_days must be between 0 and 365, got ", strconv.FormatFloat(rs.Profile.HalfLifeDays, 'g', -1, 64))
	}
	c.halfLifeMillis = int64(halfLife * dayMillis)
	for i, sig := range rs.Signals {
		if sig.RetentionDays < 0 || sig.RetentionDays > MaxRetentionDays {
			return nil, invalid("signal ", quote(sig.ID), " retention_days must be between 0 and ", strconv.Itoa(MaxRetentionDays), ", got ", strconv.Itoa(sig.RetentionDays))
		}
		if sig.Kind == SignalHistory {
			if c.history {
				return nil, invalid("signals[", strconv.Itoa(i), "] declares history a second time")
			}
			c.history = true
			c.retentionMillis = int64(sig.RetentionDays) * dayMillis
		}
	}
	if rs.Profile.MaxEvents != 0 {
		if rs.Profile.MaxEvents < 0 || rs.Profile.MaxEvents > MaxEventsLimit {
			return nil, invalid("profile.max_events must be between 1 and ", strconv.Itoa(MaxEventsLimit), ", got ", strconv.Itoa(rs.Profile.MaxEvents))
		}
		c.maxEvents = rs.Profile.MaxEvents
	}
	if len(rs.Catalogue) == 0 || len(rs.Catalogue) > MaxItems {
		return nil, invalid("a ruleset needs between 1 and ", strconv.Itoa(MaxItems), " catalogue items, got ", strconv.Itoa(len(rs.Catalogue)))
	}
	for i, it := range rs.Catalogue {
		if err := checkID("item "+strconv.Itoa(i), it.ID); err != nil {
			return nil, err
		}
		if _, dup := c.itemIndex[it.ID]; dup {
			return nil, invalid("item ", quote(it.ID), " is defined twice")
		}
		if it.Title == "" || len(it.Title) > MaxTitleBytes || !utf8.ValidString(it.Title) {
			return nil, invalid("item ", quote(it.ID), " needs a UTF-8 title of 1 to ", strconv.Itoa(MaxTitleBytes), " bytes")
		}
		if len(it.Tags) == 0 || len(it.Tags) > MaxTagsPerItem {
			return nil, invalid("item ", quote(it.ID), " needs between 1 and ", strconv.Itoa(MaxTagsPerItem), " tags")
		}
		for _, tag := range it.Tags {
			if err := checkID("a tag of item "+quote(it.ID), tag); err != nil {
				return nil, err
			}
		}
		c.itemIndex[it.ID] = i
		c.itemTags = append(c.itemTags, c.tagNumbers(it.Tags))
	}
	c.items = append([]Item(nil), rs.Catalogue...)
	if len(rs.Slots) == 0 || len(rs.Slots) > MaxSlots {
		return nil, invalid("a ruleset needs between 1 and ", strconv.Itoa(MaxSlots), " slots, got ", strconv.Itoa(len(rs.Slots)))
	}
	for i, s := range rs.Slots {
		if err := checkID("slot "+strconv.Itoa(i), s.ID); err != nil {
			return nil, err
		}
		if _, dup := c.slotIndex[s.ID]; dup {
			return nil, invalid("slot ", quote(s.ID), " is defined twice")
		}
		if s.Limit < 1 || s.Limit > MaxSlotLimit {
			return nil, invalid("slot ", quote(s.ID), " limit must be between 1 and ", strconv.Itoa(MaxSlotLimit), ", got ", strconv.Itoa(s.Limit))
		}
		cs := compiledSlot{id: s.ID, limit: s.Limit, excludeSeen: s.ExcludeSeen}
		idx, err := c.selectItems("slot "+quote(s.ID)+" candidates", s.Candidates)
		if err != nil {
			return nil, err
		}
		cs.candidates = idx
		if len(s.Fallback) == 0 {
			return nil, invalid("slot ", quote(s.ID), " needs fallback items, shown when nothing matches")
		}
		idx, err = c.lookupItems("slot "+quote(s.ID)+" fallback", s.Fallback)
		if err != nil {
			return nil, err
		}
		cs.fallback = idx
		c.slotIndex[s.ID] = i
		c.slots = append(c.slots, cs)
	}
	return c, nil
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
func (c *compiledRuleset) selectItems(what string, sel Selector) ([]int, error) {
	if _, err := c.lookupItems(what, sel.Items); err != nil {
		return nil, err
	}
	var out []int
	for i, it := range c.items {
		if sel.Empty() || c.selects(sel, i, it) {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		return nil, invalid(what, " select no item")
	}
	return out, nil
}

func (c *compiledRuleset) selects(sel Selector, i int, it Item) bool {
	return slices.Contains(sel.Items, it.ID) ||
		(it.Campaign != "" && slices.Contains(sel.Campaigns, it.Campaign)) ||
		slices.ContainsFunc(it.Tags, func(t string) bool { return slices.Contains(sel.Tags, t) })
}

func (c *compiledRuleset) lookupItems(what string, ids []string) ([]int, error) {
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		idx, ok := c.itemIndex[id]
		if !ok {
			return nil, invalid(what, " ", quote(id), " is not in the catalogue")
		}
		out = append(out, idx)
	}
	return out, nil
}

func (c *compiledRuleset) info() RulesetInfo {
	return RulesetInfo{ID: c.id, Version: c.version, Items: len(c.items), Slots: len(c.slots)}
}
