// Package wasmhost runs dist/edgewise.wasm in wazero: the same artifact that
// browsers run, for tests and for the CLI.
//
// A Module is compiled once and is safe to share; each Instance is one engine
// with its own memory, used by one goroutine at a time.
package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/edgewise/edgewise/internal/abi"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Module is a compiled edgewise.wasm with the runtime that compiled it.
type Module struct {
	runtime  wazero.Runtime
	compiled wazero.CompiledModule
}

// Config tunes Compile. The zero value compiles with wazero's defaults and
// no cache.
type Config struct {
	// Cache, when set, is shared by every runtime that uses it, so a module
	// compiles once per process (or once per machine with a directory cache).
	Cache wazero.CompilationCache
}

// Compile compiles the module and checks that it exports the whole ABI.
func Compile(ctx context.Context, wasm []byte, cfg Config) (*Module, error) {
	rc := wazero.NewRuntimeConfig()
	if cfg.Cache != nil {
		rc = rc.WithCompilationCache(cfg.Cache)
	}
	r := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		r.Close(ctx)
		return nil, err
	}
	compiled, err := r.CompileModule(ctx, wasm)
	if err != nil {
		r.Close(ctx)
		return nil, fmt.Errorf("compile edgewise.wasm: %w", err)
	}
	exports := compiled.ExportedFunctions()
	for _, name := range append([]string{"_initialize", "ew_alloc"}, exportNames()...) {
		if _, ok := exports[name]; !ok {
			r.Close(ctx)
			return nil, fmt.Errorf("edgewise.wasm does not export %s; is it an Edgewise reactor built from ./wasm?", name)
		}
	}
	return &Module{runtime: r, compiled: compiled}, nil
}

func exportNames() []string {
	names := make([]string, len(abi.Ops))
	for i, op := range abi.Ops {
		names[i] = op.Export()
	}
	return names
}

// Close releases the runtime and every instance made from it.
func (m *Module) Close(ctx context.Context) error { return m.runtime.Close(ctx) }

// Instance is one instantiated engine.
type Instance struct {
	mod   api.Module
	alloc api.Function
	ops   map[abi.Op]api.Function
}

// Instantiate makes a fresh engine: it instantiates the module and runs
// _initialize, as a reactor needs, instead of _start.
func (m *Module) Instantiate(ctx context.Context) (*Instance, error) {
	return m.InstantiateWithRand(ctx, cryptoRand{})
}

// InstantiateWithRand is Instantiate with WASI random_get, and so the
// engine's report noise, read from r instead of the operating system's
// CSPRNG. It is for simulations that must be reproducible from a seed
// (edgewise simulate); r is read only from calls into this instance.
// Never use a predictable source where reports leave the device.
func (m *Module) InstantiateWithRand(ctx context.Context, r io.Reader) (*Instance, error) {
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous, so many instances can coexist in one runtime
		WithStartFunctions("_initialize").
		WithRandSource(r)
	mod, err := m.runtime.InstantiateModule(ctx, m.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("instantiate edgewise.wasm: %w", err)
	}
	in := &Instance{mod: mod, alloc: mod.ExportedFunction("ew_alloc"), ops: map[abi.Op]api.Function{}}
	for _, op := range abi.Ops {
		in.ops[op] = mod.ExportedFunction(op.Export())
	}
	return in, nil
}

// ErrTrapped wraps a trap. After one the instance is closed; make a new one.
var ErrTrapped = errors.New("edgewise.wasm trapped")

// Call sends one msgpack request and returns a copy of the msgpack response.
// An error means the call never got an answer: a trap, or a host fault.
func (in *Instance) Call(ctx context.Context, op abi.Op, req []byte) ([]byte, error) {
	fn, ok := in.ops[op]
	if !ok {
		return nil, fmt.Errorf("unknown operation %q", op)
	}
	ptr := uint64(0)
	if len(req) > 0 {
		res, err := in.alloc.Call(ctx, uint64(len(req)))
		if err != nil {
			return nil, in.trapped(ctx, err)
		}
		ptr = res[0]
		if ptr == 0 {
			// The module refused the size; ask it for the error response
			// so the host reports the same thing as the engine would.
			return in.call(ctx, fn, 0, uint64(len(req)))
		}
		if !in.mod.Memory().Write(uint32(ptr), req) {
			return nil, fmt.Errorf("ew_alloc returned %d, outside memory", ptr)
		}
	}
	return in.call(ctx, fn, ptr, uint64(len(req)))
}

// CallRaw calls an export with any pointer and length, without allocating:
// for tests that probe requests outside the buffer.
func (in *Instance) CallRaw(ctx context.Context, op abi.Op, ptr, n uint32) ([]byte, error) {
	fn, ok := in.ops[op]
	if !ok {
		return nil, fmt.Errorf("unknown operation %q", op)
	}
	return in.call(ctx, fn, uint64(ptr), uint64(n))
}

func (in *Instance) call(ctx context.Context, fn api.Function, ptr, n uint64) ([]byte, error) {
	res, err := fn.Call(ctx, ptr, n)
	if err != nil {
		return nil, in.trapped(ctx, err)
	}
	packed := res[0]
	rptr, rlen := uint32(packed>>32), uint32(packed)
	view, ok := in.mod.Memory().Read(rptr, rlen)
	if !ok {
		return nil, fmt.Errorf("response [%d, +%d) is outside memory", rptr, rlen)
	}
	// The view aliases linear memory, which the next call may reuse or grow.
	return append([]byte(nil), view...), nil
}

func (in *Instance) trapped(ctx context.Context, err error) error {
	in.mod.Close(ctx)
	return fmt.Errorf("%w: %v", ErrTrapped, err)
}

// Close releases the instance.
func (in *Instance) Close(ctx context.Context) error { return in.mod.Close(ctx) }

// MemorySize is the instance's linear memory size in bytes.
func (in *Instance) MemorySize() uint32 { return in.mod.Memory().Size() }
