package sha2

import (
	"crypto/sha256"
	"crypto/sha512"
	"math/rand/v2"
	"testing"
)

// Every length across several block boundaries, and random splits of the
// input into writes, against the standard library.
func TestAgainstStandardLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1100)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	for n := 0; n <= len(buf); n++ {
		msg := buf[:n]
		if got, want := Sum256(msg), sha256.Sum256(msg); got != want {
			t.Fatalf("Sum256 of %d bytes: %x, want %x", n, got, want)
		}
		want512 := sha512.Sum512(msg)
		if got := Sum512(msg); got != want512 {
			t.Fatalf("Sum512 of %d bytes: %x, want %x", n, got, want512)
		}
		d := New512()
		for rest := msg; len(rest) > 0; {
			k := rng.IntN(len(rest) + 1)
			d.Write(rest[:k])
			rest = rest[k:]
		}
		if got := d.Sum512(); got != want512 {
			t.Fatalf("Digest512 in pieces, %d bytes: %x, want %x", n, got, want512)
		}
		if got := d.Sum512(); got != want512 {
			t.Fatalf("Sum512 changed the digest")
		}
	}
}

func FuzzAgainstStandardLibrary(f *testing.F) {
	f.Add([]byte("abc"))
	f.Add(make([]byte, 111))
	f.Add(make([]byte, 112))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if Sum256(msg) != sha256.Sum256(msg) {
			t.Fatalf("Sum256(%x) differs", msg)
		}
		if Sum512(msg) != sha512.Sum512(msg) {
			t.Fatalf("Sum512(%x) differs", msg)
		}
	})
}

// FIPS 180-4 example "abc".
func TestKnownAnswers(t *testing.T) {
	if got := Sum256([]byte("abc")); string(hexOf(got[:])) != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("SHA-256(abc) = %x", got)
	}
	if got := Sum512([]byte("abc")); string(hexOf(got[:])) != "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" {
		t.Errorf("SHA-512(abc) = %x", got)
	}
}

func hexOf(b []byte) []byte {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return out
}
