// Command bin2go writes a file's bytes as a Go string constant (see
// package bin2go). go generate runs it in engine/geo:
//
//	go run ./internal/build/cmd/bin2go -pkg PKG -name NAME -o OUT.go IN
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edgewise/edgewise/internal/build/bin2go"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bin2go:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("bin2go", flag.ContinueOnError)
	out := fs.String("o", "", "write the Go file to `file` (required)")
	pkg := fs.String("pkg", "", "the Go file's package `name` (required)")
	name := fs.String("name", "", "the constant's `name` (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *pkg == "" || *name == "" || fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("usage: bin2go -pkg PKG -name NAME -o OUT.go IN")
	}
	in := fs.Arg(0)
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	src, err := bin2go.Source(*pkg, *name, filepath.Base(in), data)
	if err != nil {
		return err
	}
	return os.WriteFile(*out, src, 0o644)
}
