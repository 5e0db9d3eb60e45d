package lexicon

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The labelled test set in testdata/lexicon (its README says how it was
// written): phrases the lexicon must refuse, each with its category, and
// phrases it must let through.
const (
	testSetDir = "../../testdata/lexicon"
	// The goal, in per cent: at least this share of the sensitive phrases is
	// refused (recall), and at least this share of what is refused is
	// sensitive (precision).
	goalRecall, goalPrecision = 99.0, 99.0
)

type labelled struct {
	file     string
	line     int
	lang     string
	category string // a category key; "" for a benign phrase
	text     string
}

// readTestSet reads "lang category phrase" (sensitive) or "lang phrase"
// (benign) lines; # starts a comment line.
func readTestSet(t testing.TB, name string, sensitive bool) []labelled {
	data, err := os.ReadFile(filepath.Join(testSetDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var out []labelled
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		fields := 2
		if sensitive {
			fields = 3
		}
		parts := strings.SplitN(line, " ", fields)
		if len(parts) != fields || parts[fields-1] == "" {
			t.Fatalf("%s:%d: want %d space-separated fields: %q", name, i+1, fields, line)
		}
		l := labelled{file: name, line: i + 1, lang: parts[0], text: parts[fields-1]}
		if sensitive {
			l.category = parts[1]
			if categoryIndex(l.category) < 0 {
				t.Fatalf("%s:%d: unknown category %q", name, i+1, l.category)
			}
		}
		switch l.lang {
		case "en", "de", "fr", "es":
		default:
			t.Fatalf("%s:%d: unknown language %q", name, i+1, l.lang)
		}
		out = append(out, l)
	}
	return out
}

// A score is the lexicon's result on the test set.
type score struct {
	sensitive, benign int
	caught, falsePos  int
	rightCategory     int // caught with the labelled category among the hits
	missed, refused   []string
}

func (s score) recall() float64 { return 100 * float64(s.caught) / float64(s.sensitive) }
func (s score) precision() float64 {
	return 100 * float64(s.caught) / float64(s.caught+s.falsePos)
}

func scoreTestSet(t testing.TB) score {
	var s score
	for _, l := range readTestSet(t, "sensitive.txt", true) {
		s.sensitive++
		hits := Sensitive(l.text)
		if len(hits) == 0 {
			s.missed = append(s.missed, l.file+":"+strconv.Itoa(l.line)+": "+l.lang+" "+l.category+" "+l.text)
			continue
		}
		s.caught++
		want := sensitiveCategories[categoryIndex(l.category)].name
		for _, h := range hits {
			if h.Category == want {
				s.rightCategory++
				break
			}
		}
	}
	for _, l := range readTestSet(t, "benign.txt", false) {
		s.benign++
		if hits := Sensitive(l.text); len(hits) != 0 {
			s.falsePos++
			s.refused = append(s.refused, l.file+":"+strconv.Itoa(l.line)+": "+l.lang+" "+l.text+" → "+hits[0].Category+" ("+hits[0].Term+")")
		}
	}
	return s
}

// TestTestSetScore holds the lexicon to its goal on the labelled set:
//
//	go test ./engine/lexicon -run TestTestSetScore -v
//
// prints recall, precision and every miss and false positive.
func TestTestSetScore(t *testing.T) {
	s := scoreTestSet(t)
	if s.sensitive < 1000 || s.benign < 1000 {
		t.Errorf("the test set has %d sensitive and %d benign phrases, want at least 1,000 of each", s.sensitive, s.benign)
	}
	t.Logf("recall %.2f%% (%d of %d sensitive phrases refused), precision %.2f%% (%d benign of %d phrases refused), category right for %.2f%% of those caught",
		s.recall(), s.caught, s.sensitive, s.precision(), s.falsePos, s.benign, 100*float64(s.rightCategory)/float64(s.caught))
	for _, m := range s.missed {
		t.Logf("missed: %s", m)
	}
	for _, r := range s.refused {
		t.Logf("refused: %s", r)
	}
	if s.recall() < goalRecall {
		t.Errorf("recall %.2f%% is below the goal of %.0f%%", s.recall(), goalRecall)
	}
	if s.precision() < goalPrecision {
		t.Errorf("precision %.2f%% is below the goal of %.0f%%", s.precision(), goalPrecision)
	}
}
