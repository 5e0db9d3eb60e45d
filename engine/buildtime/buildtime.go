// Package buildtime is the part of ruleset checking that runs where
// rulesets are written, signed and served, never on a visitor's device:
// edgewise lint and build, the YAML front end (package ruleset), the demo's
// playground and the collector.
//
// Validate is engine.Validate with the sensitive-category lexicon
// (engine/lexicon), so it finds every problem: the one validator a
// marketer sees. EncodeRuleset signs a ruleset only when Validate finds no
// error, so no signed file fails it, and the engine, which checks only the
// policy's numeric guards when it loads a ruleset, can trust the signature
// for the rest (RATIONALE.md, "Why does the device check only the policy's
// numbers?").
//
// edgewise.wasm must not link this package or engine/lexicon; a test in
// package ruleset holds `go list -deps ./wasm` to that.
package buildtime

import (
	"bytes"
	"crypto/ed25519"
	"strconv"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/lexicon"
	"github.com/edgewise/edgewise/internal/suggest"
	"github.com/vmihailenco/msgpack/v5"
)

// Validate checks a ruleset against the format's rules and the whole
// privacy policy, sensitive categories included, and returns every problem
// found, in document order (see engine.Validate).
func Validate(rs *engine.Ruleset) []engine.Problem {
	var m lexicon.Matcher
	return engine.ValidateWith(rs, engine.ValidateOptions{Suggest: suggest.Closest, Sensitive: func(text string) []engine.SensitiveHit {
		hits := m.Sensitive(text)
		if len(hits) == 0 {
			return nil
		}
		out := make([]engine.SensitiveHit, len(hits))
		for i, h := range hits {
			out[i] = engine.SensitiveHit{Category: h.Category, Term: h.Term}
		}
		return out
	}})
}

// EncodeRuleset builds a signed .ewr file. It refuses a ruleset with any
// error from Validate, with the error the engine's load gives for such
// problems (engine.Refusal), so every file a key signs passed the whole
// privacy policy: signing is where the policy is enforced, and the only
// place the sensitive-category check is.
func EncodeRuleset(rs *engine.Ruleset, priv ed25519.PrivateKey) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, &engine.Error{Code: engine.CodeBadRequest, Message: "the signing key must be a " + strconv.Itoa(ed25519.PrivateKeySize) + "-byte Ed25519 private key, got " + strconv.Itoa(len(priv)) + " bytes"}
	}
	if err := engine.Refusal(Validate(rs)); err != nil {
		return nil, err
	}
	payload, err := MarshalRuleset(rs)
	if err != nil {
		return nil, err
	}
	return engine.SealRuleset(payload, priv)
}

// MarshalRuleset encodes a ruleset the way .ewr payloads are encoded: the
// same ruleset always gives the same bytes (map keys sorted). It does not
// validate. Encoding a ruleset happens only at build time, so it is
// msgpack/v5 reflection here; the device decodes with the generated codec
// (engine/msgp_gen.go), which tests hold to the same values.
func MarshalRuleset(rs *engine.Ruleset) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	enc.UseCompactInts(true)
	if err := enc.Encode(rs); err != nil {
		return nil, &engine.Error{Code: engine.CodeInvalidRuleset, Message: "cannot encode the ruleset: " + err.Error()}
	}
	return buf.Bytes(), nil
}

// EncodeFeed checks a feed and signs it into an .ewf file.
func EncodeFeed(f *engine.Feed, priv ed25519.PrivateKey) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, &engine.Error{Code: engine.CodeBadRequest, Message: "the signing key must be a " + strconv.Itoa(ed25519.PrivateKeySize) + "-byte Ed25519 private key, got " + strconv.Itoa(len(priv)) + " bytes"}
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	payload, err := MarshalFeed(f)
	if err != nil {
		return nil, err
	}
	return engine.SealFeed(payload, priv)
}

// MarshalFeed encodes a feed as .ewf payloads are encoded: the same feed
// always gives the same bytes.
func MarshalFeed(f *engine.Feed) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	enc.UseCompactInts(true)
	if err := enc.Encode(f); err != nil {
		return nil, &engine.Error{Code: engine.CodeBadFeed, Message: "cannot encode the feed: " + err.Error()}
	}
	return buf.Bytes(), nil
}
