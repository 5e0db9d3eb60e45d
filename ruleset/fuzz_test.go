package ruleset

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bytes to the YAML front end: it must never
// panic, only report errors, and every diagnostic must point into the
// file. It runs the schema check too, and Lint with engine.Validate.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(badDir, "*.yaml"))
	seeds = append(seeds, "testdata/full.yaml")
	for _, s := range seeds {
		src, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, s := range []string{
		"", "id: x\n", "- a\n", "a: &a [*a]\n", "<<: {id: x}\n", "id: !!str 5\n",
		"catalogue: [{id: a, tags: [x, y}\n", "profile: {half_life_days: .nan, max_events: 1e99}\n",
		"\ufeffid: x\r\nversion: '1'\r\n", "? [a]\n: b\n", "id: 'it''s'\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		start := time.Now()
		defer func() {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
		}()
		rs, diags := Parse("f.yaml", src)
		checkPositions(t, src, diags)
		for _, d := range diags {
			if d.Severity != SeverityError {
				t.Errorf("Parse reported a %s: %s", d.Severity, d.Message)
			}
		}
		if rs == nil && len(diags) == 0 {
			t.Fatal("no ruleset and no error")
		}
		checkPositions(t, src, lint("f.yaml", src, nil))
		checkPositions(t, src, Lint("f.yaml", src))
	})
}
