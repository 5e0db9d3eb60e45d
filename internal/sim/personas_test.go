package sim

import (
	"errors"
	"strings"
	"testing"
)

func TestExamplePersonas(t *testing.T) {
	tg := exampleTarget(t)
	ps := examplePersonas(t, tg)
	if len(ps.Personas) < 8 {
		t.Fatalf("%d personas, want at least 8", len(ps.Personas))
	}
	ids := map[string]bool{}
	for _, p := range ps.Personas {
		ids[p.ID] = true
	}
	for _, want := range []string{"weekend-hiker", "alpine-climber", "nordic-winter", "rainy-day-visitor", "new-visitor", "sharing-off", "gpc-camper"} {
		if !ids[want] {
			t.Errorf("testdata/personas.yaml has no persona %s", want)
		}
	}
}

func TestParsePersonasErrors(t *testing.T) {
	tg := exampleTarget(t)
	for _, tc := range []struct {
		name, src string
		want      []string // each error, as file:line:col: message (prefix)
	}{
		{"syntax", "start: [\n", []string{"p.yaml:1:8: "}},
		// All at once: the unknown field and the missing visits.
		{"unknown field", "start: 2026-12-05T09:00:00Z\npersonas:\n  - id: a\n    colour: red\n", []string{"p.yaml:3:5: persona \"a\" has no visits", "p.yaml:4:5: unknown field \"colour\""}},
		{"unknown context signal", "start: 2026-12-05T09:00:00Z\npersonas:\n  - id: a\n    visits:\n      - at: 0d\n        context: {mood: happy}\n", []string{"p.yaml:6:19: unknown field \"mood\""}},
		{"semantic", `start: yesterday
personas:
  - id: a
    visits:
      - at: 2 days
        events:
          - {type: view, item: no-such-item}
          - {item: chalk-bag, after: -5m}
        slots: [sidebar]
  - id: a
    weight: -1
    visits:
      - context: {now: 5}
`, []string{
			`p.yaml:1:8: start "yesterday" is not an RFC 3339 time`,
			`p.yaml:5:13: "2 days" is not a duration`,
			`p.yaml:7:32: item "no-such-item" is not in the ruleset's catalogue`,
			`p.yaml:8:13: event has no type`,
			`p.yaml:8:38: after must not be negative`,
			`p.yaml:9:17: slot "sidebar" is not in the ruleset`,
			`p.yaml:10:9: persona id "a" is already used at p.yaml:3:9`,
			`p.yaml:11:13: weight must be a number 0 or more`,
			`p.yaml:13:9: visit 1 has no at`,
			`p.yaml:13:24: context has no now in a personas file`,
		}},
		{"empty", "start: 2026-12-05T09:00:00Z\n", []string{"p.yaml:1:1: personas is missing or empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePersonas("p.yaml", []byte(tc.src), tg.Ruleset)
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %v (%T), want Errors", err, err)
			}
			if len(errs) != len(tc.want) {
				t.Fatalf("%d errors, want %d:\n%v", len(errs), len(tc.want), err)
			}
			for i, e := range errs {
				if !strings.HasPrefix(e.Error(), tc.want[i]) {
					t.Errorf("error %d = %q, want prefix %q", i, e.Error(), tc.want[i])
				}
			}
		})
	}
}
