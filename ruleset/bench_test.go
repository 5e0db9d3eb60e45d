package ruleset

import (
	"fmt"
	"strings"
	"testing"
)

// bigRuleset writes a valid ruleset with n catalogue items in YAML.
func bigRuleset(n int) []byte {
	var b strings.Builder
	b.WriteString(`id: big-shop
version: "1"
signals:
  - {id: history, kind: history, purpose: Recommend gear related to what you looked at., retention_days: 30}
  - {id: region, kind: location, purpose: Show gear that suits the climate of your region., retention_days: 0}
  - {id: weather, kind: weather, purpose: Suggest gear for today's weather where you are., retention_days: 0}
regions:
  - {id: northwest, name: Pacific Northwest, subdivisions: [US-WA, US-OR]}
  - {id: nordics, name: Nordic countries, countries: [SE, "NO", FI, DK]}
catalogue:
`)
	for i := range n {
		fmt.Fprintf(&b, "  - id: item-%d\n    title: Item number %d\n    tags: [topic-%d, topic-%d, style-%d]\n", i, i, i%50, (i*7+1)%50, i%5)
		if i%10 == 0 {
			fmt.Fprintf(&b, "    campaign: campaign-%d\n    regions: [northwest]\n    attributes: {price: \"%d.00\", image: /img/%d.jpg}\n", (i/10)%4, 10+i%90, i)
		}
	}
	b.WriteString("slots:\n  - {id: everything, limit: 6, fallback: [item-0, item-1, item-2]}\n")
	for s := range 5 {
		fmt.Fprintf(&b, "  - id: slot-%d\n    limit: 4\n    candidates: {tags: [topic-%d, topic-%d]}\n    fallback: [item-%d, item-%d]\n", s, s, s+10, s, s+100)
	}
	b.WriteString("rules:\n")
	for r := range 20 {
		fmt.Fprintf(&b, "  - id: rule-%d\n    when: {weather: [rain], region: [northwest]}\n    items: {tags: [topic-%d]}\n    boost: 1.5\n", r, r)
	}
	b.WriteString("caps:\n  - {id: campaigns, items: {campaigns: [campaign-0, campaign-1]}, per_day: 5}\n")
	return []byte(b.String())
}

func TestBigRulesetLintsClean(t *testing.T) {
	src := bigRuleset(1000)
	for _, d := range Lint("big.yaml", src) {
		t.Errorf("%s", Format(d))
	}
}

// BenchmarkLint lints a 1,000-item ruleset: parse, decode, schema and
// engine.Validate.
func BenchmarkLint(b *testing.B) {
	src := bigRuleset(1000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if diags := Lint("big.yaml", src); len(diags) > 0 {
			b.Fatal(Format(diags[0]))
		}
	}
}

// BenchmarkParse is the YAML front end alone on the same ruleset.
func BenchmarkParse(b *testing.B) {
	src := bigRuleset(1000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, diags := Parse("big.yaml", src); len(diags) > 0 {
			b.Fatal(Format(diags[0]))
		}
	}
}
