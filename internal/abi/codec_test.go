package abi

import (
	"bytes"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abitest"
	"github.com/vmihailenco/msgpack/v5"
)

// The hand-written codecs must agree with msgpack/v5 reflection on every
// input: the same success or failure, the same error message (byte offset
// included), the same decoded value, the same response bytes.

// ---- decoders ----

// decoderCase pairs a hand-written decoder with the reflection decode it replaces.
type decoderCase struct {
	name       string
	reflection func(req []byte) (any, error)
	hand       func(c *codec, req []byte) (any, error)
}

var decoderCases = []decoderCase{
	{"observe",
		func(req []byte) (any, error) { var r ObserveRequest; err := decode(req, &r); return r, err },
		func(c *codec, req []byte) (any, error) {
			var r ObserveRequest
			err := c.decodeObserve(req, &r)
			return r, err
		}},
	{"set_context",
		func(req []byte) (any, error) { var r SetContextRequest; err := decode(req, &r); return r, err },
		func(c *codec, req []byte) (any, error) {
			var r SetContextRequest
			err := c.decodeSetContext(req, &r)
			return r, err
		}},
	{"decide",
		func(req []byte) (any, error) { var r DecideRequest; err := decode(req, &r); return r, err },
		func(c *codec, req []byte) (any, error) {
			var r DecideRequest
			err := c.decodeDecide(req, &r)
			return r, err
		}},
	{"record_impressions",
		func(req []byte) (any, error) { var r RecordImpressionsRequest; err := decode(req, &r); return r, err },
		func(c *codec, req []byte) (any, error) {
			var r RecordImpressionsRequest
			err := c.decodeRecordImpressions(req, &r)
			return r, err
		}},
}

// compareDecoders runs every decoder pair over req.
func compareDecoders(t *testing.T, c *codec, req []byte) (succeeded int) {
	t.Helper()
	for _, dc := range decoderCases {
		want, wantErr := dc.reflection(req)
		got, gotErr := dc.hand(c, req)
		if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
			t.Fatalf("%s %x: reflection gives error %v, hand-written %v", dc.name, req, wantErr, gotErr)
		}
		if wantErr != nil {
			continue
		}
		succeeded++
		if !sameRequest(want, got) {
			t.Fatalf("%s %x: reflection decodes %#v, hand-written %#v", dc.name, req, want, got)
		}
	}
	return succeeded
}

// sameRequest is reflect.DeepEqual (nil and empty slices differ), with
// floats compared bit for bit so that NaN equals NaN.
func sameRequest(a, b any) bool {
	ac, aok := a.(SetContextRequest)
	bc, bok := b.(SetContextRequest)
	if aok && bok && ac.Context.Location != nil && bc.Context.Location != nil {
		al, bl := *ac.Context.Location, *bc.Context.Location
		if math.Float64bits(al.Lat) != math.Float64bits(bl.Lat) || math.Float64bits(al.Lon) != math.Float64bits(bl.Lon) {
			return false
		}
		ac.Context.Location, bc.Context.Location = &engine.Coordinates{}, &engine.Coordinates{}
		return reflect.DeepEqual(ac, bc)
	}
	return reflect.DeepEqual(a, b)
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

// TestDecodersMatchReflection compares the hand-written request decoders with
// msgpack/v5 reflection on generated requests: well-formed, mistyped, nil,
// array-encoded, duplicate keys, unknown keys, every integer width.
func TestDecodersMatchReflection(t *testing.T) {
	n := 200000
	if testing.Short() {
		n = 20000
	}
	g, c := newGen(1), newCodec()
	succeeded := 0
	for i := 0; i < n; i++ {
		succeeded += compareDecoders(t, c, g.request())
	}
	// The generator must exercise success as well as failure.
	if succeeded < n/10 {
		t.Fatalf("only %d of %d decodes succeeded", succeeded, 4*n)
	}
	t.Logf("%d requests, %d successful decodes", n, succeeded)
}

// FuzzDecodersMatchReflection: for any bytes, the hand-written decoders and
// reflection agree on success or failure, the error and the value.
func FuzzDecodersMatchReflection(f *testing.F) {
	for _, s := range goldenRequests(f) {
		f.Add(s.req)
	}
	g := newGen(2)
	for i := 0; i < 200; i++ {
		f.Add(g.request())
	}
	c := newCodec()
	f.Fuzz(func(t *testing.T, req []byte) {
		compareDecoders(t, c, req)
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

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	out, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEncodersMatchReflection compares the hand-written response encoders
// with msgpack/v5 reflection (UseCompactInts) byte for byte.
func TestEncodersMatchReflection(t *testing.T) {
	g, c := newGen(3), newCodec()
	check := func(what string, got []byte, err error, want []byte) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s:\n got %x\nwant %x", what, got, want)
		}
	}
	for i := 0; i < 20000; i++ {
		r := g.decideResult()
		err := c.encodeDecideResult(r)
		check("decide result", c.buf.Bytes(), err, mustMarshal(t, resultResponse{Result: r}))
	}
	for _, n := range sampleInts {
		for _, v := range []int{int(n), int(n) + 1, int(n) - 1} {
			err := c.encodeEventsResult(EventsResult{Events: v})
			check("events result", c.buf.Bytes(), err, mustMarshal(t, resultResponse{Result: EventsResult{Events: v}}))
			err = c.encodeImpressionsResult(ImpressionsResult{Impressions: v})
			check("impressions result", c.buf.Bytes(), err, mustMarshal(t, resultResponse{Result: ImpressionsResult{Impressions: v}}))
		}
	}
	err := c.encodeEmpty()
	check("empty result", c.buf.Bytes(), err, mustMarshal(t, resultResponse{Result: Empty{}}))
	for i := 0; i < 2000; i++ {
		code, msg := engine.Code(g.str()), g.str()
		if i%10 == 0 {
			msg = strings.Repeat("é", 40000) // str32
		}
		check("error", encodeError(code, msg), nil, mustMarshal(t, errorResponse{Error: ErrorBody{Code: code, Message: msg}}))
	}
}

// TestReuseResponses: by default every response is a fresh slice; with
// ReuseResponses the buffer is reused and the responses are the same bytes.
func TestReuseResponses(t *testing.T) {
	setup, err := EncodeRequest(LoadRulesetRequest{EWR: abitest.MustSign(abitest.BenchRuleset(10)), PublicKey: abitest.TestPublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	req, err := EncodeRequest(DecideRequest{Slots: []string{"recs"}})
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
