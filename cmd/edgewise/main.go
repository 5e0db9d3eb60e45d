// Command edgewise is the marketer's and developer's tool for Edgewise:
// run `edgewise help` for its commands. Commands that run the engine run
// dist/edgewise.wasm, the artifact browsers run, in wazero.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abi"
	"github.com/edgewise/edgewise/internal/wasmhost"
)

// command is one subcommand. Each lives in its own file and registers itself
// in init, so commands can be added without touching this one.
type command struct {
	usage string // "name ARGS\n      what it does"
	run   func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"version": {
		usage: "version [--wasm PATH]\n      Print the CLI's engine version and the ABI and engine version of edgewise.wasm.",
		run:   func(args []string, stdout, _ io.Writer) error { return cmdVersion(args, stdout) },
	},
	"decide": {
		usage: "decide --ruleset FILE [--key SITE.pub] [--events FILE.json] [--now MS] [--wasm PATH] SLOT...\n      Load a ruleset and events into edgewise.wasm and print what each slot shows, and why.\n      --events FILE.json is a list of events such as [{\"type\": \"view\", \"item\": \"trail-shoe\", \"at\": 1764400000000}] (at: Unix ms).\n      FILE is a signed .ewr (checked against --key), or YAML or JSON, signed in memory with a throwaway key.",
		run:   func(args []string, stdout, _ io.Writer) error { return cmdDecide(args, stdout) },
	},
}

// exitCode ends the command with a status and no further message: the
// command has already said what went wrong (lint's diagnostics, say).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func usage() string {
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("edgewise: on-device personalization tools\n\nUsage:\n")
	for _, name := range names {
		b.WriteString("  edgewise " + commands[name].usage + "\n")
	}
	b.WriteString("\nedgewise.wasm is found with --wasm, else beside this binary, else in ./dist.\n")
	return b.String()
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage())
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "edgewise: unknown command %q\n\n%s", args[0], usage())
		return 2
	}
	err := cmd.run(args[1:], stdout, stderr)
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &code):
		return int(code)
	}
	fmt.Fprintln(stderr, "edgewise:", err)
	return 1
}

func wasmFlag(fs *flag.FlagSet) *string {
	return fs.String("wasm", "", "path to edgewise.wasm (default: beside this binary, else ./dist/edgewise.wasm)")
}

// findWasm prefers an explicit path, then the file beside the executable
// (how releases ship), then ./dist (how a checkout builds it).
func findWasm(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	var tried []string
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "edgewise.wasm")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	p := filepath.Join("dist", "edgewise.wasm")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	tried = append(tried, p)
	return "", fmt.Errorf("edgewise.wasm not found (looked in %s); run make build or pass --wasm", strings.Join(tried, ", "))
}

// readWasm reads the edgewise.wasm findWasm finds.
func readWasm(explicit string) ([]byte, error) {
	path, err := findWasm(explicit)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

func instance(ctx context.Context, explicit string) (*wasmhost.Module, *wasmhost.Instance, error) {
	wasm, err := readWasm(explicit)
	if err != nil {
		return nil, nil, err
	}
	mod, err := wasmhost.Compile(ctx, wasm, wasmhost.Config{})
	if err != nil {
		return nil, nil, err
	}
	in, err := mod.Instantiate(ctx)
	if err != nil {
		mod.Close(ctx)
		return nil, nil, err
	}
	return mod, in, nil
}

func cmdVersion(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	wasmPath := wasmFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "edgewise CLI: engine %s, ABI %d\n", abi.EngineVersion, abi.Version)
	ctx := context.Background()
	mod, in, err := instance(ctx, *wasmPath)
	if err != nil {
		return err
	}
	defer mod.Close(ctx)
	var v abi.VersionResult
	if err := in.Do(ctx, abi.OpVersion, map[string]any{}, &v); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "edgewise.wasm: engine %s, ABI %d\n", v.Engine, v.ABI)
	if v.ABI != abi.Version {
		return fmt.Errorf("edgewise.wasm speaks ABI %d, this CLI speaks %d; rebuild with make build", v.ABI, abi.Version)
	}
	return nil
}

func cmdDecide(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("decide", flag.ContinueOnError)
	wasmPath := wasmFlag(fs)
	rulesetPath := fs.String("ruleset", "", "a signed .ewr, or a YAML or JSON ruleset (required)")
	keyPath := fs.String("key", "", "the public key `FILE` a .ewr must be signed with")
	eventsPath := fs.String("events", "", "a JSON `FILE` of events to observe first: a list of {\"type\": \"view\", \"item\": \"ID\", \"at\": UNIX_MS}, or one; types are "+strings.Join(engine.EventTypes, ", "))
	now := fs.Int64("now", 0, "current time, Unix milliseconds (default: the newest event's time)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rulesetPath == "" || fs.NArg() == 0 {
		return errors.New("decide needs --ruleset FILE.json and at least one SLOT")
	}
	load, err := loadRequest(*rulesetPath, *keyPath)
	if err != nil {
		return err
	}
	var events []engine.Event
	if *eventsPath != "" {
		if events, err = readEvents(*eventsPath); err != nil {
			return err
		}
	}
	ctx := context.Background()
	mod, in, err := instance(ctx, *wasmPath)
	if err != nil {
		return err
	}
	defer mod.Close(ctx)
	if err := in.Do(ctx, abi.OpLoadRuleset, load, nil); err != nil {
		return fmt.Errorf("%s: %w", *rulesetPath, err)
	}
	for i, ev := range events {
		if err := in.Do(ctx, abi.OpObserve, abi.ObserveRequest{Event: ev}, nil); err != nil {
			return fmt.Errorf("%s: event %d: %w", *eventsPath, i, err)
		}
	}
	if err := in.Do(ctx, abi.OpSetContext, abi.SetContextRequest{Context: engine.Context{Now: *now}}, nil); err != nil {
		return err
	}
	var res abi.DecideResult
	if err := in.Do(ctx, abi.OpDecide, abi.DecideRequest{Slots: fs.Args()}, &res); err != nil {
		return err
	}
	for _, d := range res.Decisions {
		kind := "personalized"
		if d.Fallback {
			kind = "fallback"
		}
		fmt.Fprintf(stdout, "%s (%s)\n", d.Slot, kind)
		for i, p := range d.Items {
			fmt.Fprintf(stdout, "  %d. %-24s %8.4f  %s\n", i+1, p.Item, p.Score, p.Reason)
		}
	}
	return nil
}
