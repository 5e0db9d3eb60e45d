//go:build !wasip1

package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abi"
	"github.com/edgewise/edgewise/internal/abitest"
)

// benchContexts alternates set_context between the standard workload's
// context and a copy edit changed, each followed by a decide of the
// workload's slots, through the ABI.
func benchContexts(b *testing.B, edit func(c *engine.Context)) {
	w, err := abitest.LoadWorkload(filepath.Join(repoRoot, "testdata", "bench", "standard.json"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	in := loadWorkload(b, w)
	other := w.Context
	edit(&other)
	sets := [2][]byte{mustEncode(b, abi.SetContextRequest{Context: w.Context}), mustEncode(b, abi.SetContextRequest{Context: other})}
	req := mustEncode(b, abi.DecideRequest{Slots: w.Slots})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := in.Call(ctx, abi.OpSetContext, sets[i%2]); err != nil {
			b.Fatal(err)
		}
		if _, err := in.Call(ctx, abi.OpDecide, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideStandardNewNowWasm is engine.BenchmarkDecideStandardNewNow
// through the ABI: every set_context carries a new now, as the SDK's do.
func BenchmarkDecideStandardNewNowWasm(b *testing.B) {
	benchContexts(b, func(c *engine.Context) { c.Now += 1000 })
}

// BenchmarkDecideStandardNewContextWasm is
// engine.BenchmarkDecideStandardNewContext through the ABI: the context
// alone changes, at the same now.
func BenchmarkDecideStandardNewContextWasm(b *testing.B) {
	benchContexts(b, func(c *engine.Context) {
		c.Weather, c.Device, c.PageSection, c.Country = "snow", "desktop", "sale", "SE"
	})
}
