package abitest

import (
	"crypto/ed25519"
	"crypto/sha256"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
)

// Fixed Ed25519 keys for tests. Ed25519 signatures are deterministic, so a
// ruleset signed with one of these is the same bytes on every run, and the
// golden corpus stays byte-stable. Never use them for anything real.
var testKeys = map[string]ed25519.PrivateKey{
	"test":  keyFromPhrase("edgewise test key"),
	"other": keyFromPhrase("edgewise other test key"),
}

func keyFromPhrase(phrase string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(phrase))
	return ed25519.NewKeyFromSeed(seed[:])
}

// TestKey is the fixed key tests sign with and trust; testdata/keys/test.pub
// is its public half, for the JS tests.
func TestKey() ed25519.PrivateKey { return testKeys["test"] }

// TestPublicKey is TestKey's public key.
func TestPublicKey() ed25519.PublicKey { return TestKey().Public().(ed25519.PublicKey) }

// NamedKey returns a fixed test key by name: "test" or "other" (a second key,
// for wrong-key tests). ok is false for any other name.
func NamedKey(name string) (key ed25519.PrivateKey, ok bool) {
	key, ok = testKeys[name]
	return key, ok
}

// Sign builds a signed .ewr of rs with TestKey, without validating it, so
// tests can also hand the engine signed rulesets it must refuse.
func Sign(rs engine.Ruleset) ([]byte, error) {
	payload, err := buildtime.MarshalRuleset(&rs)
	if err != nil {
		return nil, err
	}
	return engine.SealRuleset(payload, TestKey())
}

// MustSign is Sign for test setup, where an error is a bug in the test.
func MustSign(rs engine.Ruleset) []byte {
	ewr, err := Sign(rs)
	if err != nil {
		panic(err)
	}
	return ewr
}
