package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/keyfile"
)

// TestKeygenBuildInspect is the marketer's round trip: make a key, build a
// ruleset, inspect it with and without the key.
func TestKeygenBuildInspect(t *testing.T) {
	keyPath, pubPath := keygen(t, "site")
	ewr := filepath.Join(t.TempDir(), "rules.ewr")
	if _, errOut, code := runCLI(t, "build", "../../testdata/abi/ruleset.json", "--key", keyPath, "-o", ewr); code != 0 {
		t.Fatalf("build: %d %s", code, errOut)
	}
	pub, _ := keyfile.ReadPublic(pubPath)
	id := engine.KeyIDOf(pub).String()
	data, _ := os.ReadFile(ewr)

	out, errOut, code := runCLI(t, "inspect", ewr, "--key", pubPath)
	if code != 0 {
		t.Fatalf("inspect --key: code %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{
		ewr + ": " + strconv.Itoa(len(data)) + " bytes",
		"format        EWRS version 1, flags 0x0000",
		"key id        " + id,
		"(matches the payload)",
		"payload       " + strconv.Itoa(len(data)-116) + " bytes of msgpack",
		"signature     valid (key id " + id + ")",
		"ruleset corpus-shop, version 1",
		"profile: interest halves every 7 days; keeps at most 20 events",
		"signals (1)",
		"history (history, kept 30 days)",
		`purpose: "Recommend gear related to what you looked at in this shop."`,
		"catalogue: 8 items",
		"slots (2)",
		"recommended: limit 3; candidates: all items; fallback: tent-2p, rain-shell, socks; leaves out items already seen",
		"hero: limit 1; candidates: items tent-2p, rain-shell, trail-shoe; fallback: rain-shell",
		"rules (0)",
		"caps (0)",
		"cohorts (0 dimensions)",
		"reporting: at most one report every 7 days (default)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}

	// Without --key the signature is not checked, and inspect says so.
	out, _, code = runCLI(t, "inspect", ewr)
	if code != 0 || !strings.Contains(out, "signature     not checked (pass --key SITE.pub)") {
		t.Fatalf("inspect without --key: code %d\n%s", code, out)
	}
	// The private key works as --key too: its public half is derived.
	if out, _, code = runCLI(t, "inspect", "--key", keyPath, ewr); code != 0 || !strings.Contains(out, "valid (key id "+id+")") {
		t.Fatalf("inspect --key SITE.key: code %d\n%s", code, out)
	}
}

func TestInspectRefusesTamperedFiles(t *testing.T) {
	keyPath, pubPath := keygen(t, "site")
	_, otherPub := keygen(t, "other")
	dir := t.TempDir()
	ewr := filepath.Join(dir, "rules.ewr")
	if _, errOut, code := runCLI(t, "build", shopJSON, "--key", keyPath, "-o", ewr); code != 0 {
		t.Fatalf("build: %s", errOut)
	}
	data, _ := os.ReadFile(ewr)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	payloadByte := append([]byte(nil), data...)
	payloadByte[100] ^= 1
	sigByte := append([]byte(nil), data...)
	sigByte[len(sigByte)-1] ^= 1

	for _, c := range []struct {
		name, file, key, want string
	}{
		{"payload byte", write("payload.ewr", payloadByte), pubPath, "signature     INVALID: the ruleset's content does not match the hash"},
		{"signature byte", write("sig.ewr", sigByte), pubPath, "signature     INVALID: the ruleset's signature does not verify"},
		{"wrong key", ewr, otherPub, "signature     INVALID: the ruleset is signed with key "},
	} {
		out, _, code := runCLI(t, "inspect", c.file, "--key", c.key)
		if code != 1 || !strings.Contains(out, c.want) {
			t.Errorf("%s: code %d, want 1 and %q:\n%s", c.name, code, c.want, out)
		}
	}
	// A changed payload is caught by its hash even without a key.
	out, _, code := runCLI(t, "inspect", write("payload2.ewr", payloadByte))
	if code != 1 || !strings.Contains(out, "DOES NOT MATCH the payload") {
		t.Errorf("inspect of a changed payload without --key: code %d\n%s", code, out)
	}
	// Files that are not .ewr at all.
	for name, b := range map[string][]byte{
		"truncated.ewr": data[:40],
		"rules.json":    []byte(`{"id": "x"}`),
		"empty.ewr":     nil,
	} {
		_, errOut, code := runCLI(t, "inspect", write(name, b))
		if code != 1 || !strings.Contains(errOut, "bad_ruleset_file") {
			t.Errorf("%s: code %d, stderr %q", name, code, errOut)
		}
	}
	if _, _, code := runCLI(t, "inspect"); code != 1 {
		t.Errorf("inspect with no file: code %d", code)
	}
}
