package edverify

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 8032 section 7.1, the Ed25519 vectors but TEST 1024, whose message
// is 1023 bytes long; TestGoCorpus and TestDifferential cover longer ones.
var rfc8032 = []struct{ name, seed, pub, msg, sig string }{
	{"TEST 1",
		"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		"",
		"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
	{"TEST 2",
		"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
		"72",
		"92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
	{"TEST 3",
		"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
		"af82",
		"6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
	{"TEST SHA(abc)",
		"833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
		"ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
		"dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"},
}

func TestRFC8032(t *testing.T) {
	for _, v := range rfc8032 {
		pub, msg, sig := unhex(t, v.pub), unhex(t, v.msg), unhex(t, v.sig)
		// The vector is what crypto/ed25519 makes of the seed, so a typo here
		// cannot pass.
		priv := ed25519.NewKeyFromSeed(unhex(t, v.seed))
		if !bytes.Equal(priv.Public().(ed25519.PublicKey), pub) || !bytes.Equal(ed25519.Sign(priv, msg), sig) {
			t.Fatalf("%s: the vector is not what crypto/ed25519 computes", v.name)
		}
		if !Verify(pub, msg, sig) {
			t.Errorf("%s: a valid signature does not verify", v.name)
		}
		bad := bytes.Clone(msg)
		bad = append(bad, 0)
		if Verify(pub, bad, sig) {
			t.Errorf("%s: verifies for a longer message", v.name)
		}
	}
}

// Go's own corpus, crypto/ed25519/testdata/sign.input.gz (128 vectors from
// the reference implementation, messages of 0 to 127 bytes; the first ones
// are RFC 8032's), when the Go source tree is at hand.
func TestGoCorpus(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skip("no go command: ", err)
	}
	f, err := os.Open(filepath.Join(strings.TrimSpace(string(out)), "src", "crypto", "ed25519", "testdata", "sign.input.gz"))
	if err != nil {
		t.Skip("no Go source tree: ", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ":")
		if len(parts) != 5 {
			t.Fatalf("line %d has %d fields", n+1, len(parts))
		}
		pub, msg, sigmsg := unhex(t, parts[1]), unhex(t, parts[2]), unhex(t, parts[3])
		sig := sigmsg[:SignatureSize]
		if !Verify(pub, msg, sig) {
			t.Fatalf("line %d: a valid signature does not verify", n+1)
		}
		sig[0] ^= 1
		if Verify(pub, msg, sig) {
			t.Fatalf("line %d: a changed signature verifies", n+1)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("read only %d vectors", n)
	}
}

// order is the prime order L of the Ed25519 base point.
var order, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

// le reverses between big.Int's big-endian bytes and Ed25519's little-endian.
func le(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}

func scalarBytes(x *big.Int) []byte {
	var buf [32]byte
	x.FillBytes(buf[:])
	return le(buf[:])
}

// edgeEncodings are 32-byte strings where decoders differ: the identity and
// the other small-order points, non-canonical encodings (y ≥ p, with and
// without the sign bit), and points not on the curve.
func edgeEncodings(t testing.TB) [][]byte {
	hexes := []string{
		// The eight small-order points (the torsion subgroup).
		"0100000000000000000000000000000000000000000000000000000000000000",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0000000000000000000000000000000000000000000000000000000000000080",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
		// Non-canonical: y = p, p+1, ..., 2^255-1, each with both sign bits.
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		// The identity with the sign bit set (x = 0, "negative zero").
		"0100000000000000000000000000000000000000000000000000000000000080",
		// Not on the curve (y = 2).
		"0200000000000000000000000000000000000000000000000000000000000000",
	}
	out := make([][]byte, len(hexes))
	for i, h := range hexes {
		out[i] = unhex(t, h)
	}
	return out
}

// agree fails the test unless Verify and crypto/ed25519.Verify give the
// same answer, and returns it.
func agree(t testing.TB, what string, pub, msg, sig []byte) bool {
	t.Helper()
	want := ed25519.Verify(pub, msg, sig)
	if got := Verify(pub, msg, sig); got != want {
		t.Fatalf("%s: Verify = %v, crypto/ed25519.Verify = %v\npub %x\nmsg %x\nsig %x", what, got, want, pub, msg, sig)
	}
	return want
}

// TestDifferential signs random messages with random keys and checks that
// both implementations agree on the signature and on many changed
// versions of it, its key and its message.
func TestDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(8032, 25519))
	edges := edgeEncodings(t)
	rounds := 300
	if testing.Short() {
		rounds = 40
	}
	valid, invalid := 0, 0
	count := func(ok bool) {
		if ok {
			valid++
		} else {
			invalid++
		}
	}
	for round := range rounds {
		seed := make([]byte, ed25519.SeedSize)
		for i := range seed {
			seed[i] = byte(rng.Uint32())
		}
		priv := ed25519.NewKeyFromSeed(seed)
		pub := []byte(priv.Public().(ed25519.PublicKey))
		msg := make([]byte, rng.IntN(300))
		for i := range msg {
			msg[i] = byte(rng.Uint32())
		}
		sig := ed25519.Sign(priv, msg)
		if !agree(t, "valid", pub, msg, sig) {
			t.Fatalf("round %d: a fresh signature does not verify", round)
		}
		count(true)

		// One flipped bit anywhere in the signature, key or message.
		for range 8 {
			s, p, m := bytes.Clone(sig), bytes.Clone(pub), bytes.Clone(msg)
			switch rng.IntN(3) {
			case 0:
				s[rng.IntN(len(s))] ^= 1 << rng.IntN(8)
			case 1:
				p[rng.IntN(len(p))] ^= 1 << rng.IntN(8)
			default:
				if len(m) == 0 {
					m = append(m, 0)
				} else {
					m[rng.IntN(len(m))] ^= 1 << rng.IntN(8)
				}
			}
			count(agree(t, "bit flip", p, m, s))
		}

		// S + L: the same point equation with a non-canonical S, which both
		// must refuse; likewise S + k·L up to 2^256 and S with high bits set.
		S := new(big.Int).SetBytes(le(sig[32:]))
		for k := int64(1); k < 16; k++ {
			x := new(big.Int).Add(S, new(big.Int).Mul(order, big.NewInt(k)))
			if x.BitLen() > 256 {
				break
			}
			s := append(bytes.Clone(sig[:32]), scalarBytes(x)...)
			count(agree(t, "S+kL", pub, msg, s))
		}
		s := bytes.Clone(sig)
		s[63] |= 0x20 << rng.IntN(3)
		count(agree(t, "high bits of S", pub, msg, s))

		// Edge encodings as the key and as R, with S kept, zero, or one.
		for _, e := range edges {
			count(agree(t, "edge key", e, msg, sig))
			r := append(bytes.Clone(e), sig[32:]...)
			count(agree(t, "edge R", pub, msg, r))
			zeroS := append(bytes.Clone(e), make([]byte, 32)...)
			count(agree(t, "edge R, S=0", e, msg, zeroS))
			count(agree(t, "edge R, S=0, real key", pub, msg, zeroS))
		}

		// Wrong lengths: ours says false where crypto/ed25519 does too (a
		// short signature) or panics (a short key).
		if Verify(pub[:31], msg, sig) || Verify(append(bytes.Clone(pub), 0), msg, sig) {
			t.Fatal("a key of the wrong length verifies")
		}
		count(agree(t, "short signature", pub, msg, sig[:63]))
		count(agree(t, "long signature", pub, msg, append(bytes.Clone(sig), 0)))
	}

	// A small-order key with R = identity and S = 0 verifies under the
	// cofactorless equation for every message ([0]B = O + [k]O): both must
	// accept it.
	identity := edges[0]
	sig := append(bytes.Clone(identity), make([]byte, 32)...)
	if !agree(t, "identity key, R=O, S=0", identity, []byte("anything"), sig) {
		t.Fatal("the identity-key signature should verify in both")
	}
	t.Logf("%d inputs agreed: %d valid, %d invalid", valid+invalid, valid, invalid)
}

// FuzzDifferential: a seed makes a key and a valid signature of msg; the
// fuzzer's mask then changes the signature and key (XOR), so the inputs
// stay close to valid ones. Both implementations must agree.
func FuzzDifferential(f *testing.F) {
	f.Add([]byte{1}, []byte("msg"), []byte{})
	f.Add([]byte{2}, []byte{}, make([]byte, 96))
	f.Add([]byte{3}, []byte("x"), append(make([]byte, 63), 0x10))
	f.Fuzz(func(t *testing.T, seed, msg, mask []byte) {
		s := make([]byte, ed25519.SeedSize)
		copy(s, seed)
		priv := ed25519.NewKeyFromSeed(s)
		pub := []byte(priv.Public().(ed25519.PublicKey))
		sig := ed25519.Sign(priv, msg)
		for i, m := range mask {
			switch {
			case i < 64:
				sig[i] ^= m
			case i < 96:
				pub[i-64] ^= m
			}
		}
		agree(t, "fuzz", pub, msg, sig)
	})
}

// FuzzRaw compares on arbitrary keys and signatures.
func FuzzRaw(f *testing.F) {
	f.Add(make([]byte, 32), []byte{}, make([]byte, 64))
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		if len(pub) != PublicKeySize {
			if Verify(pub, msg, sig) {
				t.Fatal("a key of the wrong length verifies")
			}
			return
		}
		agree(t, "raw", pub, msg, sig)
	})
}

// BenchmarkVerify compares with crypto/ed25519.Verify on a short message
// (the curve arithmetic) and on one the size of a signed 1,000-item ruleset
// (53 KB, where SHA-512 counts: natively crypto/sha512 has assembly, and
// internal/sha2 does not; inside wasm neither has).
func BenchmarkVerify(b *testing.B) {
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	pub := []byte(priv.Public().(ed25519.PublicKey))
	for _, size := range []int{64, 53 << 10} {
		msg := make([]byte, size)
		sig := ed25519.Sign(priv, msg)
		b.Run(fmt.Sprintf("edverify/%dB", size), func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if !Verify(pub, msg, sig) {
					b.Fatal("does not verify")
				}
			}
		})
		b.Run(fmt.Sprintf("crypto_ed25519/%dB", size), func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if !ed25519.Verify(pub, msg, sig) {
					b.Fatal("does not verify")
				}
			}
		})
	}
}
