// Package mp reads and writes msgpack without reflection: the runtime of the
// codecs that internal/build/cmd/msgpgen generates for the engine's messages.
//
// It exists so that edgewise.wasm does not link github.com/vmihailenco/msgpack/v5,
// whose reflection, time and log support cost every visitor about 280 KB of
// brotli (see RATIONALE.md). msgpack/v5 stays the reference: the generated
// codecs are tested to write the same bytes and read the same values, with the
// same error messages, as msgpack/v5 with UseCompactInts and
// DisallowUnknownFields.
//
// Writing appends to a byte slice. Reading walks a message that wire.Check has
// already accepted, so every declared length fits; the reader still checks
// bounds and fails instead of panicking on any input.
package mp

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"

	"github.com/edgewise/edgewise/internal/quote"
)

// msgpack format codes.
const (
	codeNil      = 0xc0
	codeFalse    = 0xc2
	codeTrue     = 0xc3
	codeBin8     = 0xc4
	codeBin16    = 0xc5
	codeBin32    = 0xc6
	codeFloat32  = 0xca
	codeFloat64  = 0xcb
	codeUint8    = 0xcc
	codeUint16   = 0xcd
	codeUint32   = 0xce
	codeUint64   = 0xcf
	codeInt8     = 0xd0
	codeInt16    = 0xd1
	codeInt32    = 0xd2
	codeInt64    = 0xd3
	codeStr8     = 0xd9
	codeStr16    = 0xda
	codeStr32    = 0xdb
	codeArray16  = 0xdc
	codeArray32  = 0xdd
	codeMap16    = 0xde
	codeMap32    = 0xdf
	fixMapLow    = 0x80
	fixArrayLow  = 0x90
	fixStrLow    = 0xa0
	negFixNumLow = 0xe0
)

// ---- writing ----

// The writers are go:noinline. Only the table interpreter calls them now,
// and inlining them into it measured about 600 bytes more brotli in the
// wasm (code and data sections apart).

// AppendNil appends nil.
//
//go:noinline
func AppendNil(b []byte) []byte { return append(b, codeNil) }

// AppendBool appends true or false.
//
//go:noinline
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, codeTrue)
	}
	return append(b, codeFalse)
}

// AppendUint appends n in its smallest encoding.
//
//go:noinline
func AppendUint(b []byte, n uint64) []byte {
	switch {
	case n <= math.MaxInt8:
		return append(b, byte(n))
	case n <= math.MaxUint8:
		return append(b, codeUint8, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, codeUint16), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, codeUint32), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, codeUint64), n)
}

// AppendInt appends n in its smallest encoding; non-negative numbers are
// written as unsigned, as msgpack/v5's compact integers are.
//
//go:noinline
func AppendInt(b []byte, n int64) []byte {
	switch {
	case n >= 0:
		return AppendUint(b, uint64(n))
	case n >= -32:
		return append(b, byte(n))
	case n >= math.MinInt8:
		return append(b, codeInt8, byte(n))
	case n >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, codeInt16), uint16(n))
	case n >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, codeInt32), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, codeInt64), uint64(n))
}

// AppendFloat64 appends f as a float64.
//
//go:noinline
func AppendFloat64(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, codeFloat64), math.Float64bits(f))
}

// AppendString appends s as a str.
//
//go:noinline
func AppendString(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		b = append(b, fixStrLow|byte(n))
	case n <= math.MaxUint8:
		b = append(b, codeStr8, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, codeStr16), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, codeStr32), uint32(n))
	}
	return append(b, s...)
}

// AppendBytes appends v as a bin, or nil when v is nil.
//
//go:noinline
func AppendBytes(b []byte, v []byte) []byte {
	if v == nil {
		return AppendNil(b)
	}
	n := len(v)
	switch {
	case n <= math.MaxUint8:
		b = append(b, codeBin8, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, codeBin16), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, codeBin32), uint32(n))
	}
	return append(b, v...)
}

// AppendArrayLen appends an array header of n elements.
//
//go:noinline
func AppendArrayLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, fixArrayLow|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, codeArray16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, codeArray32), uint32(n))
}

// AppendMapLen appends a map header of n entries.
//
//go:noinline
func AppendMapLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, fixMapLow|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, codeMap16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, codeMap32), uint32(n))
}

// ---- reading ----

// ErrTruncated is a message that ends inside a value. wire.Check refuses
// those first; the reader fails the same way on anything it was not checked.
var ErrTruncated = errors.New("msgpack: unexpected end of message")

// errArrayStruct is msgpack/v5's error for an array-encoded struct with the
// wrong number of fields.
var errArrayStruct = errors.New("msgpack: number of fields in array-encoded struct has changed")

// invalidCode is msgpack/v5's error for a value of the wrong type, in its words.
func invalidCode(c byte, decoding string) error {
	return errors.New("msgpack: invalid code=" + strconv.FormatUint(uint64(c), 16) + " decoding " + decoding)
}

// UnknownField is msgpack/v5's error for a map key that names no field.
func UnknownField(key []byte) error {
	return errors.New("msgpack: unknown field " + quote.String(string(key)))
}

// Reader reads msgpack values from a byte slice.
type Reader struct {
	data []byte
	pos  int
}

// Reset makes r read data from the start.
func (r *Reader) Reset(data []byte) { r.data, r.pos = data, 0 }

// Pos is the offset of the next byte to read.
func (r *Reader) Pos() int { return r.pos }

func (r *Reader) code() (byte, error) {
	if r.pos >= len(r.data) {
		return 0, ErrTruncated
	}
	c := r.data[r.pos]
	r.pos++
	return c, nil
}

func (r *Reader) take(n int) ([]byte, error) {
	if n < 0 || n > len(r.data)-r.pos {
		return nil, ErrTruncated
	}
	b := r.data[r.pos : r.pos+n : r.pos+n]
	r.pos += n
	return b, nil
}

func (r *Reader) uint(size int) (uint64, error) {
	b, err := r.take(size)
	if err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(b)), nil
	}
	return binary.BigEndian.Uint64(b), nil
}

// Nil consumes a nil if one is next, and reports whether it did.
func (r *Reader) Nil() bool {
	if r.pos < len(r.data) && r.data[r.pos] == codeNil {
		r.pos++
		return true
	}
	return false
}

// Int64 reads any msgpack integer, or nil as 0.
func (r *Reader) Int64() (int64, error) {
	c, err := r.code()
	if err != nil {
		return 0, err
	}
	return r.int(c, "int64")
}

func (r *Reader) int(c byte, decoding string) (int64, error) {
	if c == codeNil {
		return 0, nil
	}
	if c <= 0x7f || c >= negFixNumLow {
		return int64(int8(c)), nil
	}
	var n uint64
	var err error
	switch c {
	case codeUint8, codeInt8:
		n, err = r.uint(1)
		if c == codeInt8 {
			return int64(int8(n)), err
		}
	case codeUint16, codeInt16:
		n, err = r.uint(2)
		if c == codeInt16 {
			return int64(int16(n)), err
		}
	case codeUint32, codeInt32:
		n, err = r.uint(4)
		if c == codeInt32 {
			return int64(int32(n)), err
		}
	case codeUint64, codeInt64:
		n, err = r.uint(8)
	default:
		return 0, invalidCode(c, decoding)
	}
	return int64(n), err
}

// Int reads an integer into an int, as Int64 does.
func (r *Reader) Int() (int, error) {
	n, err := r.Int64()
	return int(n), err
}

// Uint64 reads any msgpack integer, or nil as 0; negative numbers wrap, as
// in msgpack/v5.
func (r *Reader) Uint64() (uint64, error) {
	c, err := r.code()
	if err != nil {
		return 0, err
	}
	n, err := r.int(c, "uint64")
	// msgpack/v5 reads int8/16/32 as signed and then converts, which wraps.
	return uint64(n), err
}

// Float64 reads a float32, a float64, any integer, or nil as 0.
func (r *Reader) Float64() (float64, error) {
	c, err := r.code()
	if err != nil {
		return 0, err
	}
	switch c {
	case codeFloat32:
		n, err := r.uint(4)
		return float64(math.Float32frombits(uint32(n))), err
	case codeFloat64:
		n, err := r.uint(8)
		return math.Float64frombits(n), err
	}
	n, err := r.int(c, "float32")
	if err != nil {
		// msgpack/v5 says float32 here too.
		return 0, invalidCode(c, "float32")
	}
	return float64(n), nil
}

// Bool reads true, false, or nil as false.
func (r *Reader) Bool() (bool, error) {
	c, err := r.code()
	if err != nil {
		return false, err
	}
	switch c {
	case codeNil, codeFalse:
		return false, nil
	case codeTrue:
		return true, nil
	}
	return false, invalidCode(c, "bool")
}

// bytesLen reads a str or bin header; nil is -1.
func (r *Reader) bytesLen() (int, error) {
	c, err := r.code()
	if err != nil {
		return 0, err
	}
	if c == codeNil {
		return -1, nil
	}
	if c >= fixStrLow && c <= 0xbf {
		return int(c & 0x1f), nil
	}
	var n uint64
	switch c {
	case codeStr8, codeBin8:
		n, err = r.uint(1)
	case codeStr16, codeBin16:
		n, err = r.uint(2)
	case codeStr32, codeBin32:
		n, err = r.uint(4)
	default:
		return 0, invalidCode(c, "string/bytes length")
	}
	return int(n), err
}

// Key reads a map key (a str or bin, or nil as empty) without copying: the
// bytes are valid as long as the message is.
func (r *Reader) Key() ([]byte, error) {
	n, err := r.bytesLen()
	if err != nil || n <= 0 {
		return nil, err
	}
	return r.take(n)
}

// String reads a str or bin, or nil as "".
func (r *Reader) String() (string, error) {
	b, err := r.Key()
	return string(b), err
}

// Bytes reads a bin or str into a new slice; nil is a nil slice and an empty
// value an empty, non-nil one, as in msgpack/v5.
func (r *Reader) Bytes() ([]byte, error) {
	n, err := r.bytesLen()
	if err != nil || n < 0 {
		return nil, err
	}
	b, err := r.take(n)
	if err != nil {
		return nil, err
	}
	return append(make([]byte, 0, n), b...), nil
}

// ArrayLen reads an array header; nil is -1.
func (r *Reader) ArrayLen() (int, error) {
	c, err := r.code()
	if err != nil {
		return 0, err
	}
	return r.arrayLen(c)
}

func (r *Reader) arrayLen(c byte) (int, error) {
	if c == codeNil {
		return -1, nil
	}
	if c >= fixArrayLow && c <= 0x9f {
		return int(c & 0x0f), nil
	}
	var n uint64
	var err error
	switch c {
	case codeArray16:
		n, err = r.uint(2)
	case codeArray32:
		n, err = r.uint(4)
	default:
		return 0, invalidCode(c, "array length")
	}
	return int(n), err
}

// MapLen reads a map header; nil is -1.
func (r *Reader) MapLen() (int, error) {
	c, err := r.code()
	if err != nil {
		return 0, err
	}
	return r.mapLen(c)
}

func (r *Reader) mapLen(c byte) (int, error) {
	if c == codeNil {
		return -1, nil
	}
	if c >= fixMapLow && c <= 0x8f {
		return int(c & 0x0f), nil
	}
	var n uint64
	var err error
	switch c {
	case codeMap16:
		n, err = r.uint(2)
	case codeMap32:
		n, err = r.uint(4)
	default:
		return 0, errors.New("msgpack: unexpected code=" + strconv.FormatUint(uint64(c), 16) + " decoding map length")
	}
	return int(n), err
}

// Strings reads an array of strings; nil is a nil slice and an empty array
// an empty, non-nil one.
func (r *Reader) Strings() ([]string, error) {
	n, err := r.ArrayLen()
	if err != nil || n < 0 {
		return nil, err
	}
	ss := make([]string, 0, min(n, len(r.data)-r.pos))
	for range n {
		s, err := r.String()
		if err != nil {
			return nil, err
		}
		ss = append(ss, s)
	}
	return ss, nil
}

// StructHeader reads the start of a struct with the given number of fields,
// in the forms msgpack/v5 accepts: a map of fields by name (n entries), nil
// or an empty array (n < 0: the zero struct), or an array of exactly every
// field in order (array true).
func (r *Reader) StructHeader(fields int) (n int, array bool, err error) {
	c, err := r.code()
	if err != nil {
		return 0, false, err
	}
	n, err = r.mapLen(c)
	if err == nil {
		return n, false, nil
	}
	an, aerr := r.arrayLen(c)
	if aerr != nil {
		return 0, false, err // the map error, as msgpack/v5 gives it
	}
	if an <= 0 {
		return -1, false, nil
	}
	if an != fields {
		return 0, false, errArrayStruct
	}
	return an, true, nil
}

// Raw reads the next value whole and returns its bytes, copied; nil is a nil
// slice (msgpack/v5's RawMessage leaves a nil value unset).
func (r *Reader) Raw() ([]byte, error) {
	start := r.pos
	if r.Nil() {
		return nil, nil
	}
	if err := r.Skip(); err != nil {
		return nil, err
	}
	return append([]byte(nil), r.data[start:r.pos]...), nil
}

// Skip reads past the next value.
func (r *Reader) Skip() error {
	c, err := r.code()
	if err != nil {
		return err
	}
	switch {
	case c <= 0x7f, c >= negFixNumLow, c == codeNil, c == codeFalse, c == codeTrue:
		return nil
	case c >= fixStrLow && c <= 0xbf:
		_, err = r.take(int(c & 0x1f))
		return err
	case c >= fixArrayLow && c <= 0x9f:
		return r.skipN(int(c & 0x0f))
	case c >= fixMapLow && c <= 0x8f:
		return r.skipN(2 * int(c&0x0f))
	}
	var n uint64
	switch c {
	case codeUint8, codeInt8:
		_, err = r.take(1)
	case codeUint16, codeInt16:
		_, err = r.take(2)
	case codeUint32, codeInt32, codeFloat32:
		_, err = r.take(4)
	case codeUint64, codeInt64, codeFloat64:
		_, err = r.take(8)
	case codeStr8, codeBin8:
		if n, err = r.uint(1); err == nil {
			_, err = r.take(int(n))
		}
	case codeStr16, codeBin16:
		if n, err = r.uint(2); err == nil {
			_, err = r.take(int(n))
		}
	case codeStr32, codeBin32:
		if n, err = r.uint(4); err == nil && n <= uint64(len(r.data)) {
			_, err = r.take(int(n))
		} else if err == nil {
			err = ErrTruncated
		}
	case codeArray16, codeArray32, codeMap16, codeMap32:
		size := 2
		if c == codeArray32 || c == codeMap32 {
			size = 4
		}
		if n, err = r.uint(size); err == nil {
			if n > uint64(len(r.data)) {
				return ErrTruncated
			}
			if c == codeMap16 || c == codeMap32 {
				n *= 2
			}
			err = r.skipN(int(n))
		}
	default:
		err = invalidCode(c, "value")
	}
	return err
}

func (r *Reader) skipN(n int) error {
	for range n {
		if err := r.Skip(); err != nil {
			return err
		}
	}
	return nil
}
