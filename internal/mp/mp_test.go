package mp

import (
	"testing"
)

// FuzzReaderNeverPanics: every read on any bytes, checked or not, returns a
// value or an error; none panics or reads out of bounds.
func FuzzReaderNeverPanics(f *testing.F) {
	for _, s := range [][]byte{{}, {0xc0}, {0xdd, 0xff, 0xff, 0xff, 0xff}, {0xdb, 0xff, 0xff, 0xff, 0xff}, {0x92, 0xa1, 'a'}, {0xcf, 1}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		reads := []func(r *Reader) error{
			func(r *Reader) error { _, err := r.Int64(); return err },
			func(r *Reader) error { _, err := r.Uint64(); return err },
			func(r *Reader) error { _, err := r.Float64(); return err },
			func(r *Reader) error { _, err := r.Bool(); return err },
			func(r *Reader) error { _, err := r.String(); return err },
			func(r *Reader) error { _, err := r.Bytes(); return err },
			func(r *Reader) error { _, err := r.Strings(); return err },
			func(r *Reader) error { _, err := r.Raw(); return err },
			func(r *Reader) error { _, _, err := r.StructHeader(2); return err },
			func(r *Reader) error { return r.Skip() },
		}
		for _, read := range reads {
			var r Reader
			r.Reset(data)
			for read(&r) == nil && r.Pos() < len(data) {
			}
			if r.Pos() > len(data) {
				t.Fatalf("read past the end: %d of %d", r.Pos(), len(data))
			}
		}
	})
}

// The encodings at every boundary, as the msgpack specification gives them.
func TestAppendBoundaries(t *testing.T) {
	for _, tc := range []struct {
		got  []byte
		want string
	}{
		{AppendInt(nil, 127), "\x7f"},
		{AppendInt(nil, 128), "\xcc\x80"},
		{AppendInt(nil, 256), "\xcd\x01\x00"},
		{AppendInt(nil, 1<<16), "\xce\x00\x01\x00\x00"},
		{AppendInt(nil, 1<<32), "\xcf\x00\x00\x00\x01\x00\x00\x00\x00"},
		{AppendInt(nil, -32), "\xe0"},
		{AppendInt(nil, -33), "\xd0\xdf"},
		{AppendInt(nil, -129), "\xd1\xff\x7f"},
		{AppendInt(nil, -32769), "\xd2\xff\xff\x7f\xff"},
		{AppendInt(nil, -1<<31-1), "\xd3\xff\xff\xff\xff\x7f\xff\xff\xff"},
		{AppendString(nil, string(make([]byte, 31)))[:1], "\xbf"},
		{AppendString(nil, string(make([]byte, 32)))[:2], "\xd9\x20"},
		{AppendString(nil, string(make([]byte, 256)))[:3], "\xda\x01\x00"},
		{AppendBytes(nil, nil), "\xc0"},
		{AppendBytes(nil, []byte{}), "\xc4\x00"},
		{AppendArrayLen(nil, 15), "\x9f"},
		{AppendArrayLen(nil, 16), "\xdc\x00\x10"},
		{AppendMapLen(nil, 1<<16), "\xdf\x00\x01\x00\x00"},
		{AppendFloat64(nil, 1), "\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"},
	} {
		if string(tc.got) != tc.want {
			t.Errorf("got %x, want %x", tc.got, tc.want)
		}
	}
}
