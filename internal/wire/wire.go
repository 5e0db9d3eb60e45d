// Package wire checks untrusted msgpack before anything decodes it.
//
// A message declares its lengths, and a decoder that trusts them can be asked
// for gigabytes by a six-byte array header; inside wasm that is a fatal
// out-of-memory, not a recoverable panic. Check therefore walks the bytes
// first and checks every declared length against what the input can hold and
// against a budget, nesting depth included. Read then hands the message to a
// generated decoder (see internal/mp), which can rely on every length fitting.
//
// The format is strict, so a typo in a host cannot pass silently: the message
// is one map, map keys are strings and appear once per map, and unknown keys,
// trailing bytes and ext types are errors.
package wire

import (
	"encoding/binary"
	"strconv"

	"github.com/edgewise/edgewise/internal/mp"
	"github.com/edgewise/edgewise/internal/quote"
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

func (e *Error) Error() string { return "at byte " + strconv.Itoa(e.Offset) + ": " + e.Reason }

// Read checks data with CheckMap, then runs read over it. A failure of read
// becomes an Error at the reader's position.
func Read(data []byte, read func(r *mp.Reader) error) error {
	if err := CheckMap(data); err != nil {
		return err
	}
	var r mp.Reader
	r.Reset(data)
	if err := read(&r); err != nil {
		return &Error{Offset: r.Pos(), Reason: err.Error()}
	}
	return nil
}

// CheckMap is Check, and that the message is a map: what Read verifies
// before it decodes.
func CheckMap(data []byte) error {
	if err := Check(data); err != nil {
		return err
	}
	if c := data[0]; !isFixMap(c) && c != codeMap16 && c != codeMap32 {
		return &Error{Offset: 0, Reason: "the message must be a map"}
	}
	return nil
}

// Check verifies that data is exactly one well-formed msgpack value within the
// limits, whose maps all have string keys, each once.
func Check(data []byte) error {
	s := scanner{data: data, budget: MaxElements}
	if err := s.value(0); err != nil {
		return err
	}
	if s.pos != len(data) {
		return &Error{Offset: s.pos, Reason: strconv.Itoa(len(data)-s.pos) + " trailing bytes after the message"}
	}
	return nil
}

// msgpack format codes.
const (
	codeNil     = 0xc0
	codeFalse   = 0xc2
	codeTrue    = 0xc3
	codeBin8    = 0xc4
	codeBin16   = 0xc5
	codeBin32   = 0xc6
	codeFloat   = 0xca
	codeDouble  = 0xcb
	codeUint8   = 0xcc
	codeUint16  = 0xcd
	codeUint32  = 0xce
	codeUint64  = 0xcf
	codeInt8    = 0xd0
	codeInt16   = 0xd1
	codeInt32   = 0xd2
	codeInt64   = 0xd3
	codeStr8    = 0xd9
	codeStr16   = 0xda
	codeStr32   = 0xdb
	codeArray16 = 0xdc
	codeArray32 = 0xdd
	codeMap16   = 0xde
	codeMap32   = 0xdf
)

func isFixNum(c byte) bool   { return c <= 0x7f || c >= 0xe0 }
func isFixMap(c byte) bool   { return c >= 0x80 && c <= 0x8f }
func isFixArray(c byte) bool { return c >= 0x90 && c <= 0x9f }
func isFixStr(c byte) bool   { return c >= 0xa0 && c <= 0xbf }
func isString(c byte) bool {
	return isFixStr(c) || c == codeStr8 || c == codeStr16 || c == codeStr32
}

type scanner struct {
	data   []byte
	pos    int
	budget int
}

func (s *scanner) fail(reason string) error {
	return &Error{Offset: s.pos, Reason: reason}
}

// take advances over n bytes, failing if the input is shorter.
func (s *scanner) take(n uint64) ([]byte, error) {
	if n > uint64(len(s.data)-s.pos) {
		return nil, s.fail("truncated: " + strconv.FormatUint(n, 10) + " bytes declared, " + strconv.Itoa(len(s.data)-s.pos) + " left")
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
		return s.fail("nested deeper than " + strconv.Itoa(MaxDepth))
	}
	head, err := s.take(1)
	if err != nil {
		return err
	}
	c := head[0]
	switch {
	case isFixNum(c), c == codeNil, c == codeFalse, c == codeTrue:
		return nil
	case isFixStr(c):
		_, err := s.take(uint64(c & 0x1f))
		return err
	case isFixArray(c):
		return s.elements(uint64(c&0x0f), 1, depth)
	case isFixMap(c):
		return s.elements(uint64(c&0x0f), 2, depth)
	}
	switch c {
	case codeUint8, codeInt8:
		_, err = s.take(1)
	case codeUint16, codeInt16:
		_, err = s.take(2)
	case codeUint32, codeInt32, codeFloat:
		_, err = s.take(4)
	case codeUint64, codeInt64, codeDouble:
		_, err = s.take(8)
	case codeStr8, codeBin8, codeStr16, codeBin16, codeStr32, codeBin32:
		var n uint64
		if n, err = s.length(lengthSize(c)); err == nil {
			_, err = s.take(n)
		}
	case codeArray16, codeArray32:
		var n uint64
		if n, err = s.length(lengthSize(c)); err == nil {
			err = s.elements(n, 1, depth)
		}
	case codeMap16, codeMap32:
		var n uint64
		if n, err = s.length(lengthSize(c)); err == nil {
			err = s.elements(n, 2, depth)
		}
	default:
		s.pos--
		err = s.fail("unsupported msgpack code 0x" + strconv.FormatUint(uint64(c), 16))
	}
	return err
}

func lengthSize(c byte) int {
	switch c {
	case codeStr8, codeBin8:
		return 1
	case codeStr16, codeBin16, codeArray16, codeMap16:
		return 2
	}
	return 4
}

// elements walks n array elements (per=1) or map entries (per=2). Every value
// takes at least one byte, so a count larger than the bytes left is a lie.
func (s *scanner) elements(n uint64, per int, depth int) error {
	if n*uint64(per) > uint64(len(s.data)-s.pos) {
		return s.fail("truncated: " + strconv.FormatUint(n, 10) + " elements declared, " + strconv.Itoa(len(s.data)-s.pos) + " bytes left")
	}
	if n > uint64(s.budget) {
		return s.fail("more than " + strconv.Itoa(MaxElements) + " elements in one message")
	}
	s.budget -= int(n)
	if per == 1 {
		for range n {
			if err := s.value(depth + 1); err != nil {
				return err
			}
		}
		return nil
	}
	var keys keySet
	for range n {
		start := s.pos
		if s.pos < len(s.data) && !isString(s.data[s.pos]) {
			c := s.data[s.pos]
			return s.fail("map key is not a string (code 0x" + strconv.FormatUint(uint64(c), 16) + ")")
		}
		if err := s.value(depth + 1); err != nil {
			return err
		}
		if key := keyContent(s.data[start:s.pos]); !keys.add(key) {
			return &Error{Offset: start, Reason: "map key " + quote.String(string(key)) + " appears twice"}
		}
		if err := s.value(depth + 1); err != nil {
			return err
		}
	}
	return nil
}

// keyContent is a str's bytes without its header.
func keyContent(b []byte) []byte {
	switch b[0] {
	case codeStr8:
		return b[2:]
	case codeStr16:
		return b[3:]
	case codeStr32:
		return b[5:]
	}
	return b[1:]
}

// keySet holds one map's keys: the first few in an array, searched in
// order, the rest in a map, so that small maps cost no allocation and large
// ones no quadratic search.
type keySet struct {
	small [16][]byte
	n     int
	large map[string]struct{}
}

// add adds key, reporting false when it is already there.
func (k *keySet) add(key []byte) bool {
	for _, have := range k.small[:k.n] {
		if string(have) == string(key) {
			return false
		}
	}
	if k.n < len(k.small) {
		k.small[k.n] = key
		k.n++
		return true
	}
	if k.large == nil {
		k.large = map[string]struct{}{}
	}
	if _, ok := k.large[string(key)]; ok {
		return false
	}
	k.large[string(key)] = struct{}{}
	return true
}
