package engine

// Severity says whether a problem stops a ruleset (error) or only deserves a
// look (warning). The engine refuses rulesets with errors; lint shows both.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem categories, stable for tests and tooling.
const (
	CategorySchema    = "schema"    // a value of the wrong shape or out of range
	CategoryReference = "reference" // an unknown item, tag, slot, region or signal
	CategoryDuplicate = "duplicate" // an id defined twice
	CategorySignal    = "signal"    // a rule uses a signal the ruleset does not declare
	CategoryRule      = "rule"      // a contradictory or unreachable rule
	CategoryPolicy    = "policy"    // the privacy policy: sensitive categories, precision, retention, cohort size
)

// Problem is one thing wrong with a ruleset. Path locates it in the ruleset's
// YAML/JSON tree in JSONPath form ($.catalogue[3].tags[1]), so the YAML front
// end can turn it into FILE:LINE:COL and the engine can name it without a file.
type Problem struct {
	Path     string   `json:"path"`
	Severity Severity `json:"severity"`
	Category string   `json:"category"`
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"`
}

// Validate checks a ruleset against the format's rules and the privacy
// policy, and returns every problem found, in document order. Lint, build
// and the engine's load all call it, so all three refuse the same things.
func Validate(rs *Ruleset) []Problem {
	var ps []Problem
	// The full set of checks is being assembled; see RATIONALE.md "Why one validator?".
	return ps
}
