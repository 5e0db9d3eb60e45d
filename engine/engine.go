// Package engine is the on-device personalization core of Edgewise.
//
// It is pure Go with no wasm-only code: the same engine runs natively in tests
// and in the CLI, and inside dist/edgewise.wasm in browsers and in wazero.
// The engine never reads a clock or does I/O: the host supplies event times
// and the current time in the context, so a decision is a pure function of the
// ruleset, the profile and the context.
package engine

import (
	"cmp"
	"math"
	"slices"
)

// Engine holds one loaded ruleset, one person's profile and the current context.
// It is not safe for concurrent use; the wasm module runs one call at a time.
type Engine struct {
	rules   *compiledRuleset
	profile profile
	context Context
}

// New returns an engine with no ruleset loaded and an empty profile.
func New() *Engine { return &Engine{} }

// Load validates rs and makes it the active ruleset. A ruleset with any
// error from Validate is refused, with CodePrivacyPolicy when the privacy
// policy forbids it and CodeInvalidRuleset otherwise; warnings do not stop
// it. On error the previous ruleset stays active. Events in the profile that
// name items the new catalogue lacks are dropped: the engine keeps only what
// the ruleset declares.
func (e *Engine) Load(rs Ruleset) error {
	c, err := compile(rs)
	if err != nil {
		return err
	}
	e.rules = c
	e.profile.keepOnly(func(ev Event) bool { _, ok := c.itemIndex[ev.Item]; return ok })
	e.profile.keepImpressions(func(id string) bool { i, ok := c.itemIndex[id]; return ok && c.capped[i] })
	e.context = c.minimize(e.context)
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
	if c.Location != nil {
		if err := e.coarsen(&c); err != nil {
			return err
		}
	}
	if e.rules != nil {
		c = e.rules.minimize(c)
	}
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
	for _, id := range items {
		if e.rules.capped[e.rules.itemIndex[id]] {
			e.profile.addImpression(impression{Item: id, At: at})
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
	if !e.rules.history {
		return 0, &Error{Code: CodeUndeclaredSignal, Message: "ruleset " + quote(e.rules.id) + " does not declare the history signal, so events are not kept"}
	}
	e.profile.add(ev, e.rules.retentionMillis, e.rules.maxEvents)
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
//  4. When nothing qualifies, the fallback items show, in order, subject to
//     the same availability, exclude rules and diversity limits; the slot
//     may then be empty.
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
	d := e.newDecider()
	out := make([]Decision, 0, len(slots))
	for _, id := range slots {
		out = append(out, d.slot(&e.rules.slots[e.rules.slotIndex[id]]))
	}
	return out, nil
}

// dismissHideMillis is how long a dismissed item stays hidden.
const dismissHideMillis = 48 * 60 * 60 * 1000

// dismissFactor multiplies a tag's affinity once for every dismissal of an
// item carrying it beyond the first: one dismissal only hides that item,
// two halve the tag's interest, three quarter it.
const dismissFactor = 0.5

// impressionWindowMillis bounds how long impressions are kept: the longest
// cap window, a week.
const impressionWindowMillis = 7 * dayMillis

// MaxImpressions bounds the impressions kept on the device.
const MaxImpressions = 5000

// decider holds what every slot of one decide shares.
type decider struct {
	e       *Engine
	m       moment
	aff     []tagAffinity
	seen    []bool
	blocked []bool // not available: region, schedule or dismissal
	fired   []bool // by rule number
	budget  []int  // by cap number: how many more showings the cap allows
}

// capped reports whether showing item idx once more would break a cap.
func (d *decider) capped(idx int) bool {
	for _, n := range d.e.rules.itemCaps[idx] {
		if d.budget[n] <= 0 {
			return true
		}
	}
	return false
}

// take spends item idx's caps' budgets for one showing.
func (d *decider) take(idx int) {
	for _, n := range d.e.rules.itemCaps[idx] {
		d.budget[n]--
	}
}

func (e *Engine) newDecider() *decider {
	c := e.rules
	d := &decider{e: e, m: e.newMoment()}
	d.aff = e.affinities()
	now := d.m.now
	d.seen = make([]bool, len(c.items))
	d.blocked = make([]bool, len(c.items))
	for _, ev := range e.profile.events {
		idx := c.itemIndex[ev.Item]
		if ev.Type == EventDismiss {
			if now-ev.At < dismissHideMillis {
				d.blocked[idx] = true
			}
			continue
		}
		d.seen[idx] = true
	}
	for i := range c.items {
		if !d.blocked[i] && !d.available(i) {
			d.blocked[i] = true
		}
	}
	// Each cap's budget is what is left of it in the day and the week
	// ending at now; items shown by this decide spend it too (see take), so
	// one decide never shows more than a cap allows, across all its slots.
	d.budget = make([]int, len(c.caps))
	for n, cp := range c.caps {
		var day, week int
		for _, im := range e.profile.impressions {
			idx, ok := c.itemIndex[im.Item]
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
		d.budget[n] = math.MaxInt
		if cp.perDay > 0 {
			d.budget[n] = cp.perDay - day
		}
		if cp.perWeek > 0 {
			d.budget[n] = min(d.budget[n], cp.perWeek-week)
		}
	}
	d.fired = make([]bool, len(c.ruleList))
	for n := range c.ruleList {
		d.fired[n] = d.holds(c.ruleList[n].when)
	}
	return d
}

// available applies an item's regions and schedule.
func (d *decider) available(i int) bool {
	c := d.e.rules
	if regs := c.itemRegions[i]; regs != nil {
		ok := false
		for _, r := range regs {
			if d.m.inReg[r] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if ws := c.itemSchedule[i]; len(ws) > 0 {
		if d.m.date == 0 {
			return false
		}
		for _, w := range ws {
			if (w[0] == 0 || d.m.date >= w[0]) && (w[1] == 0 || d.m.date <= w[1]) {
				return true
			}
		}
		return false
	}
	return true
}

// holds evaluates a rule's condition: every listed test must hold; a test on
// a signal the context does not supply does not hold.
func (d *decider) holds(w *compiledCondition) bool {
	m := &d.m
	in := func(list []string, v string) bool { return len(list) == 0 || (v != "" && slices.Contains(list, v)) }
	if !in(w.Weather, m.Weather) || !in(w.Daypart, m.Daypart) || !in(w.Weekday, m.Weekday) ||
		!in(w.Device, m.Device) || !in(w.Referrer, m.Referrer) || !in(w.PageSection, m.PageSection) {
		return false
	}
	if len(w.Region) > 0 {
		ok := false
		for _, r := range w.regions {
			if m.inReg[r] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if w.Visits != nil {
		if m.Visits == nil || (w.Visits.Min != nil && *m.Visits < *w.Visits.Min) || (w.Visits.Max != nil && *m.Visits > *w.Visits.Max) {
			return false
		}
	}
	if w.unknownIn {
		return false
	}
	for _, t := range w.interest {
		if d.aff[t.tag].weight < t.atLeast {
			return false
		}
	}
	if w.viewed != nil && !d.recent(w.viewed, w.viewedMs, false) {
		return false
	}
	if w.bought != nil && !d.recent(w.bought, w.boughtMs, true) {
		return false
	}
	return true
}

// recent reports an event on a selected item within the window ending at
// now: a purchase when purchase is set, else any interaction but a dismissal.
func (d *decider) recent(items []bool, within int64, purchase bool) bool {
	c := d.e.rules
	for _, ev := range d.e.profile.events {
		if ev.Type == EventDismiss || (purchase && ev.Type != "purchase") {
			continue
		}
		if age := d.m.now - ev.At; age >= 0 && age <= within && items[c.itemIndex[ev.Item]] {
			return true
		}
	}
	return false
}

// tagAffinity is the decayed interest in one tag, with the event that
// contributed most to it, so a decision can say why.
type tagAffinity struct {
	weight    float64
	top       float64
	strongest Event
}

// now is the context's time, or the newest event's time when the host has
// not set one, so decay stays meaningful either way.
func (e *Engine) now() int64 {
	if e.context.Now > 0 {
		return e.context.Now
	}
	return e.profile.newest()
}

// affinities returns the interest in every tag, indexed by tag number.
// Dismissals add nothing; a tag on items dismissed n > 1 times is
// multiplied by dismissFactor^(n-1).
func (e *Engine) affinities() []tagAffinity {
	aff := make([]tagAffinity, len(e.rules.tags))
	now := e.now()
	halfLife := float64(e.rules.halfLifeMillis)
	var dismissed []int
	for _, ev := range e.profile.events {
		if ev.Type == EventDismiss {
			if dismissed == nil {
				dismissed = make([]int, len(e.rules.tags))
			}
			for _, tag := range e.rules.itemTags[e.rules.itemIndex[ev.Item]] {
				dismissed[tag]++
			}
			continue
		}
		age := float64(now - ev.At)
		if age < 0 {
			age = 0
		}
		// Exp2 is pure Go on every port we ship (unlike Exp, which has
		// assembly on amd64), so native and wasm agree bit for bit.
		w := float64(eventWeights[ev.Type] * math.Exp2(-age/halfLife))
		for _, tag := range e.rules.itemTags[e.rules.itemIndex[ev.Item]] {
			a := &aff[tag]
			a.weight = float64(a.weight + w)
			if w > a.top || (w == a.top && ev.At > a.strongest.At) {
				a.top, a.strongest = w, ev
			}
		}
	}
	for tag, n := range dismissed {
		if n > 1 {
			aff[tag].weight = float64(aff[tag].weight * math.Pow(dismissFactor, float64(n-1)))
		}
	}
	return aff
}

// candidate is kept to 16 bytes: ranking sorts every candidate of a slot.
type candidate struct {
	score float64
	index int32
	// pinOnly is set when only a pin rule made the item eligible: it may be
	// pinned but does not otherwise fill the slot.
	pinOnly bool
}

// affinityScore is an item's score from its tags' affinity, before rules.
func (d *decider) affinityScore(idx int) float64 {
	tags := d.e.rules.itemTags[idx]
	var score float64
	for _, tag := range tags {
		score = float64(score + d.aff[tag].weight)
	}
	if score > 0 {
		score = roundScore(score / math.Sqrt(float64(len(tags))))
	}
	return score
}

func (d *decider) slot(s *compiledSlot) Decision {
	c := d.e.rules
	cands := make([]candidate, 0, len(s.candidates))
	for _, idx := range s.candidates {
		if d.blocked[idx] || (s.excludeSeen && d.seen[idx]) || d.capped(idx) {
			continue
		}
		score := d.affinityScore(idx)
		cand := candidate{index: int32(idx)}
		factor, boosted, pinnable, excluded := 1.0, false, false, false
		for _, n := range s.rules {
			r := &c.ruleList[n]
			if !d.fired[n] || !r.selected[idx] {
				continue
			}
			switch r.action {
			case actExclude:
				excluded = true
			case actBoost:
				factor, boosted = float64(factor*r.factor), true
			case actBury:
				factor = float64(factor * r.factor)
			case actPin:
				pinnable = true
			}
		}
		if excluded {
			continue
		}
		if score <= 0 {
			if !boosted && !pinnable {
				continue
			}
			score = 1 // the base score of an item only a rule brings in
			cand.pinOnly = !boosted
		}
		cand.score = roundScore(score * factor)
		if cand.score <= 0 {
			continue
		}
		cands = append(cands, cand)
	}
	// Ties go to catalogue order, so the ranking is a total order and deterministic.
	slices.SortFunc(cands, func(a, b candidate) int {
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		return cmp.Compare(a.index, b.index)
	})
	div := newDiversity(s, c)
	// Pins, in ruleset order.
	type pinned struct {
		cand candidate
		pos  int
		rule int
	}
	var pins []pinned
	for _, n := range s.rules {
		r := &c.ruleList[n]
		if r.action != actPin || !d.fired[n] || len(pins) == s.limit {
			continue
		}
		for _, cand := range cands {
			if !r.selected[cand.index] || slices.ContainsFunc(pins, func(p pinned) bool { return p.cand.index == cand.index }) || !div.fits(int(cand.index)) || d.capped(int(cand.index)) {
				continue
			}
			div.add(int(cand.index))
			d.take(int(cand.index))
			pins = append(pins, pinned{cand: cand, pos: r.pin, rule: n})
			break
		}
	}
	chosen := make([]candidate, 0, s.limit)
	for _, cand := range cands {
		if len(chosen)+len(pins) >= s.limit {
			break
		}
		if cand.pinOnly || slices.ContainsFunc(pins, func(p pinned) bool { return p.cand.index == cand.index }) || !div.fits(int(cand.index)) || d.capped(int(cand.index)) {
			continue
		}
		div.add(int(cand.index))
		d.take(int(cand.index))
		chosen = append(chosen, cand)
	}
	slices.SortStableFunc(pins, func(a, b pinned) int { return cmp.Compare(a.pos, b.pos) })
	var pinRule map[int]int
	if len(pins) > 0 {
		pinRule = make(map[int]int, len(pins))
	}
	for _, p := range pins {
		at := min(p.pos-1, len(chosen))
		chosen = slices.Insert(chosen, at, p.cand)
		pinRule[int(p.cand.index)] = p.rule
	}
	dec := Decision{Slot: s.id}
	for _, cand := range chosen {
		pick := Pick{Item: c.items[cand.index].ID, Score: cand.score}
		pin, isPinned := pinRule[int(cand.index)]
		if !isPinned {
			pin = -1
		}
		// Reasons and rule lists are built only for the items shown.
		pick.Reason, pick.Rules = d.explain(s, cand, pin)
		dec.Items = append(dec.Items, pick)
	}
	if len(dec.Items) == 0 {
		dec.Fallback = true
		div = newDiversity(s, c)
	fallback:
		for _, idx := range s.fallback {
			if len(dec.Items) == s.limit {
				break
			}
			if d.blocked[idx] || !div.fits(idx) || d.capped(idx) {
				continue
			}
			for _, n := range s.rules {
				if r := &c.ruleList[n]; r.action == actExclude && d.fired[n] && r.selected[idx] {
					continue fallback
				}
			}
			div.add(idx)
			d.take(idx)
			dec.Items = append(dec.Items, Pick{Item: c.items[idx].ID, Reason: fallbackReason})
		}
		if dec.Items == nil {
			dec.Items = []Pick{}
		}
	}
	return dec
}

// explain returns a pick's reason and the rules that shaped it.
//
// Precedence: a firing rule is the main cause of a pick when it pinned the
// item, or when the item had no affinity (the rule alone brought it in), or
// when it is a boost of at least 2 (it at least doubled the score). Then the
// rule's reason wins: the pin's, else the strongest such boost's (the first
// in ruleset order on a tie). Otherwise, or when that rule has no reason
// text, the affinity reason (the event behind the item) is used; an item
// with neither gets ruleReason.
func (d *decider) explain(s *compiledSlot, cand candidate, pin int) (string, []string) {
	c := d.e.rules
	idx := int(cand.index)
	affinity := d.affinityScore(idx)
	var rules []string
	main, mainFactor := -1, 0.0
	if pin >= 0 {
		main, mainFactor = pin, math.Inf(1)
	}
	for _, n := range s.rules {
		r := &c.ruleList[n]
		if !d.fired[n] || !r.selected[idx] || r.action == actExclude || (r.action == actPin && n != pin) {
			continue
		}
		rules = append(rules, r.id)
		if r.action == actBoost && (r.factor >= 2 || affinity <= 0) && r.factor > mainFactor {
			main, mainFactor = n, r.factor
		}
	}
	if main >= 0 && c.ruleList[main].reason != "" {
		return c.ruleList[main].reason, rules
	}
	if affinity > 0 {
		return d.e.reasonFor(d.e.because(idx, d.aff)), rules
	}
	return ruleReason, rules
}

// diversity counts tags and campaigns already in a slot.
type diversity struct {
	c         *compiledRuleset
	maxTag    int
	maxCamp   int
	tags      map[int32]int
	campaigns map[string]int
}

func newDiversity(s *compiledSlot, c *compiledRuleset) *diversity {
	return &diversity{c: c, maxTag: s.maxPerTag, maxCamp: s.maxPerCamp}
}

func (v *diversity) fits(idx int) bool {
	if v.maxTag > 0 {
		for _, t := range v.c.itemTags[idx] {
			if v.tags[t] >= v.maxTag {
				return false
			}
		}
	}
	if camp := v.c.items[idx].Campaign; v.maxCamp > 0 && camp != "" && v.campaigns[camp] >= v.maxCamp {
		return false
	}
	return true
}

func (v *diversity) add(idx int) {
	if v.maxTag > 0 {
		if v.tags == nil {
			v.tags = map[int32]int{}
		}
		for _, t := range v.c.itemTags[idx] {
			v.tags[t]++
		}
	}
	if camp := v.c.items[idx].Campaign; v.maxCamp > 0 && camp != "" {
		if v.campaigns == nil {
			v.campaigns = map[string]int{}
		}
		v.campaigns[camp]++
	}
}

// because picks the event that best explains an item: among the strongest
// events behind the item's tags, the one whose own item shares the most tags
// with it, weighted by how much that event still counts.
func (e *Engine) because(item int, aff []tagAffinity) Event {
	var best Event
	bestWeight := -1.0
	tags := e.rules.itemTags[item]
	for _, tag := range tags {
		a := &aff[tag]
		if a.weight == 0 {
			continue
		}
		shared := sharedTags(tags, e.rules.itemTags[e.rules.itemIndex[a.strongest.Item]])
		w := float64(a.top * float64(shared))
		if w > bestWeight || (w == bestWeight && a.strongest.At > best.At) {
			best, bestWeight = a.strongest, w
		}
	}
	return best
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

func (e *Engine) reasonFor(ev Event) string {
	title := e.rules.items[e.rules.itemIndex[ev.Item]].Title
	r := eventReasons[ev.Type]
	return r[0] + title + r[1]
}

// roundScore keeps six decimals, so scores read well and tiny
// platform differences in float arithmetic cannot reorder items.
func roundScore(s float64) float64 { return math.Round(s*1e6) / 1e6 }
