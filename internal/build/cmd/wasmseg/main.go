// Command wasmseg is a build step: it merges the adjacent active data
// segments of a linked WebAssembly module (see package wasmseg). The
// Makefile runs it on the module `go build` links, writing
// dist/edgewise.wasm:
//
//	go run ./internal/build/cmd/wasmseg [-gap N] -o OUT IN
//
// OUT is written through a temporary file and a rename, so a failed run
// never leaves a half-written or unmerged OUT behind.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edgewise/edgewise/internal/build/wasmseg"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "wasmseg:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("wasmseg", flag.ContinueOnError)
	out := fs.String("o", "", "write the merged module to `file` (required)")
	gap := fs.Int("gap", wasmseg.DefaultMaxGap, "largest gap of zeros, in bytes, to fill between two segments")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("usage: wasmseg [-gap N] -o OUT IN")
	}
	in := fs.Arg(0)
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	res, err := wasmseg.Run(data, wasmseg.Options{MaxGap: *gap})
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".wasmseg-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(res.Module); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	note := ""
	if res.Unchanged != "" {
		note = " (left unchanged: " + res.Unchanged + ")"
	}
	fmt.Printf("wasmseg: %s: %d -> %d data segments, %d -> %d bytes%s\n", *out, res.SegmentsBefore, res.SegmentsAfter, len(data), len(res.Module), note)
	return nil
}
