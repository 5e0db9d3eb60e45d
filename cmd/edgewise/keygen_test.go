package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/keyfile"
)

// keygen writes a key pair into a fresh folder and returns the paths.
func keygen(t *testing.T, name string) (keyPath, pubPath string) {
	t.Helper()
	dir := t.TempDir()
	keyPath = filepath.Join(dir, name+".key")
	out, errOut, code := runCLI(t, "keygen", "-o", keyPath)
	if code != 0 {
		t.Fatalf("keygen: code %d, stderr %q", code, errOut)
	}
	pubPath = filepath.Join(dir, name+".pub")
	if !strings.Contains(out, "wrote "+keyPath) || !strings.Contains(out, "wrote "+pubPath) {
		t.Fatalf("keygen output does not name the files:\n%s", out)
	}
	return keyPath, pubPath
}

func TestKeygenWritesAKeyPair(t *testing.T) {
	keyPath, pubPath := keygen(t, "site")
	st, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", keyPath, st.Mode().Perm())
	}
	priv, err := keyfile.ReadPrivate(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != ed25519.PublicKeySize || !priv.Public().(ed25519.PublicKey).Equal(ed25519.PublicKey(raw)) {
		t.Fatalf("%s is not the raw public key of %s", pubPath, keyPath)
	}
	pem, _ := os.ReadFile(keyPath)
	if !strings.HasPrefix(string(pem), "-----BEGIN PRIVATE KEY-----\n") {
		t.Errorf("%s is not PEM PKCS#8:\n%s", keyPath, pem)
	}
	// OpenSSL reads the same file, when it is installed.
	if openssl, err := exec.LookPath("openssl"); err == nil {
		out, err := exec.Command(openssl, "pkey", "-in", keyPath, "-pubout", "-outform", "DER").Output()
		if err != nil {
			t.Fatalf("openssl cannot read %s: %v", keyPath, err)
		}
		if !strings.HasSuffix(string(out), string(raw)) {
			t.Errorf("openssl derives another public key from %s", keyPath)
		}
	}

	// --show prints the key id and the base64 a page pastes, from either file.
	for _, p := range []string{keyPath, pubPath} {
		out, errOut, code := runCLI(t, "keygen", "--show", p)
		if code != 0 {
			t.Fatalf("keygen --show %s: code %d, %s", p, code, errOut)
		}
		for _, want := range []string{engine.KeyIDOf(raw).String(), base64.StdEncoding.EncodeToString(raw)} {
			if !strings.Contains(out, want) {
				t.Errorf("keygen --show %s lacks %s:\n%s", p, want, out)
			}
		}
	}
}

func TestKeygenNeverOverwritesByAccident(t *testing.T) {
	keyPath, pubPath := keygen(t, "site")
	before, _ := os.ReadFile(keyPath)
	_, errOut, code := runCLI(t, "keygen", "-o", keyPath)
	if code != 1 || !strings.Contains(errOut, "exists") {
		t.Fatalf("keygen over an existing key: code %d, stderr %q", code, errOut)
	}
	if after, _ := os.ReadFile(keyPath); string(after) != string(before) {
		t.Fatal("the existing key changed")
	}
	if _, _, code := runCLI(t, "keygen", "-o", keyPath, "--force"); code != 0 {
		t.Fatal("keygen --force failed")
	}
	if after, _ := os.ReadFile(keyPath); string(after) == string(before) {
		t.Fatal("keygen --force kept the old key")
	}
	pub, err := keyfile.ReadPublic(pubPath)
	priv, _ := keyfile.ReadPrivate(keyPath)
	if err != nil || !pub.Equal(priv.Public()) {
		t.Fatal("after --force the .pub does not match the .key")
	}
	for _, args := range [][]string{{"keygen"}, {"keygen", "-o", keyPath, "extra"}, {"keygen", "--show", "/nonexistent.pub"}} {
		if _, _, code := runCLI(t, args...); code != 1 {
			t.Errorf("%q: code %d, want 1", args, code)
		}
	}
}
