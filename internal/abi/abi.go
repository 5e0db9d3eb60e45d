// Package abi is the msgpack wire protocol between a host and the engine.
//
// The wasm module (package wasm) and native Go tests share this one
// implementation, so a request gives byte-identical responses in both.
// The ABI itself is described at the top of wasm/abi.go and of
// jsbridge/src/abi.js, in the same words.
package abi

import (
	"bytes"
	"fmt"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/wire"
	"github.com/vmihailenco/msgpack/v5"
)

// Version of the ABI. A host refuses a module whose version it does not know.
const Version = 1

// EngineVersion is the engine's release, reported by the version operation.
const EngineVersion = "0.1.0"

// MaxRequestBytes bounds one request. ew_alloc refuses larger sizes and every
// operation refuses longer requests, so a host cannot make the module grow
// its memory without bound.
const MaxRequestBytes = 8 << 20

// Op names one operation. Each has one export, named "ew_" + the op.
type Op string

const (
	OpVersion     Op = "version"
	OpLoadRuleset Op = "load_ruleset"
	OpObserve     Op = "observe"
	OpSetContext  Op = "set_context"
	OpDecide      Op = "decide"
	OpSnapshot    Op = "snapshot"
	OpRestore     Op = "restore"
	// OpRecordImpressions counts items as shown, for caps.
	OpRecordImpressions Op = "record_impressions"
	// OpSetPreferences replaces the person's consent and privacy choices;
	// OpPreferences reads them.
	OpSetPreferences Op = "set_preferences"
	OpPreferences    Op = "preferences"
	// OpReport makes (or repeats, within an epoch) the person's noised
	// cohort report; OpLedger lists the reports made.
	OpReport Op = "report"
	OpLedger Op = "ledger"
	// OpDescribe tells what the active ruleset collects and why, for a
	// preference center; OpExport returns everything held about the person.
	OpDescribe Op = "describe"
	OpExport   Op = "export"
)

// Ops lists every operation, in the order the ABI documents them.
var Ops = []Op{OpVersion, OpLoadRuleset, OpObserve, OpSetContext, OpDecide, OpSnapshot, OpRestore, OpRecordImpressions, OpSetPreferences, OpPreferences, OpReport, OpLedger, OpDescribe, OpExport}

// Export is the wasm export name of an operation.
func (op Op) Export() string { return "ew_" + string(op) }

// Request and result types, one pair per operation. Field names are the wire names.

type VersionResult struct {
	ABI     int    `msgpack:"abi"`
	Engine  string `msgpack:"engine"`
	Ruleset string `msgpack:"ruleset,omitempty"`
}

// LoadRulesetRequest carries a signed ruleset file (.ewr, from edgewise
// build) and the site's Ed25519 public key, which the file must be signed with.
type LoadRulesetRequest struct {
	EWR       []byte `msgpack:"ewr"`
	PublicKey []byte `msgpack:"public_key"`
}

// loadRulesetWire is what load_ruleset decodes: the request, plus the old
// unsigned form, recognized only to be refused with a message that says what
// to send instead.
type loadRulesetWire struct {
	EWR       []byte             `msgpack:"ewr"`
	PublicKey []byte             `msgpack:"public_key"`
	Ruleset   msgpack.RawMessage `msgpack:"ruleset"`
}

type ObserveRequest struct {
	Event engine.Event `msgpack:"event"`
}

type EventsResult struct {
	Events int `msgpack:"events"`
}

type SetContextRequest struct {
	Context engine.Context `msgpack:"context"`
}

type DecideRequest struct {
	Slots []string `msgpack:"slots"`
}

type DecideResult struct {
	Decisions []engine.Decision `msgpack:"decisions"`
}

// RecordImpressionsRequest names the items a page showed, and when.
type RecordImpressionsRequest struct {
	Items []string `msgpack:"items"`
	At    int64    `msgpack:"at"`
}

type ImpressionsResult struct {
	Impressions int `msgpack:"impressions"`
}

type SnapshotResult struct {
	Snapshot []byte `msgpack:"snapshot"`
}

type RestoreRequest struct {
	Snapshot []byte `msgpack:"snapshot"`
}

// SetPreferencesRequest carries the person's preferences; fields left out
// take their defaults (see engine.Preferences).
type SetPreferencesRequest struct {
	Preferences engine.Preferences `msgpack:"preferences"`
}

// PreferencesResult is the preferences in effect.
type PreferencesResult struct {
	Preferences engine.EffectivePreferences `msgpack:"preferences"`
}

// ReportRequest carries the current time and, optionally, the collector's
// published cohort size estimates by cohort id, for k-anonymity.
type ReportRequest struct {
	Now   int64              `msgpack:"now"`
	Sizes map[string]float64 `msgpack:"sizes,omitempty"`
}

// ReportResult is a report, or a null report and the reason there is none.
type ReportResult struct {
	Report *engine.Report `msgpack:"report"`
	Reason string         `msgpack:"reason,omitempty"`
}

// LedgerResult lists every report made and the epsilon they spent.
type LedgerResult struct {
	Entries      []engine.LedgerEntry `msgpack:"entries"`
	EpsilonSpent float64              `msgpack:"epsilon_spent"`
}

// ExportResult is everything the engine holds about the person.
type ExportResult struct {
	Export engine.Export `msgpack:"export"`
}

// Empty is the result of operations that only succeed or fail.
type Empty struct{}

// ErrorBody is the error half of a response.
type ErrorBody struct {
	Code    engine.Code `msgpack:"code"`
	Message string      `msgpack:"message"`
}

type resultResponse struct {
	Result any `msgpack:"result"`
}

// Host owns one engine and answers encoded requests with encoded responses.
//
// A host answers one call at a time. The per-call operations (observe,
// set_context, decide, record_impressions) decode and encode with the
// hand-written codecs in codec.go; the others use msgpack reflection.
type Host struct {
	eng   *engine.Engine
	codec *codec
	reuse bool
}

// NewHost returns a host with a fresh engine.
func NewHost() *Host { return &Host{eng: engine.New(), codec: newCodec()} }

// ReuseResponses makes Call return responses of the per-call operations in
// one buffer the host reuses, valid only until the next call, instead of a
// fresh slice each: what the wasm ABI promises its hosts, without an
// allocation per call.
func (h *Host) ReuseResponses() { h.reuse = true }

// Call runs one operation. It never panics: a malformed request, an engine
// error or a panic inside the engine all become an error response, and the
// host stays usable.
func (h *Host) Call(op Op, req []byte) (resp []byte) {
	defer func() {
		if p := recover(); p != nil {
			resp = encodeError(engine.CodeInternal, fmt.Sprintf("the engine failed on %s: %v", op, p))
		}
	}()
	if len(req) > MaxRequestBytes {
		return encodeError(engine.CodeTooLarge, fmt.Sprintf("request of %d bytes is over the %d-byte limit", len(req), MaxRequestBytes))
	}
	switch op {
	case OpObserve, OpSetContext, OpDecide, OpRecordImpressions:
		return h.fastCall(op, req)
	}
	result, err := h.dispatch(op, req)
	if err != nil {
		return encodeErr(err)
	}
	out, err := marshal(resultResponse{Result: result})
	if err != nil {
		return encodeError(engine.CodeInternal, "cannot encode the result: "+err.Error())
	}
	return out
}

// fastCall runs a per-call operation without reflection.
func (h *Host) fastCall(op Op, req []byte) []byte {
	c := h.codec
	var err error
	switch op {
	case OpObserve:
		var r ObserveRequest
		if err = c.decodeObserve(req, &r); err != nil {
			return encodeErr(err)
		}
		n, engErr := h.eng.Observe(r.Event)
		if engErr != nil {
			return encodeErr(engErr)
		}
		err = c.encodeEventsResult(EventsResult{Events: n})
	case OpSetContext:
		var r SetContextRequest
		if err = c.decodeSetContext(req, &r); err != nil {
			return encodeErr(err)
		}
		if engErr := h.eng.SetContext(r.Context); engErr != nil {
			return encodeErr(engErr)
		}
		err = c.encodeEmpty()
	case OpDecide:
		var r DecideRequest
		if err = c.decodeDecide(req, &r); err != nil {
			return encodeErr(err)
		}
		d, engErr := h.eng.Decide(r.Slots)
		if engErr != nil {
			return encodeErr(engErr)
		}
		err = c.encodeDecideResult(DecideResult{Decisions: d})
	case OpRecordImpressions:
		var r RecordImpressionsRequest
		if err = c.decodeRecordImpressions(req, &r); err != nil {
			return encodeErr(err)
		}
		n, engErr := h.eng.RecordImpressions(r.Items, r.At)
		if engErr != nil {
			return encodeErr(engErr)
		}
		err = c.encodeImpressionsResult(ImpressionsResult{Impressions: n})
	}
	if err != nil {
		return encodeError(engine.CodeInternal, "cannot encode the result: "+err.Error())
	}
	return c.response(h.reuse)
}

// marshal encodes a response with the smallest integer encodings, which is
// also what JavaScript msgpack encoders produce.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// dispatch runs the operations that are not per call (see fastCall) with
// msgpack reflection.
func (h *Host) dispatch(op Op, req []byte) (any, error) {
	switch op {
	case OpVersion:
		if err := decode(req, &Empty{}); err != nil {
			return nil, err
		}
		v := VersionResult{ABI: Version, Engine: EngineVersion}
		if info, err := h.eng.Ruleset(); err == nil {
			v.Ruleset = info.ID + "@" + info.Version
		}
		return v, nil
	case OpLoadRuleset:
		var r loadRulesetWire
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		return h.loadRuleset(r)
	case OpSnapshot:
		if err := decode(req, &Empty{}); err != nil {
			return nil, err
		}
		s, err := h.eng.Snapshot()
		return SnapshotResult{Snapshot: s}, err
	case OpRestore:
		var r RestoreRequest
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		n, err := h.eng.Restore(r.Snapshot)
		return EventsResult{Events: n}, err
	case OpSetPreferences:
		var r SetPreferencesRequest
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		p, err := h.eng.SetPreferences(r.Preferences)
		return PreferencesResult{Preferences: p}, err
	case OpPreferences:
		if err := decode(req, &Empty{}); err != nil {
			return nil, err
		}
		return PreferencesResult{Preferences: h.eng.Preferences()}, nil
	case OpReport:
		var r ReportRequest
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		rep, reason, err := h.eng.Report(r.Now, r.Sizes)
		return ReportResult{Report: rep, Reason: reason}, err
	case OpLedger:
		if err := decode(req, &Empty{}); err != nil {
			return nil, err
		}
		entries, spent := h.eng.Ledger()
		return LedgerResult{Entries: entries, EpsilonSpent: spent}, nil
	case OpDescribe:
		if err := decode(req, &Empty{}); err != nil {
			return nil, err
		}
		return h.eng.Describe()
	case OpExport:
		if err := decode(req, &Empty{}); err != nil {
			return nil, err
		}
		x, err := h.eng.Export()
		return ExportResult{Export: x}, err
	}
	return nil, &engine.Error{Code: engine.CodeUnknownOp, Message: fmt.Sprintf("unknown operation %q", op)}
}

// loadRuleset verifies a signed ruleset and loads it. On any error the
// previous ruleset stays active.
func (h *Host) loadRuleset(r loadRulesetWire) (any, error) {
	if r.Ruleset != nil {
		return nil, &engine.Error{Code: engine.CodeBadRulesetFile, Message: "unsigned rulesets are refused: load_ruleset takes {ewr, public_key}, a ruleset file built and signed with edgewise build and the site's public key"}
	}
	if len(r.PublicKey) == 0 {
		return nil, &engine.Error{Code: engine.CodeBadRequest, Message: "load_ruleset needs public_key: the site's 32-byte Ed25519 public key"}
	}
	if len(r.EWR) == 0 {
		return nil, &engine.Error{Code: engine.CodeBadRequest, Message: "load_ruleset needs ewr: a ruleset file built and signed with edgewise build"}
	}
	rs, err := engine.DecodeRuleset(r.EWR, r.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := h.eng.Load(*rs); err != nil {
		return nil, err
	}
	return h.eng.Ruleset()
}

// decode reads exactly one msgpack map into v. An empty request is an empty
// map, so operations without parameters can be called with no bytes.
func decode(req []byte, v any) error {
	if len(req) == 0 {
		return nil
	}
	if err := wire.Decode(req, v); err != nil {
		return &engine.Error{Code: engine.CodeBadRequest, Message: "malformed request: " + err.Error()}
	}
	return nil
}

func encodeErr(err error) []byte {
	if e, ok := err.(*engine.Error); ok {
		return encodeError(e.Code, e.Message)
	}
	return encodeError(engine.CodeInternal, err.Error())
}

// encodeError encodes an error response in a fresh buffer, so that it is
// safe after a panic left the host's codec half-way through a response.
func encodeError(code engine.Code, msg string) []byte {
	var buf bytes.Buffer
	buf.Grow(32 + len(code) + len(msg))
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	if err := encodeErrorResponse(enc, code, msg); err != nil {
		// Two strings always encode; this is unreachable but must not panic.
		return []byte{0x81, 0xa5, 'e', 'r', 'r', 'o', 'r', 0x80}
	}
	return buf.Bytes()
}

// OutOfBufferResponse answers a call whose request does not lie inside the
// buffer the host got from ew_alloc.
func OutOfBufferResponse(op Op, ptr, n uint32) []byte {
	if n > MaxRequestBytes {
		return encodeError(engine.CodeTooLarge, fmt.Sprintf("%s: request of %d bytes is over the %d-byte limit", op, n, MaxRequestBytes))
	}
	return encodeError(engine.CodeBadRequest, fmt.Sprintf("%s: request [%d, +%d) is not inside the buffer from ew_alloc", op, ptr, n))
}

// EncodeRequest encodes a request the way hosts do: msgpack with sorted map keys.
func EncodeRequest(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	enc.UseCompactInts(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
