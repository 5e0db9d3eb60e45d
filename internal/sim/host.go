package sim

import (
	"context"
	"fmt"

	"github.com/edgewise/edgewise/internal/abi"
	"github.com/edgewise/edgewise/internal/wasmhost"
)

// EngineError is an error response from edgewise.wasm.
type EngineError = wasmhost.EngineError

// instance is one edgewise.wasm engine with the target ruleset loaded. It
// belongs to one goroutine at a time.
type instance struct {
	in   *wasmhost.Instance
	rnd  *switchRand
	base []byte // snapshot of the empty profile, default preferences
}

func (r *Runner) newInstance(ctx context.Context, load abi.LoadRulesetRequest, feeds []FeedFile) (*instance, error) {
	rnd := &switchRand{src: stream(0, 0, 0)}
	in, err := r.mod.InstantiateWithRand(ctx, rnd)
	if err != nil {
		return nil, err
	}
	x := &instance{in: in, rnd: rnd}
	if err := x.call(ctx, abi.OpLoadRuleset, load, nil); err != nil {
		in.Close(ctx)
		return nil, err
	}
	for _, f := range feeds {
		if err := x.call(ctx, abi.OpLoadFeed, abi.LoadFeedRequest{Feed: f.EWF}, nil); err != nil {
			in.Close(ctx)
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	var snap abi.SnapshotResult
	if err := x.call(ctx, abi.OpSnapshot, struct{}{}, &snap); err != nil {
		in.Close(ctx)
		return nil, err
	}
	x.base = snap.Snapshot
	return x, nil
}

func (x *instance) close(ctx context.Context) { x.in.Close(ctx) }

// reset gives the instance an empty profile with default preferences.
func (x *instance) reset(ctx context.Context) error {
	return x.call(ctx, abi.OpRestore, abi.RestoreRequest{Snapshot: x.base}, nil)
}

// call sends one request and decodes the result into out (when not nil).
// An error response is an *EngineError; a trap is any other error.
func (x *instance) call(ctx context.Context, op abi.Op, req, out any) error {
	return x.in.Do(ctx, op, req, out)
}

// exportResult is export's result with only what simulations read.
type exportResult struct {
	Export struct {
		Cohort string `msgpack:"cohort"`
	} `msgpack:"export"`
}
