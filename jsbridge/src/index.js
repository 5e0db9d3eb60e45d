// Edgewise browser SDK: on-device personalization with one WebAssembly engine.
//
// Failures are quiet by design: load never rejects, no method throws, and a
// page always gets something to show. Problems are reported as 'error' events.
//
// The engine runs in a Web Worker by default (channel.js), so its compile
// and _initialize never block the page. The worker's own file
// (dist/edgewise-worker.js: host.js, the msgpack and WASI code, storage.js
// and the report's requests) also keeps the encrypted profile at rest and
// sends cohort reports. This module, the page's file, keeps what the page
// sees: the queue of calls, the events, the decisions for explain(), the
// no-flicker cache (cache.js), and the checks that decide whether a report
// may go at all.

import { openChannel } from './channel.js';
import { CACHE_KEY, cachedItems, cachedRuleset, clearCache, remember } from './cache.js';
import { reportAllowed } from './report.js';
import { browserGPC, readContext, readPreferences, readPublicKey, readRuleset, readWasm } from './inputs.js';

/** The ABI version the engine host speaks (abi.js; kept here so the page's
 * bundle does not import the host: a test checks they agree). */
export const ABI_VERSION = 1;

const FALLBACK_REASON = 'Picked by the shop for everyone';

// Errors raised before anyone listens are kept, up to this many, and handed
// to the first 'error' listener (load's errors happen before on() can run).
const MAX_PENDING_ERRORS = 20;


export class Edgewise {
  /**
   * Starts the engine (in a worker unless worker is false), and loads the
   * signed ruleset once it checks against the site's public key, then the
   * person's stored profile. Always resolves: on failure the instance is in
   * the 'failed' state and serves fallback items.
   */
  static async load(options) {
    const { wasm, ruleset, publicKey, fallback, collector, storage = true, worker = true } =
      options && typeof options === 'object' ? options : {};
    const ew = new Edgewise(fallback, collector);
    // An IndexedDB factory object cannot cross to a worker: the host runs here then.
    const custom = storage !== true && storage !== false && storage != null;
    ew._channel = openChannel(custom ? false : worker, (reason) => ew._error('worker_unavailable', `${reason}; the engine runs on the main thread`, 'load'));
    // Compiling starts at once, and the database opens, while the ruleset
    // is fetched.
    const compiled = readWasm(wasm).then(
      (w) => ew._channel.request({ type: 'compile', wasm: w, storage: custom || storage === true ? storage : false }),
      (e) => ew._channel.request({ type: 'compile', wasm: { failed: e.message }, storage: false }),
    );
    let ewr = null;
    try {
      ewr = await readRuleset(ruleset);
    } catch (e) {
      ew._error(e.code || 'fetch_failed', e.code ? e.message : `cannot fetch the ruleset: ${e.message}`, 'load');
    }
    const key = readPublicKey(publicKey);
    if (key.error) ew._error(key.error.code, key.error.message, 'load');
    ew._reply(await compiled);
    const loaded = await ew._channel.request({ type: 'load', ewr, publicKey: key.bytes || null });
    ew._reply(loaded);
    if (loaded.state === 'ready') {
      ew._describe = loaded.describe || null;
      ew._rulesetId = loaded.ruleset ? loaded.ruleset.id : null;
      if (cachedRuleset() !== ew._rulesetId) clearCache();
      ew._watchPageHide();
    }
    ew.state = loaded.state;
    if (ew.state === 'ready') await ew._applyBrowserGPC();
    return ew;
  }

  constructor(fallback, collector) {
    /** 'loading', 'ready' or 'failed'. A failed instance serves fallbacks only. */
    this.state = 'loading';
    this._fallback = fallback && typeof fallback === 'object' ? fallback : {};
    this._collector = typeof collector === 'string' || collector instanceof URL ? String(collector) : null;
    this._channel = null;
    this._describe = null; // the engine's describe: signals, interests, slot fallbacks
    this._rulesetId = null;
    this._effective = null; // the preferences in effect, as the engine last said
    this._last = new Map(); // slot id -> the engine's last decision, for explain()
    // After forget(), nothing is kept again until the person acts: the
    // page's own re-render must not write the no-flicker cache back.
    this._forgotten = false;
    this._stored = false; // whether the host keeps the profile in IndexedDB
    this._listeners = new Map();
    this._pending = [];
    this._queue = Promise.resolve();
  }

  /**
   * The item ids a slot showed, personalized, on an earlier visit, read
   * synchronously so a page can render them before load resolves; null when
   * there are none. load and decide reconcile them.
   */
  static cached(slot) {
    return cachedItems(slot);
  }

  /** The sharing level in effect ('off', 'on-device' or 'cohorts'), or null when the engine is unavailable. */
  get consent() {
    return this._effective ? this._effective.sharing : null;
  }

  /** Records one event. Resolves true when the engine accepted it. */
  observe(event) {
    return this._run(false, async () => {
      this._forgotten = false; // the person acted
      const { type, item, at = Date.now() } = event && typeof event === 'object' ? event : {};
      return Boolean(await this._call('observe', { event: { type, item, at } }));
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
    return this._run(false, async () => Boolean(
      await this._call('record_impressions', { items: typeof items === 'string' ? [items] : items, at })));
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
      return Boolean(await this._call('set_context', { context }));
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
    for (const d of got.values()) this._last.set(d.slot, d);
    // With sharing off the engine keeps no impressions, and nothing is cached.
    // Nor after forget(), until the person acts.
    const keep = got.size && this.consent !== 'off' && !this._forgotten;
    if (keep) remember(this._rulesetId, [...got.values()]);
    if (at !== undefined && keep) {
      // Each shown item counts once per call, however many slots show it.
      const shown = [...new Set([...got.values()].flatMap((d) => d.items.map((p) => p.item)))];
      if (shown.length) await this._call('record_impressions', { items: shown, at }, 'decide');
    }
    return ids.map((id) => got.get(id) || this._fallbackDecision(id));
  }

  /**
   * Why an item was shown: {item, slot, reason, rules} from the engine's
   * last decision that picked it, or null when no slot showed it.
   */
  explain(item) {
    return this._run(null, async () => {
      for (const d of this._last.values()) {
        if (d.fallback) continue;
        const pick = d.items.find((p) => p.item === item);
        if (pick) return { item, slot: d.slot, reason: pick.reason, rules: pick.rules || [] };
      }
      return null;
    });
  }

  /**
   * What the ruleset declares, for a preference center: {ruleset, signals
   * (purpose, retention_days), interests, slots, reporting}, or null.
   */
  describe() {
    return this._run(null, async () => this._describe);
  }

  /** The profile as bytes for restore(), or null when there is none. */
  snapshot() {
    return this._run(null, async () => {
      const res = await this._call('snapshot');
      return res ? res.snapshot : null;
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
      return Boolean(await this._call('restore', { snapshot: bytes }));
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
    return this._run(null, () => this._setPreferences(prefs));
  }

  async _setPreferences(prefs) {
    this._forgotten = false; // the person acted
    if (prefs == null || typeof prefs !== 'object' || Array.isArray(prefs)) {
      this._error('bad_request', 'setPreferences needs an object of preferences', 'set_preferences');
      return null;
    }
    const res = await this._call('set_preferences', { preferences: readPreferences(prefs) });
    return res ? res.preferences : null;
  }

  /**
   * Changes only the sharing level ('off', 'on-device' or 'cohorts'),
   * keeping the other preferences. Resolves to the preferences in effect.
   */
  setConsent(sharing) {
    return this._run(null, () => {
      const { gpc_applied: _, ...prefs } = this._effective || {};
      return this._setPreferences({ ...prefs, sharing });
    });
  }

  /**
   * Everything Edgewise keeps about the person on this device, as readable
   * JSON: the engine's export (preferences, coarse context, events,
   * impressions, reports and the ledger) and what the SDK stores itself.
   */
  exportData() {
    return this._run(JSON.stringify({ engine: null }), async () => {
      const res = await this._call('export');
      const data = {
        engine: res ? res.export : null,
        stored: {
          indexeddb: this._stored
            ? 'database "edgewise": the profile above, encrypted with a key that cannot leave this browser, and the shop\'s context feeds, the same for everyone'
            : 'nothing',
          localStorage: { [CACHE_KEY]: readLocal(CACHE_KEY) },
        },
      };
      return JSON.stringify(data, (_, v) => (v instanceof Uint8Array ? btoa(String.fromCharCode(...v)) : v), 2);
    });
  }

  /**
   * Erases everything Edgewise keeps on this device: the engine's profile
   * (sharing off erases it; the preferences then come back, but sharing
   * 'cohorts' returns to the default 'on-device'), the IndexedDB database
   * with its key, and the no-flicker cache. Resolves true when all of it
   * is gone.
   */
  forget() {
    return this._run(false, async () => {
      this._forgotten = true;
      clearCache();
      this._last.clear();
      if (!this._channel) return true;
      const reply = await this._channel.request({ type: 'forget' });
      this._reply(reply);
      return reply.ok !== false;
    });
  }

  /**
   * Sends this epoch's cohort report to the collector, when the person
   * chose the 'cohorts' sharing level and the browser sends no Global
   * Privacy Control signal; otherwise sends nothing at all. Resolves to the
   * report sent, or null. One the collector could not take is sent by a
   * later call of the epoch (the host's _report says when).
   */
  report() {
    return this._run(null, async () => {
      if (!this._collector || this.state !== 'ready' || !reportAllowed(this._effective, browserGPC())) return null;
      const reply = await this._channel.request({ type: 'report', collector: this._collector });
      this._reply(reply);
      return reply.report || null;
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

  /** The running engine instance in main-thread mode (tests reach into it); null in a worker. */
  get _engine() {
    const host = this._channel && this._channel.host;
    return host ? host.engine : null;
  }

  // Runs fn after every earlier call, so calls reach the engine in the
  // order the page made them. Resolves to fallback if fn throws.
  _run(fallback, fn) {
    const p = this._queue.then(fn).catch((e) => {
      this._error('internal', `unexpected failure: ${e && e.message}`, 'sdk');
      return fallback;
    });
    this._queue = p;
    return p;
  }

  // Calls the engine. Returns the result, or null after reporting the error.
  async _call(op, request, as = op) {
    const res = await this._callRaw(op, request);
    if (!res) return null;
    if (res.error) {
      this._error(res.error.code, res.error.message, as);
      return null;
    }
    return res.result;
  }

  // Like _call, but returns the response ({result} or {error}) without
  // reporting an engine error; null when there is no engine to call.
  async _callRaw(op, request) {
    if (this.state !== 'ready') return null;
    const reply = await this._channel.request({ type: 'call', op, request });
    this._reply(reply);
    return reply.res || null;
  }

  // The browser's Global Privacy Control applies from the first moment, not
  // from the person's next preference change: when the preferences in
  // effect (stored, or the defaults) do not have it yet, it is added to
  // them, and the other choices stay as they were.
  async _applyBrowserGPC() {
    if (!browserGPC() || !this._effective || this._effective.gpc) return;
    const { gpc_applied: _, ...prefs } = this._effective;
    await this._call('set_preferences', { preferences: { ...prefs, gpc: true } }, 'load');
  }

  // Takes in what every host reply carries: its errors, the state, the
  // preferences in effect and whether the profile is stored.
  _reply(reply) {
    for (const e of reply.errors || []) this._error(e.code, e.message, e.op);
    if (this.state !== 'loading' && reply.state) this.state = reply.state;
    if (reply.effective) {
      this._effective = reply.effective;
      if (reply.effective.sharing === 'off') clearCache();
    }
    if ('stored' in reply) this._stored = reply.stored;
  }

  // Resolves once the profile, as the calls made so far left it, is
  // written. The host batches writes; this one goes at once.
  _flush() {
    return this._run(null, async () => {
      if (this._channel) this._reply(await this._channel.request({ type: 'flush' }));
    });
  }

  // The host writes batched changes a moment later. When the page starts
  // to leave (the Navigation API's navigate event, where there is one: a
  // link or a script, a network round trip before the page goes), goes away
  // (pagehide) or is hidden (the last moment a phone's browser promises),
  // it writes them now. Sent at once, and again after the calls still
  // queued here, which reach the host only when their turn comes.
  _watchPageHide() {
    if (typeof addEventListener !== 'function' || typeof document === 'undefined') return;
    const flush = () => {
      if (this.state !== 'ready') return;
      this._channel.request({ type: 'flush' });
      this._flush();
    };
    addEventListener('pagehide', flush);
    document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && flush());
    if (typeof navigation !== 'undefined' && navigation && typeof navigation.addEventListener === 'function') {
      navigation.addEventListener('navigate', (e) => !e.hashChange && flush());
    }
  }

  // What a slot shows without the engine's decision: the ruleset's fallback
  // items (once the engine described a verified ruleset), else the page's
  // fallback option, else nothing.
  _fallbackDecision(slot) {
    const described = this._describe && Array.isArray(this._describe.slots)
      ? this._describe.slots.find((s) => s && s.id === slot) : null;
    let ids = described ? described.fallback
      : Object.prototype.hasOwnProperty.call(this._fallback, slot) ? this._fallback[slot] : [];
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

function readLocal(key) {
  try {
    return typeof localStorage !== 'undefined' ? JSON.parse(localStorage.getItem(key)) : null;
  } catch {
    return null;
  }
}

export default Edgewise;
