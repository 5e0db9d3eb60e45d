package lexicon_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/internal/abitest"
)

// The lexicon runs on every text of a ruleset, so lint's cost grows with
// it. These benchmarks validate 1,000-item catalogues as lint and build do:
//
//	go test ./engine/lexicon -run '^$' -bench Validate -benchmem -count 5

// BenchmarkValidateBench is the engine's 1,000-item benchmark catalogue
// (titles "Item N", sixteen tags), the same as engine's
// BenchmarkValidateFull.
func BenchmarkValidateBench(b *testing.B) {
	rs := abitest.BenchRuleset(1000)
	benchValidate(b, &rs)
}

// BenchmarkValidateShop is that catalogue with real shop titles and tags:
// the first 1,000 benign phrases of the test set as titles, and their
// words as tags, so every text is distinct and the matcher does real work.
func BenchmarkValidateShop(b *testing.B) {
	f, err := os.Open("../../testdata/lexicon/benign.txt")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var phrases []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if line := sc.Text(); line != "" && line[0] != '#' {
			_, phrase, _ := strings.Cut(line, " ")
			phrases = append(phrases, phrase)
		}
	}
	rs := abitest.BenchRuleset(1000)
	for i := range rs.Catalogue {
		p := phrases[i%len(phrases)]
		rs.Catalogue[i].Title = p
		rs.Catalogue[i].Tags = append(rs.Catalogue[i].Tags, strings.ReplaceAll(strings.ToLower(p), " ", "-"))
	}
	benchValidate(b, &rs)
}

func benchValidate(b *testing.B, rs *engine.Ruleset) {
	buildtime.Validate(rs) // the lexicon is parsed once per process
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buildtime.Validate(rs)
	}
}
