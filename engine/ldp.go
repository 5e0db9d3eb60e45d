package engine

import (
	"encoding/binary"
	"io"
	"math"
)

// Local differential privacy for cohort reports.
//
// A report is one of K catalogue indexes, noised on the device with the
// ruleset's epsilon ε by k-ary randomized response ("krr"): the true index
// with probability p = e^ε/(e^ε+K−1), else an index drawn uniformly from the
// K−1 others (each with q = 1/(e^ε+K−1)). From n reports of which c name
// index i, the collector's unbiased estimate of the true count of i is
// (c − n·q)/(p − q).
//
// Answers are memoized, as RAPPOR's permanent randomized response does: the
// first report about a true cohort draws its noised index once and keeps
// it, and every later report about the same cohort (same ruleset, K and ε)
// sends that same index again. Fresh noise every epoch would let anyone who
// links a person's reports average the noise away, and would make the
// sequence of reports a fingerprint; a memoized answer reveals nothing new,
// so it spends no privacy budget, and the ledger counts ε once per cohort
// the person has been in. A report is one small index, never a bit vector:
// K random bits would make every report unique on its own.
//
// One answer serves a whole answer period (AnswerPeriodDays, report.go):
// the first report of the period answers about the cohort then, and every
// later one repeats that value even when the cohort changed. A new answer
// at a week of the device's own choosing would make the sequence of
// answers a fingerprint; periods are the same on every device, so a new
// answer comes at most once a period, at a boundary everyone shares, and
// a year spends at most 2ε.

// MechanismKRR names k-ary randomized response in reports.
const MechanismKRR = "krr"

// ldpProbs returns p and q of randomized response over K values (see above).
func ldpProbs(k int, epsilon float64) (p, q float64) {
	ee := math.Exp(epsilon)
	return ee / (ee + float64(k) - 1), 1 / (ee + float64(k) - 1)
}

// randSource draws uniform randomness from an io.Reader: systemRandom by
// default, which is WASI random_get inside edgewise.wasm (the host's
// crypto.getRandomValues in browsers) and crypto/rand elsewhere; see
// rand_wasip1.go and rand_other.go.
type randSource struct{ r io.Reader }

func (s randSource) uint64() uint64 {
	var b [8]byte
	r := s.r
	if r == nil {
		r = systemRandom
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
	p, _ := ldpProbs(k, epsilon)
	if k == 1 || s.float() < p {
		return v
	}
	r := s.intn(k - 1)
	if r >= v {
		r++
	}
	return r
}

// SetRandom makes the engine draw report noise from r instead of the
// system's randomness (WASI random_get in edgewise.wasm, crypto/rand
// elsewhere); nil restores it. For tests only: a predictable source removes
// the privacy reports promise.
func (e *Engine) SetRandom(r io.Reader) { e.random = randSource{r} }
