// Package edverify checks Ed25519 signatures (RFC 8032, pure Ed25519) the
// way crypto/ed25519.Verify does, without importing crypto/ed25519: on
// wasip1 that package links Go's whole FIPS 140 module (self-tests, DRBG,
// AES-GCM) into edgewise.wasm, which only ever verifies. The curve
// arithmetic is filippo.io/edwards25519, which tracks Go's
// crypto/internal/fips140/edwards25519; SHA-512 is internal/sha2. See
// RATIONALE.md.
//
// It accepts and rejects exactly what crypto/ed25519.Verify does, which the
// differential tests check: the cofactorless equation [S]B = R + [k]A, S
// must be canonical (below the group order), A is decoded as
// edwards25519.Point.SetBytes decodes it, and R is compared as bytes with
// the canonical encoding of [S]B − [k]A, so a non-canonical or off-curve R
// never verifies. Unlike crypto/ed25519, a public key of the wrong length
// returns false instead of panicking.
package edverify

import (
	"bytes"

	"filippo.io/edwards25519"
	"github.com/edgewise/edgewise/internal/sha2"
)

const (
	// PublicKeySize is the size of an Ed25519 public key in bytes.
	PublicKeySize = 32
	// SignatureSize is the size of an Ed25519 signature in bytes.
	SignatureSize = 64
)

// Verify reports whether sig is a valid Ed25519 signature of message by
// publicKey. It is not constant-time: everything it handles is public.
func Verify(publicKey, message, sig []byte) bool {
	if len(publicKey) != PublicKeySize || len(sig) != SignatureSize {
		return false
	}
	// The top three bits of S must be clear; SetCanonicalBytes below would
	// refuse such an S too, this is the cheap early reject crypto/ed25519
	// also makes.
	if sig[63]&224 != 0 {
		return false
	}
	A, err := new(edwards25519.Point).SetBytes(publicKey)
	if err != nil {
		return false
	}
	S, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}

	// k = SHA-512(R || A || M) mod L
	h := sha2.New512()
	h.Write(sig[:32])
	h.Write(publicKey)
	h.Write(message)
	digest := h.Sum512()
	k, err := edwards25519.NewScalar().SetUniformBytes(digest[:])
	if err != nil {
		panic("edverify: SetUniformBytes refused 64 bytes")
	}

	// [S]B = R + [k]A  <=>  [k](−A) + [S]B = R
	minusA := new(edwards25519.Point).Negate(A)
	R := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(k, minusA, S)
	return bytes.Equal(sig[:32], R.Bytes())
}
