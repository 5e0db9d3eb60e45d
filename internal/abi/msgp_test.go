package abi

import (
	"bytes"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abitest"
	"github.com/edgewise/edgewise/internal/mp/mptest"
	"github.com/edgewise/edgewise/internal/refcodec"
	"github.com/vmihailenco/msgpack/v5"
)

// The generated codecs (msgp_gen.go) must agree with msgpack/v5 reflection
// on every input: the same success or failure, the same error message (byte
// offset included), the same decoded value, the same response bytes.

// DecodeMsgpack makes msgpack/v5 read a rawMessage as it reads its own
// RawMessage, so that the reference decodes what the generated codec does.
func (m *rawMessage) DecodeMsgpack(dec *msgpack.Decoder) error {
	raw, err := dec.DecodeRaw()
	*m = rawMessage(raw)
	return err
}

// codecs are every generated request decoder and result encoder.
var codecs = []mptest.Pair{
	mptest.Codec[Empty]{Name: "Empty", Decode: mpDecodeEmpty, Append: mpAppendEmpty},
	mptest.Codec[loadRulesetWire]{Name: "loadRulesetWire", Decode: mpDecodeLoadRulesetWire},
	mptest.Codec[ObserveRequest]{Name: "ObserveRequest", Decode: mpDecodeObserveRequest},
	mptest.Codec[SetContextRequest]{Name: "SetContextRequest", Decode: mpDecodeSetContextRequest},
	mptest.Codec[DecideRequest]{Name: "DecideRequest", Decode: mpDecodeDecideRequest},
	mptest.Codec[RecordImpressionsRequest]{Name: "RecordImpressionsRequest", Decode: mpDecodeRecordImpressionsRequest},
	mptest.Codec[RestoreRequest]{Name: "RestoreRequest", Decode: mpDecodeRestoreRequest},
	mptest.Codec[SetPreferencesRequest]{Name: "SetPreferencesRequest", Decode: mpDecodeSetPreferencesRequest},
	mptest.Codec[ReportRequest]{Name: "ReportRequest", Decode: mpDecodeReportRequest},
	mptest.Codec[VersionResult]{Name: "VersionResult", Append: mpAppendVersionResult},
	mptest.Codec[engine.RulesetInfo]{Name: "RulesetInfo", Append: mpAppendEngineRulesetInfo},
	mptest.Codec[SnapshotResult]{Name: "SnapshotResult", Append: mpAppendSnapshotResult},
	mptest.Codec[EventsResult]{Name: "EventsResult", Append: mpAppendEventsResult},
	mptest.Codec[PreferencesResult]{Name: "PreferencesResult", Append: mpAppendPreferencesResult},
	mptest.Codec[ReportResult]{Name: "ReportResult", Append: mpAppendReportResult},
	mptest.Codec[LedgerResult]{Name: "LedgerResult", Append: mpAppendLedgerResult},
	mptest.Codec[engine.Description]{Name: "Description", Append: mpAppendEngineDescription},
	mptest.Codec[ExportResult]{Name: "ExportResult", Append: mpAppendExportResult},
	mptest.Codec[ImpressionsResult]{Name: "ImpressionsResult", Append: mpAppendImpressionsResult},
	mptest.Codec[DecideResult]{Name: "DecideResult", Append: mpAppendDecideResult},
	mptest.Codec[ErrorBody]{Name: "ErrorBody", Append: mpAppendErrorBody},
}

// TestCodecsMatchReflection compares every generated codec with msgpack/v5
// on random values (every integer and string width, nil and empty, NaN) and
// on mutations of their encodings.
func TestCodecsMatchReflection(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	mptest.Run(t, 1, n, codecs...)
}

// shape is what a generator is asked for; it usually gets it, sometimes not.
type shape int

const (
	shString shape = iota
	shInt
	shFloat
	shStrings
	shIntPtr
	shEvent
	shContext
	shCoords
	shObserve
	shSetContext
	shDecide
	shRecordImpressions
)

type fieldSpec struct {
	name  string
	shape shape
}

var structShapes = map[shape][]fieldSpec{
	shEvent: {{"type", shString}, {"item", shString}, {"at", shInt}},
	shContext: {{"now", shInt}, {"tz_offset_minutes", shInt}, {"daypart", shString}, {"weekday", shString},
		{"weather", shString}, {"device", shString}, {"referrer", shString}, {"page_section", shString},
		{"visits", shIntPtr}, {"country", shString}, {"subdivision", shString}, {"regions", shStrings}, {"location", shCoords}},
	shCoords:            {{"lat", shFloat}, {"lon", shFloat}},
	shObserve:           {{"event", shEvent}},
	shSetContext:        {{"context", shContext}},
	shDecide:            {{"slots", shStrings}},
	shRecordImpressions: {{"items", shStrings}, {"at", shInt}},
}

type gen struct {
	r   *rand.Rand
	enc *msgpack.Encoder
	buf bytes.Buffer
}

func newGen(seed int64) *gen {
	g := &gen{r: rand.New(rand.NewSource(seed))}
	g.enc = msgpack.NewEncoder(&g.buf)
	return g
}

var sampleStrings = []string{"", "view", "item-1", "recs", "ünïcødé ☃", "evening", "DE", "US-WA", "lat", "lon", "at", "event", "context", "slots", "items", "now", "visits", "location", "regions",
	strings.Repeat("x", 31), strings.Repeat("y", 32), strings.Repeat("z", 255), strings.Repeat("w", 256)}

func (g *gen) str() string { return sampleStrings[g.r.Intn(len(sampleStrings))] }

func (g *gen) writeString() {
	if g.r.Intn(8) == 0 {
		g.enc.EncodeBytes([]byte(g.str())) // bin decodes as a string too
		return
	}
	g.enc.EncodeString(g.str())
}

var sampleInts = []int64{0, 1, -1, 31, -32, -33, 127, 128, 255, 256, -128, -129, 32767, 32768, 65535, 65536, -32768, -32769,
	math.MaxInt32, math.MaxInt32 + 1, math.MinInt32, math.MinInt32 - 1, 1764400000000, math.MaxInt64, math.MinInt64, 120, -840}

// writeInt writes an integer in a random encoding that holds it.
func (g *gen) writeInt() {
	n := sampleInts[g.r.Intn(len(sampleInts))]
	switch g.r.Intn(10) {
	case 0:
		g.enc.EncodeInt8(int8(n))
	case 1:
		g.enc.EncodeInt16(int16(n))
	case 2:
		g.enc.EncodeInt32(int32(n))
	case 3:
		g.enc.EncodeInt64(n)
	case 4:
		g.enc.EncodeUint8(uint8(n))
	case 5:
		g.enc.EncodeUint16(uint16(n))
	case 6:
		g.enc.EncodeUint32(uint32(n))
	case 7:
		g.enc.EncodeUint64(uint64(n))
	default:
		g.enc.EncodeInt(n)
	}
}

var sampleFloats = []float64{0, math.Copysign(0, -1), 1.5, -1.5, 52.52, 13.405, -90, 180, 1e300, -1e300, 5e-324, math.MaxFloat64,
	math.Inf(1), math.Inf(-1), math.NaN(), 0.1, 1e20}

func (g *gen) writeFloat() {
	switch g.r.Intn(4) {
	case 0:
		g.writeInt()
	case 1:
		g.enc.EncodeFloat32(float32(sampleFloats[g.r.Intn(len(sampleFloats))]))
	default:
		g.enc.EncodeFloat64(sampleFloats[g.r.Intn(len(sampleFloats))])
	}
}

// writeAny writes a random value of any type.
func (g *gen) writeAny(depth int) {
	k := g.r.Intn(12)
	if depth > 3 && k >= 9 {
		k = 0
	}
	switch k {
	case 0:
		g.enc.EncodeNil()
	case 1:
		g.enc.EncodeBool(g.r.Intn(2) == 0)
	case 2, 3:
		g.writeInt()
	case 4:
		g.writeFloat()
	case 5, 6:
		g.writeString()
	case 7:
		g.enc.EncodeBytes([]byte{1, 2, 3})
	case 8:
		g.enc.EncodeFloat32(1.25)
	case 9:
		n := g.r.Intn(4)
		g.enc.EncodeArrayLen(n)
		for i := 0; i < n; i++ {
			g.writeAny(depth + 1)
		}
	default:
		n := g.r.Intn(4)
		g.enc.EncodeMapLen(n)
		for i := 0; i < n; i++ {
			g.writeString()
			g.writeAny(depth + 1)
		}
	}
}

// write writes a value that is usually of shape s.
func (g *gen) write(s shape, depth int) {
	switch g.r.Intn(20) {
	case 0:
		g.writeAny(depth)
		return
	case 1:
		g.enc.EncodeNil()
		return
	}
	switch s {
	case shString:
		g.writeString()
	case shInt:
		g.writeInt()
	case shFloat:
		g.writeFloat()
	case shIntPtr:
		g.writeInt()
	case shStrings:
		n := g.r.Intn(4)
		g.enc.EncodeArrayLen(n)
		for i := 0; i < n; i++ {
			if g.r.Intn(15) == 0 {
				g.writeAny(depth + 1)
			} else {
				g.writeString()
			}
		}
	default:
		fields := structShapes[s]
		switch g.r.Intn(12) {
		case 0: // an array-encoded struct
			g.enc.EncodeArrayLen(len(fields))
			for _, f := range fields {
				g.write(f.shape, depth+1)
			}
		case 1: // an array of the wrong length
			n := g.r.Intn(3)
			g.enc.EncodeArrayLen(n)
			for i := 0; i < n; i++ {
				g.writeAny(depth + 1)
			}
		default:
			n := g.r.Intn(len(fields) + 2)
			g.enc.EncodeMapLen(n)
			for i := 0; i < n; i++ {
				if g.r.Intn(25) == 0 {
					g.enc.EncodeString("verbose") // unknown
					g.writeAny(depth + 1)
					continue
				}
				f := fields[g.r.Intn(len(fields))]
				g.enc.EncodeString(f.name)
				g.write(f.shape, depth+1)
			}
		}
	}
}

func (g *gen) request() []byte {
	g.buf.Reset()
	g.write([]shape{shObserve, shSetContext, shDecide, shRecordImpressions}[g.r.Intn(4)], 0)
	out := bytes.Clone(g.buf.Bytes())
	switch g.r.Intn(30) {
	case 0: // truncated
		out = out[:g.r.Intn(len(out)+1)]
	case 1: // a byte changed
		out[g.r.Intn(len(out))] = byte(g.r.Intn(256))
	case 2: // a trailing byte
		out = append(out, 0xc0)
	}
	return out
}

// TestDecodersMatchReflection compares the generated request decoders with
// msgpack/v5 reflection on written requests: well-formed, mistyped, nil,
// array-encoded, duplicate keys, unknown keys, every integer width.
func TestDecodersMatchReflection(t *testing.T) {
	n := 100000
	if testing.Short() {
		n = 10000
	}
	g := newGen(1)
	for range n {
		mptest.Fuzz(t, g.request(), codecs...)
	}
}

// FuzzDecodersMatchReflection: for any bytes, the generated decoders and
// reflection agree on success or failure, the error and the value.
func FuzzDecodersMatchReflection(f *testing.F) {
	for _, s := range goldenRequests(f) {
		f.Add(s.req)
	}
	g := newGen(2)
	for i := 0; i < 200; i++ {
		f.Add(g.request())
	}
	for _, s := range mptest.Seeds(f, 3, 5, codecs...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, req []byte) {
		mptest.Fuzz(t, req, codecs...)
	})
}

// ---- encoders ----

type errorResponse struct {
	Error ErrorBody `msgpack:"error"`
}

func (g *gen) strs() []string {
	switch g.r.Intn(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	out := make([]string, 1+g.r.Intn(3))
	for i := range out {
		out[i] = g.str()
	}
	return out
}

func (g *gen) decideResult() DecideResult {
	if g.r.Intn(10) == 0 {
		return DecideResult{}
	}
	var r DecideResult
	r.Decisions = make([]engine.Decision, g.r.Intn(4))
	for i := range r.Decisions {
		d := &r.Decisions[i]
		d.Slot, d.Fallback = g.str(), g.r.Intn(2) == 0
		switch g.r.Intn(5) {
		case 0:
		case 1:
			d.Items = []engine.Pick{}
		default:
			d.Items = make([]engine.Pick, 1+g.r.Intn(18))
			for j := range d.Items {
				d.Items[j] = engine.Pick{Item: g.str(), Score: sampleFloats[g.r.Intn(len(sampleFloats))] * g.r.NormFloat64(), Reason: g.str(), Rules: g.strs()}
				if g.r.Intn(3) == 0 {
					d.Items[j].Score = sampleFloats[g.r.Intn(len(sampleFloats))]
				}
			}
		}
	}
	return r
}

// TestResponsesMatchReflection: whole responses, the {result} or {error}
// wrapper included, are what msgpack/v5 writes.
func TestResponsesMatchReflection(t *testing.T) {
	g := newGen(3)
	for i := 0; i < 2000; i++ {
		code, msg := engine.Code(g.str()), g.str()
		if i%10 == 0 {
			msg = strings.Repeat("é", 40000) // str32
		}
		want, err := refcodec.Marshal(errorResponse{Error: ErrorBody{Code: code, Message: msg}})
		if err != nil {
			t.Fatal(err)
		}
		if got := encodeError(code, msg); !bytes.Equal(got, want) {
			t.Fatalf("error response:\n got %x\nwant %x", got, want)
		}
	}
	for i := 0; i < 2000; i++ {
		r := g.decideResult()
		want, err := refcodec.Marshal(struct {
			Result DecideResult `msgpack:"result"`
		}{r})
		if err != nil {
			t.Fatal(err)
		}
		if got := mpAppendDecideResult([]byte(resultPrefix), &r); !bytes.Equal(got, want) {
			t.Fatalf("decide response:\n got %x\nwant %x", got, want)
		}
	}
}

// TestReuseResponses: by default every response is a fresh slice; with
// ReuseResponses the buffer is reused and the responses are the same bytes.
func TestReuseResponses(t *testing.T) {
	setup, err := refcodec.EncodeRequest(LoadRulesetRequest{EWR: abitest.MustSign(abitest.BenchRuleset(10)), PublicKey: abitest.TestPublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	req, err := refcodec.EncodeRequest(DecideRequest{Slots: []string{"recs"}})
	if err != nil {
		t.Fatal(err)
	}
	fresh, reused := NewHost(), NewHost()
	reused.ReuseResponses()
	for _, h := range []*Host{fresh, reused} {
		if resp := h.Call(OpLoadRuleset, setup); bytes.Contains(resp, []byte("error")) {
			t.Fatalf("load: %q", resp)
		}
	}
	a1, a2 := fresh.Call(OpDecide, req), fresh.Call(OpDecide, req)
	if &a1[0] == &a2[0] {
		t.Error("a host without ReuseResponses reused its response buffer")
	}
	b1 := bytes.Clone(reused.Call(OpDecide, req))
	b2 := reused.Call(OpDecide, req)
	if !bytes.Equal(a1, b1) || !bytes.Equal(a2, b2) {
		t.Errorf("reused responses differ:\n%x\n%x", a1, b1)
	}
}
