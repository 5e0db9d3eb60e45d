package engine

import (
	"crypto/rand"
	"encoding/binary"
	"io"
	"math"
)

// Local differential privacy for cohort reports.
//
// A report is one of K catalogue indexes, noised on the device with the
// ruleset's epsilon ε:
//
//   - k-ary randomized response ("krr"): the true index with probability
//     p = e^ε/(e^ε+K−1), else an index drawn uniformly from the K−1 others
//     (each with q = 1/(e^ε+K−1)).
//   - optimized unary encoding ("oue"), used when K > 3·e^ε + 2, where its
//     variance is lower: K bits, the true index's bit set with probability
//     p = 1/2 and every other bit with q = 1/(e^ε+1). Bits are packed
//     LSB first: bit i is bits[i/8] >> (i%8) & 1; len(bits) = ceil(K/8).
//
// From n reports of which c name (or set) index i, the collector's unbiased
// estimate of the true count of i is (c − n·q)/(p − q).

// Mechanisms.
const (
	MechanismKRR = "krr"
	MechanismOUE = "oue"
)

// useOUE reports whether OUE has the lower variance for K values.
func useOUE(k int, epsilon float64) bool {
	return float64(k) > 3*math.Exp(epsilon)+2
}

// ldpProbs returns p and q of the mechanism used for K values (see above).
func ldpProbs(k int, epsilon float64) (mechanism string, p, q float64) {
	ee := math.Exp(epsilon)
	if useOUE(k, epsilon) {
		return MechanismOUE, 0.5, 1 / (ee + 1)
	}
	return MechanismKRR, ee / (ee + float64(k) - 1), 1 / (ee + float64(k) - 1)
}

// randSource draws uniform randomness from an io.Reader: crypto/rand by
// default (WASI random_get inside wasm, crypto.getRandomValues in browsers).
type randSource struct{ r io.Reader }

func (s randSource) uint64() uint64 {
	var b [8]byte
	r := s.r
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, b[:]); err != nil {
		panic("edgewise: no randomness: " + err.Error())
	}
	return binary.LittleEndian.Uint64(b[:])
}

// float returns a uniform float in [0, 1).
func (s randSource) float() float64 { return float64(s.uint64()>>11) / (1 << 53) }

// intn returns a uniform int in [0, n), n > 0, without modulo bias.
func (s randSource) intn(n int) int {
	un := uint64(n)
	limit := math.MaxUint64 - math.MaxUint64%un
	for {
		x := s.uint64()
		if x < limit {
			return int(x % un)
		}
	}
}

// krr draws a k-ary randomized response for value v in [0, k).
func (s randSource) krr(v, k int, epsilon float64) int {
	_, p, _ := ldpProbs(k, epsilon)
	if k == 1 || s.float() < p {
		return v
	}
	r := s.intn(k - 1)
	if r >= v {
		r++
	}
	return r
}

// oue draws an optimized unary encoding of v in [0, k), packed LSB first.
func (s randSource) oue(v, k int, epsilon float64) []byte {
	q := 1 / (math.Exp(epsilon) + 1)
	bits := make([]byte, (k+7)/8)
	for i := 0; i < k; i++ {
		pr := q
		if i == v {
			pr = 0.5
		}
		if s.float() < pr {
			bits[i/8] |= 1 << (i % 8)
		}
	}
	return bits
}

// SetRandom makes the engine draw report noise from r instead of
// crypto/rand; nil restores crypto/rand. For tests only: a predictable
// source removes the privacy reports promise.
func (e *Engine) SetRandom(r io.Reader) { e.random = randSource{r} }
