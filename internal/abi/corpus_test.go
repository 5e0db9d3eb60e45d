package abi

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/internal/abitest"
	"github.com/edgewise/edgewise/internal/refcodec"
	"github.com/vmihailenco/msgpack/v5"
)

var update = flag.Bool("update", false, "rewrite testdata/abi/golden from testdata/abi/cases")

const (
	casesDir  = "../../testdata/abi/cases"
	goldenDir = "../../testdata/abi/golden"
)

// caseFile is a human-written corpus case. Requests are JSON with a few
// placeholders that plain JSON cannot say:
//
//	{"$include": "file.json"}  the contents of a file in testdata/abi
//	{"$hex": "c1c1"}           msgpack bin of these bytes
//	{"$msgpack": value}        msgpack bin of value encoded as msgpack
//	{"$snapshot_of": N}        the snapshot bytes returned by step N
//	{"$public_key": "test"}    the 32-byte public key of a fixed test key
//	                           ("test" or "other"; see abitest.NamedKey)
//	{"$ewr": {...}}            a signed ruleset file (.ewr), built by
//	                           buildEWR from these fields:
//	    "key": "test"          the fixed key that signs it (required)
//	    "ruleset": {...}       the ruleset, encoded as edgewise build encodes
//	                           it but not validated, so the engine's own
//	                           checks can be tested; or else
//	    "payload": bin         the payload bytes as they are ($msgpack, $hex)
//	    "version": N           this format version in the header, re-signed
//	    "flags": N             these format flags in the header, re-signed
//	    "flip_byte": N         then flip the low bit of byte N (N < 0 counts
//	                           from the end: -1 is the signature's last byte)
//	    "rehash": true         then recompute the content hash, as a forger
//	                           would, without re-signing
//	    "truncate": N          then keep only the first N bytes
//	{"$ewf": {...}}            a signed context feed (.ewf), from:
//	    "key": "test"          the fixed key that signs it (required)
//	    "feed": {...}          the feed, encoded as edgewise feed build
//	                           encodes it but not checked
//	    "flip_byte": N         then flip the low bit of byte N
//
// A step may give request_hex instead of request, for raw bytes.
type caseFile struct {
	Description string `json:"description"`
	Steps       []struct {
		Op         string          `json:"op"`
		Request    json.RawMessage `json:"request"`
		RequestHex *string         `json:"request_hex"`
	} `json:"steps"`
}

// TestCorpus runs every case natively and compares each response, byte for
// byte, with the golden file. The wasm tests and the JS tests hold the module
// to the same files.
func TestCorpus(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(casesDir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no corpus cases in %s (%v)", casesDir, err)
	}
	seen := map[string]bool{}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		seen[name+".json"] = true
		t.Run(name, func(t *testing.T) {
			got := runCase(t, path, name)
			goldenPath := filepath.Join(goldenDir, name+".json")
			if *update {
				if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/abi -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is stale or the engine changed (first difference at %s); review with go test ./internal/abi -update && git diff", goldenPath, firstDifference(got, want))
			}
		})
	}
	// A golden file whose case was deleted would keep testing nothing useful.
	golden, _ := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	for _, g := range golden {
		if !seen[filepath.Base(g)] {
			if *update {
				os.Remove(g)
				continue
			}
			t.Errorf("%s has no case in %s", g, casesDir)
		}
	}
}

func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, strings.TrimSpace(g[i]), strings.TrimSpace(w[i]))
		}
	}
	return fmt.Sprintf("line %d: lengths differ", min(len(g), len(w))+1)
}

func runCase(t *testing.T, path, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c caseFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	host := NewHost()
	out := abitest.File{Name: name, Description: c.Description}
	var responses []map[string]any
	for i, s := range c.Steps {
		var req []byte
		if s.RequestHex != nil {
			if req, err = hex.DecodeString(*s.RequestHex); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		} else {
			v, err := decodeJSON(s.Request)
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			v, err = expand(v, responses)
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if req, err = refcodec.EncodeRequest(v); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		resp := host.Call(Op(s.Op), req)
		var decoded map[string]any
		if err := msgpack.Unmarshal(resp, &decoded); err != nil {
			t.Fatalf("step %d: response is not msgpack: %v", i, err)
		}
		if len(decoded) != 1 || (decoded["result"] == nil && decoded["error"] == nil) {
			t.Fatalf("step %d: response is neither {result} nor {error}: %v", i, decoded)
		}
		responses = append(responses, decoded)
		out.Steps = append(out.Steps, abitest.Step{
			Op:          s.Op,
			RequestB64:  base64.StdEncoding.EncodeToString(req),
			ResponseB64: base64.StdEncoding.EncodeToString(resp),
			Response:    decoded,
		})
	}
	js, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(js, '\n')
}

func decodeJSON(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// expand resolves placeholders and turns JSON numbers into msgpack ints or floats.
func expand(v any, responses []map[string]any) (any, error) {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, nil
		}
		return v.Float64()
	case []any:
		for i := range v {
			e, err := expand(v[i], responses)
			if err != nil {
				return nil, err
			}
			v[i] = e
		}
		return v, nil
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				switch k {
				case "$include":
					raw, err := os.ReadFile(filepath.Join(casesDir, "..", arg.(string)))
					if err != nil {
						return nil, err
					}
					inc, err := decodeJSON(raw)
					if err != nil {
						return nil, err
					}
					return expand(inc, responses)
				case "$hex":
					return hex.DecodeString(arg.(string))
				case "$msgpack":
					inner, err := expand(arg, responses)
					if err != nil {
						return nil, err
					}
					return refcodec.EncodeRequest(inner)
				case "$public_key":
					key, ok := abitest.NamedKey(fmt.Sprint(arg))
					if !ok {
						return nil, fmt.Errorf("$public_key %v: no such test key", arg)
					}
					return []byte(key.Public().(ed25519.PublicKey)), nil
				case "$ewr":
					spec, ok := arg.(map[string]any)
					if !ok {
						return nil, fmt.Errorf("$ewr takes an object, got %v", arg)
					}
					for k, v := range spec {
						e, err := expand(v, responses)
						if err != nil {
							return nil, err
						}
						spec[k] = e
					}
					return buildEWR(spec)
				case "$ewf":
					spec, ok := arg.(map[string]any)
					if !ok {
						return nil, fmt.Errorf("$ewf takes an object, got %v", arg)
					}
					for k, v := range spec {
						e, err := expand(v, responses)
						if err != nil {
							return nil, err
						}
						spec[k] = e
					}
					return buildEWF(spec)
				case "$snapshot_of":
					n, err := arg.(json.Number).Int64()
					if err != nil || int(n) >= len(responses) {
						return nil, fmt.Errorf("$snapshot_of %v: no such earlier step", arg)
					}
					result, _ := responses[n]["result"].(map[string]any)
					snap, ok := result["snapshot"].([]byte)
					if !ok {
						return nil, fmt.Errorf("$snapshot_of %d: step has no snapshot", n)
					}
					return snap, nil
				}
			}
		}
		for k := range v {
			e, err := expand(v[k], responses)
			if err != nil {
				return nil, err
			}
			v[k] = e
		}
		return v, nil
	}
	return v, nil
}

// buildEWR makes the .ewr bytes a $ewr placeholder describes (see caseFile).
// Ed25519 signatures are deterministic, so the bytes are the same every run.
func buildEWR(spec map[string]any) ([]byte, error) {
	known := map[string]bool{"key": true, "ruleset": true, "payload": true, "version": true, "flags": true, "flip_byte": true, "rehash": true, "truncate": true}
	for k := range spec {
		if !known[k] {
			return nil, fmt.Errorf("$ewr: unknown field %q", k)
		}
	}
	key, ok := abitest.NamedKey(fmt.Sprint(spec["key"]))
	if !ok {
		return nil, fmt.Errorf("$ewr: key %v is not a test key", spec["key"])
	}
	var payload []byte
	switch {
	case spec["ruleset"] != nil && spec["payload"] == nil:
		// Through msgpack and the engine's strict decoder, as the engine
		// reads it, then out again as edgewise build writes it.
		raw, err := refcodec.EncodeRequest(spec["ruleset"])
		if err != nil {
			return nil, err
		}
		var rs engine.Ruleset
		if err := refcodec.Decode(raw, &rs); err != nil {
			return nil, fmt.Errorf("$ewr: the ruleset does not fit engine.Ruleset (use payload for that): %w", err)
		}
		if payload, err = buildtime.MarshalRuleset(&rs); err != nil {
			return nil, err
		}
	case spec["payload"] != nil && spec["ruleset"] == nil:
		if payload, ok = spec["payload"].([]byte); !ok {
			return nil, fmt.Errorf("$ewr: payload must be bytes ($msgpack or $hex)")
		}
	default:
		return nil, fmt.Errorf("$ewr needs exactly one of ruleset and payload")
	}
	ewr, err := engine.SealRuleset(payload, key)
	if err != nil {
		return nil, err
	}
	resign := false
	for field, offset := range map[string]int{"version": 4, "flags": 6} {
		if v, ok := spec[field]; ok {
			n, ok := v.(int64)
			if !ok {
				return nil, fmt.Errorf("$ewr: %s must be an integer", field)
			}
			binary.BigEndian.PutUint16(ewr[offset:], uint16(n))
			resign = true
		}
	}
	body := len(ewr) - engine.EWRSignatureSize
	if resign {
		copy(ewr[body:], ed25519.Sign(key, ewr[:body]))
	}
	if v, ok := spec["flip_byte"]; ok {
		i, ok := v.(int64)
		if !ok || i >= int64(len(ewr)) || -i > int64(len(ewr)) {
			return nil, fmt.Errorf("$ewr: flip_byte %v is not a byte of a %d-byte file", v, len(ewr))
		}
		if i < 0 {
			i += int64(len(ewr))
		}
		ewr[i] ^= 1
	}
	if spec["rehash"] == true {
		sum := sha256.Sum256(ewr[engine.EWRHeaderSize:body])
		copy(ewr[16:48], sum[:])
	}
	if v, ok := spec["truncate"]; ok {
		n, ok := v.(int64)
		if !ok || n < 0 || n > int64(len(ewr)) {
			return nil, fmt.Errorf("$ewr: truncate %v is not a length of a %d-byte file", v, len(ewr))
		}
		ewr = ewr[:n]
	}
	return ewr, nil
}

// buildEWF makes the .ewf bytes a $ewf placeholder describes (see caseFile).
func buildEWF(spec map[string]any) ([]byte, error) {
	for k := range spec {
		if k != "key" && k != "feed" && k != "flip_byte" {
			return nil, fmt.Errorf("$ewf: unknown field %q", k)
		}
	}
	key, ok := abitest.NamedKey(fmt.Sprint(spec["key"]))
	if !ok {
		return nil, fmt.Errorf("$ewf: key %v is not a test key", spec["key"])
	}
	raw, err := refcodec.EncodeRequest(spec["feed"])
	if err != nil {
		return nil, err
	}
	var f engine.Feed
	if err := refcodec.Decode(raw, &f); err != nil {
		return nil, fmt.Errorf("$ewf: the feed does not fit engine.Feed: %w", err)
	}
	payload, err := buildtime.MarshalFeed(&f)
	if err != nil {
		return nil, err
	}
	ewf, err := engine.SealFeed(payload, key)
	if err != nil {
		return nil, err
	}
	if v, ok := spec["flip_byte"]; ok {
		i, ok := v.(int64)
		if !ok || i >= int64(len(ewf)) || -i > int64(len(ewf)) {
			return nil, fmt.Errorf("$ewf: flip_byte %v is not a byte of a %d-byte file", v, len(ewf))
		}
		if i < 0 {
			i += int64(len(ewf))
		}
		ewf[i] ^= 1
	}
	return ewf, nil
}

// fixtures are signed with the test key for hosts that cannot sign: the JS
// tests load testdata/abi/NAME.ewr and trust testdata/keys/test.pub.
var fixtures = []string{"shop", "unicode", "rules", "feeds"}

// feedFixtures are context feeds signed with the test key for the JS tests:
// testdata/abi/NAME.json becomes NAME.ewf.
var feedFixtures = []string{"weather-feed"}

// TestFixtures builds each fixture from testdata/abi/NAME.json as edgewise
// build does (validated, then signed with the test key) and compares it with
// the checked-in .ewr; -update rewrites them, and testdata/keys/test.pub.
func TestFixtures(t *testing.T) {
	files := map[string][]byte{"../../testdata/keys/test.pub": abitest.TestPublicKey()}
	for _, name := range fixtures {
		src := filepath.Join(casesDir, "..", name+".json")
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		var rs engine.Ruleset
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rs); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		ewr, err := buildtime.EncodeRuleset(&rs, abitest.TestKey())
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		files[filepath.Join(casesDir, "..", name+".ewr")] = ewr
	}
	for _, name := range feedFixtures {
		src := filepath.Join(casesDir, "..", name+".json")
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		var f engine.Feed
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		ewf, err := buildtime.EncodeFeed(&f, abitest.TestKey())
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		files[filepath.Join(casesDir, "..", name+".ewf")] = ewf
	}
	for path, want := range files {
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/abi -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale; run go test ./internal/abi -update", path)
		}
	}
}
