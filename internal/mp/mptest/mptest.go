// Package mptest holds the generated msgpack codecs (internal/mp,
// msgp_gen.go) to the reference, msgpack/v5 through internal/refcodec: the
// same bytes out for every value, and the same value or the same error,
// byte offset included, for every input. It is for tests only.
package mptest

import (
	"bytes"
	"math"
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/internal/mp"
	"github.com/edgewise/edgewise/internal/refcodec"
	"github.com/edgewise/edgewise/internal/wire"
)

// Codec is one generated pair; either half may be nil.
type Codec[T any] struct {
	Name   string
	Append func([]byte, *T) []byte
	Decode func(*mp.Reader, *T) error
}

// Pair is a Codec of any type, for running many over one input.
type Pair interface {
	name() string
	// randomEncoding is the reference encoding of a random value.
	randomEncoding(t testing.TB, g *Random) []byte
	// compareEncode encodes a random value both ways.
	compareEncode(t testing.TB, g *Random)
	// compareDecode decodes data both ways; ok is whether both succeeded.
	compareDecode(t testing.TB, data []byte) (ok bool)
}

func (c Codec[T]) name() string { return c.Name }

func (c Codec[T]) random(g *Random) *T {
	v := new(T)
	g.fill(reflect.ValueOf(v).Elem(), 0)
	return v
}

func (c Codec[T]) randomEncoding(t testing.TB, g *Random) []byte {
	b, err := refcodec.Marshal(c.random(g))
	if err != nil {
		t.Fatalf("%s: reference encoding: %v", c.Name, err)
	}
	return b
}

func (c Codec[T]) compareEncode(t testing.TB, g *Random) {
	if c.Append == nil {
		return
	}
	v := c.random(g)
	want, err := refcodec.Marshal(v)
	if err != nil {
		t.Fatalf("%s: reference encoding: %v", c.Name, err)
	}
	if got := c.Append(nil, v); !bytes.Equal(got, want) {
		t.Fatalf("%s: %+v encodes as\n%x, msgpack/v5 gives\n%x", c.Name, v, got, want)
	}
	// Appending must not disturb what the buffer already holds.
	prefix := []byte{0xc3, 0xc2}
	if got := c.Append(prefix[:2:2], v); !bytes.Equal(got[:2], prefix) || !bytes.Equal(got[2:], want) {
		t.Fatalf("%s: appending after a prefix gives %x", c.Name, got)
	}
}

func (c Codec[T]) compareDecode(t testing.TB, data []byte) bool {
	if c.Decode == nil {
		return false
	}
	var want, got T
	wantErr := refcodec.Decode(data, &want)
	gotErr := wire.Read(data, func(r *mp.Reader) error { return c.Decode(r, &got) })
	if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && unquoted(wantErr.Error()) != unquoted(gotErr.Error())) {
		t.Fatalf("%s %x:\nmsgpack/v5 gives error %v\ngenerated gives       %v", c.Name, data, wantErr, gotErr)
	}
	if wantErr != nil {
		return false
	}
	if !Equal(reflect.ValueOf(want), reflect.ValueOf(got)) {
		t.Fatalf("%s %x:\nmsgpack/v5 decodes %#v\ngenerated decodes  %#v", c.Name, data, want, got)
	}
	return true
}

// unquoted reads the quoted strings in an error message back to their
// bytes: the device quotes with internal/quote, which escapes a few
// unprintable code points differently from msgpack/v5's strconv.Quote.
func unquoted(msg string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(msg, '"')
		if i < 0 {
			return b.String() + msg
		}
		b.WriteString(msg[:i])
		q, err := strconv.QuotedPrefix(msg[i:])
		if err != nil {
			return b.String() + msg[i:]
		}
		s, _ := strconv.Unquote(q)
		b.WriteString("«" + s + "»")
		msg = msg[i+len(q):]
	}
}

// Run compares every pair on n random values and on mutations of their
// encodings. It fails the test unless a fair share of inputs decoded, so
// that a generator that only makes garbage cannot pass.
func Run(t *testing.T, seed int64, n int, pairs ...Pair) {
	g := NewRandom(seed)
	for _, p := range pairs {
		decoded, mutated := 0, 0
		for range n {
			p.compareEncode(t, g)
			data := p.randomEncoding(t, g)
			if p.compareDecode(t, data) {
				decoded++
			}
			for range 4 {
				m := g.Mutate(data)
				for _, q := range pairs {
					if q.compareDecode(t, m) {
						mutated++
					}
				}
			}
		}
		if dec, ok := p.(interface{ hasDecode() bool }); ok && dec.hasDecode() && decoded < n*9/10 {
			t.Errorf("%s: only %d of %d reference encodings decoded", p.name(), decoded, n)
		}
		t.Logf("%s: %d values, %d decoded, %d mutations decoded", p.name(), n, decoded, mutated)
	}
}

func (c Codec[T]) hasDecode() bool { return c.Decode != nil }

// Fuzz runs every pair's decoder over data.
func Fuzz(t *testing.T, data []byte, pairs ...Pair) {
	for _, p := range pairs {
		p.compareDecode(t, data)
	}
}

// Seeds are reference encodings of random values of every pair, for a fuzz
// corpus.
func Seeds(t testing.TB, seed int64, n int, pairs ...Pair) [][]byte {
	g := NewRandom(seed)
	var out [][]byte
	for _, p := range pairs {
		for range n {
			out = append(out, p.randomEncoding(t, g))
		}
	}
	return out
}

// Equal is reflect.DeepEqual, except that floats compare bit for bit, so NaN
// equals NaN. Unexported fields count too.
func Equal(a, b reflect.Value) bool {
	if a.Kind() != b.Kind() || a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return a.Uint() == b.Uint()
	case reflect.String:
		return a.String() == b.String()
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return Equal(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !Equal(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Array:
		for i := range a.Len() {
			if !Equal(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() || !Equal(a.MapIndex(k), bv) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !Equal(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return Equal(a.Elem(), b.Elem())
	}
	panic("mptest.Equal: unsupported kind " + a.Kind().String())
}

// Random makes values for the types the codecs support, leaning on the
// cases codecs get wrong: empty and nil, zero and omitted, the boundaries of
// each integer and string encoding, NaN and negative zero.
type Random struct{ r *rand.Rand }

// NewRandom returns a Random with a fixed seed, so a failure repeats.
func NewRandom(seed int64) *Random { return &Random{rand.New(rand.NewSource(seed))} }

var edgeInts = []int64{0, 1, -1, 31, 32, -32, -33, 127, 128, 255, 256, -128, -129, 65535, 65536, -32768, -32769, 1<<31 - 1, 1 << 31, -1 << 31, -1<<31 - 1, 1<<32 - 1, 1 << 32, math.MaxInt64, math.MinInt64, 1_700_000_000_000}

var edgeFloats = []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 2, 1e300, -1e-300, math.Inf(1), math.Inf(-1), math.NaN(), 3.0e9}

func (g *Random) int() int64 {
	if g.r.Intn(2) == 0 {
		return edgeInts[g.r.Intn(len(edgeInts))]
	}
	return g.r.Int63n(2000) - 1000
}

func (g *Random) str() string {
	switch g.r.Intn(8) {
	case 0:
		return ""
	case 1:
		return strings.Repeat("x", []int{31, 32, 255, 256, 65536}[g.r.Intn(5)])
	}
	const alphabet = "abcdeé_-.0123 "
	b := make([]rune, g.r.Intn(12))
	runes := []rune(alphabet)
	for i := range b {
		b[i] = runes[g.r.Intn(len(runes))]
	}
	return string(b)
}

func (g *Random) fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(g.str())
	case reflect.Bool:
		v.SetBool(g.r.Intn(2) == 0)
	case reflect.Int, reflect.Int64:
		v.SetInt(g.int())
	case reflect.Uint16:
		v.SetUint(uint64(g.r.Intn(1 << 16)))
	case reflect.Float64:
		if g.r.Intn(2) == 0 {
			v.SetFloat(edgeFloats[g.r.Intn(len(edgeFloats))])
		} else {
			v.SetFloat(g.r.NormFloat64() * 100)
		}
	case reflect.Pointer:
		if g.r.Intn(3) > 0 && depth < 6 {
			v.Set(reflect.New(v.Type().Elem()))
			g.fill(v.Elem(), depth+1)
		}
	case reflect.Slice:
		n := g.r.Intn(4)
		switch {
		case g.r.Intn(4) == 0 || depth >= 6:
			return // nil
		case v.Type().Elem().Kind() == reflect.Uint8:
			n = []int{0, 3, 255, 256, 70000}[g.r.Intn(5)]
			b := make([]byte, n)
			g.r.Read(b)
			v.SetBytes(b)
			return
		case g.r.Intn(20) == 0:
			n = 16 + g.r.Intn(4) // past a fixarray
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			g.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		if g.r.Intn(4) == 0 || depth >= 6 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for range g.r.Intn(4) {
			k := reflect.New(v.Type().Key()).Elem()
			k.SetString(g.str())
			e := reflect.New(v.Type().Elem()).Elem()
			g.fill(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && g.r.Intn(5) > 0 {
				g.fill(v.Field(i), depth+1)
			}
		}
	}
}

// collapse replaces a nested map (a struct, usually) with an empty array or
// nil, the other forms msgpack/v5 reads a zero struct from.
func (g *Random) collapse(data []byte) ([]byte, bool) {
	var starts []int
	for i := 1; i < len(data); i++ {
		if data[i] >= 0x80 && data[i] <= 0x8f {
			starts = append(starts, i)
		}
	}
	if len(starts) == 0 {
		return nil, false
	}
	i := starts[g.r.Intn(len(starts))]
	var r mp.Reader
	r.Reset(data[i:])
	if r.Skip() != nil {
		return nil, false
	}
	repl := []byte{0x90}
	if g.r.Intn(2) == 0 {
		repl[0] = 0xc0
	}
	return append(append(append([]byte(nil), data[:i]...), repl...), data[i+r.Pos():]...), true
}

// Mutate returns a changed copy of data: a nested map made an empty array
// or nil, a byte replaced, flipped, cut, inserted or removed, or a value's
// type code swapped for another's.
func (g *Random) Mutate(data []byte) []byte {
	m := bytes.Clone(data)
	if len(m) == 0 {
		return []byte{byte(g.r.Intn(256))}
	}
	if g.r.Intn(4) == 0 {
		if c, ok := g.collapse(m); ok {
			return c
		}
	}
	i := g.r.Intn(len(m))
	codes := []byte{0xc0, 0xc2, 0xc3, 0xcb, 0xca, 0xcc, 0xd0, 0xd3, 0xa1, 0x90, 0x91, 0x80, 0x81, 0xc4, 0x05, 0xff}
	switch g.r.Intn(6) {
	case 0:
		m[i] = byte(g.r.Intn(256))
	case 1:
		m[i] ^= 1 << g.r.Intn(8)
	case 2:
		m = m[:i]
	case 3:
		m = append(m[:i], append([]byte{codes[g.r.Intn(len(codes))]}, m[i:]...)...)
	case 4:
		m = append(m[:i], m[i+1:]...)
	default:
		m[i] = codes[g.r.Intn(len(codes))]
	}
	return m
}
