package lexicon_test

import (
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/internal/abitest"
)

// The terms issue 14 planted as a product title and as a tag: each passed
// lint, and the four benign ones were refused.
var (
	issue14Sensitive = []string{
		"AA meetings", "alcoholics anonymous", "narcotics anonymous",
		"diabetis", "diabeetus", "pregnacy", "preggo", "mothers-to-be", "expecting mothers", "plan b", "condoms", "glucose monitor",
		"ramadan", "grindr", "pride flags", "drag queen",
		"loan shark", "cash advance", "bail", "bail bonds", "parole", "Schuldnerberatung",
		"ancestry test", "nappies", "diapers",
		"trump 2028", "black lives matter", "immigrants", "refugees", "afro hair care", "aids",
		"hivtest", "gaydating", "ivfkit",
		"fingerprint scanner",
	}
	issue14Benign = []string{"therapist chair", "Church Stretton", "Kinder Scout", "Gay Head lighthouse"}
)

// plant puts a title and a tag in the first item of a valid ruleset.
func plant(title, tag string) *engine.Ruleset {
	rs := abitest.BenchRuleset(2)
	rs.Catalogue[0].Title = title
	rs.Catalogue[0].Tags = []string{tag}
	return &rs
}

// slug writes text the way shops write tags: "AA meetings" → "aa-meetings".
func slug(text string) string {
	return strings.ReplaceAll(strings.ToLower(text), " ", "-")
}

func policyProblemsAt(ps []engine.Problem, path string) int {
	n := 0
	for _, p := range ps {
		if p.Path == path && p.Category == engine.CategoryPolicy {
			n++
		}
	}
	return n
}

func TestIssue14SensitiveRefused(t *testing.T) {
	for _, text := range issue14Sensitive {
		for _, tag := range []string{text, slug(text)} {
			ps := buildtime.Validate(plant(text, tag))
			if policyProblemsAt(ps, "$.catalogue[0].title") == 0 {
				t.Errorf("title %q passes lint", text)
			}
			if policyProblemsAt(ps, "$.catalogue[0].tags[0]") == 0 {
				t.Errorf("tag %q passes lint", tag)
			}
		}
	}
}

func TestIssue14BenignPass(t *testing.T) {
	for _, text := range issue14Benign {
		for _, tag := range []string{text, slug(text)} {
			for _, p := range buildtime.Validate(plant(text, tag)) {
				t.Errorf("title and tag %q: %s: %s", tag, p.Path, p.Message)
			}
		}
	}
}
