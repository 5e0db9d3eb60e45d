package main

import (
	"errors"
	"flag"
	"io"

	"github.com/edgewise/edgewise/ruleset"
)

func init() {
	commands["schema"] = command{
		usage: "schema\n      Print the JSON Schema for rulesets (the same as schema/ruleset.schema.json), for editors and CI.",
		run:   cmdSchema,
	}
}

func cmdSchema(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("schema", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("schema takes no arguments")
	}
	_, err := stdout.Write(ruleset.Schema())
	return err
}
