package wasmhost

import (
	"context"
	"fmt"
	"github.com/edgewise/edgewise/internal/refcodec"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abi"
	"github.com/vmihailenco/msgpack/v5"
)

// EngineError is an error response from edgewise.wasm: the engine refused
// a request (for example observe with code consent when history is off).
type EngineError struct {
	Op      abi.Op
	Code    engine.Code
	Message string
}

func (e *EngineError) Error() string { return fmt.Sprintf("%s: %s: %s", e.Op, e.Code, e.Message) }

// Do encodes req, calls op and decodes the result into out (nil: the result
// is not needed). An error response is an *EngineError; a trap or a
// response that does not decode is another error.
func (in *Instance) Do(ctx context.Context, op abi.Op, req, out any) error {
	b, err := refcodec.EncodeRequest(req)
	if err != nil {
		return err
	}
	raw, err := in.Call(ctx, op, b)
	if err != nil {
		return err
	}
	var resp struct {
		Result msgpack.RawMessage `msgpack:"result"`
		Error  *abi.ErrorBody     `msgpack:"error"`
	}
	if err := msgpack.Unmarshal(raw, &resp); err != nil {
		return fmt.Errorf("%s: undecodable response: %w", op, err)
	}
	if resp.Error != nil {
		return &EngineError{Op: op, Code: resp.Error.Code, Message: resp.Error.Message}
	}
	if out == nil {
		return nil
	}
	return msgpack.Unmarshal(resp.Result, out)
}
