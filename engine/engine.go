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
func (e *Engine) SetContext(c Context) error {
	if c.Now < 0 {
		return &Error{Code: CodeBadRequest, Message: "context.now must not be negative"}
	}
	e.context = c
	return nil
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
	aff := e.affinities()
	seen := make([]bool, len(e.rules.items))
	for _, ev := range e.profile.events {
		seen[e.rules.itemIndex[ev.Item]] = true
	}
	out := make([]Decision, 0, len(slots))
	for _, id := range slots {
		out = append(out, e.decideSlot(&e.rules.slots[e.rules.slotIndex[id]], aff, seen))
	}
	return out, nil
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
func (e *Engine) affinities() []tagAffinity {
	aff := make([]tagAffinity, len(e.rules.tags))
	now := e.now()
	halfLife := float64(e.rules.halfLifeMillis)
	for _, ev := range e.profile.events {
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
	return aff
}

type candidate struct {
	index int
	score float64
}

func (e *Engine) decideSlot(s *compiledSlot, aff []tagAffinity, seen []bool) Decision {
	cands := make([]candidate, 0, len(s.candidates))
	for _, idx := range s.candidates {
		if s.excludeSeen && seen[idx] {
			continue
		}
		tags := e.rules.itemTags[idx]
		var score float64
		for _, tag := range tags {
			score = float64(score + aff[tag].weight)
		}
		if score <= 0 {
			continue
		}
		cands = append(cands, candidate{index: idx, score: roundScore(score / math.Sqrt(float64(len(tags))))})
	}
	// Ties go to catalogue order, so the ranking is a total order and deterministic.
	slices.SortFunc(cands, func(a, b candidate) int {
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		return cmp.Compare(a.index, b.index)
	})
	d := Decision{Slot: s.id}
	for _, c := range cands {
		if len(d.Items) == s.limit {
			break
		}
		// Reasons are built only for the items shown.
		d.Items = append(d.Items, Pick{Item: e.rules.items[c.index].ID, Score: c.score, Reason: e.reasonFor(e.because(c.index, aff))})
	}
	if len(d.Items) == 0 {
		d.Fallback = true
		for _, idx := range s.fallback {
			if len(d.Items) == s.limit {
				break
			}
			d.Items = append(d.Items, Pick{Item: e.rules.items[idx].ID, Reason: fallbackReason})
		}
	}
	return d
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

func (e *Engine) reasonFor(ev Event) string {
	title := e.rules.items[e.rules.itemIndex[ev.Item]].Title
	r := eventReasons[ev.Type]
	return r[0] + title + r[1]
}

// roundScore keeps six decimals, so scores read well and tiny
// platform differences in float arithmetic cannot reorder items.
func roundScore(s float64) float64 { return math.Round(s*1e6) / 1e6 }
