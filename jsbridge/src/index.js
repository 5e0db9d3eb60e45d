// Edgewise browser SDK: on-device personalization with one WebAssembly engine.
//
// Failures are quiet by design: load never rejects, no method throws, and a
// page always gets something to show. Problems are reported as 'error' events.

import { compileModule, encodeRequest, instantiate } from './abi.js';

export { ABI_VERSION } from './abi.js';

const FALLBACK_REASON = 'Picked by the shop for everyone';

// Errors raised before anyone listens are kept, up to this many, and handed
// to the first 'error' listener (load's errors happen before on() can run).
const MAX_PENDING_ERRORS = 20;

export class Edgewise {
  /**
   * Compiles the engine, and loads the signed ruleset once it checks against
   * the site's public key. Always resolves: on failure the instance is in the
   * 'failed' state and serves the fallback option's items.
   */
  static async load({ wasm, ruleset, publicKey, fallback } = {}) {
    const ew = new Edgewise(fallback);
    const [rs, mod] = await Promise.allSettled([readRuleset(ruleset), compileModule(wasm)]);
    if (rs.status === 'rejected') {
      const e = rs.reason || {};
      ew._error(e.code || 'fetch_failed', e.code ? e.message : `cannot fetch the ruleset: ${e.message}`, 'load');
    } else {
      ew._ewr = rs.value;
    }
    const key = readPublicKey(publicKey);
    if (key.error) {
      ew._error(key.error.code, key.error.message, 'load');
    } else {
      ew._publicKey = key.bytes;
    }
    if (mod.status === 'rejected') {
      ew._error('compile_failed', `cannot compile the engine: ${mod.reason && mod.reason.message}`, 'load');
    } else {
      ew._module = mod.value;
    }
    if (ew._ewr && ew._publicKey && ew._module) await ew._rebuild('load');
    ew.state = ew._engine ? 'ready' : 'failed';
    return ew;
  }

  constructor(fallback) {
    /** 'loading', 'ready' or 'failed'. A failed instance serves fallbacks only. */
    this.state = 'loading';
    this._fallback = fallback && typeof fallback === 'object' ? fallback : {};
    this._ewr = null; // the signed ruleset's bytes, reloaded after a trap
    this._publicKey = null; // the site's Ed25519 public key, 32 bytes
    this._module = null; // the compiled module, kept to rebuild after a trap
    this._engine = null;
    this._snapshot = null; // the last good profile snapshot
    this._context = null;
    this._prefs = null; // the last preferences the engine accepted
    this._effective = null; // and those in effect
    this._listeners = new Map();
    this._pending = [];
    this._queue = Promise.resolve();
  }

  /** Records one event. Resolves true when the engine accepted it. */
  observe(event) {
    return this._run(false, async () => {
      const { type, item, at = Date.now() } = event && typeof event === 'object' ? event : {};
      if (!(await this._call('observe', { event: { type, item, at } }))) return false;
      this._save();
      return true;
    });
  }

  /** Hides an item for 48 hours: observe({type: 'dismiss', item, at}). */
  dismiss(item, at) {
    return this.observe({ type: 'dismiss', item, at });
  }

  /**
   * Counts items as shown, for the ruleset's caps. Resolves true when the
   * engine accepted them.
   */
  recordImpressions(items, at = Date.now()) {
    return this._run(false, () => this._record(typeof items === 'string' ? [items] : items, at, 'record_impressions'));
  }

  async _record(items, at, op) {
    const res = await this._callRaw('record_impressions', { items, at });
    if (!res) return false;
    if (res.error) {
      this._error(res.error.code, res.error.message, op);
      return false;
    }
    this._save();
    return true;
  }

  /**
   * Tells the engine about the current moment: now (Unix ms, default now),
   * the time zone (default the browser's) and the optional signals. Signals
   * the ruleset does not declare are dropped by the engine; bad values are
   * refused with an 'error' event. Coordinates (location) are coarsened by
   * the engine at once and never kept, here or there.
   */
  setContext(ctx) {
    return this._run(false, async () => {
      if (ctx != null && typeof ctx !== 'object') {
        this._error('bad_request', 'setContext needs an object of context signals', 'set_context');
        return false;
      }
      const context = readContext(ctx || {});
      const loc = context.location;
      if (loc !== undefined && !(loc && typeof loc.lat === 'number' && typeof loc.lon === 'number')) {
        this._error('bad_request', 'context.location must be {lat, lon} in degrees', 'set_context');
        return false;
      }
      // Only the engine may see coordinates: what is kept to re-apply after
      // a trap is a copy without them.
      const { location, ...kept } = context;
      const ok = Boolean(await this._call('set_context', { context }));
      if (location) this._scrub({ context });
      if (ok) this._context = kept;
      return ok;
    });
  }

  /**
   * Decides one slot (a string) or several (an array, answered in order).
   * With {record: true} the items the engine picked are recorded as
   * impressions (at options.at, default now) in the same call.
   */
  decide(slots, options) {
    const many = Array.isArray(slots);
    const ids = many ? slots : [slots];
    const { record = false, at } = options && typeof options === 'object' ? options : {};
    return this._run(null, () => this._decide(ids, record ? (at === undefined ? Date.now() : at) : undefined)).then((decisions) => {
      decisions = decisions || ids.map((id) => this._fallbackDecision(id));
      decisions.forEach((d) => this._emit('decision', d));
      return many ? decisions : decisions[0];
    });
  }

  // Decides ids; when at is set, records the engine's picks as impressions.
  async _decide(ids, at) {
    const ask = [...new Set(ids)];
    const got = new Map();
    const res = ask.length ? await this._callRaw('decide', { slots: ask }) : null;
    if (res && res.error && res.error.code === 'unknown_slot' && ask.length > 1) {
      // One unknown slot id must not cost the page its other decisions:
      // ask again slot by slot, so only the unknown ones fall back.
      for (const id of ask) {
        const one = await this._call('decide', { slots: [id] });
        if (one) got.set(id, one.decisions[0]);
      }
    } else if (res && res.error) {
      this._error(res.error.code, res.error.message, 'decide');
    } else if (res) {
      for (const d of res.result.decisions) got.set(d.slot, d);
    }
    // With sharing off the engine keeps no impressions: do not ask it to.
    const off = this._effective && this._effective.sharing === 'off';
    if (at !== undefined && got.size && !off) {
      // Each shown item counts once per call, however many slots show it.
      const shown = [...new Set([...got.values()].flatMap((d) => d.items.map((p) => p.item)))];
      if (shown.length) await this._record(shown, at, 'decide');
    }
    return ids.map((id) => got.get(id) || this._fallbackDecision(id));
  }

  /** The profile as bytes for restore(), or null when there is none. */
  snapshot() {
    return this._run(null, async () => {
      const res = await this._call('snapshot');
      if (!res) return null;
      this._snapshot = res.snapshot;
      return res.snapshot;
    });
  }

  /** Replaces the profile with a snapshot. Resolves true on success. */
  restore(bytes) {
    return this._run(false, async () => {
      if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
      if (!(bytes instanceof Uint8Array)) {
        this._error('bad_request', 'restore needs the bytes snapshot() returned', 'restore');
        return false;
      }
      const ok = Boolean(await this._call('restore', { snapshot: bytes }));
      // A refused snapshot resets the profile, so save the outcome either way.
      if (this.state === 'ready') {
        this._syncPreferences();
        this._save();
      }
      return ok;
    });
  }

  /** The preferences in effect, or null when the engine is unavailable. */
  preferences() {
    return this._run(null, async () => {
      const res = await this._call('preferences');
      return res ? res.preferences : null;
    });
  }

  /**
   * Replaces the person's preferences (fields left out take their defaults;
   * gpc defaults to the browser's Global Privacy Control signal) and applies
   * them at once. Resolves to the preferences in effect, or null.
   */
  setPreferences(prefs) {
    return this._run(null, async () => {
      if (prefs == null || typeof prefs !== 'object' || Array.isArray(prefs)) {
        this._error('bad_request', 'setPreferences needs an object of preferences', 'set_preferences');
        return null;
      }
      const preferences = readPreferences(prefs);
      const res = await this._call('set_preferences', { preferences });
      if (!res) return null;
      this._prefs = preferences;
      this._effective = res.preferences;
      this._save();
      return res.preferences;
    });
  }

  /** {abi, engine, ruleset?} from the engine, or null when it is unavailable. */
  version() {
    return this._run(null, () => this._call('version'));
  }

  /** Adds a listener: 'error' gets {code, message, op}, 'decision' gets a decision. */
  on(type, fn) {
    if (typeof fn !== 'function') return this;
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
    if (type === 'error' && this._pending.length) {
      const pending = this._pending.splice(0);
      queueMicrotask(() => pending.forEach((detail) => this._emit('error', detail)));
    }
    return this;
  }

  off(type, fn) {
    const fns = this._listeners.get(type);
    if (fns) fns.delete(fn);
    return this;
  }

  // Runs fn after every earlier call, so a rebuild after a trap is never
  // interleaved with another call. Resolves to fallback if fn throws.
  _run(fallback, fn) {
    const p = this._queue.then(fn).catch((e) => {
      this._error('internal', `unexpected failure: ${e && e.message}`, 'sdk');
      return fallback;
    });
    this._queue = p;
    return p;
  }

  // Calls the engine, rebuilding it first if it trapped. Returns the result,
  // or null after reporting the error.
  async _call(op, request) {
    const res = await this._callRaw(op, request);
    if (!res) return null;
    if (res.error) {
      this._error(res.error.code, res.error.message, op);
      return null;
    }
    return res.result;
  }

  // Like _call, but returns the response ({result} or {error}) without
  // reporting an error; null when there is no engine to call.
  async _callRaw(op, request) {
    if (this.state !== 'ready') return null;
    if (this._engine.dead && !(await this._rebuild(op))) return null;
    return this._engine.call(op, request);
  }

  // Starts a fresh instance from the cached module and brings back the
  // ruleset (checking its signature again), context and profile. On failure
  // the SDK goes to 'failed'.
  async _rebuild(op) {
    let engine;
    try {
      engine = await instantiate(this._module);
    } catch (e) {
      return this._failed(e.code || 'instantiate_failed', e.message, op);
    }
    const loaded = engine.call('load_ruleset', { ewr: this._ewr, public_key: this._publicKey });
    if (loaded.error) return this._failed(loaded.error.code, loaded.error.message, op);
    if (this._prefs) engine.call('set_preferences', { preferences: this._prefs });
    if (this._context) engine.call('set_context', { context: this._context });
    if (this._snapshot) {
      const restored = engine.call('restore', { snapshot: this._snapshot });
      if (restored.error) this._error(restored.error.code, restored.error.message, op);
    }
    this._engine = engine;
    return true;
  }

  _failed(code, message, op) {
    this._engine = null;
    this.state = 'failed';
    this._error(code, message, op);
    return false;
  }

  // Zeroes the engine's request buffer where request was written, so a
  // request with coordinates does not linger in the module's memory.
  _scrub(request) {
    try {
      const n = encodeRequest(request).length;
      const ex = this._engine && !this._engine.dead ? this._engine.exports : null;
      const ptr = ex ? ex.ew_alloc(n) : 0;
      if (ptr) new Uint8Array(ex.memory.buffer, ptr >>> 0, n).fill(0);
    } catch {
      // Best effort: the engine drops the coordinates itself.
    }
  }

  // Reads the preferences in effect after a restore, which may bring them.
  _syncPreferences() {
    const res = this._engine.call('preferences');
    if (!res.result) return;
    const { gpc_applied: _, ...prefs } = res.result.preferences;
    this._effective = res.result.preferences;
    this._prefs = prefs;
  }

  // Keeps a snapshot of the profile to restore after a trap.
  _save() {
    const res = this._engine.call('snapshot');
    if (res.result) this._snapshot = res.result.snapshot;
  }

  // What a slot shows without the engine: the fallback option's items for
  // it, else nothing. The SDK never reads the ruleset itself: only the
  // engine does, once its signature checks.
  _fallbackDecision(slot) {
    let ids = Object.prototype.hasOwnProperty.call(this._fallback, slot) ? this._fallback[slot] : [];
    ids = Array.isArray(ids) ? ids.filter((id) => typeof id === 'string') : [];
    return { slot, items: ids.map((item) => ({ item, score: 0, reason: FALLBACK_REASON })), fallback: true };
  }

  _error(code, message, op) {
    this._emit('error', { code, message, op });
  }

  _emit(type, detail) {
    const fns = this._listeners.get(type);
    if (!fns || !fns.size) {
      if (type === 'error' && this._pending.length < MAX_PENDING_ERRORS) this._pending.push(detail);
      return;
    }
    for (const fn of [...fns]) {
      try {
        fn(detail);
      } catch (e) {
        // A broken listener must not break the caller.
        console.error(e);
      }
    }
  }
}

// The preference fields the ABI documents; others are ignored.
const PREFERENCE_FIELDS = ['sharing', 'history', 'location', 'hidden_interests', 'frequency', 'gpc'];

// A set_preferences request's preferences from setPreferences' argument: the
// documented fields that are not undefined, gpc defaulting to the browser's
// Global Privacy Control signal. Values are passed as given: the engine
// checks them.
function readPreferences(prefs) {
  const out = {};
  for (const key of PREFERENCE_FIELDS) {
    if (prefs[key] !== undefined) out[key] = prefs[key];
  }
  if (out.gpc === undefined && browserGPC()) out.gpc = true;
  if (Array.isArray(out.hidden_interests)) out.hidden_interests = [...out.hidden_interests];
  return out;
}

// Whether the browser sends Global Privacy Control; false outside a browser.
function browserGPC() {
  try {
    return typeof navigator !== 'undefined' && navigator !== null && navigator.globalPrivacyControl === true;
  } catch {
    return false;
  }
}

// The context fields the ABI documents, in its order; others are ignored.
const CONTEXT_FIELDS = [
  'now', 'tz_offset_minutes', 'daypart', 'weekday', 'weather', 'device', 'referrer',
  'page_section', 'visits', 'country', 'subdivision', 'regions', 'location',
];

// A set_context context from setContext's argument: the documented fields
// that are not undefined, now defaulting to Date.now() and the time zone to
// the browser's. Values are passed as given: the engine checks them.
function readContext(ctx) {
  const out = {};
  for (const key of CONTEXT_FIELDS) {
    if (ctx[key] !== undefined) out[key] = ctx[key];
  }
  if (out.now === undefined) out.now = Date.now();
  if (out.tz_offset_minutes === undefined) out.tz_offset_minutes = tzOffsetMinutes(out.now);
  if (Array.isArray(out.regions)) out.regions = [...out.regions];
  const loc = out.location;
  if (loc && typeof loc === 'object' && !Array.isArray(loc)) out.location = { lat: loc.lat, lon: loc.lon };
  return out;
}

// The browser's offset from UTC at now, in minutes east of UTC (UTC+2 is
// 120). getTimezoneOffset counts the other way (UTC+2 is -120).
function tzOffsetMinutes(now) {
  const at = new Date(typeof now === 'number' && Number.isFinite(now) ? now : Date.now());
  const off = at.getTimezoneOffset();
  return Number.isFinite(off) ? 0 - off : 0;
}

function loadError(code, message) {
  return Object.assign(new Error(message), { code });
}

// The signed ruleset's bytes, from a URL, a Response (or a promise of one)
// or bytes. Rejects with an Error whose code is the error event's.
async function readRuleset(source) {
  if (source == null) throw loadError('no_ruleset', 'Edgewise.load needs ruleset: the URL or bytes of a signed .ewr file');
  if (source instanceof ArrayBuffer) return new Uint8Array(source.slice(0));
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength));
  if (typeof source === 'string' || source instanceof URL) source = fetch(source);
  const res = await source;
  if (!res || typeof res.arrayBuffer !== 'function') {
    throw loadError('bad_ruleset_file',
      'ruleset must be the URL or bytes of a signed .ewr file, built with edgewise build; ruleset objects are not accepted');
  }
  if (!res.ok) throw loadError('fetch_failed', `cannot fetch the ruleset: HTTP ${res.status} from ${res.url || 'its URL'}`);
  return new Uint8Array(await res.arrayBuffer());
}

// The site's Ed25519 public key: 32 bytes, or their base64 (standard or
// URL-safe). Returns {bytes} or {error: {code, message}}.
function readPublicKey(key) {
  if (key == null || key === '') {
    return { error: { code: 'no_public_key', message: 'Edgewise.load needs publicKey: the site\'s Ed25519 public key, as bytes or base64' } };
  }
  let bytes = null;
  if (key instanceof ArrayBuffer) bytes = new Uint8Array(key.slice(0));
  else if (ArrayBuffer.isView(key)) bytes = new Uint8Array(key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength));
  else if (typeof key === 'string') {
    try {
      const bin = atob(key.trim().replace(/-/g, '+').replace(/_/g, '/'));
      bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    } catch {
      bytes = null;
    }
  }
  if (!bytes || bytes.length !== 32) {
    const what = bytes ? `${bytes.length} bytes` : typeof key === 'string' ? 'a string that is not base64' : typeof key;
    return { error: { code: 'bad_public_key', message: `publicKey must be a 32-byte Ed25519 public key (bytes or base64), got ${what}` } };
  }
  return { bytes };
}

export default Edgewise;
