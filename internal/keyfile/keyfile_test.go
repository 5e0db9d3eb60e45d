package keyfile

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPublicKeyForms(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	privPEM, err := EncodePrivate(priv)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	for name, data := range map[string][]byte{
		"raw":         pub,
		"base64":      []byte(base64.StdEncoding.EncodeToString(pub) + "\n"),
		"PEM public":  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"PEM private": privPEM,
	} {
		got, err := ParsePublic(data)
		if err != nil || !got.Equal(pub) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, data := range map[string][]byte{
		"short":       pub[:31],
		"base64 of 3": []byte("AAAA"),
		"certificate": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}),
	} {
		if _, err := ParsePublic(data); err == nil {
			t.Errorf("%s parsed as a public key", name)
		}
	}
	back, err := ParsePrivate(privPEM)
	if err != nil || !back.Equal(priv) {
		t.Fatalf("private key round trip: %v", err)
	}
	if _, err := ParsePrivate(pub); err == nil || !strings.Contains(err.Error(), "public key") {
		t.Errorf("a public key as private: %v", err)
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(nil)
	keyPath := filepath.Join(dir, "site.key")
	pubPath, err := Write(keyPath, priv, false)
	if err != nil || pubPath != filepath.Join(dir, "site.pub") {
		t.Fatalf("Write: %q %v", pubPath, err)
	}
	if st, _ := os.Stat(keyPath); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	if _, err := Write(keyPath, priv, false); err == nil {
		t.Error("Write replaced an existing key")
	}
	if PublicPath("keys/site") != "keys/site.pub" {
		t.Error(PublicPath("keys/site"))
	}
	got, err := ReadPrivate(keyPath)
	if err != nil || !got.Equal(priv) {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}
