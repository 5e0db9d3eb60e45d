package abi

import (
	"bytes"
	"fmt"
	"github.com/edgewise/edgewise/internal/refcodec"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abitest"
)

// benchHost is a host with the 1,000-item bench ruleset and a 500-event
// profile, as engine.BenchmarkDecide and wasm.BenchmarkDecideWasm use.
func benchHost(b *testing.B) *Host {
	b.Helper()
	h := NewHost()
	call := func(op Op, req any) {
		raw, err := refcodec.EncodeRequest(req)
		if err != nil {
			b.Fatal(err)
		}
		if resp := h.Call(op, raw); bytes.Contains(resp, []byte("error")) {
			b.Fatalf("%s: %q", op, resp)
		}
	}
	call(OpLoadRuleset, LoadRulesetRequest{EWR: abitest.MustSign(abitest.BenchRuleset(1000)), PublicKey: abitest.TestPublicKey()})
	for i := 0; i < 500; i++ {
		call(OpObserve, ObserveRequest{Event: engine.Event{Type: "view", Item: fmt.Sprintf("item-%d", (i*37)%1000), At: abitest.BenchStart + int64(i)*60000}})
	}
	return h
}

func benchCall(b *testing.B, h *Host, op Op, req any) {
	raw, err := refcodec.EncodeRequest(req)
	if err != nil {
		b.Fatal(err)
	}
	if resp := h.Call(op, raw); bytes.Contains(resp, []byte("error")) {
		b.Fatalf("%s: %q", op, resp)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Call(op, raw)
	}
}

// BenchmarkCallDecide is decide end to end through Host.Call, natively:
// decode the request, decide one slot of 8 over 1,000 items, encode the result.
func BenchmarkCallDecide(b *testing.B) {
	benchCall(b, benchHost(b), OpDecide, DecideRequest{Slots: []string{"recs"}})
}

// BenchmarkCallDecideReuse is BenchmarkCallDecide with ReuseResponses, as
// the wasm module runs it.
func BenchmarkCallDecideReuse(b *testing.B) {
	h := benchHost(b)
	h.ReuseResponses()
	benchCall(b, h, OpDecide, DecideRequest{Slots: []string{"recs"}})
}

// BenchmarkCallObserveReuse is BenchmarkCallObserve with ReuseResponses.
func BenchmarkCallObserveReuse(b *testing.B) {
	h := benchHost(b)
	h.ReuseResponses()
	benchCall(b, h, OpObserve, ObserveRequest{Event: engine.Event{Type: "view", Item: "item-42", At: abitest.BenchStart + 600*60000}})
}

// BenchmarkCallObserve is observe end to end through Host.Call.
func BenchmarkCallObserve(b *testing.B) {
	benchCall(b, benchHost(b), OpObserve, ObserveRequest{Event: engine.Event{Type: "view", Item: "item-42", At: abitest.BenchStart + 600*60000}})
}

// BenchmarkCallSetContext is set_context end to end through Host.Call.
func BenchmarkCallSetContext(b *testing.B) {
	benchCall(b, benchHost(b), OpSetContext, SetContextRequest{Context: engine.Context{Now: abitest.BenchStart + 600*60000}})
}

// BenchmarkCallRecordImpressions is record_impressions end to end through Host.Call.
func BenchmarkCallRecordImpressions(b *testing.B) {
	benchCall(b, benchHost(b), OpRecordImpressions, RecordImpressionsRequest{Items: []string{"item-1", "item-2", "item-3"}, At: abitest.BenchStart + 600*60000})
}
