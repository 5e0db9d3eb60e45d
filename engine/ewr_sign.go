//go:build !wasip1

package engine

// Signing .ewr files, for builds and tests: crypto/ed25519, which
// edgewise.wasm must not link (see ewr.go and RATIONALE.md), so this file
// is left out of GOOS=wasip1 builds and ewr_nosign.go stands in there.

import "crypto/ed25519"

const canSign = true

// sign returns the Ed25519 signature of msg; priv is privateKeySize bytes.
func sign(priv, msg []byte) []byte { return ed25519.Sign(ed25519.PrivateKey(priv), msg) }

// publicKeyOf returns the public half of a privateKeySize-byte private key.
func publicKeyOf(priv []byte) []byte {
	return ed25519.PrivateKey(priv).Public().(ed25519.PublicKey)
}
