package ruleset

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const badDir = "../testdata/rulesets/bad"

// badAbout says what each bad ruleset is about, as diagnostics its lint
// output must hold: "LINE:CATEGORY", with * for any line and | between
// categories either of which will do (a value out of range is the
// schema's finding until engine.Validate reports it as policy). Each
// entry must match a different diagnostic. This is what keeps a golden
// file from passing while no longer showing its problem.
var badAbout = map[string][]string{
	"syntax-error.yaml":        {"13:syntax"},
	"tab-indentation.yaml":     {"13:syntax"},
	"multiple-documents.yaml":  {"14:syntax"},
	"duplicate-key.yaml":       {"17:syntax"},
	"unknown-field.yaml":       {"6:schema", "16:schema", "20:schema", "24:schema"},
	"wrong-type.yaml":          {"4:schema", "13:schema", "19:schema", "20:schema"},
	"weight-out-of-range.yaml": {"19:schema", "22:schema"},
	"cap-out-of-range.yaml":    {"18:schema", "19:schema"},
	"duplicate-id.yaml":        {"13:duplicate", "16:duplicate"},
	"unknown-reference.yaml":   {"19:reference", "21:reference", "24:reference", "25:reference"},
	"undeclared-signal.yaml":   {"19:signal"},
	"retention-over-90.yaml":   {"9:policy|schema"},
	"sensitive-category.yaml":  {"13:policy", "14:policy", "15:policy", "16:policy", "17:policy"},
	"too-fine-location.yaml":   {"19:policy", "22:policy|schema"},
	"epsilon-over-4.yaml":      {"25:policy|schema"},
	"epoch-too-short.yaml":     {"24:policy"},
	"did-you-mean.yaml":        {"7:schema", "11:schema", "14:reference", "17:reference", "18:schema", "21:reference", "22:schema"},
	"unreadable-value.yaml":    {"10:schema"},
	"too-many-cohorts.yaml":    {"*:policy"},
	"contradictory-rule.yaml":  {"23:rule", "26:rule|schema"},
}

// TestBadRulesets compares the lint output of each bad ruleset with its
// golden .lint file (go test ./ruleset -update rewrites them) and checks
// that the output shows the problem the file is about.
func TestBadRulesets(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(badDir, "*.yaml"))
	if err != nil || len(files) < 12 {
		t.Fatalf("want at least 12 bad rulesets in %s, found %d (%v)", badDir, len(files), err)
	}
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(strings.TrimSuffix(base, ".yaml"), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// The path as `edgewise lint` prints it from the repository root.
			diags := Lint("testdata/rulesets/bad/"+base, src)
			got := formatAll(diags)
			golden := strings.TrimSuffix(f, ".yaml") + ".lint"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./ruleset -update)", err)
			}
			if got != string(want) {
				t.Errorf("lint output differs from %s (run go test ./ruleset -update if the change is right)\n--- got\n%s--- want\n%s", golden, got, want)
			}
			about, ok := badAbout[base]
			if !ok {
				t.Fatalf("badAbout has no entry for %s: say what it is about", base)
			}
			checkAbout(t, diags, about)
			checkPositions(t, src, diags)
		})
	}
	// A golden without its ruleset is stale.
	lints, _ := filepath.Glob(filepath.Join(badDir, "*.lint"))
	for _, l := range lints {
		if _, err := os.Stat(strings.TrimSuffix(l, ".lint") + ".yaml"); err != nil {
			if *update {
				os.Remove(l)
				continue
			}
			t.Errorf("%s has no .yaml beside it; remove it or run -update", l)
		}
	}
	for name := range badAbout {
		if _, err := os.Stat(filepath.Join(badDir, name)); err != nil {
			t.Errorf("badAbout names %s, which does not exist", name)
		}
	}
}

func checkAbout(t *testing.T, diags []Diagnostic, about []string) {
	t.Helper()
	used := make([]bool, len(diags))
	for _, a := range about {
		line, cats, _ := strings.Cut(a, ":")
		found := false
		for i, d := range diags {
			if used[i] || (line != "*" && line != strconv.Itoa(d.Line)) {
				continue
			}
			for _, c := range strings.Split(cats, "|") {
				if d.Category == c && d.Severity == SeverityError {
					used[i], found = true, true
					break
				}
			}
			if found {
				break
			}
		}
		if !found {
			t.Errorf("no %s error on line %s: the output does not show what this file is about", cats, line)
		}
	}
}

// checkPositions checks that every diagnostic points into the file and
// quotes the line it points at.
func checkPositions(t *testing.T, src []byte, diags []Diagnostic) {
	t.Helper()
	text := strings.TrimPrefix(string(src), "\ufeff")
	lines := strings.Split(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(text), "\n")
	for _, d := range diags {
		if d.Line < 1 || d.Line > len(lines) {
			t.Errorf("%s: line %d outside the file's %d lines", d.Message, d.Line, len(lines))
			continue
		}
		text := lines[d.Line-1]
		if d.LineText != text {
			t.Errorf("%s: LineText %q, line %d is %q", d.Message, d.LineText, d.Line, text)
		}
		if d.Column < 1 || d.Column > len([]rune(text))+1 {
			t.Errorf("%s: column %d outside line %d (%d characters)", d.Message, d.Column, d.Line, len([]rune(text)))
		}
		if d.Severity != SeverityError && d.Severity != SeverityWarning {
			t.Errorf("%s: severity %q", d.Message, d.Severity)
		}
		if d.Message == "" || d.Category == "" {
			t.Errorf("diagnostic without message or category: %+v", d)
		}
	}
}

func formatAll(diags []Diagnostic) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(Format(d))
	}
	return b.String()
}
