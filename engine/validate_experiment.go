package engine

import (
	"math"
	"slices"
	"strings"
)

// Experiments.

// experimentPolicy checks the privacy policy's number of the experiments:
// the ε all outcome answers of an epoch spend together. The device runs it
// too (guard.go); the rest, each answer's ε included, is checked where the
// ruleset is built and signed.
func (v *validator) experimentPolicy() {
	total := 0.0
	for _, x := range v.rs.Experiments {
		if e := x.Epsilon; e > 0 {
			total += e
		} else {
			total += DefaultOutcomeEpsilon // as the engine takes it
		}
	}
	if !(total <= MaxOutcomeEpsilon+1e-9) {
		v.err("$.experiments", CategoryPolicy, "the experiments' outcome answers together spend ε "+ftoa(total)+" an epoch; the privacy policy allows at most "+itoa(MaxOutcomeEpsilon),
			"run fewer experiments at once, or lower their epsilon")
	}
}

// experiments checks the rest of the experiments, at build time.
func (v *validator) experiments() {
	xs := v.rs.Experiments
	if len(xs) == 0 {
		return
	}
	// An answer's ε above the policy's ceiling breaks the epoch's total,
	// which experimentPolicy reports, as the device does.
	if len(xs) > MaxExperiments {
		v.err("$.experiments", CategorySchema, "the ruleset has "+itoa(len(xs))+" experiments; at most "+itoa(MaxExperiments)+" are allowed", "end some experiments, or merge them")
	}
	for i, x := range xs {
		p := index("$.experiments", i) + ".epsilon"
		switch e := x.Epsilon; {
		case e == 0:
		case !(e > 0) || math.IsInf(e, 0):
			v.err(p, CategorySchema, name("experiment", x.ID, index("$.experiments", i))+" epsilon is "+ftoa(e)+"; it must be more than 0", "leave it out for the default of "+itoa(DefaultOutcomeEpsilon))
		}
	}
	v.experimentPolicy()
	ids := map[string]int{}
	for i, x := range xs {
		if _, ok := ids[x.ID]; !ok {
			ids[x.ID] = i
		}
	}
	if v.history == nil {
		v.err("$.experiments", CategorySignal, "experiments need the history signal: their goals are events the page records with observe", "declare the history signal under signals, with its purpose")
	}
	rules := map[string]bool{}
	for _, r := range v.rs.Rules {
		rules[r.ID] = true
	}
	seen := map[string]string{}
	for i, x := range xs {
		p := index("$.experiments", i)
		who := name("experiment", x.ID, p)
		v.checkID(p+".id", who, x.ID, false)
		v.checkDup(p+".id", "experiment", x.ID, seen)
		v.checkPolicyText(p+".id", idWho("experiment", x.ID), "", x.ID)
		v.checkText(p+".description", who+" description", x.Description, 0, maxDescriptionChars)
		v.checkPolicyText(p+".description", who, "description", x.Description)
		if len(x.Slots) == 0 {
			v.err(p+".slots", CategorySchema, who+" covers no slots", "list the slots whose picks it compares")
		}
		for k, id := range x.Slots {
			sp := index(p+".slots", k)
			if _, ok := v.slots[id]; !ok {
				v.err(sp, CategoryReference, who+" names slot "+quote(id)+", which is not declared under slots", v.meant(id, keysOf(v.slots), "fix the slot id"))
			} else if slices.Contains(x.Slots[:k], id) {
				v.warn(sp, CategoryDuplicate, who+" lists slot "+quote(id)+" twice", "remove the second one")
			}
		}
		if !(x.Holdout > 0 && x.Holdout < 1) {
			v.err(p+".holdout", CategorySchema, who+" holdout is "+ftoa(x.Holdout)+"; it must be a share between 0 and 1", "set holdout, such as 0.1 for one person in ten in the comparison group")
		} else if x.Holdout < 0.05 || x.Holdout > 0.5 {
			v.warn(p+".holdout", CategoryRule, who+" holdout is "+ftoa(x.Holdout)+"; outcome answers are noised, so a comparison group under 5% or above half needs far more reports to find a lift",
				"run edgewise simulate to see the weeks it needs; 0.1 to 0.5 is usual")
		}
		switch x.Control {
		case "", ControlFallback:
			if len(x.Rules) > 0 {
				v.err(p+".rules", CategorySchema, who+" lists rules, but its comparison group sees the slots' fallback items", "set control to "+ControlWithoutRules+" to compare without these rules, or remove rules")
			}
		case ControlWithoutRules:
			if len(x.Rules) == 0 {
				v.err(p+".rules", CategorySchema, who+" compares without rules but lists none", "list the ids of the rules the comparison group goes without")
			}
		default:
			v.checkEnum(p+".control", who+" control", x.Control, []string{ControlFallback, ControlWithoutRules})
		}
		for k, id := range x.Rules {
			if !rules[id] {
				v.err(index(p+".rules", k), CategoryReference, who+" names rule "+quote(id)+", which is not declared under rules", v.meant(id, rules, "fix the rule id"))
			}
		}
		if len(x.Goals) == 0 {
			v.err(p+".goals", CategorySchema, who+" has no goals", "list what counts as an outcome: "+strings.Join(ExperimentGoals, ", "))
		}
		for k, g := range x.Goals {
			gp := index(p+".goals", k)
			if !slices.Contains(ExperimentGoals, g) {
				v.checkEnum(gp, who+" goal", g, ExperimentGoals)
			} else if slices.Contains(x.Goals[:k], g) {
				v.warn(gp, CategoryDuplicate, who+" lists goal "+quote(g)+" twice", "remove the second one")
			}
		}
		if x.Within != "" {
			j, ok := ids[x.Within]
			switch {
			case !ok:
				v.err(p+".within", CategoryReference, who+" runs within experiment "+quote(x.Within)+", which is not declared under experiments", v.meant(x.Within, keysOf(ids), "fix the experiment id"))
			case j == i:
				v.err(p+".within", CategoryReference, who+" runs within itself", "name another experiment, or remove within")
			case xs[j].Within != "":
				v.err(p+".within", CategorySchema, who+" runs within experiment "+quote(x.Within)+", which runs within another; experiments nest one level deep", "name the outer experiment")
			}
		}
		if m := x.MinLift; m != 0 && !(m > 0 && m <= 10) {
			v.err(p+".min_lift", CategorySchema, who+" min_lift is "+ftoa(m)+"; it must be a relative lift above 0, such as 0.1 for 10%", "leave it out for the default of 10%")
		}
		// Two experiments covering one slot must nest: otherwise a person
		// could be in one's comparison group and the other's personalized
		// arm there at once, and neither would measure what it says.
		for j, o := range xs[:i] {
			if x.Within == o.ID || o.Within == x.ID {
				continue
			}
			for _, id := range x.Slots {
				if slices.Contains(o.Slots, id) {
					v.err(p+".slots", CategoryRule, who+" and experiment "+quote(o.ID)+" (experiments["+itoa(j)+"]) both cover slot "+quote(id)+", and neither runs within the other",
						"give them different slots, or set within on one to run it inside the other's personalized arm")
					break
				}
			}
		}
	}
}
