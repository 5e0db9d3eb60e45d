package engine

import (
	"math"
	"slices"
)

// decider holds what every slot of one decide shares. Everything derived
// from the ruleset, the profile and the context alone (the moment, tag
// affinities, item scores, seen and blocked items, which rules fire, cap
// budgets) is kept between decides and derived again only when one of
// them changed (see Engine.gen); the buffers are reused by every decide.
//
// Within a change, only what depends on it is derived again (see derive):
// the history (which events add interest, dismissals, seen items) when the
// events or the preferences changed; affinities, scores and which
// dismissals still hide an item when the history or now did; availability
// when the local date or the person's regions did; a slot's ranking when
// its items' scores or availability, or which of its rules fire, changed,
// sorted again from its last order (see ranked); a slot's picks when its
// ranking's order, the blocked items or the cap budgets at its turn did
// (see slotMemo). Cap budgets, the moment and which rules fire are cheap
// and derived on every change.
type decider struct {
	e     *Engine
	rules *compiledRuleset
	gen   uint64 // Engine.gen this state was derived at

	m       moment
	evIdx   []int32 // item number of each profile event
	evGen   uint64  // Engine.profileGen evIdx was derived at
	aff     []tagAffinity
	strong  []int32   // by tag: affinities' buffer
	score   []float64 // each item's affinity score (affinityScore)
	blocked []bool    // not available: region, schedule or dismissal
	// The profile's part was derived at Engine.profileGen profGen and now
	// profNow; hasProf is false until it first is. The history in it was
	// derived at profileGen histGen.
	profGen   uint64
	profNow   int64
	hasProf   bool
	hist      history
	histGen   uint64
	hasHist   bool
	dismissed []bool  // by item: dismissed less than dismissHideMillis before now
	hidden    []int32 // the items dismissed, by dismissal (see deriveProfile)
	// avail says by item whether its regions and schedule allow it, for
	// the local date availDate and the regions availReg; hasAvail is false
	// until it first is derived.
	avail     []bool
	availDate int
	availReg  []bool
	hasAvail  bool
	// items counts the changes to score, seen or blocked; a slot's ranking
	// keeps the count it was made at. reordered is the count at the last
	// change not made by now alone.
	items     uint64
	reordered uint64
	fired     []bool      // by rule number
	base      []int       // by cap number: showings the cap allowed before this decide
	budget    []int       // by cap number: how many more showings the cap allows
	slots     []*ranked   // by slot number
	ruleIDs   []string    // explain's buffer
	ends      []int       // where each pick's rules end in ruleIDs
	chosen    []candidate // a slot's picks, walk's and replay's buffer
	pinOf     []int       // by pick: the rule that pinned it, or -1
	blockGen  uint64      // counts the changes to blocked or seen items
	reasons   []string    // by item: the affinity reason, once explained
	reasonOf  []reasonKey // by item: the event its reason names
	div       diversity
	// shown says by item whether a slot earlier in this decide shows it;
	// shownList holds the same items in the order shown.
	shown     []bool
	shownList []int32
	// held are the items a cap held back from the slot being decided.
	held []int32
	// hold is the experiment whose comparison group the person is in for
	// the slot being decided, or -1 (see experiment.go); leftOut marks the
	// rules that group's picks go without there, or is nil.
	hold    int
	leftOut []bool
}

// holdBack notes that a cap kept item idx out of the slot being decided.
func (d *decider) holdBack(idx int) {
	if !slices.Contains(d.held, int32(idx)) {
		d.held = append(d.held, int32(idx))
	}
}

// show marks item idx as shown by a slot of this decide.
func (d *decider) show(idx int) {
	if !d.shown[idx] {
		d.shown[idx] = true
		d.shownList = append(d.shownList, int32(idx))
	}
}

// clearShown forgets what this decide's slots showed.
func (d *decider) clearShown() {
	for _, idx := range d.shownList {
		d.shown[idx] = false
	}
	d.shownList = d.shownList[:0]
}

// reasonKey is what an affinity reason's text depends on: the type and
// item of the event behind it (see Engine.reasonFor).
type reasonKey struct {
	typ  string
	item int32
}

// Candidate flags, set by the firing rules that select a candidate.
const (
	flagExcluded uint8 = 1 << iota
	flagBoosted
	flagPinnable
	flagPinOnly // set with the key: only a pin rule makes it a candidate
)

// decider returns the engine's decider for a decide now: its state is
// derived again when the ruleset, profile or context changed since the
// last decide, and the cap budgets start over.
func (e *Engine) decider() *decider {
	d := e.dec
	if d == nil || d.rules != e.rules {
		c := e.rules
		d = &decider{e: e, rules: c, gen: e.gen - 1}
		d.aff = make([]tagAffinity, len(c.tags))
		d.strong = make([]int32, len(c.tags))
		d.score = make([]float64, len(c.items))
		d.reasons = make([]string, len(c.items))
		d.reasonOf = make([]reasonKey, len(c.items))
		d.blocked = make([]bool, len(c.items))
		d.dismissed = make([]bool, len(c.items))
		d.avail = make([]bool, len(c.items))
		d.shown = make([]bool, len(c.items))
		d.fired = make([]bool, len(c.ruleList))
		d.base = make([]int, len(c.caps))
		d.budget = make([]int, len(c.caps))
		d.div = diversity{c: c, tags: make([]int32, len(c.tags)), camps: make([]int32, c.campaigns)}
		e.dec = d
	}
	if d.gen != e.gen {
		d.derive()
		d.gen = e.gen
	}
	copy(d.budget, d.base)
	return d
}

// derive computes the decider's state from the ruleset, profile and
// context, each part only when what it depends on changed.
func (d *decider) derive() {
	e, c := d.e, d.rules
	d.m = e.newMoment()
	now := d.m.now
	if d.evGen != e.profileGen || d.evIdx == nil {
		d.evIdx = e.eventItems(d.evIdx[:0])
		d.evGen = e.profileGen
	}
	// changed: a score, seen or blocked item changed; decayed: only
	// because now did, which decays every score by the same factor.
	// block: a dismissal or availability changed.
	changed, decayed, block := false, true, false
	if !d.hasProf || d.profGen != e.profileGen || d.profNow != now {
		ch, hid := d.deriveProfile(now)
		changed, block = ch || hid || !d.hasProf, hid
		decayed = d.hasProf && d.profGen == e.profileGen
		d.profGen, d.profNow, d.hasProf = e.profileGen, now, true
	}
	if !d.hasAvail || d.availDate != d.m.date || !slices.Equal(d.availReg, d.m.inReg) {
		for i := range c.items {
			if a := d.available(i); a != d.avail[i] {
				d.avail[i], block, decayed = a, true, false
			}
		}
		block = block || !d.hasAvail
		d.availDate, d.availReg, d.hasAvail = d.m.date, append(d.availReg[:0], d.m.inReg...), true
	}
	if block {
		for i := range c.items {
			if b := d.dismissed[i] || !d.avail[i]; b != d.blocked[i] {
				d.blocked[i] = b
				d.blockGen++
			}
		}
	}
	if changed || block {
		d.items++
		if !decayed {
			d.reordered = d.items
		}
	}
	// Each cap's budget is what is left of it in the day and the week
	// ending at now; items shown by a decide spend it too (see take), so
	// one decide never shows more than a cap allows, across all its slots.
	for n, cp := range c.caps {
		day, week := e.capShowings(&c.caps[n], now)
		// The frequency preference scales each limit.
		d.base[n] = math.MaxInt
		if cp.perDay > 0 {
			d.base[n] = e.prefs.scaleCap(cp.perDay) - day
		}
		if cp.perWeek > 0 {
			d.base[n] = min(d.base[n], e.prefs.scaleCap(cp.perWeek)-week)
		}
	}
	for n := range c.ruleList {
		d.fired[n] = d.holds(c.ruleList[n].when)
	}
}

// deriveProfile derives the profile's part of the state at now: tag
// affinities, item scores, seen and dismissed items. What does not depend
// on now (the history) is derived again only when the events or the
// preferences changed. It reports whether a score, a seen item or a
// dismissal changed.
func (d *decider) deriveProfile(now int64) (changed, hid bool) {
	e, c := d.e, d.rules
	if !d.hasHist || d.histGen != e.profileGen {
		d.hist.derive(e, d.evIdx)
		d.histGen, d.hasHist = e.profileGen, true
		d.blockGen++   // seen items may differ
		changed = true // seen items may differ
	}
	d.hist.affinities(e, d.aff, now, d.strong)
	for i := range c.items {
		if s := affinityScore(c.itemTags[i], d.aff); s != d.score[i] {
			d.score[i], changed = s, true
		}
	}
	// The items dismissed within the window, in the order of the
	// dismissals: the same list hides the same items.
	hidden := d.hidden[len(d.hidden):]
	for _, dm := range d.hist.dismissals {
		if now-dm.at < dismissHideMillis {
			hidden = append(hidden, dm.item)
		}
	}
	if slices.Equal(hidden, d.hidden) {
		return changed, false
	}
	for _, idx := range d.hidden {
		d.dismissed[idx] = false
	}
	for _, idx := range hidden {
		d.dismissed[idx] = true
	}
	d.hidden = append(d.hidden[:0], hidden...)
	return changed, true
}

// history is what decide reads of the profile's events apart from now,
// derived again only when the events or the preferences change; a new now
// only decays it (affinities).
type history struct {
	interest   []interestEvent // the events that add interest, oldest first
	dismissals []dismissal     // oldest first
	damp       []float64       // by tag: what dismissals multiply its affinity by
	seen       []bool          // by item: an event other than a dismissal
	count      []int32         // by tag: dismissals, derive's buffer
}

// interestEvent is a profile event that adds interest to its item's tags.
type interestEvent struct {
	at     int64
	weight float64 // its type's (eventWeight)
	item   int32
	ev     int32 // its index in the profile's events
}

type dismissal struct {
	at   int64
	item int32
}

// derive reads the profile's events; evIdx holds each one's item number.
// Events decide ignores (see Engine.ignored) count for nothing; a tag on
// items dismissed n > 1 times is multiplied by dismissFactor^(n-1).
func (h *history) derive(e *Engine, evIdx []int32) {
	c := e.rules
	if len(h.seen) != len(c.items) {
		h.seen = make([]bool, len(c.items))
		h.damp = make([]float64, len(c.tags))
		h.count = make([]int32, len(c.tags))
	}
	clear(h.seen)
	clear(h.count)
	h.interest, h.dismissals = h.interest[:0], h.dismissals[:0]
	for i := range e.profile.events {
		ev := &e.profile.events[i]
		idx := evIdx[i]
		if e.ignored(ev, idx) {
			continue
		}
		if ev.Type == EventDismiss {
			h.dismissals = append(h.dismissals, dismissal{at: ev.At, item: idx})
			for _, tag := range c.itemTags[idx] {
				h.count[tag]++
			}
			continue
		}
		h.seen[idx] = true
		h.interest = append(h.interest, interestEvent{at: ev.At, weight: eventWeight(ev.Type), item: idx, ev: int32(i)})
	}
	for tag, n := range h.count {
		h.damp[tag] = 1
		if n > 1 {
			h.damp[tag] = math.Pow(dismissFactor, float64(n-1))
		}
	}
}

// affinities sets aff to the interest in every tag at now, indexed by tag
// number; strong is a buffer by tag. Each event's weight decays exactly
// (Exp2 of its age), added in event order.
func (h *history) affinities(e *Engine, aff []tagAffinity, now int64, strong []int32) {
	clear(aff)
	for tag := range strong {
		strong[tag] = -1
	}
	halfLife := float64(e.rules.halfLifeMillis)
	itemTags := e.rules.itemTags
	for k := range h.interest {
		ie := &h.interest[k]
		age := float64(now - ie.at)
		if age < 0 {
			age = 0
		}
		w := float64(ie.weight * exp2(-age/halfLife))
		for _, tag := range itemTags[ie.item] {
			a := &aff[tag]
			a.weight = float64(a.weight + w)
			// The strongest event is copied in once it is known:
			// only its time is kept until then.
			if w > a.top || (w == a.top && ie.at > a.strongest.At) {
				a.top, a.strongest.At, strong[tag] = w, ie.at, int32(k)
			}
		}
	}
	for tag := range aff {
		a := &aff[tag]
		if k := strong[tag]; k >= 0 {
			ie := &h.interest[k]
			a.strongest, a.item = e.profile.events[ie.ev], ie.item
		}
		if f := h.damp[tag]; f != 1 {
			a.weight = float64(a.weight * f)
		}
	}
	// A hidden interest has no affinity.
	for tag, hidden := range e.hiddenTag {
		if hidden {
			aff[tag] = tagAffinity{}
		}
	}
}

// eventItems appends each profile event's item number to out.
func (e *Engine) eventItems(out []int32) []int32 {
	for _, ev := range e.profile.events {
		out = append(out, int32(e.rules.itemIndex[ev.Item]))
	}
	return out
}

// capped reports whether showing item idx once more would break a cap.
func (d *decider) capped(idx int) bool {
	for _, n := range d.rules.itemCaps[idx] {
		if d.budget[n] <= 0 {
			return true
		}
	}
	return false
}

// take spends item idx's caps' budgets for one showing.
func (d *decider) take(idx int) {
	for _, n := range d.rules.itemCaps[idx] {
		d.budget[n]--
	}
}

// available applies an item's regions and schedule.
func (d *decider) available(i int) bool {
	c := d.rules
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
	for _, t := range w.feeds {
		if m.feeds == nil || !slices.ContainsFunc(m.feeds[t.feed].values, func(v string) bool { return slices.Contains(t.values, v) }) {
			return false
		}
	}
	// With history off no condition on it holds.
	if d.e.prefs.noHistory && (len(w.interest) > 0 || w.viewed != nil || w.bought != nil) {
		return false
	}
	for _, t := range w.interest {
		if d.aff[t.tag].weight < t.atLeast || (d.e.hiddenTag != nil && d.e.hiddenTag[t.tag]) {
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
// The profile keeps its events in time order (profile.add), so the scan
// starts at the newest and stops at the first event older than the window.
func (d *decider) recent(items []bool, within int64, purchase bool) bool {
	evs := d.e.profile.events
	for i := len(evs) - 1; i >= 0; i-- {
		ev := &evs[i]
		age := d.m.now - ev.At
		if age < 0 {
			continue
		}
		if age > within {
			break
		}
		if ev.Type == EventDismiss || (purchase && ev.Type != "purchase") || d.e.ignored(ev, d.evIdx[i]) {
			continue
		}
		if items[d.evIdx[i]] {
			return true
		}
	}
	return false
}

// affinities returns the interest in every tag, indexed by tag number.
func (e *Engine) affinities() []tagAffinity {
	var h history
	h.derive(e, e.eventItems(nil))
	aff := make([]tagAffinity, len(e.rules.tags))
	h.affinities(e, aff, e.now(), make([]int32, len(e.rules.tags)))
	return aff
}

// exp2 is math.Exp2 as Go computes it without assembly (math/exp.go), so
// every port agrees bit for bit: math.Exp2 has assembly on arm64, loong64
// and s390x, and Exp on amd64 too. It is a copy, expression for
// expression, except that 2^k is applied by multiplying with it where the
// result is a normal number, which is exact, and by math.Ldexp elsewhere.
// Decay calls it once per event on every new now.
func exp2(x float64) float64 {
	const (
		Ln2Hi = 6.93147180369123816490e-01
		Ln2Lo = 1.90821492927058770002e-10

		Overflow  = 1.0239999999999999e+03
		Underflow = -1.0740e+03

		P1 = 1.66666666666666657415e-01  /* 0x3FC55555; 0x55555555 */
		P2 = -2.77777777770155933842e-03 /* 0xBF66C16C; 0x16BEBD93 */
		P3 = 6.61375632143793436117e-05  /* 0x3F11566A; 0xAF25DE2C */
		P4 = -1.65339022054652515390e-06 /* 0xBEBBBD41; 0xC5D26BF1 */
		P5 = 4.13813679705723846039e-08  /* 0x3E663769; 0x72BEA4D0 */
	)
	switch {
	case x != x: // NaN
		return x
	case x > Overflow:
		return math.Inf(1)
	case x < Underflow:
		return 0
	}
	var k int
	switch {
	case x > 0:
		k = int(x + 0.5)
	case x < 0:
		k = int(x - 0.5)
	}
	t := x - float64(k)
	hi := t * Ln2Hi
	lo := -t * Ln2Lo
	// expmulti(hi, lo, k)
	r := hi - lo
	t = r * r
	c := r - t*(P1+t*(P2+t*(P3+t*(P4+t*P5))))
	y := 1 - ((lo - (r*c)/(2-c)) - hi)
	// y is within [0.7, 1.5), so y·2^k is normal for k in [-1021, 1022].
	if k >= -1021 && k <= 1022 {
		return y * math.Float64frombits(uint64(k+1023)<<52)
	}
	return math.Ldexp(y, k)
}

// eventWeight is eventWeights[t], without hashing for the known types.
func eventWeight(t string) float64 {
	switch t {
	case "view":
		return 1
	case "click":
		return 2
	case "add_to_cart":
		return 3
	case "purchase":
		return 5
	case EventDismiss:
		return 0
	}
	return eventWeights[t]
}

// candidate is kept to 16 bytes: ranking orders the candidates of a slot.
type candidate struct {
	score float64
	index int32
	// pinOnly is set when only a pin rule made the item eligible: it may be
	// pinned but does not otherwise fill the slot.
	pinOnly bool
	// filler marks a fallback item filling a slot that has too few
	// personal picks.
	filler bool
}

// ranksBefore is the ranking: by score, ties in catalogue order, so it is
// a total order and deterministic.
func ranksBefore(a, b candidate) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.index < b.index
}

// affinityScore is an item's score from its tags' affinity, before rules.
func affinityScore(tags []int32, aff []tagAffinity) float64 {
	var score float64
	for _, tag := range tags {
		score = float64(score + aff[tag].weight)
	}
	if score > 0 {
		score = roundScore(score / math.Sqrt(float64(len(tags))))
	}
	return score
}

// ranked is a slot's candidates in rank order for one state of the
// decider: which items are candidates and their scores depend only on the
// ruleset, profile and context, so decides in between reuse them.
//
// The order is kept from one state to the next and sorted again from
// there (resort): a new now decays every score by the same factor, so the
// order barely moves, and sorting it again costs about one comparison per
// candidate. When much moved (a rule flipped, an event came in), the
// candidates are ranked only as far as the slot reads them instead (a
// heap, see ranking), which leaves the kept order out of date; the next
// state that differs only by now sorts it in full. Either way the order is
// the full ranking's: it is a total order.
type ranked struct {
	gen   uint64
	items uint64 // the decider's items count it was made at
	on    []bool // by the slot's rule position: whether the rule fired
	// factor and flags hold, by candidate position, the firing rules'
	// product and candFlag bits, for the rules on says fire.
	factor []float64
	flags  []uint8
	// fired are the numbers of the slot's firing rules that shape picks
	// (all but excludes), in ruleset order.
	fired []int
	// key is each candidate position's score, or 0 when it is not a
	// candidate in this state; order holds every position, best first
	// (see before) unless lazy; aside and scratch are resort's buffers.
	key     []float64
	order   []int32
	aside   []int32
	scratch []int32
	// n counts the candidates. When lazy, order is out of date and cands
	// holds the candidates in catalogue order, with rank ranking them as
	// far as they are read.
	n     int
	lazy  bool
	cands []candidate
	rank  ranking
	item  []int // the slot's candidates: the item at each position
	// orderGen counts the changes to the candidates' order, pinOnly, and
	// the slot's firing rules; memo is what the slot showed last.
	orderGen uint64
	memo     slotMemo
}

// nth returns the candidate ranked i (from 0), or false past the last.
func (rk *ranked) nth(i int) (candidate, bool) {
	if rk.lazy {
		return rk.rank.at(i)
	}
	if i < rk.n {
		return rk.at(rk.order[i]), true
	}
	return candidate{}, false
}

// at returns the candidate at position p, which must be one (key > 0).
func (rk *ranked) at(p int32) candidate {
	return candidate{score: rk.key[p], index: int32(rk.item[p]), pinOnly: rk.flags[p]&flagPinOnly != 0}
}

// before is the ranking by key of candidate positions: by score, ties in
// catalogue order (positions follow it), the positions that are not
// candidates (key 0) last.
func (rk *ranked) before(p, q int32) bool {
	kp, kq := rk.key[p], rk.key[q]
	return kp > kq || (kp == kq && p < q)
}

// resort sorts rk.order, which holds the order of an earlier state, by
// before. It reports whether it did, which it does not when much moved
// unless full says to sort anyway, and whether any position moved.
//
// A new now decays every score by the same factor, so the kept order is
// still nearly sorted. Each position out of order with the one kept before
// it is set aside with it; that keeps the rest sorted and sets aside at
// most twice as many as the fewest that could be. The few set aside are
// sorted and merged back in.
func (rk *ranked) resort(full bool) (sorted, moved bool) {
	kept, aside := rk.order[:0], rk.aside[:0]
	most := len(rk.order) / 16
	for i, p := range rk.order {
		if n := len(kept); n > 0 && rk.before(p, kept[n-1]) {
			aside, kept = append(aside, kept[n-1], p), kept[:n-1]
			if len(aside) > most && !full {
				// Put back what was taken out, in the same order.
				for _, q := range rk.order[i+1:] {
					aside = append(aside, q)
				}
				copy(rk.order[len(kept):], aside)
				rk.aside = aside
				return false, true
			}
			continue
		}
		kept = append(kept, p)
	}
	rk.aside = aside
	if len(aside) > 0 {
		rk.sort(aside)
		rk.merge(rk.order, len(kept), aside)
	}
	return true, len(aside) > 0
}

// sort sorts ps by before: a merge sort of insertion-sorted runs of 16,
// with rk.scratch as the second buffer.
func (rk *ranked) sort(ps []int32) {
	const run = 16
	for lo := 0; lo < len(ps); lo += run {
		hi := min(lo+run, len(ps))
		for i := lo + 1; i < hi; i++ {
			for j := i; j > lo && rk.before(ps[j], ps[j-1]); j-- {
				ps[j], ps[j-1] = ps[j-1], ps[j]
			}
		}
	}
	src, dst := ps, rk.scratch[:len(ps)]
	for width := run; width < len(ps); width *= 2 {
		for lo := 0; lo < len(ps); lo += 2 * width {
			mid, hi := min(lo+width, len(ps)), min(lo+2*width, len(ps))
			i, j := lo, mid
			for k := lo; k < hi; k++ {
				if j >= hi || (i < mid && !rk.before(src[j], src[i])) {
					dst[k], i = src[i], i+1
				} else {
					dst[k], j = src[j], j+1
				}
			}
		}
		src, dst = dst, src
	}
	copy(ps, src)
}

// merge merges the sorted dst[:n] and b into dst, from the back.
func (rk *ranked) merge(dst []int32, n int, b []int32) []int32 {
	i, j := n-1, len(b)-1
	for k := len(dst) - 1; j >= 0; k-- {
		if i >= 0 && rk.before(b[j], dst[i]) {
			dst[k], i = dst[i], i-1
		} else {
			dst[k], j = b[j], j-1
		}
	}
	return dst
}

// ranking yields candidates in rank order, sorting only as far as it is
// read: the candidates form a heap, and each read past the sorted prefix
// moves the best remaining one into it.
type ranking struct {
	heap   []candidate
	sorted []candidate
}

func (r *ranking) init(cands []candidate) {
	r.heap, r.sorted = append(r.heap[:0], cands...), r.sorted[:0]
	for i := len(r.heap)/2 - 1; i >= 0; i-- {
		r.down(i)
	}
}

// at returns the candidate ranked i (from 0), or false past the last.
func (r *ranking) at(i int) (candidate, bool) {
	for len(r.sorted) <= i {
		n := len(r.heap)
		if n == 0 {
			return candidate{}, false
		}
		r.sorted = append(r.sorted, r.heap[0])
		r.heap[0] = r.heap[n-1]
		r.heap = r.heap[:n-1]
		r.down(0)
	}
	return r.sorted[i], true
}

func (r *ranking) down(i int) {
	h := r.heap
	n := len(h)
	for {
		best := i
		if l := 2*i + 1; l < n && ranksBefore(h[l], h[best]) {
			best = l
		}
		if rt := 2*i + 2; rt < n && ranksBefore(h[rt], h[best]) {
			best = rt
		}
		if best == i {
			return
		}
		h[i], h[best] = h[best], h[i]
		i = best
	}
}

// ranked returns slot s's candidates for the decider's state. Caps are not
// applied here: budgets change during a decide and only ever fall, so every
// read of a candidate checks them instead.
func (d *decider) ranked(s *compiledSlot, n int) *ranked {
	if d.slots == nil {
		d.slots = make([]*ranked, len(d.rules.slots))
	}
	rk := d.slots[n]
	if rk == nil {
		np := len(s.candidates)
		rk = &ranked{gen: d.gen - 1, on: make([]bool, len(s.rules)),
			factor: make([]float64, np), flags: make([]uint8, np),
			key: make([]float64, np), order: make([]int32, np),
			aside: make([]int32, 0, np), scratch: make([]int32, np), item: s.candidates}
		for p := range rk.order {
			rk.order[p] = int32(p)
		}
		rk.rules(d, s)
		d.slots[n] = rk
	}
	if rk.gen == d.gen {
		return rk
	}
	// The state changed, but perhaps nothing this slot's ranking reads.
	same := rk.items == d.items
	flipped := false
	for k, n := range s.rules {
		if on := d.on(n); rk.on[k] != on {
			rk.on[k], flipped = on, true
		}
	}
	rk.gen = d.gen
	if same && !flipped {
		return rk
	}
	if flipped {
		rk.rules(d, s)
	}
	// Only now moved since this ranking was made: sort in full if need be.
	decayed := !flipped && rk.items >= d.reordered
	rk.items = d.items
	// moved: the order, the candidates or which are pinOnly may differ.
	moved, count := flipped || rk.lazy, 0
	factor, flags := rk.factor, rk.flags
	for p, idx := range s.candidates {
		rk.key[p] = 0
		f := flags[p]
		if f&flagExcluded != 0 || d.blocked[idx] || (s.excludeSeen && d.hist.seen[idx]) {
			continue
		}
		score := d.score[idx]
		only := false
		if score <= 0 {
			if f&(flagBoosted|flagPinnable) == 0 {
				continue
			}
			score = 1 // the base score of an item only a rule brings in
			only = f&flagBoosted == 0
		}
		// A score is already rounded, and rounding is idempotent.
		if factor[p] != 1 {
			score = roundScore(score * factor[p])
		}
		if score > 0 {
			rk.key[p] = score
			count++
			if only != (f&flagPinOnly != 0) {
				flags[p], moved = f^flagPinOnly, true
			}
		}
	}
	moved = moved || count != rk.n
	rk.n = count
	sorted, aside := rk.resort(decayed)
	rk.lazy = !sorted
	if rk.lazy {
		cands := rk.cands[:0]
		for p := range s.candidates {
			if rk.key[p] > 0 {
				cands = append(cands, rk.at(int32(p)))
			}
		}
		rk.cands = cands
		rk.rank.init(cands)
	}
	if moved || aside {
		rk.orderGen++
	}
	return rk
}

// rules derives factor, flags and fired for the slot's rules that on
// says fire. The firing rules act on the candidates they select, in
// ruleset order, so each candidate's factor is the same product, in the
// same order, as rule by rule per item.
func (rk *ranked) rules(d *decider, s *compiledSlot) {
	c := d.rules
	factor, flags := rk.factor, rk.flags
	for p := range factor {
		factor[p], flags[p] = 1, 0
	}
	rk.fired = rk.fired[:0]
	for k, n := range s.rules {
		if !rk.on[k] {
			continue
		}
		r := &c.ruleList[n]
		if r.action != actExclude {
			rk.fired = append(rk.fired, n)
		}
		for _, p := range s.ruleItems[k] {
			switch r.action {
			case actExclude:
				flags[p] |= flagExcluded
			case actBoost:
				factor[p] = float64(factor[p] * r.factor)
				flags[p] |= flagBoosted
			case actBury:
				factor[p] = float64(factor[p] * r.factor)
			case actPin:
				flags[p] |= flagPinnable
			}
		}
	}
}

// on says whether rule n fires in the slot being decided.
func (d *decider) on(n int) bool { return d.fired[n] && (d.leftOut == nil || !d.leftOut[n]) }

func (d *decider) slot(s *compiledSlot, n int) Decision {
	d.held = d.held[:0]
	if d.e.prefs.off() {
		// Sharing off: nothing personal, every slot shows its fallback.
		return d.fallback(s, Decision{Slot: s.id})
	}
	d.leftOut = nil
	if d.hold < 0 {
		return d.picks(s, n)
	}
	// The comparison group of an experiment sees its control here.
	x := &d.rules.experiments[d.hold]
	var dec Decision
	if d.leftOut = x.leftOut; x.leftOut == nil {
		dec = d.fallback(s, Decision{Slot: s.id})
		for i := range dec.Items {
			dec.Items[i].Reason = comparisonReason
		}
	} else {
		dec = d.picks(s, n)
		for i := range dec.Items {
			dec.Items[i].Reason += comparisonRulesReason
		}
	}
	d.leftOut = nil
	dec.Experiment = x.id
	return dec
}

// picks ranks and chooses slot s's picks (see Engine.Decide).
func (d *decider) picks(s *compiledSlot, n int) Decision {
	rk := d.ranked(s, n)
	m := &rk.memo
	if m.ok && m.order == rk.orderGen && m.block == d.blockGen && slices.Equal(m.budget, d.budget) && slices.Equal(m.shown, d.shownList) {
		return d.replay(s, rk)
	}
	m.ok, m.order, m.block, m.budget = false, rk.orderGen, d.blockGen, append(m.budget[:0], d.budget...)
	m.shown = append(m.shown[:0], d.shownList...)
	dec := d.walk(s, rk)
	m.held = append(m.held[:0], d.held...)
	m.ok = true
	return dec
}

// slotMemo is what a slot showed, for the state of its ranking it was
// made at: the same order of candidates (orderGen, which also moves when
// one of the slot's rules flips), the same blocked and seen items
// (blockGen), the same cap budgets and the same items shown by the slots
// before it when the slot's turn came make the same picks, since nothing else that chooses them can differ; only their
// scores and reasons are read again.
type slotMemo struct {
	ok     bool
	order  uint64
	block  uint64
	budget []int
	shown  []int32    // what the slots before it in its decide showed
	picks  []memoPick // in the order shown; empty: the slot fell back
	held   []int32    // what caps held back (see Decision.Capped)
}

type memoPick struct {
	item   int32
	pin    int32 // the rule that pinned it, or -1
	filler bool
}

// replay makes slot s's decision again from its memo, with the scores of
// the ranking now, spending the caps' budgets as walk did.
func (d *decider) replay(s *compiledSlot, rk *ranked) Decision {
	d.held = append(d.held[:0], rk.memo.held...)
	picks := rk.memo.picks
	if len(picks) == 0 {
		return d.fallback(s, Decision{Slot: s.id})
	}
	chosen, pinOf := d.chosen[:0], d.pinOf[:0]
	for _, mp := range picks {
		d.take(int(mp.item))
		cand := candidate{index: mp.item, filler: true}
		if !mp.filler {
			p, _ := slices.BinarySearch(s.candidates, int(mp.item))
			cand = rk.at(int32(p))
		}
		chosen, pinOf = append(chosen, cand), append(pinOf, int(mp.pin))
	}
	d.chosen, d.pinOf = chosen, pinOf
	return d.decision(s, rk, chosen, pinOf)
}

// walk chooses slot s's picks from its ranking, and records them in the
// ranking's memo.
func (d *decider) walk(s *compiledSlot, rk *ranked) Decision {
	c := d.rules
	div := d.div.reset(s)
	// Pins, in ruleset order. Each takes its best-ranked selected candidate
	// that is not pinned yet and fits: nothing changes while one pin rule
	// looks, so that is its best among the candidates it selects.
	type pinned struct {
		cand candidate
		pos  int
		rule int
	}
	var pins []pinned
	isPinned := func(idx int32) bool {
		return slices.ContainsFunc(pins, func(p pinned) bool { return p.cand.index == idx })
	}
	for k, n := range s.rules {
		r := &c.ruleList[n]
		if r.action != actPin || !d.on(n) || len(pins) == s.limit {
			continue
		}
		best, found := candidate{}, false
		for _, p := range s.ruleItems[k] {
			if rk.key[p] <= 0 {
				continue
			}
			cand := rk.at(p)
			if (found && !ranksBefore(cand, best)) || !r.selected[cand.index] || isPinned(cand.index) || d.shown[cand.index] || !div.fits(int(cand.index)) || d.capped(int(cand.index)) {
				continue
			}
			best, found = cand, true
		}
		if found {
			div.add(int(best.index))
			d.take(int(best.index))
			pins = append(pins, pinned{cand: best, pos: r.pin, rule: n})
		}
	}
	chosen := d.chosen[:0]
	for i := 0; len(chosen)+len(pins) < s.limit; i++ {
		cand, ok := rk.nth(i)
		if !ok {
			break
		}
		if cand.pinOnly || isPinned(cand.index) || d.shown[cand.index] || !div.fits(int(cand.index)) {
			continue
		}
		if d.capped(int(cand.index)) {
			d.holdBack(int(cand.index))
			continue
		}
		div.add(int(cand.index))
		d.take(int(cand.index))
		chosen = append(chosen, cand)
	}
	// A slot with some personal picks but fewer than its limit is filled
	// up with its fallback items, before the pins take their positions.
	if n := len(chosen) + len(pins); n > 0 && n < s.limit {
		taken := func(idx int) bool {
			return isPinned(int32(idx)) || slices.ContainsFunc(chosen, func(c candidate) bool { return int(c.index) == idx })
		}
		for _, idx := range d.fillers(s, div, s.limit-n, taken) {
			chosen = append(chosen, candidate{index: int32(idx), filler: true})
		}
	}
	slices.SortStableFunc(pins, func(a, b pinned) int { return a.pos - b.pos })
	for _, p := range pins {
		at := min(p.pos-1, len(chosen))
		chosen = slices.Insert(chosen, at, p.cand)
	}
	pinOf := d.pinOf[:0]
	memo := rk.memo.picks[:0]
	for _, cand := range chosen {
		pin := -1
		if !cand.filler {
			for _, p := range pins {
				if p.cand.index == cand.index {
					pin = p.rule
				}
			}
		}
		pinOf = append(pinOf, pin)
		memo = append(memo, memoPick{item: cand.index, pin: int32(pin), filler: cand.filler})
	}
	d.chosen, d.pinOf, rk.memo.picks = chosen, pinOf, memo
	return d.decision(s, rk, chosen, pinOf)
}

// decision makes slot s's decision from its picks, chosen, and the rule
// that pinned each (or -1).
func (d *decider) decision(s *compiledSlot, rk *ranked, chosen []candidate, pinOf []int) Decision {
	c := d.rules
	dec := Decision{Slot: s.id}
	if len(chosen) > 0 {
		dec.Items = make([]Pick, 0, len(chosen))
	}
	// Every pick's rule list is cut from one array: explain appends each
	// to d.ruleIDs and the picks keep where theirs ends.
	d.ruleIDs = d.ruleIDs[:0]
	for i, cand := range chosen {
		pick := Pick{Item: c.items[cand.index].ID, Score: cand.score}
		if cand.filler {
			pick.Reason = fallbackReason
			dec.Items = append(dec.Items, pick)
			d.ends = append(d.ends, len(d.ruleIDs))
			continue
		}
		// Reasons and rule lists are built only for the items shown.
		pick.Reason = d.explain(rk, cand, pinOf[i])
		pick.Feeds = d.feedSources(rk, int(cand.index), pinOf[i])
		dec.Items = append(dec.Items, pick)
		d.ends = append(d.ends, len(d.ruleIDs))
	}
	if len(d.ruleIDs) > 0 {
		all := slices.Clone(d.ruleIDs)
		from := 0
		for i, to := range d.ends {
			if to > from {
				dec.Items[i].Rules = all[from:to:to]
			}
			from = to
		}
	}
	d.ends = d.ends[:0]
	if len(dec.Items) == 0 {
		return d.fallback(s, dec)
	}
	dec.Capped = d.heldIDs()
	return dec
}

// heldIDs are the ids of the items caps held back from the slot, or nil.
func (d *decider) heldIDs() []string {
	if len(d.held) == 0 {
		return nil
	}
	out := make([]string, len(d.held))
	for i, idx := range d.held {
		out[i] = d.rules.items[idx].ID
	}
	return out
}

// fallback fills dec, which has no items, with slot s's fallback items.
func (d *decider) fallback(s *compiledSlot, dec Decision) Decision {
	dec.Fallback = true
	dec.Items = []Pick{}
	for _, idx := range d.fillers(s, d.div.reset(s), s.limit, func(int) bool { return false }) {
		dec.Items = append(dec.Items, Pick{Item: d.rules.items[idx].ID, Reason: fallbackReason})
	}
	dec.Capped = d.heldIDs()
	return dec
}

// fillers takes up to n items for slot s: its fallback items, in order,
// then its other candidates in catalogue order, so the fallback is the
// first choice of filler, not a cap on how many there are. Items taken
// already, shown by an earlier slot of this decide, unavailable, seen (with
// exclude_seen), capped or excluded by a firing rule, and those breaking
// the diversity limits div tracks, are skipped.
func (d *decider) fillers(s *compiledSlot, div *diversity, n int, taken func(int) bool) []int {
	var out []int
	for k, list := range [][]int{s.fallback, s.candidates} {
		for _, idx := range list {
			if len(out) == n {
				return out
			}
			if taken(idx) || slices.Contains(out, idx) {
				continue
			}
			if ok, capped := d.fills(s, div, idx); !ok {
				if capped && k == 0 {
					d.holdBack(idx) // a fallback item the shop chose, held back
				}
				continue
			}
			div.add(idx)
			d.take(idx)
			out = append(out, idx)
		}
	}
	return out
}

// fills reports whether item idx may fill slot s (see fillers), and
// whether only a cap keeps it out.
func (d *decider) fills(s *compiledSlot, div *diversity, idx int) (ok, capped bool) {
	if d.shown[idx] || d.blocked[idx] || (s.excludeSeen && d.hist.seen[idx]) || !div.fits(idx) {
		return false, false
	}
	for _, r := range s.rules {
		if rule := &d.rules.ruleList[r]; rule.action == actExclude && d.on(r) && rule.selected[idx] {
			return false, false
		}
	}
	if d.capped(idx) {
		return false, true
	}
	return true, false
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
func (d *decider) explain(rk *ranked, cand candidate, pin int) string {
	c := d.rules
	idx := int(cand.index)
	affinity := d.score[idx]
	rules := d.ruleIDs
	main, mainFactor := -1, 0.0
	if pin >= 0 {
		main, mainFactor = pin, math.Inf(1)
	}
	for _, n := range rk.fired {
		r := &c.ruleList[n]
		if !r.selected[idx] || (r.action == actPin && n != pin) {
			continue
		}
		rules = append(rules, r.id)
		if r.action == actBoost && (r.factor >= 2 || affinity <= 0) && r.factor > mainFactor {
			main, mainFactor = n, r.factor
		}
	}
	d.ruleIDs = rules
	if main >= 0 && c.ruleList[main].reason != "" {
		return c.ruleList[main].reason
	}
	if affinity > 0 {
		// The affinity reason depends only on the decider's state.
		// The reason names the event behind the item, which depends on
		// the state; its text only on the event's type and item.
		ev, item := d.e.because(idx, d.aff)
		if k := &d.reasonOf[idx]; d.reasons[idx] == "" || k.typ != ev.Type || k.item != item {
			d.reasons[idx], *k = d.e.reasonFor(ev, item), reasonKey{typ: ev.Type, item: item}
		}
		return d.reasons[idx]
	}
	return ruleReason
}

// diversity counts tags and campaigns already in a slot, by tag and
// campaign number.
type diversity struct {
	c       *compiledRuleset
	maxTag  int
	maxCamp int
	tags    []int32
	camps   []int32
}

// reset starts counting for slot s.
func (v *diversity) reset(s *compiledSlot) *diversity {
	v.maxTag, v.maxCamp = s.maxPerTag, s.maxPerCamp
	clear(v.tags)
	clear(v.camps)
	return v
}

func (v *diversity) fits(idx int) bool {
	if v.maxTag > 0 {
		for _, t := range v.c.itemTags[idx] {
			if int(v.tags[t]) >= v.maxTag {
				return false
			}
		}
	}
	if camp := v.c.itemCamp[idx]; v.maxCamp > 0 && camp >= 0 && int(v.camps[camp]) >= v.maxCamp {
		return false
	}
	return true
}

func (v *diversity) add(idx int) {
	if v.maxTag > 0 {
		for _, t := range v.c.itemTags[idx] {
			v.tags[t]++
		}
	}
	if camp := v.c.itemCamp[idx]; v.maxCamp > 0 && camp >= 0 {
		v.camps[camp]++
	}
}
