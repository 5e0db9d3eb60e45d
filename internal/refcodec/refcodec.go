// Package refcodec is the reference msgpack codec: github.com/vmihailenco/msgpack/v5
// with reflection, configured as the engine's wire format is. Hosts (the CLI,
// wazero hosts, the ruleset compiler) use it to build requests and read
// responses, and the differential tests hold the generated codecs that run
// inside edgewise.wasm (internal/mp, msgp_gen.go) to it.
//
// It must never be linked into edgewise.wasm; a test in package ruleset
// holds `go list -deps ./wasm` to that.
package refcodec

import (
	"bytes"

	"github.com/edgewise/edgewise/internal/wire"
	"github.com/vmihailenco/msgpack/v5"
)

// Decode checks data as wire.Read does, then decodes exactly one map into v
// with msgpack/v5 reflection; unknown keys are errors.
func Decode(data []byte, v any) error {
	if err := wire.CheckMap(data); err != nil {
		return err
	}
	r := bytes.NewReader(data)
	dec := msgpack.NewDecoder(r)
	dec.DisallowUnknownFields(true)
	if err := dec.Decode(v); err != nil {
		return &wire.Error{Offset: len(data) - r.Len(), Reason: err.Error()}
	}
	return nil
}

// Marshal encodes v as the engine writes its responses and snapshots: the
// smallest integer encodings, which is also what JavaScript msgpack encoders
// produce.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// EncodeRequest encodes a request the way hosts do: msgpack with sorted map
// keys and the smallest integer encodings.
func EncodeRequest(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	enc.UseCompactInts(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
