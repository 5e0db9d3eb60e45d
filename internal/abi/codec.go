package abi

// Hand-written codecs for the per-call operations: observe, set_context,
// decide and record_impressions. They use msgpack's low-level Decoder and
// Encoder, no reflection, and give exactly what the reflection codec gives:
// the same values, the same errors (with the same byte offsets) and the same
// response bytes. codec_test.go holds them to that against msgpack/v5's
// reflection on generated and fuzzed inputs.
//
// Decoding follows msgpack/v5's reflection rules for the field types used:
//   - a struct is a map of known keys (an unknown key is an error), nil (the
//     zero struct), an empty array (the zero struct) or an array of exactly
//     all its fields, in struct order;
//   - a later duplicate key overwrites an earlier one; a pointer field that is
//     already set is decoded into, and nil resets it;
//   - []string: nil leaves the slice as it is, otherwise it is replaced;
//   - int, int64: any msgpack integer or nil (0); float64: float32, float64,
//     any integer or nil (0); string: str, bin or nil ("").
//
// wire.CheckMap runs first, so every declared length fits in the request.

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/wire"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// errArrayStruct is msgpack/v5's error for an array-encoded struct with the
// wrong number of fields.
var errArrayStruct = errors.New("msgpack: number of fields in array-encoded struct has changed")

// codec is a host's reusable decoder and encoder. A host answers one call at
// a time, as its engine does.
type codec struct {
	r   bytes.Reader
	dec *msgpack.Decoder
	key [64]byte
	buf bytes.Buffer
	enc *msgpack.Encoder
}

func newCodec() *codec {
	c := &codec{}
	// bytes.Reader is an io.ByteScanner, so the decoder reads it directly,
	// without buffering: its position is the decoder's.
	c.dec = msgpack.NewDecoder(&c.r)
	c.enc = msgpack.NewEncoder(&c.buf)
	c.enc.UseCompactInts(true)
	return c
}

// ---- decoding ----

// decodeRequest checks req and runs fn over it, turning any failure into the
// bad_request error that the reflection path (decode) gives. An empty request
// is an empty map: fn is not run and the request stays zero.
func (c *codec) decodeRequest(req []byte, fn func(*codec) error) error {
	if len(req) == 0 {
		return nil
	}
	if err := wire.CheckMap(req); err != nil {
		return badRequest(err)
	}
	c.r.Reset(req)
	if err := fn(c); err != nil {
		return badRequest(&wire.Error{Offset: int(c.r.Size()) - c.r.Len(), Reason: err.Error()})
	}
	return nil
}

func badRequest(err error) error {
	return &engine.Error{Code: engine.CodeBadRequest, Message: "malformed request: " + err.Error()}
}

// structHeader reads a struct's header. It returns the number of map entries
// (array false), or, for an array-encoded struct, that the fields follow in
// order (array true). n < 0 means the struct is to be zeroed.
func (c *codec) structHeader(fields int) (n int, array bool, err error) {
	code, err := c.dec.PeekCode()
	if err != nil {
		return 0, false, err
	}
	switch {
	case code == msgpcode.Nil:
		return -1, false, c.dec.DecodeNil()
	case msgpcode.IsFixedArray(code) || code == msgpcode.Array16 || code == msgpcode.Array32:
		n, err := c.dec.DecodeArrayLen()
		if err != nil {
			return 0, false, err
		}
		if n <= 0 {
			return -1, false, nil
		}
		if n != fields {
			return 0, false, errArrayStruct
		}
		return n, true, nil
	}
	// A map, or else the error reflection gives for a struct.
	n, err = c.dec.DecodeMapLen()
	return n, false, err
}

// mapKey reads a map key into the codec's scratch buffer; it is valid until
// the next key. wire.Check guarantees keys are strings.
func (c *codec) mapKey() ([]byte, error) {
	n, err := c.dec.DecodeBytesLen()
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, nil
	}
	b := c.key[:0]
	if n <= len(c.key) {
		b = c.key[:n]
	} else {
		b = make([]byte, n)
	}
	if err := c.dec.ReadFull(b); err != nil {
		return nil, err
	}
	return b, nil
}

func unknownField(key []byte) error { return fmt.Errorf("msgpack: unknown field %q", key) }

func (c *codec) str(p *string) (err error) {
	*p, err = c.dec.DecodeString()
	return err
}

func (c *codec) int64(p *int64) (err error) {
	*p, err = c.dec.DecodeInt64()
	return err
}

func (c *codec) int(p *int) error {
	n, err := c.dec.DecodeInt64()
	*p = int(n)
	return err
}

func (c *codec) float64(p *float64) (err error) {
	*p, err = c.dec.DecodeFloat64()
	return err
}

// strings decodes a []string as reflection does: nil keeps the slice.
func (c *codec) strings(p *[]string) error {
	n, err := c.dec.DecodeArrayLen()
	if err != nil || n == -1 {
		return err
	}
	ss := *p
	if ss == nil {
		ss = make([]string, 0, n)
	} else {
		ss = ss[:0]
	}
	for i := 0; i < n; i++ {
		s, err := c.dec.DecodeString()
		if err != nil {
			return err
		}
		ss = append(ss, s)
	}
	*p = ss
	return nil
}

// isNil consumes a nil, reporting whether there was one.
func (c *codec) isNil() (bool, error) {
	code, err := c.dec.PeekCode()
	if err != nil || code != msgpcode.Nil {
		return false, err
	}
	return true, c.dec.DecodeNil()
}

func (c *codec) intPtr(p **int) error {
	if null, err := c.isNil(); null || err != nil {
		*p = nil
		return err
	}
	if *p == nil {
		*p = new(int)
	}
	return c.int(*p)
}

func (c *codec) coordinatesPtr(p **engine.Coordinates) error {
	if null, err := c.isNil(); null || err != nil {
		*p = nil
		return err
	}
	if *p == nil {
		*p = new(engine.Coordinates)
	}
	return c.coordinates(*p)
}

var coordinatesFields = []string{"lat", "lon"}

func (c *codec) coordinates(p *engine.Coordinates) error {
	return c.structFields(coordinatesFields, func(i int) error {
		if i == 0 {
			return c.float64(&p.Lat)
		}
		return c.float64(&p.Lon)
	}, func() { *p = engine.Coordinates{} })
}

var eventFields = []string{"type", "item", "at"}

func (c *codec) event(p *engine.Event) error {
	return c.structFields(eventFields, func(i int) error {
		switch i {
		case 0:
			return c.str(&p.Type)
		case 1:
			return c.str(&p.Item)
		}
		return c.int64(&p.At)
	}, func() { *p = engine.Event{} })
}

// contextFields is engine.Context's fields in struct order, as they come in
// an array-encoded context.
var contextFields = []string{"now", "tz_offset_minutes", "daypart", "weekday", "weather", "device", "referrer", "page_section", "visits", "country", "subdivision", "regions", "location"}

// contextField decodes field i of contextFields.
func (c *codec) contextField(p *engine.Context, i int) error {
	switch contextFields[i] {
	case "now":
		return c.int64(&p.Now)
	case "tz_offset_minutes":
		return c.int(&p.TZOffsetMinutes)
	case "daypart":
		return c.str(&p.Daypart)
	case "weekday":
		return c.str(&p.Weekday)
	case "weather":
		return c.str(&p.Weather)
	case "device":
		return c.str(&p.Device)
	case "referrer":
		return c.str(&p.Referrer)
	case "page_section":
		return c.str(&p.PageSection)
	case "visits":
		return c.intPtr(&p.Visits)
	case "country":
		return c.str(&p.Country)
	case "subdivision":
		return c.str(&p.Subdivision)
	case "regions":
		return c.strings(&p.Regions)
	}
	return c.coordinatesPtr(&p.Location)
}

func (c *codec) context(p *engine.Context) error {
	return c.structFields(contextFields, func(i int) error { return c.contextField(p, i) }, func() { *p = engine.Context{} })
}

// structFields decodes a struct as msgpack/v5 encodes one: nil (zero resets
// the value), an array of every field in the order names lists them, or a
// map by field name, where an unknown name is an error. field decodes field
// i of names.
func (c *codec) structFields(names []string, field func(i int) error, zero func()) error {
	n, array, err := c.structHeader(len(names))
	if err != nil {
		return err
	}
	if n < 0 {
		zero()
		return nil
	}
	if array {
		for i := range names {
			if err := field(i); err != nil {
				return err
			}
		}
		return nil
	}
	for range n {
		key, err := c.mapKey()
		if err != nil {
			return err
		}
		i := slices.IndexFunc(names, func(name string) bool { return name == string(key) })
		if i < 0 {
			return unknownField(key)
		}
		if err := field(i); err != nil {
			return err
		}
	}
	return nil
}

// oneField decodes a struct of one field named name with fn.
func (c *codec) oneField(name string, fn func() error, zero func()) error {
	names := [1]string{name}
	return c.structFields(names[:], func(int) error { return fn() }, zero)
}

func (c *codec) observeRequest(p *ObserveRequest) error {
	return c.oneField("event", func() error { return c.event(&p.Event) }, func() { *p = ObserveRequest{} })
}

func (c *codec) setContextRequest(p *SetContextRequest) error {
	return c.oneField("context", func() error { return c.context(&p.Context) }, func() { *p = SetContextRequest{} })
}

func (c *codec) decideRequest(p *DecideRequest) error {
	return c.oneField("slots", func() error { return c.strings(&p.Slots) }, func() { *p = DecideRequest{} })
}

var recordImpressionsFields = []string{"items", "at"}

func (c *codec) recordImpressionsRequest(p *RecordImpressionsRequest) error {
	return c.structFields(recordImpressionsFields, func(i int) error {
		if i == 0 {
			return c.strings(&p.Items)
		}
		return c.int64(&p.At)
	}, func() { *p = RecordImpressionsRequest{} })
}

// decodeObserve and the three below decode one request, as decode does.
func (c *codec) decodeObserve(req []byte, p *ObserveRequest) error {
	return c.decodeRequest(req, func(c *codec) error { return c.observeRequest(p) })
}

func (c *codec) decodeSetContext(req []byte, p *SetContextRequest) error {
	return c.decodeRequest(req, func(c *codec) error { return c.setContextRequest(p) })
}

func (c *codec) decodeDecide(req []byte, p *DecideRequest) error {
	return c.decodeRequest(req, func(c *codec) error { return c.decideRequest(p) })
}

func (c *codec) decodeRecordImpressions(req []byte, p *RecordImpressionsRequest) error {
	return c.decodeRequest(req, func(c *codec) error { return c.recordImpressionsRequest(p) })
}

// ---- encoding ----
//
// Each encoder writes what msgpack/v5's reflection writes with
// UseCompactInts: struct fields in order as a map, omitempty fields left out
// when empty, nil slices as nil, ints in their smallest encoding, float64 as
// float64.

// errs keeps the first error of a run of encoder calls.
type errs struct{ err error }

func (e *errs) do(err error) {
	if e.err == nil {
		e.err = err
	}
}

// beginResult starts a {result: ...} response in the codec's buffer.
func (c *codec) beginResult(e *errs) {
	c.buf.Reset()
	e.do(c.enc.EncodeMapLen(1))
	e.do(c.enc.EncodeString("result"))
}

func (c *codec) encodeEventsResult(r EventsResult) error {
	var e errs
	c.beginResult(&e)
	e.do(c.enc.EncodeMapLen(1))
	e.do(c.enc.EncodeString("events"))
	e.do(c.enc.EncodeInt(int64(r.Events)))
	return e.err
}

func (c *codec) encodeImpressionsResult(r ImpressionsResult) error {
	var e errs
	c.beginResult(&e)
	e.do(c.enc.EncodeMapLen(1))
	e.do(c.enc.EncodeString("impressions"))
	e.do(c.enc.EncodeInt(int64(r.Impressions)))
	return e.err
}

func (c *codec) encodeEmpty() error {
	var e errs
	c.beginResult(&e)
	e.do(c.enc.EncodeMapLen(0))
	return e.err
}

func (c *codec) encodeDecideResult(r DecideResult) error {
	var e errs
	c.beginResult(&e)
	e.do(encodeDecideResult(c.enc, r))
	return e.err
}

// encodeDecideResult writes r as reflection does.
func encodeDecideResult(enc *msgpack.Encoder, r DecideResult) error {
	var e errs
	e.do(enc.EncodeMapLen(1))
	e.do(enc.EncodeString("decisions"))
	if r.Decisions == nil {
		e.do(enc.EncodeNil())
		return e.err
	}
	e.do(enc.EncodeArrayLen(len(r.Decisions)))
	for i := range r.Decisions {
		e.do(encodeDecision(enc, &r.Decisions[i]))
	}
	return e.err
}

func encodeDecision(enc *msgpack.Encoder, d *engine.Decision) error {
	var e errs
	e.do(enc.EncodeMapLen(3))
	e.do(enc.EncodeString("slot"))
	e.do(enc.EncodeString(d.Slot))
	e.do(enc.EncodeString("items"))
	if d.Items == nil {
		e.do(enc.EncodeNil())
	} else {
		e.do(enc.EncodeArrayLen(len(d.Items)))
		for i := range d.Items {
			e.do(encodePick(enc, &d.Items[i]))
		}
	}
	e.do(enc.EncodeString("fallback"))
	e.do(enc.EncodeBool(d.Fallback))
	return e.err
}

func encodePick(enc *msgpack.Encoder, p *engine.Pick) error {
	var e errs
	n := 3
	if len(p.Rules) > 0 { // rules is omitempty
		n++
	}
	e.do(enc.EncodeMapLen(n))
	e.do(enc.EncodeString("item"))
	e.do(enc.EncodeString(p.Item))
	e.do(enc.EncodeString("score"))
	e.do(enc.EncodeFloat64(p.Score))
	e.do(enc.EncodeString("reason"))
	e.do(enc.EncodeString(p.Reason))
	if len(p.Rules) > 0 {
		e.do(enc.EncodeString("rules"))
		e.do(enc.EncodeArrayLen(len(p.Rules)))
		for _, r := range p.Rules {
			e.do(enc.EncodeString(r))
		}
	}
	return e.err
}

// encodeErrorResponse writes {error: {code, message}} as reflection does.
func encodeErrorResponse(enc *msgpack.Encoder, code engine.Code, msg string) error {
	var e errs
	e.do(enc.EncodeMapLen(1))
	e.do(enc.EncodeString("error"))
	e.do(enc.EncodeMapLen(2))
	e.do(enc.EncodeString("code"))
	e.do(enc.EncodeString(string(code)))
	e.do(enc.EncodeString("message"))
	e.do(enc.EncodeString(msg))
	return e.err
}

// response returns the encoded response: the codec's buffer itself when the
// host reuses it, else a copy.
func (c *codec) response(reuse bool) []byte {
	if reuse {
		return c.buf.Bytes()
	}
	return bytes.Clone(c.buf.Bytes())
}
