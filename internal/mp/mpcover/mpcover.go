// Package mpcover holds types that use every kind, tag and shape msgpgen
// accepts, with their generated codecs, so that the tests can hold the table
// interpreters of internal/mp to msgpack/v5 on cases the engine's own
// messages do not (yet) have: omitempty structs, inlined fields that are
// written, long field names, 16 or more fields, slices of pointers and of
// slices, named numbers. It is for tests only and never linked into the wasm.
package mpcover

//go:generate go run ../../build/cmd/msgpgen -o msgp_gen.go -decode All -encode All,Small

// All has 16 or more fields, so its map header is counted before the
// fields are written.
type All struct {
	S     string   `msgpack:"s"`
	B     bool     `msgpack:"b,omitempty"`
	I     int      `msgpack:"i,omitempty"`
	I64   int64    `msgpack:"i64,omitempty"`
	U16   uint16   `msgpack:"u16,omitempty"`
	F     float64  `msgpack:"f,omitempty"`
	Bin   []byte   `msgpack:"bin,omitempty"`
	Strs  []string `msgpack:"strs,omitempty"`
	Code  Code     `msgpack:"code,omitempty"`
	Flag  Flag     `msgpack:"flag,omitempty"`
	Count Count    `msgpack:"count"`
	P     *int     `msgpack:"p,omitempty"`
	PP    **int    `msgpack:"pp"`
	Leaf  *Leaf    `msgpack:"leaf,omitempty"`
	Leafs []Leaf   `msgpack:"leafs"`
	Ptrs  []*Leaf  `msgpack:"ptrs,omitempty"`
	Lists [][]string
	Row   Row   `msgpack:"row"`
	Rows  []Row `msgpack:"rows,omitempty"`
	// Empty is left out when every field of it is omitempty and empty;
	// Mixed never is, having a field without omitempty; Nothing always is.
	Empty   Leaf    `msgpack:"empty,omitempty"`
	Mixed   Mixed   `msgpack:"mixed,omitempty"`
	Nothing Nothing `msgpack:"nothing,omitempty"`
	Inner   `msgpack:",inline"`
	Long    string `msgpack:"a_field_name_of_more_than_thirty_two_bytes"`
	Skip    int    `msgpack:"-"`
	hidden  int
}

// Small has fewer than 16 fields, so its map header is set after them.
type Small struct {
	A   string `msgpack:"a,omitempty"`
	Row *Row   `msgpack:"row,omitempty"`
	Leaf
	Z float64 `msgpack:"z"`
}

// Leaf's fields are all omitempty.
type Leaf struct {
	Name string   `msgpack:"name,omitempty"`
	N    int      `msgpack:"n,omitempty"`
	Tags []string `msgpack:"tags,omitempty"`
}

// Mixed has one field without omitempty.
type Mixed struct {
	A string `msgpack:"a"`
	B int    `msgpack:"b,omitempty"`
}

// Nothing has no fields.
type Nothing struct{}

// Row is written as an array of every field, omitempty or not.
type Row struct {
	_msgpack struct{} `msgpack:",as_array"`
	K        string   `msgpack:"k,omitempty"`
	V        float64  `msgpack:"v,omitempty"`
	Leaf     *Leaf    `msgpack:"leaf,omitempty"`
}

// Inner is inlined into All.
type Inner struct {
	X int64  `msgpack:"x,omitempty"`
	Y string `msgpack:"y"`
}

type (
	Code  string
	Flag  bool
	Count int
)
