// Command msgpgen writes the reflection-free msgpack codecs of one package
// (see package msgpgen). go:generate runs it:
//
//	go run ./internal/build/cmd/msgpgen -o FILE -decode T,U -encode V,pkg.W
//
// It runs in the package's directory, as go generate does.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/edgewise/edgewise/internal/build/msgpgen"
)

func main() {
	out := flag.String("o", "msgp_gen.go", "the generated `file`, in the current directory")
	decode := flag.String("decode", "", "comma-separated root `types` to decode")
	encode := flag.String("encode", "", "comma-separated root `types` to encode")
	flag.Parse()
	cfg := msgpgen.Config{Dir: ".", Output: *out, Decode: split(*decode), Encode: split(*encode), Command: "msgpgen " + strings.Join(os.Args[1:], " ")}
	src, err := msgpgen.Generate(cfg)
	if err == nil {
		err = os.WriteFile(*out, src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
