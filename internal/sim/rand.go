package sim

import (
	"encoding/binary"
	"io"
	"math/rand/v2"
)

// switchRand backs one instance's WASI random_get. The worker that owns
// the instance points it at the stream of the visitor it is simulating,
// so report noise depends on the seed and the visitor, not on which worker
// or instance ran them.
type switchRand struct{ src io.Reader }

func (s *switchRand) Read(p []byte) (int, error) { return s.src.Read(p) }

// chachaReader is a seeded stream of bytes.
type chachaReader struct{ c *rand.ChaCha8 }

func (r chachaReader) Read(p []byte) (int, error) { return r.c.Read(p) }

// stream returns the seeded stream of (seed, visitor, purpose).
func stream(seed uint64, visitor int, purpose uint64) io.Reader {
	return chachaReader{chacha(seed, visitor, purpose)}
}

// chacha is the seeded generator of (seed, visitor, purpose).
func chacha(seed uint64, visitor int, purpose uint64) *rand.ChaCha8 {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[0:], seed)
	binary.LittleEndian.PutUint64(key[8:], uint64(visitor))
	binary.LittleEndian.PutUint64(key[16:], purpose)
	binary.LittleEndian.PutUint64(key[24:], 0x65646765776973) // "edgewis"
	return rand.NewChaCha8(key)
}

// Purposes of the streams drawn per visitor.
const (
	purposeVisitor    uint64 = iota + 1 // which persona, which events, which variation
	purposeNoise                        // the engine's report noise
	purposeDrift                        // when and where the visitor's interest shifts
	purposeExperiment                   // the engine's arms and outcome noise in the experiments' run
	purposeGoal                         // whether the visitor reaches a goal, each epoch of that run
)
