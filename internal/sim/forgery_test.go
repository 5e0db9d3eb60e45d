package sim

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/collector"
)

// The adversary: forged reports naming a full cohort nobody is in, beside
// the first epoch's real ones, under the collector's publication rule.
// The margin makes it take more than the margin's worth of reports, at a
// price in real cohorts that the audit states.
func TestForgeryAgainstAPopulation(t *testing.T) {
	p := population(t)
	f := p.Forgery
	if f == nil {
		t.Fatal("no forgery figures, though the example leaves full cohorts empty")
	}
	if got := p.Cohorts; !strings.Contains(f.Target, "/") || trueSize(got, f.Target) != 0 {
		t.Errorf("the target %s is not an empty full cohort", f.Target)
	}
	if f.Margin != collector.DefaultForgeryMargin || f.Weight < 10 {
		t.Errorf("margin %d, weight %.2f", f.Margin, f.Weight)
	}
	if f.NeededWithoutMargin < 1 || f.Needed <= f.Margin || f.Needed <= f.NeededWithoutMargin {
		t.Errorf("needed %d with the margin, %d without; want more than the margin of %d, and more than without it", f.Needed, f.NeededWithoutMargin, f.Margin)
	}
	// The adversary's own figure agrees with the bound either side of it.
	tg := exampleTarget(t)
	for _, forged := range []int{f.Needed - 1, f.Needed} {
		q, err := runner.Population(context.Background(), tg, examplePersonas(t, tg), PopulationOptions{Visitors: 1200, Seed: 7, Epochs: 1, Forged: forged, Experiments: noRun})
		if err != nil {
			t.Fatal(err)
		}
		g := q.Forgery
		if g.Forged != forged || g.TargetPublished != (forged >= f.Needed) || (g.TargetPublished && g.TargetSize < int64(p.MinK)) {
			t.Errorf("%d forged reports: %+v (the bound is %d)", forged, g, f.Needed)
		}
		var text, md bytes.Buffer
		if err := q.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text.String(), g.Outcome()) || !strings.Contains(text.String(), g.Summary()) {
			t.Errorf("the text output does not say what the forged reports did:\n%s", text.String())
		}
		if err := NewAudit(tg, nil, q).WriteMarkdown(&md); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(md.String(), "## Forged reports") || !strings.Contains(md.String(), g.Outcome()) {
			t.Error("the audit has no forged-reports section")
		}
	}
}

func trueSize(stats []CohortStat, id string) int {
	for _, c := range stats {
		if c.ID == id {
			return c.True
		}
	}
	return -1
}

func TestFewest(t *testing.T) {
	for _, want := range []int{0, 1, 2, 3, 60, 97, 1000, 12345} {
		if got := fewest(func(k int) bool { return k >= want }); got != want {
			t.Errorf("fewest = %d, want %d", got, want)
		}
	}
	if got := fewest(func(int) bool { return false }); got != -1 {
		t.Errorf("never: %d, want -1", got)
	}
}
