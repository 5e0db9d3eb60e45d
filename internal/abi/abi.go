// Package abi is the msgpack wire protocol between a host and the engine.
//
// The wasm module (package wasm) and native Go tests share this one
// implementation, so a request gives byte-identical responses in both.
// The ABI itself is described at the top of wasm/abi.go and of
// jsbridge/src/abi.js, in the same words.
package abi

import (
	"strconv"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/mp"
	"github.com/edgewise/edgewise/internal/quote"
	"github.com/edgewise/edgewise/internal/wire"
)

//go:generate go run ../build/cmd/msgpgen -o msgp_gen.go -decode Empty,loadRulesetWire,LoadFeedRequest,ObserveRequest,SetContextRequest,DecideRequest,RecordImpressionsRequest,RestoreRequest,SetPreferencesRequest,ReportRequest -encode VersionResult,engine.RulesetInfo,SnapshotResult,EventsResult,PreferencesResult,ReportResult,LedgerResult,engine.Description,ExportResult,ImpressionsResult,DecideResult,engine.FeedInfo,Empty,ErrorBody

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
	// OpLoadFeed verifies a signed context feed the active ruleset names
	// and makes it the one decide joins with the person's region.
	OpLoadFeed Op = "load_feed"
)

// Ops lists every operation, in the order the ABI documents them.
var Ops = []Op{OpVersion, OpLoadRuleset, OpObserve, OpSetContext, OpDecide, OpSnapshot, OpRestore, OpRecordImpressions, OpSetPreferences, OpPreferences, OpReport, OpLedger, OpDescribe, OpExport, OpLoadFeed}

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
	EWR       []byte     `msgpack:"ewr"`
	PublicKey []byte     `msgpack:"public_key"`
	Ruleset   rawMessage `msgpack:"ruleset"`
}

// rawMessage is one msgpack value of any type, kept as its bytes: what
// msgpack/v5's RawMessage is, without linking msgpack/v5 (msgpgen decodes a
// type of this name as a raw value).
type rawMessage []byte

// LoadFeedRequest carries a signed context feed file (.ewf, from edgewise
// feed build). Its key is the one the active ruleset names for the feed, or
// the ruleset's own.
type LoadFeedRequest struct {
	Feed []byte `msgpack:"feed"`
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

// Host owns one engine and answers encoded requests with encoded responses.
//
// A host answers one call at a time. Requests are decoded and results
// encoded by the generated codecs in msgp_gen.go, which tests hold to
// msgpack/v5's values and bytes.
type Host struct {
	eng   *engine.Engine
	buf   []byte // the last response, when reused
	reuse bool
	// rulesKey is the key the active ruleset was verified with: feeds the
	// ruleset names no key for must be signed with it.
	rulesKey []byte
}

// NewHost returns a host with a fresh engine.
func NewHost() *Host { return &Host{eng: engine.New()} }

// ReuseResponses makes Call return every response in one buffer the host
// reuses, valid only until the next call, instead of a fresh slice each:
// what the wasm ABI promises its hosts, without an allocation per call.
func (h *Host) ReuseResponses() { h.reuse = true }

// resultPrefix starts every successful response: a map of one key, result.
const resultPrefix = "\x81\xa6result"

// Call runs one operation. It never panics: a malformed request, an engine
// error or a panic inside the engine all become an error response, and the
// host stays usable.
func (h *Host) Call(op Op, req []byte) (resp []byte) {
	defer func() {
		if p := recover(); p != nil {
			resp = encodeError(engine.CodeInternal, "the engine failed on "+string(op)+": "+panicText(p))
		}
	}()
	if len(req) > MaxRequestBytes {
		return encodeError(engine.CodeTooLarge, "request of "+strconv.Itoa(len(req))+" bytes is over the "+strconv.Itoa(MaxRequestBytes)+"-byte limit")
	}
	b := h.buf[:0]
	if !h.reuse {
		b = nil
	}
	b, err := h.dispatch(op, req, append(b, resultPrefix...))
	if err != nil {
		return encodeErr(err)
	}
	if h.reuse {
		h.buf = b
	}
	return b
}

// panicText says what a recovered panic was.
func panicText(p any) string {
	switch v := p.(type) {
	case error:
		return v.Error()
	case string:
		return v
	}
	return "a panic that is neither an error nor a string"
}

// dispatch decodes op's request, runs it, and appends its result to b.
func (h *Host) dispatch(op Op, req []byte, b []byte) ([]byte, error) {
	switch op {
	case OpVersion:
		var r Empty
		if err := decode(req, &r, mpDecodeEmpty); err != nil {
			return nil, err
		}
		v := VersionResult{ABI: Version, Engine: EngineVersion}
		if info, err := h.eng.Ruleset(); err == nil {
			v.Ruleset = info.ID + "@" + info.Version
		}
		return mpAppendVersionResult(b, &v), nil
	case OpLoadRuleset:
		var r loadRulesetWire
		if err := decode(req, &r, mpDecodeLoadRulesetWire); err != nil {
			return nil, err
		}
		info, err := h.loadRuleset(r)
		if err != nil {
			return nil, err
		}
		return mpAppendEngineRulesetInfo(b, &info), nil
	case OpLoadFeed:
		var r LoadFeedRequest
		if err := decode(req, &r, mpDecodeLoadFeedRequest); err != nil {
			return nil, err
		}
		if len(r.Feed) == 0 {
			return nil, &engine.Error{Code: engine.CodeBadRequest, Message: "load_feed needs feed: a feed file made and signed with edgewise feed build"}
		}
		info, err := h.eng.LoadFeed(r.Feed, h.rulesKey)
		if err != nil {
			return nil, err
		}
		return mpAppendEngineFeedInfo(b, &info), nil
	case OpObserve:
		var r ObserveRequest
		if err := decode(req, &r, mpDecodeObserveRequest); err != nil {
			return nil, err
		}
		n, err := h.eng.Observe(r.Event)
		if err != nil {
			return nil, err
		}
		return mpAppendEventsResult(b, &EventsResult{Events: n}), nil
	case OpSetContext:
		var r SetContextRequest
		if err := decode(req, &r, mpDecodeSetContextRequest); err != nil {
			return nil, err
		}
		if err := h.eng.SetContext(r.Context); err != nil {
			return nil, err
		}
		return mpAppendEmpty(b, &Empty{}), nil
	case OpDecide:
		var r DecideRequest
		if err := decode(req, &r, mpDecodeDecideRequest); err != nil {
			return nil, err
		}
		d, err := h.eng.Decide(r.Slots)
		if err != nil {
			return nil, err
		}
		return mpAppendDecideResult(b, &DecideResult{Decisions: d}), nil
	case OpRecordImpressions:
		var r RecordImpressionsRequest
		if err := decode(req, &r, mpDecodeRecordImpressionsRequest); err != nil {
			return nil, err
		}
		n, err := h.eng.RecordImpressions(r.Items, r.At)
		if err != nil {
			return nil, err
		}
		return mpAppendImpressionsResult(b, &ImpressionsResult{Impressions: n}), nil
	case OpSnapshot:
		var r Empty
		if err := decode(req, &r, mpDecodeEmpty); err != nil {
			return nil, err
		}
		s, err := h.eng.Snapshot()
		if err != nil {
			return nil, err
		}
		return mpAppendSnapshotResult(b, &SnapshotResult{Snapshot: s}), nil
	case OpRestore:
		var r RestoreRequest
		if err := decode(req, &r, mpDecodeRestoreRequest); err != nil {
			return nil, err
		}
		n, err := h.eng.Restore(r.Snapshot)
		if err != nil {
			return nil, err
		}
		return mpAppendEventsResult(b, &EventsResult{Events: n}), nil
	case OpSetPreferences:
		var r SetPreferencesRequest
		if err := decode(req, &r, mpDecodeSetPreferencesRequest); err != nil {
			return nil, err
		}
		p, err := h.eng.SetPreferences(r.Preferences)
		if err != nil {
			return nil, err
		}
		return mpAppendPreferencesResult(b, &PreferencesResult{Preferences: p}), nil
	case OpPreferences:
		var r Empty
		if err := decode(req, &r, mpDecodeEmpty); err != nil {
			return nil, err
		}
		return mpAppendPreferencesResult(b, &PreferencesResult{Preferences: h.eng.Preferences()}), nil
	case OpReport:
		var r ReportRequest
		if err := decode(req, &r, mpDecodeReportRequest); err != nil {
			return nil, err
		}
		rep, reason, err := h.eng.Report(r.Now, r.Sizes)
		if err != nil {
			return nil, err
		}
		return mpAppendReportResult(b, &ReportResult{Report: rep, Reason: reason}), nil
	case OpLedger:
		var r Empty
		if err := decode(req, &r, mpDecodeEmpty); err != nil {
			return nil, err
		}
		entries, spent := h.eng.Ledger()
		return mpAppendLedgerResult(b, &LedgerResult{Entries: entries, EpsilonSpent: spent}), nil
	case OpDescribe:
		var r Empty
		if err := decode(req, &r, mpDecodeEmpty); err != nil {
			return nil, err
		}
		d, err := h.eng.Describe()
		if err != nil {
			return nil, err
		}
		return mpAppendEngineDescription(b, &d), nil
	case OpExport:
		var r Empty
		if err := decode(req, &r, mpDecodeEmpty); err != nil {
			return nil, err
		}
		x, err := h.eng.Export()
		if err != nil {
			return nil, err
		}
		return mpAppendExportResult(b, &ExportResult{Export: x}), nil
	}
	return nil, &engine.Error{Code: engine.CodeUnknownOp, Message: "unknown operation " + quote.String(string(op))}
}

// loadRuleset verifies a signed ruleset and loads it. On any error the
// previous ruleset stays active.
func (h *Host) loadRuleset(r loadRulesetWire) (engine.RulesetInfo, error) {
	if r.Ruleset != nil {
		return engine.RulesetInfo{}, &engine.Error{Code: engine.CodeBadRulesetFile, Message: "unsigned rulesets are refused: load_ruleset takes {ewr, public_key}, a ruleset file built and signed with edgewise build and the site's public key"}
	}
	if len(r.PublicKey) == 0 {
		return engine.RulesetInfo{}, &engine.Error{Code: engine.CodeBadRequest, Message: "load_ruleset needs public_key: the site's 32-byte Ed25519 public key"}
	}
	if len(r.EWR) == 0 {
		return engine.RulesetInfo{}, &engine.Error{Code: engine.CodeBadRequest, Message: "load_ruleset needs ewr: a ruleset file built and signed with edgewise build"}
	}
	rs, err := engine.DecodeRuleset(r.EWR, r.PublicKey)
	if err != nil {
		return engine.RulesetInfo{}, err
	}
	if err := h.eng.Load(*rs); err != nil {
		return engine.RulesetInfo{}, err
	}
	h.rulesKey = append(h.rulesKey[:0], r.PublicKey...)
	return h.eng.Ruleset()
}

// decode reads exactly one msgpack map into v with its generated decoder.
// An empty request is an empty map, so operations without parameters can be
// called with no bytes.
func decode[T any](req []byte, v *T, read func(*mp.Reader, *T) error) error {
	if len(req) == 0 {
		return nil
	}
	if err := wire.Read(req, func(r *mp.Reader) error { return read(r, v) }); err != nil {
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
// safe after a panic left the host's buffer half-way through a response.
func encodeError(code engine.Code, msg string) []byte {
	b := make([]byte, 0, 32+len(code)+len(msg))
	b = append(b, "\x81\xa5error"...)
	return mpAppendErrorBody(b, &ErrorBody{Code: code, Message: msg})
}

// OutOfBufferResponse answers a call whose request does not lie inside the
// buffer the host got from ew_alloc.
func OutOfBufferResponse(op Op, ptr, n uint32) []byte {
	if n > MaxRequestBytes {
		return encodeError(engine.CodeTooLarge, string(op)+": request of "+strconv.FormatUint(uint64(n), 10)+" bytes is over the "+strconv.Itoa(MaxRequestBytes)+"-byte limit")
	}
	return encodeError(engine.CodeBadRequest, string(op)+": request ["+strconv.FormatUint(uint64(ptr), 10)+", +"+strconv.FormatUint(uint64(n), 10)+") is not inside the buffer from ew_alloc")
}
