package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/internal/abitest"
)

var wasmPath string

func TestMain(m *testing.M) {
	// The fault tests and benchmarks run collectors (and the load
	// generator) as processes of their own: this binary, re-executed.
	if args := os.Getenv(cliArgsEnv); args != "" {
		os.Exit(runChild(args))
	}
	p, err := abitest.EnsureWasm("../..")
	if err != nil {
		panic(err)
	}
	wasmPath = p
	// simulate and audit keep compiled code in the user's cache directory;
	// give this test binary its own, so tests neither use nor fill the real one.
	cache, err := os.MkdirTemp("", "edgewise-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", cache)
	code := m.Run()
	os.RemoveAll(cache)
	os.Exit(code)
}

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestVersion(t *testing.T) {
	out, errOut, code := runCLI(t, "version", "--wasm", wasmPath)
	if code != 0 || !strings.Contains(out, "edgewise.wasm: engine 0.1.0, ABI 1") {
		t.Fatalf("version: code %d, out %q, err %q", code, out, errOut)
	}
}

func TestDecideRunsTheWasm(t *testing.T) {
	events := filepath.Join(t.TempDir(), "events.json")
	os.WriteFile(events, []byte(`[{"type":"view","item":"trail-shoe","at":1764400000000}]`), 0o644)
	out, errOut, code := runCLI(t, "decide", "--wasm", wasmPath, "--ruleset", "../../testdata/abi/ruleset.json", "--events", events, "recommended", "hero")
	if code != 0 {
		t.Fatalf("decide: code %d, err %q", code, errOut)
	}
	want := []string{
		"recommended (personalized)",
		"Because you viewed Trail running shoes",
		"hero (personalized)",
		"1. trail-shoe",
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("decide output lacks %q:\n%s", w, out)
		}
	}
	// exclude_seen: the viewed item is not recommended back.
	if strings.Contains(strings.SplitN(out, "hero", 2)[0], "trail-shoe ") {
		t.Errorf("recommended shows the item just viewed:\n%s", out)
	}
}

func TestDecideErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown slot":    {"decide", "--wasm", wasmPath, "--ruleset", "../../testdata/abi/ruleset.json", "nowhere"},
		"missing ruleset": {"decide", "--wasm", wasmPath, "--ruleset", "/nonexistent.json", "recommended"},
		"no slot":         {"decide", "--wasm", wasmPath, "--ruleset", "../../testdata/abi/ruleset.json"},
		"missing wasm":    {"version", "--wasm", "/nonexistent.wasm"},
	} {
		_, errOut, code := runCLI(t, args...)
		if code != 1 || !strings.HasPrefix(errOut, "edgewise: ") {
			t.Errorf("%s: code %d, stderr %q; want 1 and an edgewise: message", name, code, errOut)
		}
	}
	if _, _, code := runCLI(t, "frobnicate"); code != 2 {
		t.Errorf("unknown command: code %d, want 2", code)
	}
}

// decide --events takes a list of events or one event, and says what is
// wrong with each, by its place in the file and the field's name, all at
// once.
func TestDecideEventsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	one := write("one.json", `{"type": "view", "item": "trail-shoe", "at": 1764400000000}`)
	out, errOut, code := runCLI(t, "decide", "--wasm", wasmPath, "--ruleset", "../../testdata/abi/ruleset.json", "--events", one, "recommended")
	if code != 0 || !strings.Contains(out, "Because you viewed Trail running shoes") {
		t.Fatalf("one event as an object: code %d, out %q, err %q", code, out, errOut)
	}
	bad := write("bad.json", `[
  {"type": "view", "item": "trail-shoe"},
  {"type": "view", "item": "trail-shoe", "at": "yesterday"},
  {"type": "veiw", "item": "trail-shoe", "at": 1764400000000},
  {"type": "view", "item": "trail-shoe", "at": 1764400000000, "when": 3}
]`)
	_, errOut, code = runCLI(t, "decide", "--wasm", wasmPath, "--ruleset", "../../testdata/abi/ruleset.json", "--events", bad, "recommended")
	if code != 1 {
		t.Fatalf("bad events: code %d", code)
	}
	for _, want := range []string{
		"bad.json:2:3: event 1 has no at: the time, in Unix milliseconds",
		`bad.json:3:3: event 2: at must be a number (Unix milliseconds), got "yesterday"`,
		`bad.json:4:3: event 3: type "veiw" is not an event type; did you mean "view"?`,
		`bad.json:5:3: event 4: unknown field "when"; an event has type, item and at`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

// checkGolden compares got, what's output, with the golden file at path,
// or with -update rewrites the file. It reports whether it compared.
func checkGolden(t *testing.T, path, got, what string) bool {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return false
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/edgewise -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (go test ./cmd/edgewise -update rewrites it):\n%s", what, path, firstDiff(string(want), got))
	}
	return true
}
