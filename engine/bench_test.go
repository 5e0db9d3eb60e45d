package engine_test

import (
	"fmt"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abitest"
)

// BenchmarkDecide measures one decide over a 1,000-item catalogue with a
// 500-event profile, natively. The wasm figure is in wasm/bench_test.go.
func BenchmarkDecide(b *testing.B) {
	e := engine.New()
	if err := e.Load(abitest.BenchRuleset(1000)); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		if _, err := e.Observe(engine.Event{Type: "view", Item: fmt.Sprintf("item-%d", (i*37)%1000), At: abitest.BenchStart + int64(i)*60000}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Decide([]string{"recs"}); err != nil {
			b.Fatal(err)
		}
	}
}
