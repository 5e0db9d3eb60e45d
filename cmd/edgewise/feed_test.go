package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/keyfile"
)

const feedFixtures = "../../testdata/feeds/"

// buildFeed runs feed build and fails the test unless it succeeds.
func buildFeed(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runCLI(t, append([]string{"feed", "build"}, args...)...)
	if code != 0 {
		t.Fatalf("feed build %q: code %d, stderr:\n%s", args, code, errOut)
	}
	return out
}

// Each fixture builds into a feed that verifies with the site's key and
// holds what the fixture says; inspect shows it.
func TestFeedBuildFixtures(t *testing.T) {
	keyPath, pubPath := keygen(t, "site")
	pub, err := keyfile.ReadPublic(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		args    []string
		summary []string // in build's output
		inspect []string // in inspect's output
		check   func(t *testing.T, f *engine.Feed)
	}{
		{
			name:    "weather",
			args:    []string{"weather", "../../examples/weather/open-meteo-world.json.gz", "--places", "../../examples/weather/places.csv"},
			summary: []string{": weather feed weather,", "issued        2026-12-04T12:00:00Z (the newest observation in the input)", "expires       2026-12-04T15:00:00Z (3h0m0s later)", "cells         12807 of 32768 geohash cells", "rows          12807 from 1 input"},
			inspect: []string{"feed weather (weather)", "\n  u09     rain            always                   Paris\n", "\n  FR      rain            always                   France\n"},
			check: func(t *testing.T, f *engine.Feed) {
				ci, _ := engine.CellIndex("u09")
				if f.Values[f.Cells[ci]-1] != "rain" {
					t.Errorf("u09 is %s", f.Values[f.Cells[ci]-1])
				}
			},
		},
		{
			name:    "holidays",
			args:    []string{"holidays", feedFixtures + "holidays.csv", "--issued", "2026-12-01T00:00:00Z"},
			summary: []string{": holidays feed holidays,", "values        public_holiday 24, school_break 2", "cells         none", "expires       2026-12-31T00:00:00Z (720h0m0s later)"},
			inspect: []string{"FR-IDF  school_break    2026-12-19 to 2027-01-03 Île-de-France", "JP      public_holiday  2026-12-31 to 2027-01-03 Japan"},
			check: func(t *testing.T, f *engine.Feed) {
				if len(f.Cells) != 0 || len(f.Places) != 26 {
					t.Errorf("%d cells, %d places", len(f.Cells), len(f.Places))
				}
			},
		},
		{
			name:    "stores",
			args:    []string{"custom", feedFixtures + "store-hours.csv", "--id", "stores", "--values", "open, closed", "--ttl", "2d"},
			summary: []string{": custom feed stores,", "values        open 10, closed 5", "(48h0m0s later)"},
			inspect: []string{"feed stores (custom)", "FR-PAC  closed          always                   Provence-Alpes-Côte d'Azur"},
			check: func(t *testing.T, f *engine.Feed) {
				if strings.Join(f.Values, ",") != "open,closed" {
					t.Errorf("values %q", f.Values)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ewf := filepath.Join(dir, tc.name+".ewf")
			// Flags before and after the inputs.
			out := buildFeed(t, append([]string{"--key", keyPath}, append(tc.args, "-o", ewf)...)...)
			want := append([]string{"built " + ewf + ": ", "signed with key " + engine.KeyIDOf(pub).String(), "gzipped (level 9)"}, tc.summary...)
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("build output lacks %q:\n%s", w, out)
				}
			}
			data, err := os.ReadFile(ewf)
			if err != nil {
				t.Fatal(err)
			}
			f, err := engine.DecodeFeed(data, pub)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Check(); err != nil {
				t.Fatal(err)
			}
			tc.check(t, f)
			out, errOut, code := runCLI(t, "feed", "inspect", ewf, "--key", pubPath)
			if code != 0 {
				t.Fatalf("feed inspect: code %d, %s\n%s", code, errOut, out)
			}
			for _, w := range append([]string{"format        EWFS version 1", "signature     valid (key id " + engine.KeyIDOf(pub).String() + ")", "(matches the payload)"}, tc.inspect...) {
				if !strings.Contains(out, w) {
					t.Errorf("inspect output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// Several inputs are read as one; an error names the file and line.
func TestFeedBuildSeveralInputs(t *testing.T) {
	keyPath, pubPath := keygen(t, "site")
	dir := t.TempDir()
	more := filepath.Join(dir, "more.csv")
	os.WriteFile(more, []byte("key,value,label\nIT-25,open,Lombardy\n"), 0o644)
	ewf := filepath.Join(dir, "stores.ewf")
	out := buildFeed(t, "custom", feedFixtures+"store-hours.csv", more, "--id", "stores", "--key", keyPath, "-o", ewf)
	if !strings.Contains(out, "rows          16 from 2 inputs") {
		t.Errorf("output:\n%s", out)
	}
	pub, _ := keyfile.ReadPublic(pubPath)
	data, _ := os.ReadFile(ewf)
	if f, err := engine.DecodeFeed(data, pub); err != nil || f.Places[len(f.Places)-1].Key == "" {
		t.Fatalf("%v", err)
	}
	os.WriteFile(more, []byte("key,value\nIT-25,open\nFR-IDF,closed\n"), 0o644)
	_, errOut, code := runCLI(t, "feed", "build", "custom", feedFixtures+"store-hours.csv", more, "--id", "stores", "--key", keyPath, "-o", ewf)
	want := more + ":3: FR-IDF is given twice on every date (also " + feedFixtures + "store-hours.csv:4)"
	if code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("code %d, stderr lacks %q:\n%s", code, want, errOut)
	}
}

// Bad input stops the build, naming the file and line, and writes nothing;
// a missing flag says what to pass.
func TestFeedBuildErrors(t *testing.T) {
	keyPath, _ := keygen(t, "site")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("key,value\nFR,rain\nDE,sunny\nES,Rain\n"), 0o644)
	ewf := filepath.Join(dir, "out.ewf")
	_, errOut, code := runCLI(t, "feed", "build", "weather", bad, "--key", keyPath, "-o", ewf)
	for _, w := range []string{
		bad + `:3: value "sunny" is not a weather category`,
		bad + `:4: value "Rain" is not a value`,
		"edgewise feed build: 2 problems; " + ewf + " was not written",
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
	if code != 1 {
		t.Errorf("code %d", code)
	}
	if _, err := os.Stat(ewf); err == nil {
		t.Error("a failed build wrote its output")
	}
	// The reader's own errors name the line too.
	os.WriteFile(bad, []byte("lat,lon,value\n48.8,2.3,rain\n91,2,rain\n"), 0o644)
	if _, errOut, code := runCLI(t, "feed", "build", "weather", bad, "--key", keyPath, "-o", ewf); code != 1 || !strings.Contains(errOut, bad+`:3: lat "91" is not a latitude`) {
		t.Errorf("code %d, stderr:\n%s", code, errOut)
	}
	good := feedFixtures + "store-hours.csv"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"custom", good, "--id", "s", "-o", ewf}, "feed build needs --key SITE.key"},
		{[]string{"custom", good, "--id", "s", "--key", keyPath}, "feed build needs -o FILE.ewf"},
		{[]string{"custom", "--key", keyPath, "-o", ewf}, "feed build needs KIND and at least one INPUT"},
		{[]string{"news", good, "--key", keyPath, "-o", ewf}, `kind "news" is not a feed kind`},
		{[]string{"custom", good, "--key", keyPath, "-o", ewf}, "a custom feed needs an id"},
		{[]string{"custom", good, "--id", "s", "--ttl", "soon", "--key", keyPath, "-o", ewf}, `--ttl "soon"`},
		{[]string{"custom", good, "--id", "s", "--issued", "today", "--key", keyPath, "-o", ewf}, `--issued "today" is not an RFC 3339 time`},
		{[]string{"custom", good, "--id", "s", "--format", "xml", "--key", keyPath, "-o", ewf}, `--format "xml"`},
		{[]string{"custom", good, "--id", "s", "--values", "open", "--key", keyPath, "-o", ewf}, good + `:6: value "closed" is not one of the feed's values (open)`},
		{[]string{"custom", filepath.Join(dir, "none.csv"), "--id", "s", "--key", keyPath, "-o", ewf}, "none.csv"},
	} {
		out, errOut, code := runCLI(t, append([]string{"feed", "build"}, tc.args...)...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: code %d, stderr lacks %q:\n%s%s", tc.args, code, tc.want, errOut, out)
		}
	}
	if _, errOut, code := runCLI(t, "feed"); code != 1 || !strings.Contains(errOut, "feed needs a subcommand") {
		t.Errorf("feed alone: %d %s", code, errOut)
	}
	// Warnings go with a successful build.
	lower := filepath.Join(dir, "lower.csv")
	os.WriteFile(lower, []byte("key,value\nfr,rain\n"), 0o644)
	out := buildFeed(t, "weather", lower, "--ttl", "48h", "--key", keyPath, "-o", ewf)
	for _, w := range []string{`warning: ` + lower + `:2: key "fr" is read as a geohash`, "did you mean the country FR?", "weather older than a day is stale"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// inspect checks the signature with --key: the right key, a wrong one, a
// changed file.
func TestFeedInspectVerifies(t *testing.T) {
	keyPath, pubPath := keygen(t, "site")
	_, otherPub := keygen(t, "other")
	dir := t.TempDir()
	ewf := filepath.Join(dir, "holidays.ewf")
	buildFeed(t, "holidays", feedFixtures+"holidays.csv", "--key", keyPath, "-o", ewf)
	data, _ := os.ReadFile(ewf)
	changed := append([]byte(nil), data...)
	changed[engine.EWRHeaderSize+10] ^= 1
	changedPath := filepath.Join(dir, "changed.ewf")
	os.WriteFile(changedPath, changed, 0o644)
	for _, tc := range []struct {
		name, file, key string
		code            int
		want            string
	}{
		{"right key", ewf, pubPath, 0, "signature     valid (key id "},
		{"no key", ewf, "", 0, "signature     not checked (pass --key SITE.pub)"},
		{"wrong key", ewf, otherPub, 1, "signature     INVALID: the feed is signed with key "},
		{"changed", changedPath, pubPath, 1, "DOES NOT MATCH the payload"},
	} {
		args := []string{"feed", "inspect", tc.file}
		if tc.key != "" {
			args = append(args, "--key", tc.key)
		}
		out, errOut, code := runCLI(t, args...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%s: code %d (want %d), output lacks %q:\n%s%s", tc.name, code, tc.code, tc.want, out, errOut)
		}
	}
	if _, errOut, code := runCLI(t, "feed", "inspect", filepath.Join(dir, "missing.ewf")); code != 1 || !strings.Contains(errOut, "missing.ewf") {
		t.Errorf("missing file: %d %s", code, errOut)
	}
	// A ruleset is not a feed.
	ewr := filepath.Join(dir, "rules.ewr")
	if _, errOut, code := runCLI(t, "build", shopJSON, "--key", keyPath, "-o", ewr); code != 0 {
		t.Fatal(errOut)
	}
	if _, errOut, code := runCLI(t, "feed", "inspect", ewr); code != 1 || !strings.Contains(errOut, ewr+": ") {
		t.Errorf("a ruleset: %d %s", code, errOut)
	}
}

// goldenFeed is a tiny custom feed: a country, a subdivision on some
// dates, a labelled cell and a point.
const goldenFeed = `key,lat,lon,value,from,to,label
# A tiny custom feed for the inspect golden.
FR,,,open,,,France
FR-IDF,,,closed,2026-12-24,2026-12-26,Île-de-France
u09,,,closed,,,Paris
,45.76,4.84,open,,,
`

// goldenKey writes a fixed key pair, so that the golden's key id, hash and
// file size stay put.
func goldenKey(t *testing.T, dir string) (keyPath, pubPath string) {
	t.Helper()
	keyPath = filepath.Join(dir, "golden.key")
	pubPath, err := keyfile.Write(keyPath, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)), false)
	if err != nil {
		t.Fatal(err)
	}
	return keyPath, pubPath
}

// TestFeedInspectGolden holds feed inspect's output for a small feed to
// testdata/feed-inspect.golden; go test ./cmd/edgewise -update rewrites it.
func TestFeedInspectGolden(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath := goldenKey(t, dir)
	src := filepath.Join(dir, "stores.csv")
	os.WriteFile(src, []byte(goldenFeed), 0o644)
	ewf := filepath.Join(dir, "stores.ewf")
	buildFeed(t, "custom", src, "--id", "stores", "--values", "open,closed,soon", "--issued", "2026-12-01T08:00:00Z", "--ttl", "30d", "--key", keyPath, "-o", ewf)
	out, errOut, code := runCLI(t, "feed", "inspect", ewf, "--key", pubPath, "--now", "2026-12-01T12:30:00Z")
	if code != 0 {
		t.Fatalf("feed inspect: code %d, %s", code, errOut)
	}
	out = strings.ReplaceAll(out, dir+string(filepath.Separator), "")
	if !checkGolden(t, filepath.Join("testdata", "feed-inspect.golden"), out, "feed inspect") {
		return
	}
	// What the golden must say, so that -update cannot bless a wrong answer.
	for _, w := range []string{
		"signature     valid (key id ",
		"feed stores (custom)",
		"issued        2026-12-01T08:00:00Z",
		"expires       2026-12-31T08:00:00Z (720h0m0s later): holds for 715h30m0s more",
		"values        open (1 cell, 1 place), closed (1 cell, 2 places), soon (0 cells, 0 places)",
		"cells         2 of 32768 geohash cells",
		"  u09     closed          always                   Paris\n",
		"  FR-IDF  closed          2026-12-24 to 2026-12-26 Île-de-France\n",
		"  FR      open            always                   France\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	// Later, it has expired.
	out, _, _ = runCLI(t, "feed", "inspect", ewf, "--now", "2027-01-01T00:00:00Z")
	if !strings.Contains(out, "(720h0m0s later): expired") {
		t.Errorf("after expiry:\n%s", out)
	}
}

// --json prints the feed with value names, dates and cells.
func TestFeedInspectJSON(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath := goldenKey(t, dir)
	src := filepath.Join(dir, "stores.csv")
	os.WriteFile(src, []byte(goldenFeed), 0o644)
	ewf := filepath.Join(dir, "stores.ewf")
	buildFeed(t, "custom", src, "--id", "stores", "--issued", "2026-12-01T08:00:00Z", "--key", keyPath, "-o", ewf)
	out, errOut, code := runCLI(t, "feed", "inspect", "--json", ewf, "--key", pubPath, "--now", "2026-12-03T00:00:00Z")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var got feedJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	f := got.Feed
	if f == nil || f.ID != "stores" || f.Issued != "2026-12-01T08:00:00Z" || f.Expires != "2026-12-02T08:00:00Z" || !f.Expired ||
		!got.HashMatches || !strings.HasPrefix(got.Signature, "valid") {
		t.Fatalf("%+v\n%s", got, out)
	}
	if len(f.Cells) != 2 || f.Cells["u09"] != "closed" || strings.Join(f.Values, ",") != "closed,open" {
		t.Errorf("cells %v values %q", f.Cells, f.Values)
	}
	idf := f.Places[1]
	if idf.Key != "FR-IDF" || idf.Value != "closed" || idf.From != "2026-12-24" || idf.To != "2026-12-26" || idf.Label != "Île-de-France" {
		t.Errorf("FR-IDF %+v", idf)
	}
}
