package rb

import (
	"math"
	"math/rand/v2"
	"testing"
)

func roundT(x float64) float64 {
	t := math.Trunc(x)
	if f := x - t; f >= 0.5 {
		t++
	} else if f <= -0.5 {
		t--
	}
	return t
}

var xs = func() []float64 {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]float64, 1024)
	for i := range out {
		out[i] = r.Float64() * 1e8
	}
	return out
}()

var sink float64

func BenchmarkRound(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink += math.Round(xs[i&1023])
	}
}
func BenchmarkRoundT(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink += roundT(xs[i&1023])
	}
}
