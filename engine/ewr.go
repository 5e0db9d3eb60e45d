package engine

// Signed ruleset files (.ewr).
//
// `edgewise build` compiles a ruleset into one .ewr file and signs it with the
// site's Ed25519 key; the engine loads only .ewr files whose signature checks
// against the public key the page configured. All integers are big-endian.
//
//	offset  size  field
//	     0     4  magic "EWRS" (Edgewise Ruleset, Signed)
//	     4     2  format version, uint16: 1
//	     6     2  flags, uint16: none are defined, so 0 (a set bit is refused)
//	     8     8  key id: the first 8 bytes of SHA-256 of the 32-byte public key
//	    16    32  content hash: SHA-256 of the payload
//	    48     4  payload length n, uint32
//	    52     n  payload: msgpack of Ruleset, encoded deterministically
//	              (struct fields in declaration order, map keys sorted,
//	              the smallest integer encodings)
//	  52+n    64  Ed25519 signature over bytes [0, 52+n): header and payload
//
// A file is exactly 116+n bytes. Only the magic and the version are fixed for
// all time: a later format version may lay out the rest differently, and this
// engine refuses it by name rather than misreading it.
//
// DecodeRuleset checks, in order: magic, version, flags, length, key id
// (so a wrong key is reported as such, with both ids), content hash,
// signature, and only then decodes the payload, checked by wire.Read, as the
// untrusted bytes they still are to the decoder.
//
// Verifying is internal/edverify and hashing internal/sha2, not
// crypto/ed25519 and crypto/sha256: those link Go's FIPS 140 module into
// edgewise.wasm (see RATIONALE.md). Signing, which only builds do, is
// crypto/ed25519 in ewr_sign.go, a file edgewise.wasm does not compile.

import (
	"encoding/binary"
	"strconv"

	"github.com/edgewise/edgewise/internal/edverify"
	"github.com/edgewise/edgewise/internal/mp"
	"github.com/edgewise/edgewise/internal/sha2"
	"github.com/edgewise/edgewise/internal/wire"
)

// The .ewr layout; see the top of this file.
const (
	EWRMagic         = "EWRS"
	EWRVersion       = 1
	EWRHeaderSize    = 52
	EWRSignatureSize = edverify.SignatureSize
	// EWROverhead is the size of a file with an empty payload.
	EWROverhead = EWRHeaderSize + EWRSignatureSize
	// KeyIDSize is the length of a key id in bytes; it prints as 16 hex digits.
	KeyIDSize = 8

	ewrOffVersion = 4
	ewrOffFlags   = 6
	ewrOffKeyID   = 8
	ewrOffHash    = 16
	ewrOffLength  = 48
)

// KeyID is the first 8 bytes of SHA-256 of a public key: short enough to
// read out, long enough that two keys of one site never share one.
type KeyID [KeyIDSize]byte

// String returns the key id in lowercase hex. It is a loop, not
// encoding/hex, which would cost the wasm about 56 KB brotli for it.
func (id KeyID) String() string {
	const digits = "0123456789abcdef"
	var b [2 * KeyIDSize]byte
	for i, x := range id {
		b[2*i], b[2*i+1] = digits[x>>4], digits[x&0x0f]
	}
	return string(b[:])
}

// Ed25519 key sizes in bytes, as crypto/ed25519 has them: a public key, and
// a private key (the 32-byte seed, then the public key).
const (
	publicKeySize  = edverify.PublicKeySize
	privateKeySize = 64
)

// KeyIDOf returns the key id of an Ed25519 public key (a
// crypto/ed25519.PublicKey, or its bytes).
func KeyIDOf(pub []byte) KeyID {
	sum := sha2.Sum256(pub)
	var id KeyID
	copy(id[:], sum[:KeyIDSize])
	return id
}

// EWRInfo is what an .ewr file's header says, as InspectRuleset reads it
// without checking the signature.
type EWRInfo struct {
	Size        int      // the whole file, in bytes
	Version     uint16   // format version
	Flags       uint16   // format flags
	KeyID       KeyID    // the key id the file claims to be signed with
	ContentHash [32]byte // SHA-256 of the payload, as the header states it
	PayloadSize int      // payload bytes
	// HashMatches is whether the payload's SHA-256 equals ContentHash.
	HashMatches bool
	Signature   [EWRSignatureSize]byte
}

func badFile(msg string) error { return &Error{Code: CodeBadRulesetFile, Message: msg} }

func badSignature(msg string) error { return &Error{Code: CodeBadSignature, Message: msg} }

// SealRuleset wraps payload bytes in an .ewr header and signs them with an
// Ed25519 private key (a crypto/ed25519.PrivateKey, or its bytes), as they
// are: it neither decodes nor validates them. Builds use
// engine/buildtime.EncodeRuleset, which signs only what passes the full
// validation; this is for tests and tools that need a file whose payload is
// wrong on purpose. Inside edgewise.wasm (GOOS=wasip1) it cannot sign and
// returns a bad_request error.
func SealRuleset(payload []byte, priv []byte) ([]byte, error) {
	return seal(rulesetFormat, payload, priv)
}

func seal(f signedFormat, payload []byte, priv []byte) ([]byte, error) {
	if len(priv) != privateKeySize {
		return nil, &Error{Code: CodeBadRequest, Message: "the signing key must be a " + strconv.Itoa(privateKeySize) + "-byte Ed25519 private key"}
	}
	if !canSign {
		return nil, &Error{Code: CodeBadRequest, Message: "edgewise.wasm does not sign: make " + f.noun + " with " + f.build}
	}
	if uint64(len(payload)) > 1<<32-1 {
		return nil, &Error{Code: CodeTooLarge, Message: "the payload is over 4 GiB"}
	}
	out := make([]byte, EWRHeaderSize, EWROverhead+len(payload))
	copy(out, f.magic)
	binary.BigEndian.PutUint16(out[ewrOffVersion:], f.version)
	binary.BigEndian.PutUint16(out[ewrOffFlags:], 0)
	id := KeyIDOf(publicKeyOf(priv))
	copy(out[ewrOffKeyID:], id[:])
	sum := sha2.Sum256(payload)
	copy(out[ewrOffHash:], sum[:])
	binary.BigEndian.PutUint32(out[ewrOffLength:], uint32(len(payload)))
	out = append(out, payload...)
	return append(out, sign(priv, out)...), nil
}

// signedFormat is one kind of signed file in the .ewr layout: rulesets
// (EWRS) and context feeds (EWFS, see feed.go) differ only in magic,
// version and the words their errors use.
type signedFormat struct {
	magic   string
	version uint16
	noun    string    // "the ruleset file"
	code    Code      // for a file that is not well formed
	build   string    // the command that makes one
	short   string    // "ruleset"
	trusts  [2]string // around the trusted key's id, for a key mismatch
}

var rulesetFormat = signedFormat{EWRMagic, EWRVersion, "the ruleset file", CodeBadRulesetFile, "edgewise build",
	"ruleset", [2]string{"this site trusts key ", ": sign it with the site's key, or configure the matching public key"}}

// verifySigned checks a signed file's structure, that it is signed by pub
// and unchanged since, and returns its payload.
func verifySigned(f signedFormat, b []byte, pub []byte) ([]byte, error) {
	if len(pub) != publicKeySize {
		return nil, &Error{Code: CodeBadRequest, Message: "the public key must be " + strconv.Itoa(publicKeySize) + " bytes (an Ed25519 key), got " + strconv.Itoa(len(pub))}
	}
	info, payload, err := parseSigned(f, b)
	if err != nil {
		return nil, err
	}
	if err := checkSigned(f, b, &info, pub); err != nil {
		return nil, err
	}
	return payload, nil
}

// checkSigned checks a file parseSigned read (info is its header) against
// pub, a key of publicKeySize bytes: the key id, the content hash and the
// signature.
func checkSigned(f signedFormat, b []byte, info *EWRInfo, pub []byte) error {
	if trusted := KeyIDOf(pub); info.KeyID != trusted {
		return badSignature("the " + f.short + " is signed with key " + info.KeyID.String() + ", but " + f.trusts[0] + trusted.String() + f.trusts[1])
	}
	if !info.HashMatches {
		return badSignature("the " + f.short + "'s content does not match the hash it was signed with: the file was changed or damaged after signing")
	}
	if !edverify.Verify(pub, b[:EWRHeaderSize+info.PayloadSize], info.Signature[:]) {
		return badSignature("the " + f.short + "'s signature does not verify with key " + info.KeyID.String() + ": the file was changed after signing, or forged")
	}
	return nil
}

// parseEWR checks the structure of a file: magic, version, flags and length.
// It returns the header and the payload, and checks nothing cryptographic.
func parseEWR(ewr []byte) (EWRInfo, []byte, error) { return parseSigned(rulesetFormat, ewr) }

func parseSigned(f signedFormat, ewr []byte) (EWRInfo, []byte, error) {
	var info EWRInfo
	info.Size = len(ewr)
	// Each message is one concatenation: in wasm every extra one costs.
	var msg string
	n := uint64(0)
	switch {
	case len(ewr) == 0:
		msg = f.noun + " is empty"
	case len(ewr) < len(f.magic) || string(ewr[:len(f.magic)]) != f.magic:
		if f.magic == EWRMagic {
			return info, nil, badFile(notEWR(ewr))
		}
		msg = f.noun + " does not start with \"" + f.magic + "\": make and sign it with " + f.build
	case len(ewr) < EWRHeaderSize:
		msg = f.noun + " is truncated: " + strconv.Itoa(len(ewr)) + " bytes, shorter than its 52-byte header"
	default:
		info.Version = binary.BigEndian.Uint16(ewr[ewrOffVersion:])
		info.Flags = binary.BigEndian.Uint16(ewr[ewrOffFlags:])
		copy(info.KeyID[:], ewr[ewrOffKeyID:])
		copy(info.ContentHash[:], ewr[ewrOffHash:])
		n = uint64(binary.BigEndian.Uint32(ewr[ewrOffLength:]))
		info.PayloadSize = int(n)
		want := uint64(EWROverhead) + n
		switch {
		case info.Version > f.version:
			msg = f.noun + " has format version " + strconv.Itoa(int(info.Version)) + "; this engine reads version " + strconv.Itoa(int(f.version)) + ": update edgewise.wasm, or make the file with a matching edgewise"
		case info.Version != f.version:
			msg = f.noun + " has format version " + strconv.Itoa(int(info.Version)) + ", which does not exist"
		case info.Flags != 0:
			msg = f.noun + " sets format flags 0x" + strconv.FormatUint(uint64(info.Flags), 16) + ", which this engine does not know: update edgewise.wasm"
		case uint64(len(ewr)) < want:
			msg = f.noun + " is truncated: " + strconv.Itoa(len(ewr)) + " bytes, but its header promises " + strconv.FormatUint(want, 10) + " (a " + strconv.FormatUint(n, 10) + "-byte payload and a 64-byte signature)"
		case uint64(len(ewr)) > want:
			msg = f.noun + " has " + strconv.FormatUint(uint64(len(ewr))-want, 10) + " bytes after its signature"
		}
	}
	if msg != "" {
		return info, nil, &Error{Code: f.code, Message: msg}
	}
	payload := ewr[EWRHeaderSize : EWRHeaderSize+int(n)]
	copy(info.Signature[:], ewr[EWRHeaderSize+int(n):])
	info.HashMatches = sha2.Sum256(payload) == info.ContentHash
	return info, payload, nil
}

// notEWR says what a file that lacks the magic looks like, since the usual
// mistake is handing over an unsigned ruleset.
func notEWR(b []byte) string {
	const build = "; the engine loads only rulesets built and signed with edgewise build"
	c := b[0]
	switch {
	case c >= 0x80 && c <= 0x8f, c == 0xde, c == 0xdf:
		return "this is a plain msgpack map, not a signed ruleset (.ewr)" + build
	case c == '{' || c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == 0xef:
		return "this looks like JSON text, not a signed ruleset (.ewr)" + build
	case c == '<':
		return "this looks like HTML (an error page?), not a signed ruleset (.ewr)" + build
	}
	return "this is not a signed ruleset (.ewr): it does not start with \"" + EWRMagic + "\"" + build
}

// DecodeRuleset verifies an .ewr file against the site's public key and
// decodes its ruleset. Every failure is an *Error: bad_signature when the
// file is not signed by pub or was changed after signing, bad_ruleset_file
// when it is not a well-formed .ewr file, bad_request when pub is not a key.
// pub is a crypto/ed25519.PublicKey or its bytes. It does not validate the
// ruleset; Load does.
func DecodeRuleset(ewr []byte, pub []byte) (*Ruleset, error) {
	payload, err := verifySigned(rulesetFormat, ewr, pub)
	if err != nil {
		return nil, err
	}
	rs, err := decodePayload(payload)
	if err != nil {
		return nil, err
	}
	return rs, nil
}

func decodePayload(payload []byte) (*Ruleset, error) {
	rs := new(Ruleset)
	if err := wire.Read(payload, func(r *mp.Reader) error { return mpDecodeRuleset(r, rs) }); err != nil {
		return nil, badFile("the signed ruleset does not decode (built by a newer edgewise?): " + err.Error())
	}
	return rs, nil
}

// ReadEWRHeader checks an .ewr file's structure (magic, version, flags,
// length) and returns what its header says. It checks no key, hash or
// signature; EWRInfo.HashMatches says whether the hash matches.
func ReadEWRHeader(ewr []byte) (EWRInfo, error) {
	info, _, err := parseEWR(ewr)
	return info, err
}

// InspectRuleset reads an .ewr file without checking its key or signature,
// for tools that show what a file holds. The ruleset is nil when the payload
// does not decode; err then says why. Never load what it returns.
func InspectRuleset(ewr []byte) (EWRInfo, *Ruleset, error) {
	info, payload, err := parseEWR(ewr)
	if err != nil {
		return info, nil, err
	}
	rs, err := decodePayload(payload)
	return info, rs, err
}
