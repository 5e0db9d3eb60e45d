// Edgewise wasm ABI, version 1.
//
// The module is a WASI reactor. The host instantiates it, calls _initialize
// once, and then calls the exports below, one call at a time.
//
//   - ew_alloc(size i32) -> ptr i32
//     Returns the address of a request buffer of size bytes, or 0 when size is
//     over the 8 MiB request limit. The buffer is valid until the next call.
//   - ew_<op>(ptr i32, len i32) -> i64, one export per operation:
//     version, load_ruleset, observe, set_context, decide, snapshot, restore,
//     record_impressions, set_preferences, preferences, report, ledger,
//     describe, export, load_feed.
//     The host writes a msgpack request of len bytes at ptr, inside the buffer
//     from ew_alloc, and calls the export. A request with len 0 is an empty map.
//     A request is one msgpack map with string keys, nested at most 32 deep;
//     unknown keys, trailing bytes and lengths the bytes cannot hold are errors.
//   - The i64 result packs ptr<<32 | len of a msgpack response: either
//     {result: ...} or {error: {code, message}}. Read it as unsigned.
//   - The response buffer stays valid until the next call; copy it out at once.
//   - Every export recovers panics and answers with an error response: a
//     malformed, truncated or oversized request never traps the module, and
//     the module keeps working afterwards.
//
// Requests and results, by operation (msgpack maps, snake_case keys):
//
//	version       {}                                   -> {abi, engine, ruleset?}
//	load_ruleset  {ewr: bin, public_key: bin}          -> {id, version, items, slots, feeds?: [{id, kind, url}]}
//	observe       {event: {type, item, at}}            -> {events}
//	set_context   {context: {now, ...signals}}         -> {}
//	decide        {slots: [slot id, ...]}              -> {decisions: [{slot, items: [{item, score, reason, rules?,
//	                                                      feeds?: [{feed, kind, value, place, label?, issued}]}], fallback,
//	                                                      capped?: [item id, ...], experiment?}]}
//	snapshot      {}                                   -> {snapshot: bin}
//	restore       {snapshot: bin}                      -> {events}
//	record_impressions {items: [item id, ...], at}     -> {impressions}
//	set_preferences {preferences: {sharing, history, location, hidden_interests, frequency, gpc}}
//	                                                   -> {preferences: {...as in effect, gpc_applied}}
//	preferences   {}                                   -> {preferences: {...as in effect, gpc_applied}}
//	report        {now, sizes?: {cohort id: count}}    -> {report: {ruleset, epoch, mechanism, value?, epsilon,
//	                                                      outcomes?: [{experiment, epoch, value, epsilon}]}}
//	                                                      or {report: null, reason}
//	ledger        {}                                   -> {entries: [{ruleset, epoch, level, mechanism, epsilon, at, experiment?}],
//	                                                      epsilon_spent}
//	describe      {}                                   -> {ruleset: {id, version, items, slots}, signals: [{id, kind, purpose, retention_days}],
//	                                                      interests: [{id, tags}], slots: [{id, fallback}],
//	                                                      reporting: {epsilon, epoch_days, min_k, cohorts}}
//	export        {}                                   -> {export: {ruleset, preferences, context, events, impressions,
//	                                                      caps: [{id, items, shown_today, shown_this_week, per_day, per_week,
//	                                                      ruleset_per_day, ruleset_per_week, reached}],
//	                                                      interests: [{tag, weight}], cohort, reports, report_pauses: [{ruleset, until}],
//	                                                      ledger, epsilon_spent}}
//	load_feed     {feed: bin}                          -> {id, kind, issued, expires}
//
// Event types are view, click, add_to_cart, purchase, custom (a site's own
// interaction, counted like a view) and dismiss (which
// hides the item for 48 hours). The context's optional signals are
// tz_offset_minutes, daypart, weekday, weather, device, referrer,
// page_section, visits, country (ISO 3166-1 alpha-2), subdivision (ISO
// 3166-2), regions (ids of the ruleset's regions the host resolved), geohash
// (a cell of at most 3 characters), location ({lat, lon}, turned at once
// into country, subdivision, regions and geohash, then dropped: coordinates
// are never stored or returned) and time_zone (IANA) with languages (BCP 47),
// turned into country and subdivision when nothing more precise is given,
// then dropped;
// those whose signal kind the ruleset does not declare are dropped. A pick's
// rules lists the rules that shaped it, and is left out when none did.
// record_impressions counts shown items for the ruleset's caps.
//
// set_preferences replaces the person's choices (fields left out take their
// defaults) and works before load_ruleset; they survive it and persist in the
// snapshot. sharing is off, on-device (the default) or cohorts; gpc (Global
// Privacy Control) caps it at on-device, and gpc_applied says it did. Sharing
// off erases the profile at once, refuses observe and record_impressions with
// error code consent, and makes decide show every slot's fallback. history
// false (default true) erases the events, refuses observe with consent and
// stops interest, viewed and purchased conditions. location false drops the
// context's location signals. hidden_interests are tags that never influence
// a decision. frequency low, normal (the default) or high scales every cap's
// limits by 0.5 (at least 1) or 1.5, rounded down.
//
// report makes the person's cohort report, only when the effective sharing is
// cohorts (else report null and a reason). The person's cohort, one bucket per
// cohort dimension, is an index into the ruleset's cohort catalogue (order in
// engine/cohort.go). sizes are the collector's published cohort sizes: a
// cohort below min_k is replaced by the coarser one without its last
// dimension, and when no level reaches min_k there is no report. An empty
// table (nothing published yet) means the cohort of the first dimension
// alone; no sizes at all, the full cohort. The index is noised on the device
// with local differential privacy (engine/ldp.go): mechanism krr, k-ary
// randomized response, gives value, a catalogue index. The noised answer
// about a cohort is drawn once and repeated in every later report about the
// same cohort, and one answer serves a whole answer period of
// ceil(366 / epoch_days) epochs from the Unix epoch: every report of the
// period repeats its first, whatever the cohort has become. epoch is
// floor(now / epoch_days); the first report of an epoch is made and kept, and
// later calls in that epoch return it unchanged. ledger lists every report
// made (level: the dimensions of the cohort answered; epsilon: the privacy it
// spent, 0 when it repeated an answer) and the total; the ledger and the
// epoch's report persist in the snapshot and sharing off erases them, all but
// report_pauses: that a report went out in an answer period until its end, so
// that no second, freshly noised answer follows in it.
//
// Experiments (engine/experiment.go) run only for a person who shares cohorts
// and keeps history. Each draws the person's arm once from the device's own
// randomness: a decision in a slot where the person is in an experiment's
// comparison group names the experiment (experiment) and shows its control,
// each reason saying so. The first decide of an epoch that shows one of an
// experiment's slots starts an exposure; a goal event after it in the epoch
// marks it converted. The first report of a later epoch, within four, carries
// one outcome per experiment about its latest such epoch: value 2·arm + goal,
// arm 0 the comparison group and 1 personalized as drawn, the goal noised by
// randomized response at the experiment's epsilon; in the ledger
// with the experiment's id. A report may then carry outcomes and no cohort
// value.
//
// describe tells what the active ruleset collects and why, for a preference
// center: each declared signal with its purpose and retention, the interests
// a person can hide (hiding one hides its tags), each slot's fallback items
// and the reporting policy with its defaults. It holds nothing about the
// person. export is everything the engine holds about the person, readable:
// preferences, the context as kept (declared signals only, location already
// coarse), events, impressions, interests (weights scaled so the strongest
// is 1, hidden ones left out), the cohort the person falls in, the stored
// reports and the ledger.
//
// load_ruleset takes a signed ruleset file (.ewr, made by `edgewise build`; its
// layout is documented in engine/ewr.go) and the site's 32-byte Ed25519 public
// key. The engine checks the file's format (else bad_ruleset_file), that the
// file is signed by that key and unchanged since (else bad_signature), and the
// ruleset itself (else invalid_ruleset), and only then loads it. On any error
// the previous ruleset stays active. Unsigned rulesets are refused.
//
// load_feed takes a signed context feed (.ewf, made by `edgewise feed build`,
// layout in engine/feed.go) that the active ruleset names in feeds, signed
// with the key the ruleset names for it or, without one, the ruleset's own
// key (else bad_signature); a feed the ruleset does not name, of another
// kind or not well formed is bad_feed. It replaces the feed of that id
// until the next load_ruleset. decide joins each feed with the person's
// region, the most precise first (geohash cell, subdivision, country): a
// weather feed supplies the weather when the page gives none, and feed
// conditions read the others. A feed says nothing before issued, from
// expires on, or when the time is unknown. A pick's feeds names the feed
// values the rules that shaped it tested.
//
// Times are Unix milliseconds supplied by the host; the engine reads no clock.

//go:build wasip1

package main

import (
	"runtime"
	"unsafe"

	"github.com/edgewise/edgewise/internal/abi"
)

var (
	host = newHost()
	// request is the buffer handed out by ew_alloc. Keeping it in a package
	// variable keeps it alive while the host writes into it.
	request = make([]byte, 0, 4096)
	// response keeps the last response alive until the next call.
	response []byte
)

func main() {}

// newHost returns the module's host. Its responses stay valid until the next
// call, as the ABI promises, so it reuses one response buffer.
func newHost() *abi.Host {
	h := abi.NewHost()
	h.ReuseResponses()
	return h
}

//go:wasmexport ew_alloc
func ewAlloc(size uint32) uint32 {
	if size > abi.MaxRequestBytes {
		return 0
	}
	if uint32(cap(request)) < size {
		request = make([]byte, size)
	}
	request = request[:size]
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(request[:cap(request)]))))
}

//go:wasmexport ew_version
func ewVersion(ptr, n uint32) uint64 { return call(abi.OpVersion, ptr, n) }

//go:wasmexport ew_load_ruleset
func ewLoadRuleset(ptr, n uint32) uint64 { return call(abi.OpLoadRuleset, ptr, n) }

//go:wasmexport ew_observe
func ewObserve(ptr, n uint32) uint64 { return call(abi.OpObserve, ptr, n) }

//go:wasmexport ew_set_context
func ewSetContext(ptr, n uint32) uint64 { return call(abi.OpSetContext, ptr, n) }

//go:wasmexport ew_decide
func ewDecide(ptr, n uint32) uint64 { return call(abi.OpDecide, ptr, n) }

//go:wasmexport ew_snapshot
func ewSnapshot(ptr, n uint32) uint64 { return call(abi.OpSnapshot, ptr, n) }

//go:wasmexport ew_restore
func ewRestore(ptr, n uint32) uint64 { return call(abi.OpRestore, ptr, n) }

//go:wasmexport ew_record_impressions
func ewRecordImpressions(ptr, n uint32) uint64 { return call(abi.OpRecordImpressions, ptr, n) }

//go:wasmexport ew_set_preferences
func ewSetPreferences(ptr, n uint32) uint64 { return call(abi.OpSetPreferences, ptr, n) }

//go:wasmexport ew_preferences
func ewPreferences(ptr, n uint32) uint64 { return call(abi.OpPreferences, ptr, n) }

//go:wasmexport ew_report
func ewReport(ptr, n uint32) uint64 { return call(abi.OpReport, ptr, n) }

//go:wasmexport ew_ledger
func ewLedger(ptr, n uint32) uint64 { return call(abi.OpLedger, ptr, n) }

//go:wasmexport ew_describe
func ewDescribe(ptr, n uint32) uint64 { return call(abi.OpDescribe, ptr, n) }

//go:wasmexport ew_export
func ewExport(ptr, n uint32) uint64 { return call(abi.OpExport, ptr, n) }

//go:wasmexport ew_load_feed
func ewLoadFeed(ptr, n uint32) uint64 { return call(abi.OpLoadFeed, ptr, n) }

// gcEvery is how many calls pass between forced collections (see call).
const gcEvery = 1024

// calls counts calls, for gcEvery.
var calls uint32

func call(op abi.Op, ptr, n uint32) uint64 {
	// Goroutines run only while the host is inside a call, and calls are
	// short, so the collector's background workers can fall behind for good:
	// a wazero test of 300,000 report calls grew linear memory by 2.8 KB a
	// call after the first 90,000. A collection run to completion now and
	// then, inside a call, keeps the heap bounded.
	if calls++; calls%gcEvery == 0 {
		runtime.GC()
	}
	req, ok := requestBytes(ptr, n)
	if ok {
		response = host.Call(op, req)
		// Requests can carry what must not linger, such as coordinates;
		// the engine has taken what it keeps.
		clear(req)
	} else {
		response = abi.OutOfBufferResponse(op, ptr, n)
	}
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(response))))<<32 | uint64(len(response))
}

// requestBytes returns the request at ptr, or false when [ptr, ptr+n) is not
// inside the buffer from ew_alloc. Reading anywhere else could read the
// engine's own memory or trap on an out-of-bounds address.
func requestBytes(ptr, n uint32) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	base := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(request[:cap(request)]))))
	start, end := uint64(ptr), uint64(ptr)+uint64(n)
	if start < base || end > base+uint64(len(request)) {
		return nil, false
	}
	off := start - base
	return request[off : off+uint64(n)], true
}
