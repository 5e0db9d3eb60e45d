package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/ruleset"
)

func TestLintValidRuleset(t *testing.T) {
	out, errOut, code := runCLI(t, "lint", "../../ruleset/testdata/full.yaml", "../../examples/outdoor-shop.yaml")
	if code != 0 || out != "" || errOut != "0 errors, 0 warnings in 2 files\n" {
		t.Fatalf("code %d\nstdout %q\nstderr %q", code, out, errOut)
	}
}

// Linting every bad ruleset prints exactly their golden outputs (paths
// as given on the command line) and exits 1.
func TestLintBadRulesetsPrintGoldens(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/rulesets/bad/*.yaml")
	if len(files) < 12 {
		t.Fatalf("found %d bad rulesets", len(files))
	}
	var want strings.Builder
	for _, f := range files {
		golden, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".lint")
		if err != nil {
			t.Fatal(err)
		}
		want.WriteString(strings.ReplaceAll(string(golden), "testdata/rulesets/bad/", "../../testdata/rulesets/bad/"))
	}
	out, errOut, code := runCLI(t, append([]string{"lint"}, files...)...)
	if code != 1 {
		t.Errorf("code %d, want 1", code)
	}
	if out != want.String() {
		t.Errorf("stdout differs from the goldens:\n%s", out)
	}
	errs := len(regexp.MustCompile(`(?m)^\S+:\d+:\d+: error: `).FindAllString(out, -1))
	warns := len(regexp.MustCompile(`(?m)^\S+:\d+:\d+: warning: `).FindAllString(out, -1))
	if want := count(errs, "error") + ", " + count(warns, "warning") + " in " + count(len(files), "file") + "\n"; errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}

func TestLintExitCodes(t *testing.T) {
	defer func(f func(string, []byte) []ruleset.Diagnostic) { lintFile = f }(lintFile)
	var severities []string
	lintFile = func(name string, _ []byte) []ruleset.Diagnostic {
		var ds []ruleset.Diagnostic
		for _, s := range severities {
			ds = append(ds, ruleset.Diagnostic{File: name, Line: 1, Column: 1, Severity: s, Category: "rule", Message: "m", LineText: "id: x"})
		}
		return ds
	}
	file := "../../ruleset/testdata/full.yaml"
	for _, tc := range []struct {
		severities []string
		code       int
		summary    string
	}{
		{nil, 0, "0 errors, 0 warnings in 1 file\n"},
		{[]string{"warning", "warning"}, 0, "0 errors, 2 warnings in 1 file\n"},
		{[]string{"warning", "error"}, 1, "1 error, 1 warning in 1 file\n"},
	} {
		severities = tc.severities
		out, errOut, code := runCLI(t, "lint", file)
		if code != tc.code || errOut != tc.summary || strings.Count(out, "\n") != 3*len(tc.severities) {
			t.Errorf("%v: code %d, stderr %q, stdout %q", tc.severities, code, errOut, out)
		}
	}
}

func TestLintUnreadableFile(t *testing.T) {
	out, errOut, code := runCLI(t, "lint", "/nonexistent/rules.yaml", "../../ruleset/testdata/full.yaml")
	if code != 1 || out != "/nonexistent/rules.yaml: error: cannot read the file: no such file or directory\n" || errOut != "1 error, 0 warnings in 2 files\n" {
		t.Errorf("code %d\nstdout %q\nstderr %q", code, out, errOut)
	}
}

func TestLintUsageErrors(t *testing.T) {
	if _, errOut, code := runCLI(t, "lint"); code != 1 || !strings.HasPrefix(errOut, "edgewise: lint needs at least one FILE") {
		t.Errorf("no files: code %d, stderr %q", code, errOut)
	}
	if _, _, code := runCLI(t, "lint", "--frobnicate", "x.yaml"); code == 0 {
		t.Error("an unknown flag should fail")
	}
}

func TestSchemaCommand(t *testing.T) {
	want, err := os.ReadFile("../../schema/ruleset.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "schema")
	if code != 0 || errOut != "" || !bytes.Equal([]byte(out), want) {
		t.Errorf("schema: code %d, stderr %q, output equal to the checked-in file: %v", code, errOut, out == string(want))
	}
	if _, _, code := runCLI(t, "schema", "extra"); code != 1 {
		t.Errorf("schema with an argument: code %d", code)
	}
}

func TestHelpListsLintAndSchema(t *testing.T) {
	out, _, _ := runCLI(t, "help")
	for _, w := range []string{"edgewise lint FILE...", "edgewise schema"} {
		if !strings.Contains(out, w) {
			t.Errorf("help lacks %q", w)
		}
	}
}
