package engine

// The policy guards: the part of Validate the device runs itself when it
// loads a ruleset. They are the privacy policy's numeric limits, the
// promises a person is made whatever the site's ruleset says: how long
// events are kept (retention_days, max_events), how coarse a region is
// (boxes of at least a degree, geohashes of at most 3 characters), how
// large a reported cohort is (min_k, at most MaxCohorts cohorts over at most
// MaxCohortDimensions dimensions), and how much a report says (epsilon, the
// epoch).
//
// Everything else Validate checks (the schema, references, text, warnings,
// and the policy's text checks: sensitive categories, coordinates and
// postcodes in text) ran where the ruleset was built and signed, and the
// signature vouches for it (RATIONALE.md, "Why does the device check only
// the policy's numbers?"). buildIndexes indexes any ruleset without
// panicking, so a signed file that somehow skipped that still cannot break
// the engine. The guards' problems are Validate's own, in its words: both
// run the same validator methods.

// policyGuards returns the problems the policy guards find, in document
// order.
func policyGuards(rs *Ruleset) []Problem {
	v := &validator{rs: rs}
	v.profile()
	for i, s := range rs.Signals {
		p := index("$.signals", i)
		v.retention(p, name("signal", s.ID, p), s.RetentionDays)
	}
	for i, r := range rs.Regions {
		p := index("$.regions", i)
		v.areas(p, name("region", r.ID, p), r)
	}
	v.cohortCount()
	v.reporting()
	v.experimentPolicy()
	return v.ps
}
