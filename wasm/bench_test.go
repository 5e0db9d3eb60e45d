//go:build !wasip1

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abi"
	"github.com/edgewise/edgewise/internal/abitest"
	"github.com/edgewise/edgewise/internal/wasmhost"
	"github.com/vmihailenco/msgpack/v5"
)

// BenchmarkDecideWasm is engine.BenchmarkDecide through the ABI in wazero:
// 1,000 items, a 500-event profile, one slot of 8, msgpack both ways.
func BenchmarkDecideWasm(b *testing.B) {
	ctx := context.Background()
	in := newInstance(b)
	call := func(op abi.Op, req any) {
		raw, err := in.Call(ctx, op, mustEncode(b, req))
		if err != nil {
			b.Fatal(err)
		}
		if r := decodeResponse(b, raw); r.Error != nil {
			b.Fatalf("%s: %+v", op, r.Error)
		}
	}
	call(abi.OpLoadRuleset, abi.LoadRulesetRequest{EWR: abitest.MustSign(abitest.BenchRuleset(1000)), PublicKey: abitest.TestPublicKey()})
	for i := 0; i < 500; i++ {
		call(abi.OpObserve, abi.ObserveRequest{Event: engine.Event{Type: "view", Item: fmt.Sprintf("item-%d", (i*37)%1000), At: abitest.BenchStart + int64(i)*60000}})
	}
	req := mustEncode(b, abi.DecideRequest{Slots: []string{"recs"}})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := in.Call(ctx, abi.OpDecide, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadRulesetWasm is load_ruleset of a signed 1,000-item ruleset in
// wazero: verify the signature, decode the payload, compile the ruleset.
// engine.BenchmarkDecodeRuleset is the native figure.
func BenchmarkLoadRulesetWasm(b *testing.B) {
	ctx := context.Background()
	in := newInstance(b)
	ewr := abitest.MustSign(abitest.BenchRuleset(1000))
	req := mustEncode(b, abi.LoadRulesetRequest{EWR: ewr, PublicKey: abitest.TestPublicKey()})
	b.SetBytes(int64(len(ewr)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		raw, err := in.Call(ctx, abi.OpLoadRuleset, req)
		if err != nil {
			b.Fatal(err)
		}
		if r := decodeResponse(b, raw); r.Error != nil {
			b.Fatalf("load_ruleset: %+v", r.Error)
		}
	}
}

// BenchmarkInstantiate is the cost of a fresh engine from a compiled module,
// which a host pays after a trap.
func BenchmarkInstantiate(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		in, err := module.Instantiate(ctx)
		if err != nil {
			b.Fatal(err)
		}
		in.Close(ctx)
	}
}

// loadWorkload loads a workload into a fresh instance through the ABI.
func loadWorkload(t testing.TB, w abitest.Workload) *wasmhost.Instance {
	t.Helper()
	ctx := context.Background()
	in := newInstance(t)
	call := func(op abi.Op, req any) {
		raw, err := in.Call(ctx, op, mustEncode(t, req))
		if err != nil {
			t.Fatal(err)
		}
		if r := decodeResponse(t, raw); r.Error != nil {
			t.Fatalf("%s: %+v", op, r.Error)
		}
	}
	call(abi.OpLoadRuleset, abi.LoadRulesetRequest{EWR: abitest.MustSign(w.Ruleset), PublicKey: abitest.TestPublicKey()})
	for _, ev := range w.Events {
		call(abi.OpObserve, abi.ObserveRequest{Event: ev})
	}
	for _, im := range w.Impressions {
		call(abi.OpRecordImpressions, abi.RecordImpressionsRequest{Items: im.Items, At: im.At})
	}
	call(abi.OpSetContext, abi.SetContextRequest{Context: w.Context})
	return in
}

// BenchmarkDecideStandardWasm is engine.BenchmarkDecideStandard through the
// ABI in wazero: the standard workload's three slots, msgpack both ways
// (target ≤ 3× native).
func BenchmarkDecideStandardWasm(b *testing.B) {
	w, err := abitest.LoadWorkload(filepath.Join(repoRoot, "testdata", "bench", "standard.json"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	in := loadWorkload(b, w)
	req := mustEncode(b, abi.DecideRequest{Slots: w.Slots})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := in.Call(ctx, abi.OpDecide, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideStandardColdWasm is engine.BenchmarkDecideStandardCold
// through the ABI: set_context with the same context, then decide.
func BenchmarkDecideStandardColdWasm(b *testing.B) {
	w, err := abitest.LoadWorkload(filepath.Join(repoRoot, "testdata", "bench", "standard.json"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	in := loadWorkload(b, w)
	set := mustEncode(b, abi.SetContextRequest{Context: w.Context})
	req := mustEncode(b, abi.DecideRequest{Slots: w.Slots})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := in.Call(ctx, abi.OpSetContext, set); err != nil {
			b.Fatal(err)
		}
		if _, err := in.Call(ctx, abi.OpDecide, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObserveWasm is engine.BenchmarkObserve through the ABI: one
// observe call per event, msgpack both ways, into a 500-event profile.
func BenchmarkObserveWasm(b *testing.B) {
	w, err := abitest.LoadWorkload(filepath.Join(repoRoot, "testdata", "bench", "standard.json"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	in := loadWorkload(b, w)
	evs := w.Events
	span := evs[len(evs)-1].At - evs[0].At + 3600000
	reqs := make([][]byte, len(evs))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(evs)
		if k == 0 { // the next round of events, later by span
			b.StopTimer()
			for j, ev := range evs {
				ev.At += int64(i/len(evs)+1) * span
				reqs[j] = mustEncode(b, abi.ObserveRequest{Event: ev})
			}
			b.StartTimer()
		}
		if _, err := in.Call(ctx, abi.OpObserve, reqs[k]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "events/s")
	}
}

// largeWorkloadMemory loads the 10,000-item workload with a 5,000-event
// profile into a fresh instance, decides, and returns the linear memory
// size in MiB.
func largeWorkloadMemory(t testing.TB) float64 {
	w := abitest.StandardWorkload(10000, 5000)
	in := loadWorkload(t, w)
	raw, err := in.Call(context.Background(), abi.OpDecide, mustEncode(t, abi.DecideRequest{Slots: w.Slots}))
	if err != nil {
		t.Fatal(err)
	}
	if r := decodeResponse(t, raw); r.Error != nil {
		t.Fatalf("decide: %+v", r.Error)
	}
	return float64(in.MemorySize()) / (1 << 20)
}

// BenchmarkMemory10k reports the wasm linear memory after loading and
// deciding over a 10,000-item catalogue (target ≤ 32 MiB).
func BenchmarkMemory10k(b *testing.B) {
	var mib float64
	for i := 0; i < b.N; i++ {
		mib = largeWorkloadMemory(b)
	}
	b.ReportMetric(mib, "MiB-memory")
}

// TestMemory10k holds the module to 32 MiB of linear memory with a
// 10,000-item catalogue and a 5,000-event profile.
func TestMemory10k(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a 10,000-item ruleset")
	}
	if mib := largeWorkloadMemory(t); mib > 32 {
		t.Fatalf("linear memory is %.1f MiB with 10,000 items; the limit is 32 MiB", mib)
	} else {
		t.Logf("linear memory: %.1f MiB", mib)
	}
}

// TestLongRunMemory: a long-lived page calls the engine for weeks. 120,000
// restore and report pairs (240,000 calls) must leave linear memory where
// the first 10,000 did. Before call forced a collection now and then, the
// collector fell behind after about 90,000 pairs and memory grew by 2.8 KB
// a call without end.
func TestLongRunMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 240,000 calls")
	}
	ctx := context.Background()
	in := newInstance(t)
	rs := smallRuleset
	rs.Cohorts = engine.Cohorts{Dimensions: []engine.Dimension{{ID: "interest", From: engine.DimensionInterest, Buckets: []engine.Bucket{
		{ID: "runners", Tags: []string{"running"}}, {ID: "campers", Tags: []string{"camping"}}, {ID: "other"}}}}}
	call := func(op abi.Op, req []byte) []byte {
		raw, err := in.Call(ctx, op, req)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	call(abi.OpLoadRuleset, mustEncode(t, abi.LoadRulesetRequest{EWR: abitest.MustSign(rs), PublicKey: abitest.TestPublicKey()}))
	call(abi.OpSetPreferences, mustEncode(t, map[string]any{"preferences": map[string]any{"sharing": "cohorts"}}))
	var snap abi.SnapshotResult
	if err := msgpack.Unmarshal(decodeResponse(t, call(abi.OpSnapshot, nil)).Result, &snap); err != nil {
		t.Fatal(err)
	}
	restore := mustEncode(t, abi.RestoreRequest{Snapshot: snap.Snapshot})
	const week = 7 * 86400000
	reports := make([][]byte, 4)
	for i := range reports {
		reports[i] = mustEncode(t, map[string]any{"now": 1764400000000 + int64(i)*week, "sizes": map[string]float64{"interest=other": 100}})
	}
	var early uint32
	for i := range 120000 {
		call(abi.OpRestore, restore)
		if r := decodeResponse(t, call(abi.OpReport, reports[i%4])); r.Error != nil {
			t.Fatalf("report %d: %+v", i, r.Error)
		}
		if i == 10000 {
			early = in.MemorySize()
		}
	}
	late := in.MemorySize()
	t.Logf("linear memory after 10,000 pairs %d KiB, after 120,000 %d KiB", early/1024, late/1024)
	if late > early+4<<20 {
		t.Fatalf("linear memory grew from %d KiB to %d KiB over 110,000 more calls", early/1024, late/1024)
	}
}
