package collector

// Outcome answers: experiments' noised answers about earlier epochs, which
// ride with cohort reports. A report's answers are checked here and
// counted with it, whole or not at all (store.add).

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/lift"
)

// experimentsOf is a ruleset's experiments, in its order, with their
// defaults applied. It refuses what the collector could not count or
// analyse: more than engine.MaxExperiments (the intake's body size is
// set for that many), an experiment without an id or with one given
// twice, a holdout share outside (0, 1), an ε or min_lift that is not a
// positive number.
func experimentsOf(rs *engine.Ruleset) ([]engine.Experiment, error) {
	if n := len(rs.Experiments); n > engine.MaxExperiments {
		return nil, fmt.Errorf("%d experiments, more than %d", n, engine.MaxExperiments)
	}
	var out []engine.Experiment
	for i, x := range rs.Experiments {
		positive := func(v float64) bool { return v >= 0 && !math.IsInf(v, 1) } // 0 is the default
		switch {
		case x.ID == "":
			return nil, fmt.Errorf("experiment %d has no id", i+1)
		case slices.ContainsFunc(out, func(y engine.Experiment) bool { return y.ID == x.ID }):
			return nil, fmt.Errorf("experiment %q is given twice", x.ID)
		case !(x.Holdout > 0 && x.Holdout < 1):
			return nil, fmt.Errorf("experiment %q: holdout must be in (0, 1)", x.ID)
		case !positive(x.Epsilon), !positive(x.MinLift):
			return nil, fmt.Errorf("experiment %q: epsilon and min_lift must be positive numbers", x.ID)
		}
		x = x.WithDefaults()
		x.Slots, x.Rules, x.Goals = slices.Clone(x.Slots), slices.Clone(x.Rules), slices.Clone(x.Goals)
		out = append(out, x)
	}
	return out, nil
}

// outcomesOf checks a report's outcome answers against the ruleset's
// experiments and returns them to count: each names one of them, at most
// once, at its ε, with a value in [0, 4), about one of the
// engine.MaxOutcomeLag epochs before the report's. Errors name the answer
// by its place in the body; the only id they quote is the ruleset's own.
func (s *set) outcomesOf(answers []OutcomeAnswer, epoch int64) ([]outcome, error) {
	if len(answers) == 0 {
		return nil, nil
	}
	out := make([]outcome, 0, len(answers))
	seen := make([]bool, len(s.experiments))
	for i, a := range answers {
		at := fmt.Sprintf("outcomes[%d]", i)
		xi := slices.IndexFunc(s.experiments, func(x engine.Experiment) bool { return x.ID == a.Experiment })
		if xi < 0 {
			return nil, bad("%s.experiment is not one of this ruleset's experiments", at)
		}
		x := &s.experiments[xi]
		if seen[xi] {
			return nil, bad("%s is a second answer for experiment %q; a report has one per experiment", at, x.ID)
		}
		seen[xi] = true
		switch first, last := epoch-engine.MaxOutcomeLag, epoch-1; {
		case a.Epsilon == nil:
			return nil, bad("%s.epsilon is required", at)
		case math.Abs(*a.Epsilon-x.Epsilon) > 1e-9:
			return nil, bad("%s.epsilon must be %g for experiment %q", at, x.Epsilon, x.ID)
		case a.Epoch == nil:
			return nil, bad("%s.epoch is required", at)
		case *a.Epoch < first || *a.Epoch > last:
			return nil, bad("%s.epoch must be in [%d, %d]: an answer is about one of the %d epochs before the report's", at, first, last, engine.MaxOutcomeLag)
		case a.Value == nil:
			return nil, bad("%s.value is required", at)
		case *a.Value < 0 || *a.Value >= lift.Categories:
			return nil, bad("%s.value must be in [0, %d)", at, lift.Categories)
		}
		out = append(out, outcome{experiment: x.ID, epoch: *a.Epoch, value: int32(*a.Value)})
	}
	return out, nil
}
