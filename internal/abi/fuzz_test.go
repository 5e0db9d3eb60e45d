package abi

import (
	"bytes"
	"github.com/edgewise/edgewise/internal/refcodec"
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/abitest"
	"github.com/vmihailenco/msgpack/v5"
)

// FuzzCall sends arbitrary bytes to every operation after a valid setup.
// Every answer must be exactly one of {result} and {error}, and no input may
// reach a panic (code "internal").
func FuzzCall(f *testing.F) {
	for _, s := range goldenRequests(f) {
		f.Add(uint8(indexOf(s.op)), s.req)
	}
	setup, err := refcodec.EncodeRequest(LoadRulesetRequest{
		EWR: abitest.MustSign(engine.Ruleset{
			ID:        "fuzz",
			Version:   "1",
			Signals:   []engine.Signal{{ID: "history", Kind: engine.SignalHistory, Purpose: "Recommend items like the ones you viewed.", RetentionDays: 30}},
			Catalogue: []engine.Item{{ID: "a", Title: "A", Tags: []string{"x"}}},
			Slots:     []engine.Slot{{ID: "s", Limit: 1, Fallback: []string{"a"}}},
		}),
		PublicKey: abitest.TestPublicKey(),
	})
	if err != nil {
		f.Fatal(err)
	}
	if resp := NewHost().Call(OpLoadRuleset, setup); bytes.Contains(resp, []byte("error")) {
		f.Fatalf("the fuzz setup does not load: %q", resp)
	}
	f.Fuzz(func(t *testing.T, opIndex uint8, req []byte) {
		h := NewHost()
		checkResponse(t, h.Call(OpLoadRuleset, setup))
		op := Ops[int(opIndex)%len(Ops)]
		checkResponse(t, h.Call(op, req))
		// The host must still answer after whatever the input did.
		checkResponse(t, h.Call(OpDecide, []byte{0x81, 0xa5, 's', 'l', 'o', 't', 's', 0x91, 0xa1, 's'}))
	})
}

type goldenRequest struct {
	op  Op
	req []byte
}

// goldenRequests are the corpus's requests, to seed the fuzz tests with.
func goldenRequests(f *testing.F) []goldenRequest {
	files, err := abitest.Load(goldenDir)
	if err != nil {
		f.Fatal(err)
	}
	var out []goldenRequest
	for _, file := range files {
		for _, s := range file.Steps {
			req, err := s.Request()
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, goldenRequest{Op(s.Op), req})
		}
	}
	return out
}

func indexOf(op Op) int {
	for i, o := range Ops {
		if o == op {
			return i
		}
	}
	return 0
}

func checkResponse(t *testing.T, raw []byte) {
	t.Helper()
	var r struct {
		Result msgpack.RawMessage `msgpack:"result"`
		Error  *ErrorBody         `msgpack:"error"`
	}
	if err := msgpack.Unmarshal(raw, &r); err != nil {
		t.Fatalf("response is not msgpack: %v", err)
	}
	if (r.Result == nil) == (r.Error == nil) {
		t.Fatalf("response holds neither or both of result and error: %x", raw)
	}
	if r.Error != nil && r.Error.Code == "internal" {
		t.Fatalf("input reached a panic: %s", r.Error.Message)
	}
}
