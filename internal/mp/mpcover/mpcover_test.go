package mpcover

import (
	"testing"

	"github.com/edgewise/edgewise/internal/mp/mptest"
)

var codecs = []mptest.Pair{
	mptest.Codec[All]{Name: "All", Decode: mpDecodeAll, Append: mpAppendAll},
	mptest.Codec[Small]{Name: "Small", Append: mpAppendSmall},
}

// TestCodecsMatchReflection: the same bytes as msgpack/v5 for random
// values, and the same value or error for their encodings and mutations.
func TestCodecsMatchReflection(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	mptest.Run(t, 1, n, codecs...)
}

// FuzzEncodersMatchReflection writes the random values that seed makes both
// ways, and reads their encodings and mutations both ways.
func FuzzEncodersMatchReflection(f *testing.F) {
	for seed := range int64(8) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed int64) {
		mptest.Run(t, seed, 4, codecs...)
	})
}

// FuzzDecodersMatchReflection: for any bytes, the generated decoder and
// msgpack/v5 agree on success or failure, the error and the value.
func FuzzDecodersMatchReflection(f *testing.F) {
	for _, s := range mptest.Seeds(f, 2, 20, codecs...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mptest.Fuzz(t, data, codecs...)
	})
}
