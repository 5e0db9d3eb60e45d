package mp

import "unsafe"

// Table-driven codecs. A generated decoder or encoder per struct is plain
// and fast, but in Go's wasm every field costs a few hundred bytes of code,
// and the ruleset alone has a hundred fields. So msgpgen writes each struct
// as a table (field names, offsets, kinds and omitempty) and two
// interpreters walk it: DecodeStruct to read, AppendStruct to write. A
// struct that is both read and written has one table. The only code left per
// type is what Go cannot do without reflection, and only for reading:
// making a typed slice, pointer or map (MakeEmpty, Alloc, New and Put);
// slice elements are then decoded in place, and written from where they are.

// Kind is how a value is read and written.
type Kind uint8

const (
	KindString  Kind = iota // string, or a named string type
	KindBool                // bool
	KindInt                 // int
	KindInt64               // int64
	KindUint16              // uint16
	KindFloat64             // float64
	KindBytes               // []byte
	KindStrings             // []string
	KindRaw                 // one raw msgpack value, as its bytes
	KindStruct              // a struct: Type.Struct
	KindPtr                 // a pointer to a Type.Elem
	KindSlice               // a slice of Type.Elem
	KindMap                 // a map from string to Type.Elem (read only)
)

// Type describes how to read one Go type.
type Type struct {
	Kind   Kind
	Struct *Struct // KindStruct
	Elem   *Type   // what a pointer, slice or map holds
	// The functions are for reading; a type only written leaves them nil.
	// SetNil sets the pointer, slice or map at p to nil.
	SetNil func(p unsafe.Pointer)
	// Alloc points the pointer at p to a new zero value, and returns it.
	Alloc func(p unsafe.Pointer) unsafe.Pointer
	// MakeEmpty sets the slice at p to n zero elements, or the map at p to
	// an empty, non-nil map with room for n entries.
	MakeEmpty func(p unsafe.Pointer, n int)
	// Size is the size of a slice's element: the slice's elements are
	// decoded and encoded in place, at Size apart.
	Size uintptr
	// New returns the address of a new zero map value; Put stores the value
	// at v under k in the map at p.
	New func() unsafe.Pointer
	Put func(p unsafe.Pointer, k string, v unsafe.Pointer)
}

// The types that need no code of their own. They are values, referred to
// by address (&mp.String), so that generated tables referring to them are
// initialized statically.
var (
	String  = Type{Kind: KindString}
	Bool    = Type{Kind: KindBool}
	Int     = Type{Kind: KindInt}
	Int64   = Type{Kind: KindInt64}
	Uint16  = Type{Kind: KindUint16}
	Float64 = Type{Kind: KindFloat64}
	Bytes   = Type{Kind: KindBytes}
	Strings = Type{Kind: KindStrings}
	Raw     = Type{Kind: KindRaw}
)

// Field is one struct field as msgpack/v5 sees it.
type Field struct {
	Name string
	Type *Type
	// Offset is where the field is in its struct: a uint32 after the
	// pointer, so that a Field is 32 bytes, not 40, in the wasm's data.
	Offset uint32
	// OmitEmpty leaves the field out of a map-encoded struct when it is
	// empty (msgpack/v5's omitempty).
	OmitEmpty bool
}

// Struct is a struct's fields in order.
type Struct struct {
	Fields []Field
	// Zero sets the struct at p to its zero value, for a struct read that
	// has fields the table leaves out (unexported or "-"); otherwise nil,
	// and zeroing the table's fields zeroes it.
	Zero func(p unsafe.Pointer)
	// AsArray writes the struct as an array of every field in order
	// (msgpack/v5's as_array); reading accepts either form.
	AsArray bool
}

// DecodeStruct reads the struct at p as msgpack/v5 does.
func (r *Reader) DecodeStruct(s *Struct, p unsafe.Pointer) error {
	n, array, err := r.StructHeader(len(s.Fields))
	if err != nil {
		return err
	}
	if n < 0 {
		s.zero(p)
		return nil
	}
	for i := 0; i < n; i++ {
		f := i
		if !array {
			key, err := r.Key()
			if err != nil {
				return err
			}
			f = -1
			for j := range s.Fields {
				if s.Fields[j].Name == string(key) {
					f = j
					break
				}
			}
			if f < 0 {
				return UnknownField(key)
			}
		}
		fd := &s.Fields[f]
		if err := r.decode(fd.Type, unsafe.Add(p, fd.Offset)); err != nil {
			return err
		}
	}
	return nil
}

// zero sets the struct at p to its zero value: by s.Zero if it has one,
// else field by field, which is one function for every struct rather than
// one per struct. Each store is typed, so the collector sees the pointers
// it clears.
func (s *Struct) zero(p unsafe.Pointer) {
	if s.Zero != nil {
		s.Zero(p)
		return
	}
	for i := range s.Fields {
		f := &s.Fields[i]
		q := unsafe.Add(p, f.Offset)
		switch f.Type.Kind {
		case KindString:
			*(*string)(q) = ""
		case KindBool:
			*(*bool)(q) = false
		case KindInt:
			*(*int)(q) = 0
		case KindInt64:
			*(*int64)(q) = 0
		case KindUint16:
			*(*uint16)(q) = 0
		case KindFloat64:
			*(*float64)(q) = 0
		case KindBytes, KindStrings, KindRaw, KindSlice:
			SetNilSlice(q)
		case KindPtr, KindMap:
			SetNilPointer(q)
		case KindStruct:
			f.Type.Struct.zero(q)
		}
	}
}

// decode reads a value of type t into p.
func (r *Reader) decode(t *Type, p unsafe.Pointer) error {
	var err error
	switch t.Kind {
	case KindString:
		*(*string)(p), err = r.String()
	case KindBool:
		*(*bool)(p), err = r.Bool()
	case KindInt:
		*(*int)(p), err = r.Int()
	case KindInt64:
		*(*int64)(p), err = r.Int64()
	case KindUint16:
		var u uint64
		u, err = r.Uint64()
		*(*uint16)(p) = uint16(u)
	case KindFloat64:
		*(*float64)(p), err = r.Float64()
	case KindBytes:
		*(*[]byte)(p), err = r.Bytes()
	case KindStrings:
		*(*[]string)(p), err = r.Strings()
	case KindRaw:
		*(*[]byte)(p), err = r.Raw()
	case KindStruct:
		err = r.DecodeStruct(t.Struct, p)
	case KindPtr:
		if r.Nil() {
			t.SetNil(p)
			return nil
		}
		err = r.decode(t.Elem, t.Alloc(p))
	case KindSlice:
		var n int
		if n, err = r.ArrayLen(); err != nil {
			return err
		}
		if n < 0 {
			t.SetNil(p)
			return nil
		}
		// All n at once, decoded in place: one small function per slice type
		// rather than an append, which costs the wasm about 800 bytes per
		// type. Every message has passed wire.Check, so n is backed by
		// that many elements in the input and within its element budget,
		// and the slice is no larger than appending them one by one makes it.
		t.MakeEmpty(p, n)
		base := *(*unsafe.Pointer)(p)
		for i := range n {
			if err := r.decode(t.Elem, unsafe.Add(base, uintptr(i)*t.Size)); err != nil {
				return err
			}
		}
	case KindMap:
		var n int
		if n, err = r.MapLen(); err != nil {
			return err
		}
		if n < 0 {
			t.SetNil(p)
			return nil
		}
		t.MakeEmpty(p, min(n, 64))
		for range n {
			key, err := r.String()
			if err != nil {
				return err
			}
			v := t.New()
			if err := r.decode(t.Elem, v); err != nil {
				return err
			}
			t.Put(p, key, v)
		}
	}
	return err
}

// AppendStruct appends the struct at p as msgpack/v5 writes it: a map of
// the fields by name, in order, less the omitempty fields that are empty,
// or an array of every field when s.AsArray.
func AppendStruct(b []byte, s *Struct, p unsafe.Pointer) []byte {
	if s.AsArray {
		b = AppendArrayLen(b, len(s.Fields))
		for i := range s.Fields {
			f := &s.Fields[i]
			b = appendValue(b, f.Type, unsafe.Add(p, f.Offset))
		}
		return b
	}
	// The map's length is the fields written. With fewer than 16 fields it
	// is a one-byte fixmap header whatever omitempty leaves out, so it is
	// written after the fields, in one pass; a larger struct counts first.
	small := len(s.Fields) < 16
	head := len(b)
	if small {
		b = append(b, fixMapLow)
	} else {
		n := 0
		for i := range s.Fields {
			if !s.Fields[i].omitted(p) {
				n++
			}
		}
		b = AppendMapLen(b, n)
	}
	n := 0
	for i := range s.Fields {
		f := &s.Fields[i]
		if f.omitted(p) {
			continue
		}
		// A field name is a str in its smallest form, as a string value is.
		b = AppendString(b, f.Name)
		b = appendValue(b, f.Type, unsafe.Add(p, f.Offset))
		n++
	}
	if small {
		b[head] = fixMapLow | byte(n)
	}
	return b
}

// omitted is whether omitempty leaves f of the struct at p out.
func (f *Field) omitted(p unsafe.Pointer) bool {
	return f.OmitEmpty && empty(f.Type, unsafe.Add(p, f.Offset))
}

// appendValue appends the value of type t at p. The generator refuses to
// write maps (msgpack/v5 writes them in random order) and raw messages, so
// those append nothing.
func appendValue(b []byte, t *Type, p unsafe.Pointer) []byte {
	switch t.Kind {
	case KindString:
		return AppendString(b, *(*string)(p))
	case KindBool:
		return AppendBool(b, *(*bool)(p))
	case KindInt:
		return AppendInt(b, int64(*(*int)(p)))
	case KindInt64:
		return AppendInt(b, *(*int64)(p))
	case KindUint16:
		return AppendUint(b, uint64(*(*uint16)(p)))
	case KindFloat64:
		return AppendFloat64(b, *(*float64)(p))
	case KindBytes:
		return AppendBytes(b, *(*[]byte)(p))
	case KindStruct:
		return AppendStruct(b, t.Struct, p)
	case KindPtr:
		v := *(*unsafe.Pointer)(p)
		if v == nil {
			return AppendNil(b)
		}
		return appendValue(b, t.Elem, v)
	case KindStrings:
		ss := *(*[]string)(p)
		if ss == nil {
			return AppendNil(b)
		}
		b = AppendArrayLen(b, len(ss))
		for _, s := range ss {
			b = AppendString(b, s)
		}
	case KindSlice:
		// Every slice header has the same layout, whatever the elements.
		s := *(*[]byte)(p)
		if s == nil {
			return AppendNil(b)
		}
		b = AppendArrayLen(b, len(s))
		base := unsafe.Pointer(unsafe.SliceData(s))
		for i := range len(s) {
			b = appendValue(b, t.Elem, unsafe.Add(base, uintptr(i)*t.Size))
		}
	}
	return b
}

// empty is msgpack/v5's isEmptyValue, for omitempty: zero numbers and
// false, nil pointers, empty strings and slices, and a struct whose fields
// are all omitempty and empty.
func empty(t *Type, p unsafe.Pointer) bool {
	switch t.Kind {
	case KindString:
		return len(*(*string)(p)) == 0
	case KindBool:
		return !*(*bool)(p)
	case KindInt:
		return *(*int)(p) == 0
	case KindInt64:
		return *(*int64)(p) == 0
	case KindUint16:
		return *(*uint16)(p) == 0
	case KindFloat64:
		return *(*float64)(p) == 0
	case KindBytes, KindStrings, KindSlice, KindRaw:
		return len(*(*[]byte)(p)) == 0
	case KindPtr:
		return *(*unsafe.Pointer)(p) == nil
	case KindStruct:
		for i := range t.Struct.Fields {
			if !t.Struct.Fields[i].omitted(p) {
				return false
			}
		}
		return true
	}
	return false
}

// SetNilSlice sets the slice at p, of any element type, to nil. Every
// slice header has the same layout, so one function serves them all.
func SetNilSlice(p unsafe.Pointer) { *(*[]unsafe.Pointer)(p) = nil }

// SetNilPointer sets the pointer or map at p, of any type, to nil: both are
// one pointer word.
func SetNilPointer(p unsafe.Pointer) { *(*unsafe.Pointer)(p) = nil }
