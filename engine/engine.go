// Package engine is the on-device personalization core of Edgewise.
//
// It is pure Go with no wasm-only code: the same engine runs natively in tests
// and in the CLI, and inside dist/edgewise.wasm in browsers and in wazero.
// The engine never reads a clock or does I/O: the host supplies event times
// and the current time in the context, so a decision is a pure function of the
// ruleset, the profile and the context.
package engine

import "math"

// Engine holds one loaded ruleset, one person's profile and the current context.
// It is not safe for concurrent use; the wasm module runs one call at a time.
type Engine struct {
	rules   *compiledRuleset
	profile profile
	context Context
	// gen counts changes to the ruleset, the profile and the context; dec
	// keeps what decide derived from them until gen moves on.
	gen uint64
	dec *decider
	// profileGen counts changes to the profile's events alone.
	profileGen uint64
	// prefs are the person's preferences (see Preferences); hiddenTag and
	// hiddenItem, by tag and item number of the active ruleset, are nil
	// when no known tag is hidden.
	prefs      prefs
	hiddenTag  []bool
	hiddenItem []bool
	// random is where report noise comes from (systemRandom unless a test
	// sets another with SetRandom).
	random randSource
	// pauses outlive an erased profile: no second report in an epoch that
	// already had one (see ReportPause).
	pauses []ReportPause
	// arms are the person's arms in experiments; like pauses they outlive
	// an erased profile, until the epoch ends (see experiment.go).
	arms []Arm
	// feeds are the context feeds loaded for the active ruleset, by its
	// feed number; nil until one is loaded.
	feeds []*Feed
}

// New returns an engine with no ruleset loaded and an empty profile.
func New() *Engine { return &Engine{} }

// Load checks rs against the privacy policy's numeric guards (guard.go) and
// makes it the active ruleset. A ruleset that breaks one is refused, with
// CodePrivacyPolicy when the policy forbids it and CodeInvalidRuleset for a
// number out of range, in Validate's words. The rest of Validate is not run:
// rs is meant to come from a verified .ewr (DecodeRuleset), whose signer ran
// the full validation (engine/buildtime), and Load indexes any ruleset
// without panicking. On error the previous ruleset stays active. Events in the profile that name items the new
// catalogue lacks are dropped: the engine keeps only what the ruleset
// declares.
func (e *Engine) Load(rs Ruleset) error {
	c, err := compile(rs)
	if err != nil {
		return err
	}
	e.gen++
	e.profileGen++
	e.rules, e.dec = c, nil
	// Feeds are checked against the ruleset that names them: load them again.
	e.feeds = nil
	e.profile.keepOnly(func(ev Event) bool { _, ok := c.itemIndex[ev.Item]; return ok })
	e.profile.keepImpressions(func(id string) bool { i, ok := c.itemIndex[id]; return ok && c.capped[i] })
	e.context = c.minimize(e.context)
	e.enforcePrefs()
	return nil
}

// Ruleset returns a summary of the active ruleset, or an error if none is loaded.
func (e *Engine) Ruleset() (RulesetInfo, error) {
	if e.rules == nil {
		return RulesetInfo{}, errNoRuleset()
	}
	return e.rules.info(), nil
}

// SetContext replaces the current context.
// The values are validated (bad_request names the field); fields whose
// signal kind the active ruleset does not declare are dropped, not stored.
func (e *Engine) SetContext(c Context) error {
	if err := validateContext(c); err != nil {
		return err
	}
	if e.prefs.off() {
		// Sharing off: nothing about the person is kept, context included.
		c = Context{Now: c.Now}
	}
	if e.prefs.noLocation {
		c = dropLocation(c)
	}
	if c.Location != nil {
		if err := e.coarsen(&c); err != nil {
			return err
		}
	}
	e.regionOfTimeZone(&c)
	if e.rules != nil {
		c = e.rules.minimize(c)
	}
	if sameContext(c, e.context) {
		return nil // nothing decide reads changed, so nothing is derived again
	}
	e.gen++
	e.context = c
	return nil
}

// RecordImpressions counts items as shown at time at, for caps. Only
// impressions of items some cap selects are kept, for at most a week, and at
// most MaxImpressions of them. It returns how many the profile holds.
func (e *Engine) RecordImpressions(items []string, at int64) (int, error) {
	if e.rules == nil {
		return 0, errNoRuleset()
	}
	if len(items) == 0 {
		return 0, &Error{Code: CodeBadRequest, Message: "record_impressions needs at least one item"}
	}
	if at <= 0 {
		return 0, &Error{Code: CodeBadRequest, Message: "impression time must be a positive Unix time in milliseconds"}
	}
	for _, id := range items {
		if _, ok := e.rules.itemIndex[id]; !ok {
			return 0, &Error{Code: CodeUnknownItem, Message: "item " + quote(id) + " is not in ruleset " + quote(e.rules.id) + "'s catalogue"}
		}
	}
	if e.prefs.off() {
		return 0, errConsent("impressions are not kept: sharing is off")
	}
	e.gen++
	for _, id := range items {
		if e.rules.capped[e.rules.itemIndex[id]] {
			e.profile.addImpression(Impression{Item: id, At: at}, e.rules.impressionWindow())
		}
	}
	return len(e.profile.impressions), nil
}

// Observe records one event in the profile and applies retention.
// It returns the number of events the profile holds afterwards.
func (e *Engine) Observe(ev Event) (int, error) {
	if e.rules == nil {
		return 0, errNoRuleset()
	}
	if _, ok := eventWeights[ev.Type]; !ok {
		return 0, &Error{Code: CodeBadRequest, Message: "unknown event type " + quote(ev.Type) + "; want one of " + knownEventTypes()}
	}
	if _, ok := e.rules.itemIndex[ev.Item]; !ok {
		return 0, &Error{Code: CodeUnknownItem, Message: "item " + quote(ev.Item) + " is not in ruleset " + quote(e.rules.id) + "'s catalogue"}
	}
	if ev.At <= 0 {
		return 0, &Error{Code: CodeBadRequest, Message: "event time must be a positive Unix time in milliseconds"}
	}
	if e.prefs.off() {
		return 0, errConsent("events are not kept: sharing is off")
	}
	if e.prefs.noHistory {
		return 0, errConsent("events are not kept: history is off")
	}
	if !e.rules.history {
		return 0, &Error{Code: CodeUndeclaredSignal, Message: "ruleset " + quote(e.rules.id) + " does not declare the history signal, so events are not kept"}
	}
	e.gen++
	e.profileGen++
	e.profile.add(ev, e.rules.retentionMillis, e.rules.maxEvents)
	e.reachGoal(ev)
	return len(e.profile.events), nil
}

// Events returns the number of events in the profile.
func (e *Engine) Events() int { return len(e.profile.events) }

// Decide ranks each requested slot's candidates for the current profile and
// context. Slots are decided in the order given.
//
// For each slot, in order:
//
//  1. Items that are not available are left out: an item with regions is
//     available only when the person is known to be in one of them; an item
//     with a schedule only on local dates inside a window; an item whose cap
//     is reached, or that the person dismissed in the last 48 hours, not at
//     all. exclude_seen leaves out items the person already interacted with.
//  2. Each remaining candidate scores its tags' affinity (see affinities).
//     Rules whose condition holds act on the items they select, in this
//     slot: exclude removes the item; boost and bury multiply its score. An
//     item with no affinity that a firing boost or pin selects gets a base
//     score of 1 before boosting, so a rule alone can show it (a weather
//     rule shows rain gear to a person with no history); buried items with
//     no affinity stay out.
//  3. Candidates rank by score, ties in catalogue order. Pins are placed
//     first: each firing pin rule, in ruleset order, takes its best-ranked
//     selected item not already pinned to its position. The remaining
//     positions fill greedily in rank order, skipping items that would break
//     the slot's diversity limits (pinned items count toward them too).
//  4. When fewer items qualify than the slot's limit, the slot's fallback
//     items fill the rest, in order, then the slot's other candidates in
//     catalogue order, skipping items already shown and subject to the
//     same availability, exclude_seen, exclude rules, caps and diversity
//     limits: a slot is full whenever enough eligible items exist. When
//     nothing qualifies these fill it alone and the decision is marked
//     fallback; the slot may then be empty.
//
// An item shows once per decide: a slot skips the items the slots before
// it in this call show, so the order of slots decides which one gets an
// item.
//
// With sharing off (see Preferences) every slot shows its fallback items,
// as in step 4.
func (e *Engine) Decide(slots []string) ([]Decision, error) {
	if e.rules == nil {
		return nil, errNoRuleset()
	}
	if len(slots) == 0 {
		return nil, &Error{Code: CodeBadRequest, Message: "decide needs at least one slot"}
	}
	for _, id := range slots {
		if _, ok := e.rules.slotIndex[id]; !ok {
			return nil, &Error{Code: CodeUnknownSlot, Message: "slot " + quote(id) + " is not in ruleset " + quote(e.rules.id)}
		}
	}
	d := e.decider()
	out := make([]Decision, 0, len(slots))
	now := e.now()
	for _, id := range slots {
		n := e.rules.slotIndex[id]
		d.hold = -1
		if e.rules.slotExperiments[n] != nil {
			d.hold = e.comparison(n, now)
		}
		dec := d.slot(&e.rules.slots[n], n)
		if e.rules.slotExperiments[n] != nil {
			e.expose(n, now)
		}
		// One page shows an item once: later slots of this decide skip
		// what earlier ones show.
		for _, p := range dec.Items {
			d.show(e.rules.itemIndex[p.Item])
		}
		out = append(out, dec)
	}
	d.clearShown()
	return out, nil
}

// dismissHideMillis is how long a dismissed item stays hidden.
const dismissHideMillis = 48 * 60 * 60 * 1000

// dismissFactor multiplies a tag's affinity once for every dismissal of an
// item carrying it beyond the first: one dismissal only hides that item,
// two halve the tag's interest, three quarter it.
const dismissFactor = 0.5

// impressionWindow is how long impressions are kept: the longest cap
// window, a week, or the history's retention when that is shorter, since
// an impression says what the person was shown. A weekly cap then counts
// only the retained days.
func (c *compiledRuleset) impressionWindow() int64 {
	if c.retentionMillis > 0 {
		return min(impressionWindowMillis, c.retentionMillis)
	}
	return impressionWindowMillis
}

// impressionWindowMillis bounds how long impressions are kept: the longest
// cap window, a week.
const impressionWindowMillis = 7 * dayMillis

// MaxImpressions bounds the impressions kept on the device.
const MaxImpressions = 5000

// tagAffinity is the decayed interest in one tag, with the event that
// contributed most to it, so a decision can say why.
type tagAffinity struct {
	weight    float64
	top       float64
	strongest Event
	item      int32 // strongest's item number
}

// now is the latest time the engine has been told of: the context's, or a
// later event's or impression's. Time only moves forward, so what just
// happened always counts: a view observed after the last set_context is
// within any "viewed within_days" window, and an impression recorded after
// it counts toward its caps (see RATIONALE.md, "Why does now advance with
// events?"). With no context time, the newest event's keeps decay
// meaningful.
func (e *Engine) now() int64 {
	t := max(e.context.Now, e.profile.newestImpression())
	if e.hiddenItem != nil {
		// Events decide ignores do not set the time either.
		for i := len(e.profile.events) - 1; i >= 0; i-- {
			ev := &e.profile.events[i]
			if !e.ignored(ev, int32(e.rules.itemIndex[ev.Item])) {
				return max(t, ev.At)
			}
		}
		return t
	}
	return max(t, e.profile.newest())
}

// because picks the event that best explains an item: among the strongest
// events behind the item's tags, the one whose own item shares the most tags
// with it, weighted by how much that event still counts.
func (e *Engine) because(item int, aff []tagAffinity) (Event, int32) {
	var best Event
	var bestItem int32
	bestWeight := -1.0
	tags := e.rules.itemTags[item]
	for _, tag := range tags {
		a := &aff[tag]
		if a.weight == 0 || (e.hiddenTag != nil && e.hiddenTag[tag]) {
			continue
		}
		shared := sharedTags(tags, e.rules.itemTags[a.item])
		w := float64(a.top * float64(shared))
		if w > bestWeight || (w == bestWeight && a.strongest.At > best.At) {
			best, bestWeight, bestItem = a.strongest, w, a.item
		}
	}
	return best, bestItem
}

func sharedTags(a, b []int32) int {
	n := 0
	for _, x := range a {
		for _, y := range b {
			if x == y {
				n++
				break
			}
		}
	}
	return n
}

const fallbackReason = "Picked by the shop for everyone"

// ruleReason explains a pick a rule without reason text brought in.
const ruleReason = "Picked by the shop for this moment"

func (e *Engine) reasonFor(ev Event, item int32) string {
	title := e.rules.items[item].Title
	r := eventReasons[ev.Type]
	return r[0] + title + r[1]
}

// roundScore keeps six decimals, so scores read well and tiny
// platform differences in float arithmetic cannot reorder items.
func roundScore(s float64) float64 { return math.Round(s*1e6) / 1e6 }
