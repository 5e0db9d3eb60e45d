// Package wire decodes untrusted msgpack safely.
//
// msgpack/v5 preallocates slices from the length a message declares, so a
// six-byte array header can ask for gigabytes; inside wasm that is a fatal
// out-of-memory, not a recoverable panic. Decode therefore walks the bytes
// first and checks every declared length against what the input can hold and
// against a budget, nesting depth included, before reflection allocates anything.
package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Limits bound what one message may declare.
const (
	// MaxDepth bounds nesting; the engine's messages nest at most six deep.
	MaxDepth = 32
	// MaxElements bounds array elements plus map entries in one message.
	MaxElements = 1 << 18
)

// Error is a malformed message, with the byte offset where it went wrong.
type Error struct {
	Offset int
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("at byte %d: %s", e.Offset, e.Reason) }

// Decode checks data's shape, then decodes exactly one map into v. Unknown
// map keys, trailing bytes, non-string keys and ext types are errors: the wire
// format is strict so a typo in a host cannot pass silently.
func Decode(data []byte, v any) error {
	if err := CheckMap(data); err != nil {
		return err
	}
	r := bytes.NewReader(data)
	dec := msgpack.NewDecoder(r)
	dec.DisallowUnknownFields(true)
	if err := dec.Decode(v); err != nil {
		return &Error{Offset: len(data) - r.Len(), Reason: err.Error()}
	}
	return nil
}

// CheckMap is Check, and that the message is a map: what Decode verifies
// before it decodes. Hand-written decoders call it first, then read data with
// a msgpack.Decoder, knowing every declared length fits.
func CheckMap(data []byte) error {
	if err := Check(data); err != nil {
		return err
	}
	if c := data[0]; !msgpcode.IsFixedMap(c) && c != msgpcode.Map16 && c != msgpcode.Map32 {
		return &Error{Offset: 0, Reason: "the message must be a map"}
	}
	return nil
}

// Check verifies that data is exactly one well-formed msgpack value within the
// limits, whose maps all have string keys.
func Check(data []byte) error {
	s := scanner{data: data, budget: MaxElements}
	if err := s.value(0); err != nil {
		return err
	}
	if s.pos != len(data) {
		return &Error{Offset: s.pos, Reason: fmt.Sprintf("%d trailing bytes after the message", len(data)-s.pos)}
	}
	return nil
}

type scanner struct {
	data   []byte
	pos    int
	budget int
}

func (s *scanner) fail(format string, args ...any) error {
	return &Error{Offset: s.pos, Reason: fmt.Sprintf(format, args...)}
}

// take advances over n bytes, failing if the input is shorter.
func (s *scanner) take(n uint64) ([]byte, error) {
	if n > uint64(len(s.data)-s.pos) {
		return nil, s.fail("truncated: %d bytes declared, %d left", n, len(s.data)-s.pos)
	}
	b := s.data[s.pos : s.pos+int(n)]
	s.pos += int(n)
	return b, nil
}

// length reads a big-endian length of size bytes.
func (s *scanner) length(size int) (uint64, error) {
	b, err := s.take(uint64(size))
	if err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), nil
	default:
		return uint64(binary.BigEndian.Uint32(b)), nil
	}
}

func (s *scanner) value(depth int) error {
	if depth > MaxDepth {
		return s.fail("nested deeper than %d", MaxDepth)
	}
	head, err := s.take(1)
	if err != nil {
		return err
	}
	c := head[0]
	switch {
	case msgpcode.IsFixedNum(c), c == msgpcode.Nil, c == msgpcode.False, c == msgpcode.True:
		return nil
	case msgpcode.IsFixedString(c):
		_, err := s.take(uint64(c & msgpcode.FixedStrMask))
		return err
	case msgpcode.IsFixedArray(c):
		return s.elements(uint64(c&msgpcode.FixedArrayMask), 1, depth)
	case msgpcode.IsFixedMap(c):
		return s.elements(uint64(c&msgpcode.FixedMapMask), 2, depth)
	}
	switch c {
	case msgpcode.Uint8, msgpcode.Int8:
		_, err = s.take(1)
	case msgpcode.Uint16, msgpcode.Int16:
		_, err = s.take(2)
	case msgpcode.Uint32, msgpcode.Int32, msgpcode.Float:
		_, err = s.take(4)
	case msgpcode.Uint64, msgpcode.Int64, msgpcode.Double:
		_, err = s.take(8)
	case msgpcode.Str8, msgpcode.Bin8, msgpcode.Str16, msgpcode.Bin16, msgpcode.Str32, msgpcode.Bin32:
		var n uint64
		if n, err = s.length(lengthSize(c)); err == nil {
			_, err = s.take(n)
		}
	case msgpcode.Array16, msgpcode.Array32:
		var n uint64
		if n, err = s.length(lengthSize(c)); err == nil {
			err = s.elements(n, 1, depth)
		}
	case msgpcode.Map16, msgpcode.Map32:
		var n uint64
		if n, err = s.length(lengthSize(c)); err == nil {
			err = s.elements(n, 2, depth)
		}
	default:
		s.pos--
		err = s.fail("unsupported msgpack code %#x", c)
	}
	return err
}

func lengthSize(c byte) int {
	switch c {
	case msgpcode.Str8, msgpcode.Bin8:
		return 1
	case msgpcode.Str16, msgpcode.Bin16, msgpcode.Array16, msgpcode.Map16:
		return 2
	}
	return 4
}

// elements walks n array elements (per=1) or map entries (per=2). Every value
// takes at least one byte, so a count larger than the bytes left is a lie.
func (s *scanner) elements(n uint64, per int, depth int) error {
	if n*uint64(per) > uint64(len(s.data)-s.pos) {
		return s.fail("truncated: %d elements declared, %d bytes left", n, len(s.data)-s.pos)
	}
	if n > uint64(s.budget) {
		return s.fail("more than %d elements in one message", MaxElements)
	}
	s.budget -= int(n)
	for i := uint64(0); i < n*uint64(per); i++ {
		if per == 2 && i%2 == 0 && s.pos < len(s.data) {
			if c := s.data[s.pos]; !msgpcode.IsString(c) {
				return s.fail("map key is not a string (code %#x)", c)
			}
		}
		if err := s.value(depth + 1); err != nil {
			return err
		}
	}
	return nil
}
