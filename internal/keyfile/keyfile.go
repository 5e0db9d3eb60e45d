// Package keyfile reads and writes the Ed25519 key files of `edgewise keygen`.
//
// A private key file is PEM "PRIVATE KEY" (PKCS#8), the format of
// `openssl genpkey -algorithm ed25519`, written with mode 0600. A public key
// file is the raw 32-byte key, which a page can fetch or inline as base64.
// ReadPublic also takes base64 text, PEM "PUBLIC KEY" (PKIX) and a private
// key file, whose public half it derives.
//
// This package is for native tools (the CLI, the demo server); the engine
// and the wasm never read key files.
package keyfile

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// PublicPath is where keygen puts the public half of the key at keyPath:
// site.key gives site.pub, anything else gains ".pub".
func PublicPath(keyPath string) string {
	if strings.HasSuffix(keyPath, ".key") {
		return strings.TrimSuffix(keyPath, ".key") + ".pub"
	}
	return keyPath + ".pub"
}

// EncodePrivate returns the PEM PKCS#8 encoding of a private key.
func EncodePrivate(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivate reads a PEM PKCS#8 Ed25519 private key.
func ParsePrivate(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		if len(data) == ed25519.PublicKeySize {
			return nil, errors.New("this is a public key (32 raw bytes); signing needs the private key file keygen wrote")
		}
		return nil, errors.New("not a PEM private key file (edgewise keygen writes one)")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("a PEM %q block, want \"PRIVATE KEY\" (an Ed25519 key from edgewise keygen)", block.Type)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, want an Ed25519 private key", key)
	}
	return priv, nil
}

// ParsePublic reads a public key: 32 raw bytes, base64 of them, PEM
// "PUBLIC KEY", or a PEM private key (whose public half it returns).
func ParsePublic(data []byte) (ed25519.PublicKey, error) {
	if len(data) == ed25519.PublicKeySize {
		return ed25519.PublicKey(bytes.Clone(data)), nil
	}
	if block, _ := pem.Decode(data); block != nil {
		switch block.Type {
		case "PRIVATE KEY":
			priv, err := ParsePrivate(data)
			if err != nil {
				return nil, err
			}
			return priv.Public().(ed25519.PublicKey), nil
		case "PUBLIC KEY":
			key, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			pub, ok := key.(ed25519.PublicKey)
			if !ok {
				return nil, fmt.Errorf("a %T, want an Ed25519 public key", key)
			}
			return pub, nil
		}
		return nil, fmt.Errorf("a PEM %q block, want a public key", block.Type)
	}
	if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data))); err == nil && len(b) == ed25519.PublicKeySize {
		return ed25519.PublicKey(b), nil
	}
	return nil, fmt.Errorf("not a public key: want 32 raw bytes, their base64, or PEM (got %d bytes)", len(data))
}

// ReadPrivate reads a private key file.
func ReadPrivate(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	priv, err := ParsePrivate(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return priv, nil
}

// ReadPublic reads a public key file (or a private one; see ParsePublic).
func ReadPublic(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pub, err := ParsePublic(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pub, nil
}

// Base64 is how a public key is pasted into a page.
func Base64(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

// Write writes priv to keyPath (mode 0600) and its public key to
// PublicPath(keyPath). Unless overwrite is set it refuses to replace either
// file: losing a site's key means re-signing and redeploying every ruleset.
func Write(keyPath string, priv ed25519.PrivateKey, overwrite bool) (pubPath string, err error) {
	pemBytes, err := EncodePrivate(priv)
	if err != nil {
		return "", err
	}
	pubPath = PublicPath(keyPath)
	if !overwrite {
		for _, p := range []string{keyPath, pubPath} {
			if _, err := os.Stat(p); err == nil {
				return "", fmt.Errorf("%s exists; keygen does not overwrite keys (pass --force to replace it, and re-sign every ruleset)", p)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
		}
	}
	if err := writeFile(keyPath, pemBytes, 0o600); err != nil {
		return "", err
	}
	if err := writeFile(pubPath, priv.Public().(ed25519.PublicKey), 0o644); err != nil {
		return "", err
	}
	return pubPath, nil
}

// writeFile replaces path atomically with data at mode perm: a reader never
// sees half a file, and the mode is set before any byte is written.
func writeFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// WriteFile is writeFile for other outputs (the .ewr of build).
func WriteFile(path string, data []byte, perm os.FileMode) error { return writeFile(path, data, perm) }
