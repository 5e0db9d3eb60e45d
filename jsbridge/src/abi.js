/*
Edgewise wasm ABI, version 1.

The module is a WASI reactor. The host instantiates it, calls _initialize
once, and then calls the exports below, one call at a time.

  - ew_alloc(size i32) -> ptr i32
    Returns the address of a request buffer of size bytes, or 0 when size is
    over the 8 MiB request limit. The buffer is valid until the next call.
  - ew_<op>(ptr i32, len i32) -> i64, one export per operation:
    version, load_ruleset, observe, set_context, decide, snapshot, restore,
    record_impressions, set_preferences, preferences, report, ledger,
    describe, export, load_feed.
    The host writes a msgpack request of len bytes at ptr, inside the buffer
    from ew_alloc, and calls the export. A request with len 0 is an empty map.
    A request is one msgpack map with string keys, nested at most 32 deep;
    unknown keys, trailing bytes and lengths the bytes cannot hold are errors.
  - The i64 result packs ptr<<32 | len of a msgpack response: either
    {result: ...} or {error: {code, message}}. Read it as unsigned.
  - The response buffer stays valid until the next call; copy it out at once.
  - Every export recovers panics and answers with an error response: a
    malformed, truncated or oversized request never traps the module, and
    the module keeps working afterwards.

Requests and results, by operation (msgpack maps, snake_case keys):

	version       {}                                   -> {abi, engine, ruleset?}
	load_ruleset  {ewr: bin, public_key: bin}          -> {id, version, items, slots, feeds?: [{id, kind, url}]}
	observe       {event: {type, item, at}}            -> {events}
	set_context   {context: {now, ...signals}}         -> {}
	decide        {slots: [slot id, ...]}              -> {decisions: [{slot, items: [{item, score, reason, rules?,
	                                                      feeds?: [{feed, kind, value, place, label?, issued}]}], fallback,
	                                                      capped?: [item id, ...], experiment?}]}
	snapshot      {}                                   -> {snapshot: bin}
	restore       {snapshot: bin}                      -> {events}
	record_impressions {items: [item id, ...], at}     -> {impressions}
	set_preferences {preferences: {sharing, history, location, hidden_interests, frequency, gpc}}
	                                                   -> {preferences: {...as in effect, gpc_applied}}
	preferences   {}                                   -> {preferences: {...as in effect, gpc_applied}}
	report        {now, sizes?: {cohort id: count}}    -> {report: {ruleset, epoch, mechanism, value?, epsilon,
	                                                      outcomes?: [{experiment, epoch, value, epsilon}]}}
	                                                      or {report: null, reason}
	ledger        {}                                   -> {entries: [{ruleset, epoch, level, mechanism, epsilon, at, experiment?}],
	                                                      epsilon_spent}
	describe      {}                                   -> {ruleset: {id, version, items, slots}, signals: [{id, kind, purpose, retention_days}],
	                                                      interests: [{id, tags}], slots: [{id, fallback}],
	                                                      reporting: {epsilon, epoch_days, min_k, cohorts}}
	export        {}                                   -> {export: {ruleset, preferences, context, events, impressions,
	                                                      caps: [{id, items, shown_today, shown_this_week, per_day, per_week,
	                                                      ruleset_per_day, ruleset_per_week, reached}],
	                                                      interests: [{tag, weight}], cohort, reports, report_pauses: [{ruleset, until}],
	                                                      ledger, epsilon_spent}}
	load_feed     {feed: bin}                          -> {id, kind, issued, expires}

Event types are view, click, add_to_cart, purchase, custom (a site's own
interaction, counted like a view) and dismiss (which
hides the item for 48 hours). The context's optional signals are
tz_offset_minutes, daypart, weekday, weather, device, referrer,
page_section, visits, country (ISO 3166-1 alpha-2), subdivision (ISO
3166-2), regions (ids of the ruleset's regions the host resolved), geohash
(a cell of at most 3 characters), location ({lat, lon}, turned at once
into country, subdivision, regions and geohash, then dropped: coordinates
are never stored or returned) and time_zone (IANA) with languages (BCP 47),
turned into country and subdivision when nothing more precise is given,
then dropped;
those whose signal kind the ruleset does not declare are dropped. A pick's
rules lists the rules that shaped it, and is left out when none did.
record_impressions counts shown items for the ruleset's caps.

set_preferences replaces the person's choices (fields left out take their
defaults) and works before load_ruleset; they survive it and persist in the
snapshot. sharing is off, on-device (the default) or cohorts; gpc (Global
Privacy Control) caps it at on-device, and gpc_applied says it did. Sharing
off erases the profile at once, refuses observe and record_impressions with
error code consent, and makes decide show every slot's fallback. history
false (default true) erases the events, refuses observe with consent and
stops interest, viewed and purchased conditions. location false drops the
context's location signals. hidden_interests are tags that never influence
a decision. frequency low, normal (the default) or high scales every cap's
limits by 0.5 (at least 1) or 1.5, rounded down.

report makes the person's cohort report, only when the effective sharing is
cohorts (else report null and a reason). The person's cohort, one bucket per
cohort dimension, is an index into the ruleset's cohort catalogue (order in
engine/cohort.go). sizes are the collector's published cohort sizes: a
cohort below min_k is replaced by the coarser one without its last
dimension, and when no level reaches min_k there is no report. An empty
table (nothing published yet) means the cohort of the first dimension
alone; no sizes at all, the full cohort. The index is noised on the device
with local differential privacy (engine/ldp.go): mechanism krr, k-ary
randomized response, gives value, a catalogue index. The noised answer
about a cohort is drawn once and repeated in every later report about the
same cohort, and one answer serves a whole answer period of
ceil(366 / epoch_days) epochs from the Unix epoch: every report of the
period repeats its first, whatever the cohort has become. epoch is
floor(now / epoch_days); the first report of an epoch is made and kept, and
later calls in that epoch return it unchanged. ledger lists every report
made (level: the dimensions of the cohort answered; epsilon: the privacy it
spent, 0 when it repeated an answer) and the total; the ledger and the
epoch's report persist in the snapshot and sharing off erases them, all but
report_pauses: that a report went out in an answer period until its end, so
that no second, freshly noised answer follows in it.

Experiments (engine/experiment.go) run only for a person who shares cohorts
and keeps history. Each draws the person's arm once from the device's own
randomness: a decision in a slot where the person is in an experiment's
comparison group names the experiment (experiment) and shows its control,
each reason saying so. The first decide of an epoch that shows one of an
experiment's slots starts an exposure; a goal event after it in the epoch
marks it converted. The first report of a later epoch, within four, carries
one outcome per experiment about its latest such epoch: value 2·arm + goal,
arm 0 the comparison group and 1 personalized as drawn, the goal noised by
randomized response at the experiment's epsilon; in the ledger
with the experiment's id. A report may then carry outcomes and no cohort
value.

describe tells what the active ruleset collects and why, for a preference
center: each declared signal with its purpose and retention, the interests
a person can hide (hiding one hides its tags), each slot's fallback items
and the reporting policy with its defaults. It holds nothing about the
person. export is everything the engine holds about the person, readable:
preferences, the context as kept (declared signals only, location already
coarse), events, impressions, interests (weights scaled so the strongest
is 1, hidden ones left out), the cohort the person falls in, the stored
reports and the ledger.

load_ruleset takes a signed ruleset file (.ewr, made by `edgewise build`; its
layout is documented in engine/ewr.go) and the site's 32-byte Ed25519 public
key. The engine checks the file's format (else bad_ruleset_file), that the
file is signed by that key and unchanged since (else bad_signature), and the
ruleset itself (else invalid_ruleset), and only then loads it. On any error
the previous ruleset stays active. Unsigned rulesets are refused.

load_feed takes a signed context feed (.ewf, made by `edgewise feed build`,
layout in engine/feed.go) that the active ruleset names in feeds, signed
with the key the ruleset names for it or, without one, the ruleset's own
key (else bad_signature); a feed the ruleset does not name, of another
kind or not well formed is bad_feed. It replaces the feed of that id
until the next load_ruleset. decide joins each feed with the person's
region, the most precise first (geohash cell, subdivision, country): a
weather feed supplies the weather when the page gives none, and feed
conditions read the others. A feed says nothing before issued, from
expires on, or when the time is unknown. A pick's feeds names the feed
values the rules that shaped it tested.

Times are Unix milliseconds supplied by the host; the engine reads no clock.
*/

// The low-level host side of that ABI for JavaScript: compile, instantiate and
// call the module. Higher layers (index.js) add recovery and fallbacks.

import { WASI, ConsoleStdout } from '@bjorn3/browser_wasi_shim';
import { encode, decode } from '@msgpack/msgpack';

/** The ABI version this host speaks. A module reporting another is refused. */
export const ABI_VERSION = 1;

/** The operations, in the order the ABI documents them. */
export const OPS = ['version', 'load_ruleset', 'observe', 'set_context', 'decide', 'snapshot', 'restore', 'record_impressions', 'set_preferences', 'preferences', 'report', 'ledger', 'describe', 'export', 'load_feed'];

/** ew_alloc refuses requests over this many bytes. */
export const MAX_REQUEST_BYTES = 8 << 20;

// Sorted keys make a request byte-identical to the one Go hosts send
// (abi.EncodeRequest). Undefined fields are left out rather than sent as nil.
const ENCODE_OPTIONS = { sortKeys: true, ignoreUndefined: true };

/** Encodes a request object as msgpack, the way every Edgewise host does. */
export function encodeRequest(request) {
  return encode(request, ENCODE_OPTIONS);
}

/** Builds the error half of a response. */
export function errorResponse(code, message) {
  return { error: { code, message } };
}

function abiError(code, message) {
  return Object.assign(new Error(message), { code });
}

// (module (func (export "f") (result i64) i64.const 1))
const I64_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 126, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 6, 1, 4, 0, 66, 1, 11]);

/**
 * Whether this runtime can call the engine: every ew_<op> returns an i64,
 * which reaches JavaScript only as a BigInt (WebAssembly BigInt
 * integration; older WebKit throws a TypeError at every such call).
 */
export function bigIntExports() {
  if (typeof BigInt !== 'function') return false;
  let f;
  try {
    f = new WebAssembly.Instance(new WebAssembly.Module(I64_PROBE)).exports.f;
  } catch {
    return true; // nothing compiles here (CSP, say): compile reports that
  }
  try {
    return typeof f() === 'bigint';
  } catch {
    return false;
  }
}

/** The error when bigIntExports() is false. */
export const UNSUPPORTED = 'this browser cannot run the engine: it lacks BigInt or WebAssembly BigInt integration (i64 results)';

/**
 * Compiles the engine from a URL (string or URL), a Response or a promise of
 * one, bytes (ArrayBuffer or a view), or returns a precompiled module as is.
 */
export async function compileModule(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source);
  if (typeof source === 'string' || source instanceof URL) source = fetch(source);
  const res = await source;
  if (!res || typeof res.arrayBuffer !== 'function') {
    throw new TypeError('wasm must be a URL, a Response, bytes or a WebAssembly.Module');
  }
  if (!res.ok) throw new Error(`fetching ${res.url || 'the wasm module'} failed: HTTP ${res.status}`);
  if (WebAssembly.compileStreaming) {
    try {
      // The clone keeps the body readable for the fallback below.
      return await WebAssembly.compileStreaming(res.clone());
    } catch (e) {
      // compileStreaming throws a TypeError when the server does not send
      // Content-Type: application/wasm; any other error is a real one.
      if (!(e instanceof TypeError)) throw e;
    }
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

/**
 * Instantiates a compiled module (bytes or a URL are compiled first), runs
 * _initialize and checks that the module speaks ABI_VERSION. It rejects
 * with an Error carrying a code: 'unsupported_browser' (see bigIntExports),
 * 'compile_failed', 'instantiate_failed' or 'abi_version'.
 */
export async function instantiate(module, { stdout, stderr } = {}) {
  if (!bigIntExports()) throw abiError('unsupported_browser', UNSUPPORTED);
  if (!(module instanceof WebAssembly.Module)) {
    try {
      module = await compileModule(module);
    } catch (e) {
      throw abiError('compile_failed', `cannot compile the engine: ${e.message}`);
    }
  }
  const missing = ['_initialize', 'memory', 'ew_alloc', ...OPS.map((op) => 'ew_' + op)].filter(
    (name) => !WebAssembly.Module.exports(module).some((e) => e.name === name),
  );
  if (missing.length) throw abiError('abi_version', `the module lacks the exports ${missing.join(', ')}`);
  const wasi = new WASI(
    [],
    [],
    [
      // No stdin: the engine imports no WASI call that reads a descriptor
      // (only fd_write, the clocks, random, args, environ, poll_oneoff,
      // sched_yield and proc_exit; a test holds it), so an empty in-memory
      // file here was dead code, and with it the shim's file classes.
      undefined,
      ConsoleStdout.lineBuffered(stdout || ((line) => console.log(`[edgewise] ${line}`))),
      ConsoleStdout.lineBuffered(stderr || ((line) => console.warn(`[edgewise] ${line}`))),
    ],
    // The shim logs every WASI call unless debug is explicitly false.
    { debug: false },
  );
  let instance;
  try {
    instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
    wasi.initialize(instance); // runs _initialize; exports trap before it
  } catch (e) {
    // WebKit compiles under a CSP without 'wasm-unsafe-eval' and refuses only
    // here; the other engines refuse to compile. Same cause, same code.
    if (/wasm-unsafe-eval|Content Security Policy/i.test(e && e.message)) {
      throw abiError('compile_failed', `cannot compile the engine: ${e.message}`);
    }
    throw abiError('instantiate_failed', `cannot start the engine: ${e.message}`);
  }
  const engine = new EngineInstance(instance.exports);
  const v = engine.call('version');
  if (v.error) throw abiError('abi_version', `the engine did not report its version: ${v.error.message}`);
  if (v.result.abi !== ABI_VERSION) {
    throw abiError('abi_version', `the engine speaks ABI ${v.result.abi}; this host speaks ABI ${ABI_VERSION}`);
  }
  return engine;
}

/** One running module. Calls are synchronous; one call at a time. */
export class EngineInstance {
  constructor(exports) {
    // A plain copy, so tests can wrap an export (the real object is frozen).
    this.exports = { ...exports };
    /** True after a trap: the instance must not be called again. */
    this.dead = false;
  }

  /**
   * Calls ew_<op> with a request (an object to encode, or msgpack bytes sent
   * as is) and returns the response bytes, copied out of wasm memory.
   * It never throws: every failure is an encoded error response.
   */
  callRaw(op, request = {}) {
    if (!OPS.includes(op)) return encode(errorResponse('unknown_op', `unknown operation ${JSON.stringify(op)}`));
    if (this.dead) return encode(errorResponse('trap', 'the engine trapped earlier; instantiate a new one'));
    let bytes = request;
    if (!(bytes instanceof Uint8Array)) {
      try {
        bytes = encodeRequest(request);
      } catch (e) {
        return encode(errorResponse('bad_request', `cannot encode the ${op} request: ${e.message}`));
      }
    }
    const ex = this.exports;
    try {
      const ptr = ex.ew_alloc(bytes.length);
      if (ptr === 0) {
        return encode(errorResponse('too_large',
          `${op}: request of ${bytes.length} bytes is over the ${MAX_REQUEST_BYTES}-byte limit`));
      }
      // Memory can grow inside any call, so take a fresh view of it each time.
      new Uint8Array(ex.memory.buffer, ptr >>> 0, bytes.length).set(bytes);
      const r = BigInt.asUintN(64, ex['ew_' + op](ptr, bytes.length));
      const at = Number(r >> 32n);
      const len = Number(r & 0xffffffffn);
      // slice() copies: the next call reuses the response buffer.
      return new Uint8Array(ex.memory.buffer, at, len).slice();
    } catch (e) {
      this.dead = true;
      return encode(errorResponse('trap', `the engine trapped in ${op}: ${e && e.message}`));
    }
  }

  /** Like callRaw, but decodes the response: {result} or {error: {code, message}}. */
  call(op, request) {
    const raw = this.callRaw(op, request);
    try {
      const res = decode(raw);
      if (res && typeof res === 'object' && ('result' in res || 'error' in res)) return res;
    } catch {
      // fall through
    }
    return errorResponse('bad_response', `the engine answered ${op} with a malformed response`);
  }
}
