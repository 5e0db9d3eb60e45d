package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/edgewise/edgewise/ruleset"
)

func init() {
	commands["lint"] = command{
		usage: "lint FILE...\n      Check rulesets written in YAML: syntax, fields and types, the JSON Schema, references and the\n      privacy policy. Prints each problem as FILE:LINE:COL with the line and a hint; exits 1 on any error.",
		run:   cmdLint,
	}
}

// lintFile is ruleset.Lint; tests replace it to produce warnings at will.
var lintFile = ruleset.Lint

func cmdLint(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		return errors.New("lint needs at least one FILE (see edgewise help)")
	}
	errs, warns := 0, 0
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			fmt.Fprint(stdout, ruleset.Format(ruleset.Diagnostic{File: name, Severity: ruleset.SeverityError, Message: "cannot read the file: " + err.Error()}))
			errs++
			continue
		}
		for _, d := range lintFile(name, src) {
			fmt.Fprint(stdout, ruleset.Format(d))
			if d.Severity == ruleset.SeverityWarning {
				warns++
			} else {
				errs++
			}
		}
	}
	fmt.Fprintf(stderr, "%s, %s in %s\n", count(errs, "error"), count(warns, "warning"), count(len(files), "file"))
	if errs > 0 {
		return exitCode(1)
	}
	return nil
}

// count writes "1 error", "2 errors".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
