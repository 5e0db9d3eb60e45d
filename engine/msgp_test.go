package engine

import (
	"testing"

	"github.com/edgewise/edgewise/internal/mp/mptest"
)

// The generated codecs of msgp_gen.go against msgpack/v5: the ruleset a
// device decodes from a signed file, and the profile snapshot it writes and
// reads back.
var codecs = []mptest.Pair{
	mptest.Codec[Ruleset]{Name: "Ruleset", Decode: mpDecodeRuleset},
	mptest.Codec[snapshot]{Name: "snapshot", Decode: mpDecodeSnapshot, Append: mpAppendSnapshot},
}

func TestCodecsMatchReflection(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 200
	}
	mptest.Run(t, 1, n, codecs...)
}

// FuzzCodecsMatchReflection: for any bytes, the generated decoders and
// msgpack/v5 agree on success or failure, the error and the value.
func FuzzCodecsMatchReflection(f *testing.F) {
	for _, s := range mptest.Seeds(f, 2, 20, codecs...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mptest.Fuzz(t, data, codecs...)
	})
}
