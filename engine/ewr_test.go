package engine_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/internal/abitest"
	"github.com/vmihailenco/msgpack/v5"
)

func intp(n int) *int { return &n }

// fullRuleset sets every field of the model at least once, so a round trip
// proves each one survives msgpack and the strict decoder.
func fullRuleset() engine.Ruleset {
	return engine.Ruleset{
		ID: "full", Version: "3", Description: "Every field, once.",
		Profile: engine.ProfileSettings{HalfLifeDays: 10.5, MaxEvents: 300},
		Signals: []engine.Signal{
			{ID: "history", Kind: engine.SignalHistory, Purpose: "Recommend gear like what you viewed.", RetentionDays: 30},
			{ID: "weather", Kind: engine.SignalWeather, Purpose: "Show rain gear when it rains where you are.", RetentionDays: 0},
		},
		Regions: []engine.Region{{
			ID: "pnw", Name: "Pacific Northwest", Countries: []string{"US"}, Subdivisions: []string{"US-WA", "US-OR"},
			Boxes: []engine.Box{{South: 42, West: -125, North: 49, East: -116.5}}, Geohashes: []string{"c2"},
		}},
		Catalogue: []engine.Item{
			{ID: "shell", Title: "Rain shell ☂", Tags: []string{"rain", "hiking"}, Campaign: "autumn",
				Attributes: map[string]string{"price": "129", "image": "/shell.png", "a-first": "x"}, Regions: []string{"pnw"},
				Schedule: []engine.Window{{From: "2025-09-01", Until: "2025-11-30"}}},
			{ID: "tent", Title: "Tent", Tags: []string{"camping"}},
		},
		Slots: []engine.Slot{{
			ID: "home", Candidates: engine.Selector{Tags: []string{"rain"}, Items: []string{"tent"}, Campaigns: []string{"autumn"}},
			Limit: 2, Fallback: []string{"tent"}, Diversity: engine.Diversity{MaxPerTag: 1, MaxPerCampaign: 1}, ExcludeSeen: &yes,
		}},
		Rules: []engine.Rule{{
			ID: "rainy", Description: "Rain gear when it rains.", Reason: "Because it's raining in your region",
			When: engine.Condition{
				Weather: []string{"rain"}, Region: []string{"pnw"}, Daypart: []string{"morning"}, Weekday: []string{"sat"},
				Device: []string{"mobile"}, Referrer: []string{"search"}, PageSection: []string{"jackets"},
				Visits:    &engine.Range{Min: intp(2), Max: intp(10)},
				Interest:  []engine.InterestTest{{Tag: "hiking", AtLeast: 1.5}},
				Viewed:    &engine.RecentTest{Selector: engine.Selector{Tags: []string{"rain"}}, WithinDays: 7},
				Purchased: &engine.RecentTest{Selector: engine.Selector{Items: []string{"tent"}}, WithinDays: 30},
			},
			Items: engine.Selector{Tags: []string{"rain"}}, Slots: []string{"home"}, Boost: 2.5,
		}, {ID: "pin", Items: engine.Selector{Items: []string{"tent"}}, Pin: 1}, {ID: "hide", Items: engine.Selector{Campaigns: []string{"autumn"}}, Exclude: true, Bury: 0.5}},
		Caps: []engine.Cap{{ID: "autumn", Items: engine.Selector{Campaigns: []string{"autumn"}}, PerDay: 3, PerWeek: 10}},
		Cohorts: engine.Cohorts{Dimensions: []engine.Dimension{
			{ID: "interest", From: engine.DimensionInterest, Buckets: []engine.Bucket{{ID: "outdoor", Tags: []string{"hiking"}}, {ID: "other"}}},
			{ID: "engagement", From: engine.DimensionEngagement, Buckets: []engine.Bucket{{ID: "new", Visits: &engine.Range{Max: intp(1)}}, {ID: "regular"}}},
		}},
		Reporting: engine.Reporting{EpochDays: 7, Epsilon: 2, MinK: 50},
	}
}

func smallRuleset() engine.Ruleset {
	return engine.Ruleset{
		ID: "small", Version: "1",
		Signals:   []engine.Signal{{ID: "history", Kind: engine.SignalHistory, Purpose: "Suggest gear like what you viewed.", RetentionDays: 30}},
		Catalogue: []engine.Item{{ID: "a", Title: "A", Tags: []string{"x"}}, {ID: "b", Title: "B", Tags: []string{"y"}}},
		Slots:     []engine.Slot{{ID: "s", Limit: 1, Fallback: []string{"a"}}},
	}
}

func seal(t testing.TB, rs engine.Ruleset, key ed25519.PrivateKey) []byte {
	t.Helper()
	payload, err := buildtime.MarshalRuleset(&rs)
	if err != nil {
		t.Fatal(err)
	}
	ewr, err := engine.SealRuleset(payload, key)
	if err != nil {
		t.Fatal(err)
	}
	return ewr
}

func wantCode(t *testing.T, err error, code engine.Code, substr string) {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want an *engine.Error %s", err, err, code)
	}
	if e.Code != code || !strings.Contains(e.Message, substr) {
		t.Fatalf("got %s: %s\nwant %s containing %q", e.Code, e.Message, code, substr)
	}
}

func TestEWRRoundTrip(t *testing.T) {
	rs := fullRuleset()
	ewr := seal(t, rs, abitest.TestKey())
	got, err := engine.DecodeRuleset(ewr, abitest.TestPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, rs) {
		t.Fatalf("round trip changed the ruleset:\n got %+v\nwant %+v", *got, rs)
	}
	// The payload is canonical: decoding and encoding again gives the same bytes.
	again := seal(t, *got, abitest.TestKey())
	if !bytes.Equal(again, ewr) {
		t.Fatal("re-encoding a decoded ruleset changed the file")
	}
}

func TestEWRLayout(t *testing.T) {
	rs := smallRuleset()
	ewr, err := buildtime.EncodeRuleset(&rs, abitest.TestKey())
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := buildtime.MarshalRuleset(&rs)
	n := len(payload)
	if len(ewr) != 116+n {
		t.Fatalf("file is %d bytes, want 116 + %d", len(ewr), n)
	}
	if string(ewr[:4]) != "EWRS" || binary.BigEndian.Uint16(ewr[4:]) != 1 || binary.BigEndian.Uint16(ewr[6:]) != 0 {
		t.Fatalf("header starts %x", ewr[:8])
	}
	pub := abitest.TestPublicKey()
	keySum := sha256.Sum256(pub)
	if !bytes.Equal(ewr[8:16], keySum[:8]) {
		t.Errorf("key id %x, want %x", ewr[8:16], keySum[:8])
	}
	if engine.KeyIDOf(pub).String() != bytesHex(keySum[:8]) {
		t.Errorf("KeyID.String() = %s", engine.KeyIDOf(pub))
	}
	payloadSum := sha256.Sum256(payload)
	if !bytes.Equal(ewr[16:48], payloadSum[:]) {
		t.Errorf("content hash %x, want %x", ewr[16:48], payloadSum)
	}
	if binary.BigEndian.Uint32(ewr[48:]) != uint32(n) || !bytes.Equal(ewr[52:52+n], payload) {
		t.Errorf("payload length %d or bytes differ", binary.BigEndian.Uint32(ewr[48:]))
	}
	if !ed25519.Verify(pub, ewr[:52+n], ewr[52+n:]) {
		t.Error("the last 64 bytes are not a signature over header and payload")
	}
	// The payload is the ruleset's msgpack map, readable by any msgpack decoder.
	var m map[string]any
	if err := msgpack.Unmarshal(payload, &m); err != nil || m["id"] != "small" {
		t.Errorf("payload does not decode as a map: %v %v", err, m)
	}
}

func bytesHex(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

func TestEncodeRulesetIsDeterministic(t *testing.T) {
	rs := fullRuleset()
	first := seal(t, rs, abitest.TestKey())
	for i := 0; i < 20; i++ {
		// Map iteration order changes from run to run; the bytes must not.
		if again := seal(t, fullRuleset(), abitest.TestKey()); !bytes.Equal(again, first) {
			t.Fatal("encoding the same ruleset twice gave different bytes")
		}
	}
}

func TestEncodeRulesetRefusesWhatTheEngineWouldRefuse(t *testing.T) {
	rs := smallRuleset()
	rs.Slots[0].Fallback = []string{"ghost"}
	_, err := buildtime.EncodeRuleset(&rs, abitest.TestKey())
	wantCode(t, err, engine.CodeInvalidRuleset, `"ghost"`)

	rs = smallRuleset()
	_, err = buildtime.EncodeRuleset(&rs, ed25519.PrivateKey(make([]byte, 10)))
	wantCode(t, err, engine.CodeBadRequest, "64-byte")
}

func TestDecodeRulesetRefuses(t *testing.T) {
	rs := smallRuleset()
	good := seal(t, rs, abitest.TestKey())
	pub := abitest.TestPublicKey()
	other, _ := abitest.NamedKey("other")
	unsigned, _ := buildtime.MarshalRuleset(&rs)
	withVersion := func(v uint16) []byte {
		b := bytes.Clone(good)
		binary.BigEndian.PutUint16(b[4:], v)
		// Re-signed: a future file from a real build verifies, and is still refused.
		copy(b[len(b)-64:], ed25519.Sign(abitest.TestKey(), b[:len(b)-64]))
		return b
	}
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		if i < 0 {
			i += len(b)
		}
		b[i] ^= 1
		return b
	}
	rehashed := flip(60)
	sum := sha256.Sum256(rehashed[52 : len(rehashed)-64])
	copy(rehashed[16:48], sum[:])
	badPayload, _ := engine.SealRuleset([]byte{0x81, 0xa5, 'r', 'u', 'l', 'e', 'z', 0x01}, abitest.TestKey())
	notMap, _ := engine.SealRuleset([]byte{0x93, 1, 2, 3}, abitest.TestKey())

	for _, c := range []struct {
		name   string
		ewr    []byte
		pub    ed25519.PublicKey
		code   engine.Code
		substr string
	}{
		{"empty", nil, pub, engine.CodeBadRulesetFile, "empty"},
		{"unsigned msgpack", unsigned, pub, engine.CodeBadRulesetFile, "plain msgpack map"},
		{"JSON", []byte(`{"id": "x"}`), pub, engine.CodeBadRulesetFile, "JSON"},
		{"HTML", []byte("<!doctype html>"), pub, engine.CodeBadRulesetFile, "HTML"},
		{"other bytes", []byte("PK\x03\x04"), pub, engine.CodeBadRulesetFile, `does not start with "EWRS"`},
		{"magic only", []byte("EWRS"), pub, engine.CodeBadRulesetFile, "truncated"},
		{"header cut", good[:30], pub, engine.CodeBadRulesetFile, "shorter than its 52-byte header"},
		{"no signature", good[:len(good)-64], pub, engine.CodeBadRulesetFile, "truncated"},
		{"signature cut", good[:len(good)-1], pub, engine.CodeBadRulesetFile, "truncated"},
		{"trailing byte", append(bytes.Clone(good), 0), pub, engine.CodeBadRulesetFile, "1 bytes after its signature"},
		{"future version", withVersion(2), pub, engine.CodeBadRulesetFile, "format version 2; this engine reads version 1"},
		{"version 0", withVersion(0), pub, engine.CodeBadRulesetFile, "does not exist"},
		{"flags", flip(7), pub, engine.CodeBadRulesetFile, "flags 0x1"},
		{"wrong key", seal(t, rs, other), pub, engine.CodeBadSignature, "signed with key " + engine.KeyIDOf(other.Public().(ed25519.PublicKey)).String() + ", but this site trusts key " + engine.KeyIDOf(pub).String()},
		{"key id changed", flip(8), pub, engine.CodeBadSignature, "but this site trusts key"},
		{"hash changed", flip(20), pub, engine.CodeBadSignature, "does not match the hash"},
		{"payload changed", flip(60), pub, engine.CodeBadSignature, "does not match the hash"},
		{"payload and hash changed", rehashed, pub, engine.CodeBadSignature, "signature does not verify"},
		{"signature changed", flip(-1), pub, engine.CodeBadSignature, "signature does not verify"},
		{"short public key", good, pub[:31], engine.CodeBadRequest, "32 bytes"},
		{"no public key", good, nil, engine.CodeBadRequest, "got 0"},
		{"signed garbage", badPayload, pub, engine.CodeBadRulesetFile, "does not decode"},
		{"signed array", notMap, pub, engine.CodeBadRulesetFile, "does not decode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rs, err := engine.DecodeRuleset(c.ewr, c.pub)
			if rs != nil {
				t.Fatal("a refused file returned a ruleset")
			}
			wantCode(t, err, c.code, c.substr)
		})
	}
}

// TestEveryChangeIsRefused flips each bit of a signed file and cuts it at
// every length: nothing but the original verifies.
func TestEveryChangeIsRefused(t *testing.T) {
	good := seal(t, smallRuleset(), abitest.TestKey())
	pub := abitest.TestPublicKey()
	for i := range good {
		for bit := 0; bit < 8; bit++ {
			b := bytes.Clone(good)
			b[i] ^= 1 << bit
			if _, err := engine.DecodeRuleset(b, pub); err == nil {
				t.Fatalf("flipping bit %d of byte %d went unnoticed", bit, i)
			}
		}
	}
	for n := 0; n < len(good); n++ {
		if _, err := engine.DecodeRuleset(good[:n], pub); err == nil {
			t.Fatalf("the file cut to %d bytes verified", n)
		}
	}
}

func TestInspectRulesetReadsWithoutAKey(t *testing.T) {
	other, _ := abitest.NamedKey("other")
	good := seal(t, smallRuleset(), other)
	info, rs, err := engine.InspectRuleset(good)
	if err != nil || rs == nil || rs.ID != "small" {
		t.Fatalf("inspect: %v %v", rs, err)
	}
	if info.Version != 1 || info.Flags != 0 || info.Size != len(good) || info.PayloadSize != len(good)-116 || !info.HashMatches {
		t.Fatalf("info = %+v", info)
	}
	if info.KeyID != engine.KeyIDOf(other.Public().(ed25519.PublicKey)) {
		t.Fatalf("key id %s", info.KeyID)
	}
	bad := bytes.Clone(good)
	bad[60] ^= 1
	info, _, _ = engine.InspectRuleset(bad)
	if info.HashMatches {
		t.Fatal("a changed payload matches its hash")
	}
	if _, _, err := engine.InspectRuleset(good[:40]); err == nil {
		t.Fatal("a truncated file inspects")
	}
}

// FuzzDecodeRuleset: whatever the bytes, DecodeRuleset answers with a
// ruleset or an *engine.Error, and never panics.
func FuzzDecodeRuleset(f *testing.F) {
	good := seal(f, smallRuleset(), abitest.TestKey())
	f.Add(good)
	f.Add(good[:60])
	f.Add([]byte("EWRS\x00\x01\x00\x00"))
	f.Add([]byte("EWRS\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff"))
	pub := abitest.TestPublicKey()
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := engine.DecodeRuleset(b, pub)
		var e *engine.Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		if (rs == nil) == (err == nil) {
			t.Fatalf("ruleset %v with error %v", rs, err)
		}
		engine.InspectRuleset(b)
	})
}

// BenchmarkDecodeRuleset verifies and decodes a signed 1,000-item ruleset:
// what load_ruleset pays before compiling. The sub-benchmarks split it.
func BenchmarkDecodeRuleset(b *testing.B) {
	rs := abitest.BenchRuleset(1000)
	ewr, err := buildtime.EncodeRuleset(&rs, abitest.TestKey())
	if err != nil {
		b.Fatal(err)
	}
	pub := abitest.TestPublicKey()
	b.Run("verify+decode", func(b *testing.B) {
		b.SetBytes(int64(len(ewr)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := engine.DecodeRuleset(ewr, pub); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify+decode+load", func(b *testing.B) {
		b.SetBytes(int64(len(ewr)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			got, err := engine.DecodeRuleset(ewr, pub)
			if err != nil {
				b.Fatal(err)
			}
			if err := engine.New().Load(*got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("signature only", func(b *testing.B) {
		n := len(ewr) - engine.EWRSignatureSize
		for i := 0; i < b.N; i++ {
			if !ed25519.Verify(pub, ewr[:n], ewr[n:]) {
				b.Fatal("does not verify")
			}
		}
	})
}

// BenchmarkEncodeRuleset is what edgewise build pays to sign 1,000 items.
func BenchmarkEncodeRuleset(b *testing.B) {
	rs := abitest.BenchRuleset(1000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := buildtime.EncodeRuleset(&rs, abitest.TestKey()); err != nil {
			b.Fatal(err)
		}
	}
}
