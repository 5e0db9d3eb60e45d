package engine

import "slices"

// Experiments measure whether personalization helps. A person in an
// experiment has an arm, drawn once from the device's own randomness and
// never from an identifier: the holdout (the shop's comparison group,
// which sees the experiment's control in its slots) or personalized. Each
// epoch in which the person saw a covered slot is an exposure; a goal
// event after the first sight in that epoch marks it converted. Once the
// epoch is over, the person's next report carries one answer per
// experiment about it: 2·arm + goal, the arm as drawn and the goal noised
// by randomized response at the experiment's ε (see Outcome, internal/lift
// which debiases the answers, and RATIONALE.md, "Why randomized response
// on the outcome, with the arm as drawn?").
//
// Only people who share cohorts and keep history are in experiments: an
// arm whose outcome is never reported helps nobody, and without history
// the goals could not be seen. Sharing off erases the exposures; the arms
// stay until the epoch ends, so Forget me cannot move a person to the
// other arm in the middle of an epoch (the arm's answer would mix both).

// Goal bits of compiledExperiment.goals.
const (
	goalPurchase uint8 = 1 << iota
	goalAddToCart
	goalClick
)

// comparisonReason and comparisonRulesReason say why a person in an
// experiment's comparison group sees what they see there.
const (
	comparisonReason      = "The shop's usual pick: you are in its comparison group, which sees these here so the shop can tell whether personal picks help"
	comparisonRulesReason = "; you are in the shop's comparison group, which sees picks without some of its rules here"
)

// Bounds on what experiments keep on the device.
const (
	maxArms      = 32
	maxExposures = 32
)

type compiledExperiment struct {
	id      string
	holdout float64
	epsilon float64
	// leftOut marks, by rule number, the rules the comparison group's
	// picks go without; nil when it sees the slots' fallback items.
	leftOut []bool
	goals   uint8
	// clickable marks, by item number, the items of the experiment's
	// slots (candidates and fallbacks), whose clicks are click goals.
	clickable []bool
	// within is the number of the experiment this one runs inside, or -1.
	within int
}

// compileExperiments indexes rs's experiments: by slot number, the
// experiments covering it, outer ones first (Validate refuses others
// sharing a slot, and nesting deeper than one level).
func (c *compiledRuleset) compileExperiments(rs *Ruleset) {
	c.slotExperiments = make([][]int, len(c.slots))
	for i, x := range rs.Experiments {
		cx := compiledExperiment{id: x.ID, holdout: x.Holdout, epsilon: x.Epsilon, within: -1, clickable: make([]bool, len(c.items))}
		if !(cx.epsilon > 0) {
			cx.epsilon = DefaultOutcomeEpsilon
		}
		if x.Control == ControlWithoutRules {
			cx.leftOut = make([]bool, len(c.ruleList))
			for n := range c.ruleList {
				cx.leftOut[n] = slices.Contains(x.Rules, c.ruleList[n].id)
			}
		}
		for _, g := range x.Goals {
			cx.goals |= goalBit(g)
		}
		for j := range i {
			if rs.Experiments[j].ID == x.Within {
				cx.within = j
			}
		}
		for _, id := range x.Slots {
			n, ok := c.slotIndex[id]
			if !ok {
				continue
			}
			for _, list := range [][]int{c.slots[n].candidates, c.slots[n].fallback} {
				for _, idx := range list {
					cx.clickable[idx] = true
				}
			}
			if cx.within >= 0 {
				c.slotExperiments[n] = append(c.slotExperiments[n], i)
			} else {
				c.slotExperiments[n] = append([]int{i}, c.slotExperiments[n]...)
			}
		}
		c.experiments = append(c.experiments, cx)
	}
}

// goalBit is the goal bit of an event type or goal name, or 0.
func goalBit(typ string) uint8 {
	switch typ {
	case GoalPurchase:
		return goalPurchase
	case GoalAddToCart:
		return goalAddToCart
	case GoalClick:
		return goalClick
	}
	return 0
}

// Arm is a person's arm in one experiment. Until is 0 while it holds;
// Forget me sets it to the end of the epoch, after which a new arm is drawn.
type Arm struct {
	Ruleset    string `msgpack:"ruleset" json:"ruleset"`
	Experiment string `msgpack:"experiment" json:"experiment"`
	Holdout    bool   `msgpack:"holdout" json:"holdout"`
	Until      int64  `msgpack:"until,omitempty" json:"until,omitempty"`
}

// Exposure is an epoch in which the person saw a slot of an experiment,
// in one arm: Since is when first (Unix ms), and Goal whether a goal
// followed.
type Exposure struct {
	Ruleset    string `msgpack:"ruleset" json:"ruleset"`
	Experiment string `msgpack:"experiment" json:"experiment"`
	Epoch      int64  `msgpack:"epoch" json:"epoch"`
	Holdout    bool   `msgpack:"holdout" json:"holdout"`
	Since      int64  `msgpack:"since" json:"since"`
	Goal       bool   `msgpack:"goal" json:"goal"`
}

// measured says whether the person may be in experiments.
func (e *Engine) measured() bool {
	return e.prefs.effectiveSharing() == SharingCohorts && !e.prefs.noHistory
}

// arm returns the person's arm in experiment xi of the active ruleset at
// now, drawing it the first time; in is false when the person is not in
// the experiment.
func (e *Engine) arm(xi int, now int64) (holdout, in bool) {
	c := e.rules
	x := &c.experiments[xi]
	if !e.measured() {
		return false, false
	}
	if x.within >= 0 {
		if h, ok := e.arm(x.within, now); !ok || h {
			return false, false
		}
	}
	for i := range e.arms {
		a := &e.arms[i]
		if a.Ruleset == c.id && a.Experiment == x.id {
			if a.Until != 0 && now >= a.Until {
				// Forget me ended it with its epoch: a new draw.
				a.Holdout, a.Until = e.random.float() < x.holdout, 0
			}
			return a.Holdout, true
		}
	}
	holdout = e.random.float() < x.holdout
	if len(e.arms) == maxArms {
		e.arms = e.arms[1:]
	}
	e.arms = append(e.arms, Arm{Ruleset: c.id, Experiment: x.id, Holdout: holdout})
	return holdout, true
}

// comparison returns the experiment whose comparison group the person is
// in for slot n, or -1.
func (e *Engine) comparison(n int, now int64) int {
	for _, xi := range e.rules.slotExperiments[n] {
		if h, in := e.arm(xi, now); in && h {
			return xi
		}
	}
	return -1
}

// expose records that the person saw slot n at now.
func (e *Engine) expose(n int, now int64) {
	c := e.rules
	if now <= 0 {
		return
	}
	epoch := now / c.epochMillis()
next:
	for _, xi := range c.slotExperiments[n] {
		holdout, in := e.arm(xi, now)
		if !in {
			continue
		}
		id := c.experiments[xi].id
		for _, ex := range e.profile.exposures {
			if ex.Ruleset == c.id && ex.Experiment == id && ex.Epoch == epoch {
				continue next
			}
		}
		if len(e.profile.exposures) == maxExposures {
			e.profile.exposures = e.profile.exposures[1:]
		}
		e.profile.exposures = append(e.profile.exposures, Exposure{Ruleset: c.id, Experiment: id, Epoch: epoch, Holdout: holdout, Since: now})
	}
}

// reachGoal marks the exposures event ev is a goal of.
func (e *Engine) reachGoal(ev Event) {
	c := e.rules
	bit := goalBit(ev.Type)
	for i := range e.profile.exposures {
		ex := &e.profile.exposures[i]
		if ex.Ruleset != c.id || ex.Epoch != ev.At/c.epochMillis() || ev.At < ex.Since {
			continue
		}
		for _, x := range c.experiments {
			if x.id == ex.Experiment && x.goals&bit != 0 && (bit != goalClick || x.clickable[c.itemIndex[ev.Item]]) {
				ex.Goal = true
			}
		}
	}
}

// outcomes draws the noised outcome answers a report of epoch carries,
// records them in the ledger, and drops the exposures before epoch: one
// answer per experiment, about the latest of its exposures in the
// MaxOutcomeLag epochs before epoch.
func (e *Engine) outcomes(epoch, now int64) []Outcome {
	c := e.rules
	var out []Outcome
	for xi := range c.experiments {
		x := &c.experiments[xi]
		var last *Exposure
		for i := range e.profile.exposures {
			ex := &e.profile.exposures[i]
			if ex.Ruleset == c.id && ex.Experiment == x.id && ex.Epoch < epoch && ex.Epoch >= epoch-MaxOutcomeLag && (last == nil || ex.Epoch > last.Epoch) {
				last = ex
			}
		}
		if last == nil {
			continue
		}
		// The arm as drawn; the goal by randomized response (krr over two
		// values keeps it with probability e^ε/(e^ε+1)).
		goal := 0
		if last.Goal {
			goal = 1
		}
		v := e.random.krr(goal, 2, x.epsilon)
		if !last.Holdout {
			v += 2
		}
		out = append(out, Outcome{Experiment: x.id, Epoch: last.Epoch, Value: v, Epsilon: x.epsilon})
		e.profile.addLedger(LedgerEntry{Ruleset: c.id, Epoch: last.Epoch, Mechanism: MechanismKRR, Epsilon: x.epsilon, At: now, Experiment: x.id})
	}
	kept := e.profile.exposures[:0]
	for _, ex := range e.profile.exposures {
		if ex.Ruleset != c.id || ex.Epoch >= epoch {
			kept = append(kept, ex)
		}
	}
	e.profile.exposures = kept
	return out
}

// endArms keeps the active ruleset's arms only until the epoch holding
// now ends (Forget me), and drops every other ruleset's.
func (e *Engine) endArms(now int64) {
	c := e.rules
	kept := e.arms[:0]
	for _, a := range e.arms {
		if c != nil && now > 0 && a.Ruleset == c.id {
			end := (now/c.epochMillis() + 1) * c.epochMillis()
			if a.Until == 0 || a.Until > end {
				a.Until = end
			}
			kept = append(kept, a)
		}
	}
	e.arms = kept
}
