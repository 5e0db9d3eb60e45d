package wire

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/edgewise/edgewise/internal/mp"

	"github.com/vmihailenco/msgpack/v5"
)

func TestCheckRefusesLyingLengths(t *testing.T) {
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"array32 of 4G":    {[]byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0}, "elements declared"},
		"map32 of 4G":      {[]byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0}, "elements declared"},
		"str32 of 4G":      {[]byte{0xdb, 0xff, 0xff, 0xff, 0xff, 'a'}, "bytes declared"},
		"bin32 of 4G":      {[]byte{0xc6, 0xff, 0xff, 0xff, 0xff, 'a'}, "bytes declared"},
		"truncated uint64": {[]byte{0xcf, 1, 2}, "truncated"},
		"never-used code":  {[]byte{0xc1}, "unsupported"},
		"ext type":         {[]byte{0xd4, 1, 1}, "unsupported"},
		"trailing":         {[]byte{0xc0, 0xc0}, "trailing"},
		"empty":            {nil, "truncated"},
		"int map key":      {[]byte{0x81, 0x01, 0xc0}, "not a string"},
		"too deep":         {append(bytes.Repeat([]byte{0x91}, MaxDepth+1), 0xc0), "nested deeper"},
		"over element cap": {append([]byte{0xdd, 0, 0x04, 0, 1}, bytes.Repeat([]byte{0xc0}, 1<<18+1)...), "more than"},
		"nested over cap":  {append(append([]byte{0x92, 0xdd, 0, 0x03, 0xff, 0xff}, bytes.Repeat([]byte{0xc0}, 0x3ffff)...), append([]byte{0x92}, 0xc0, 0xc0)...), "more than"},
	} {
		err := Check(tc.data)
		var we *Error
		if !errors.As(err, &we) || !strings.Contains(we.Reason, tc.want) {
			t.Errorf("%s: Check = %v, want an error containing %q", name, err, tc.want)
		}
	}
}

func TestReadStrict(t *testing.T) {
	good, _ := msgpack.Marshal(map[string]any{"a": "x"})
	var got string
	readA := func(r *mp.Reader) error {
		if n, err := r.MapLen(); err != nil || n != 1 {
			return errors.New("not a map of one entry")
		}
		if k, err := r.Key(); err != nil || string(k) != "a" {
			return mp.UnknownField(k)
		}
		var err error
		got, err = r.String()
		return err
	}
	if err := Read(good, readA); err != nil || got != "x" {
		t.Fatalf("Read = %q, %v", got, err)
	}
	if err := Read([]byte{0xc0}, readA); err == nil || !strings.Contains(err.Error(), "must be a map") {
		t.Errorf("nil message: %v", err)
	}
	unknown, _ := msgpack.Marshal(map[string]any{"c": 1})
	err := Read(unknown, readA)
	var we *Error
	if !errors.As(err, &we) || we.Offset != 3 || !strings.Contains(err.Error(), `unknown field "c"`) {
		t.Errorf("unknown field: %v, want an *Error at byte 3 (after the key)", err)
	}
}

// A key that appears twice in one map is refused, however its string is
// encoded (fixstr and str8 spell the same key), and wherever the map is.
func TestCheckRefusesDuplicateKeys(t *testing.T) {
	for name, tc := range map[string]struct {
		data   []byte
		offset int
	}{
		"top level":         {[]byte{0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02}, 4},
		"str8 and fixstr":   {[]byte{0x82, 0xa1, 'a', 0x01, 0xd9, 0x01, 'a', 0x02}, 4},
		"nested":            {[]byte{0x81, 0xa1, 'm', 0x83, 0xa1, 'x', 0xc0, 0xa1, 'y', 0xc0, 0xa1, 'x', 0xc0}, 10},
		"past sixteen keys": {manyKeys(40, 33), 0},
	} {
		t.Run(name, func(t *testing.T) {
			err := Check(tc.data)
			var we *Error
			if !errors.As(err, &we) || !strings.Contains(we.Reason, "appears twice") {
				t.Fatalf("Check = %v, want a duplicate key error", err)
			}
			if tc.offset != 0 && we.Offset != tc.offset {
				t.Errorf("offset %d, want %d", we.Offset, tc.offset)
			}
		})
	}
	if err := Check(manyKeys(40, -1)); err != nil {
		t.Errorf("40 distinct keys: %v", err)
	}
}

// manyKeys is a map of n distinct keys, with key dup repeating key 0 when
// dup >= 0.
func manyKeys(n, dup int) []byte {
	m := []byte{0xde, 0, byte(n)}
	for i := range n {
		k := "k" + strconv.Itoa(i)
		if i == dup {
			k = "k0"
		}
		m = append(m, 0xa0|byte(len(k)))
		m = append(m, k...)
		m = append(m, 0xc0)
	}
	return m
}

// FuzzCheck: whatever Check accepts, msgpack decodes, and re-encoding the
// decoded value gives a message Check accepts and that round-trips unchanged.
func FuzzCheck(f *testing.F) {
	for _, v := range []any{nil, 1, -1, 3.5, "s", []byte{1}, []any{1, "a"}, map[string]any{"k": []any{true}}} {
		b, _ := msgpack.Marshal(v)
		f.Add(b)
	}
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		if Check(data) != nil {
			return
		}
		var v any
		if err := msgpack.Unmarshal(data, &v); err != nil {
			t.Fatalf("Check accepted what msgpack cannot decode: %v", err)
		}
		again, err := marshalSorted(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(again); err != nil {
			t.Fatalf("re-encoded value fails Check: %v", err)
		}
		// Compare encodings, not values: NaN != NaN.
		var w any
		if err := msgpack.Unmarshal(again, &w); err != nil {
			t.Fatal(err)
		}
		third, err := marshalSorted(w)
		if err != nil || !bytes.Equal(third, again) {
			t.Fatalf("round trip changed the value: %x vs %x (%v)", again, third, err)
		}
	})
}

func marshalSorted(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	err := enc.Encode(v)
	return buf.Bytes(), err
}
