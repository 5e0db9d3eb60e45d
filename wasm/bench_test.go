//go:build !wasip1

package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abi"
	"github.com/edgewise/edgewise/internal/abitest"
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
