// The engine host: owns one compiled module and its running instance, and
// the person's profile at rest (storage.js), and answers the SDK's
// messages. It runs inside the Web Worker (worker.js) or, without one, on
// the main thread (channel.js imports it then); both modes exchange the same
// structured-cloneable messages, so one set of tests covers both.
//
// Messages, each answered once in the order received:
//   {type: 'compile', wasm, storage}              -> {}: fetches and compiles the
//                                                    engine while the database opens
//   {type: 'load', ewr, publicKey}                 -> {ruleset, describe}: loads the
//                                                    ruleset, restores the stored profile and
//                                                    loads the ruleset's context feeds (feeds.js)
//   {type: 'call', op, request}                    -> {res}
//   {type: 'report', collector}                    -> {report}: this epoch's report, sent
//                                                    now, or null (see _report)
//   {type: 'flush'}                                -> {}: once the profile is written
//   {type: 'forget'}                               -> {ok}: the profile and the database erased
// Every reply also carries {id, state, errors, effective, stored}. res is the
// engine's response ({result} or {error}), or null when there is no engine.
// errors are failures the SDK reports as 'error' events (a trap, a failed
// rebuild, a refused stored profile, a failed write). stored says whether
// the profile is kept in IndexedDB.
//
// Persistence: observe and record_impressions, the calls a page makes all
// the time, only mark the profile changed, and are written together once
// none came for PERSIST_DELAY ms (at most PERSIST_MAX_DELAY ms after the
// first), or at once on 'flush', which the SDK sends on pagehide and when
// the page is hidden. Changes of preferences, a restore and a report are
// written at once. The write happens after the reply, so no call waits for
// a snapshot, an encryption or IndexedDB. Until a snapshot, the batched
// calls are kept in a journal, replayed after a trap on top of the last
// snapshot.

import { UNSUPPORTED, bigIntExports, compileModule, encodeRequest, instantiate } from './abi.js';
import { FEED_WAIT, browserPlace, loadFeeds } from './feeds.js';
import { fetchSizes, postReport, reportBody } from './report.js';
import { deleteDatabase, openStorage } from './storage.js';

const MESSAGES = new Set(['compile', 'load', 'call', 'report', 'flush', 'forget']);

// Operations whose profile changes are written together, later.
const BATCHED = new Set(['observe', 'record_impressions']);
// Operations after which the profile is written at once.
const CHANGES_PROFILE = new Set(['set_preferences', 'restore']);

// A User Timing mark ("edgewise:compiled", "edgewise:started",
// "edgewise:restored") in this thread's timeline, for profilers and the
// cold-start benchmark.
function mark(name) {
  try {
    performance.mark(`edgewise:${name}`);
  } catch {
    // no User Timing here
  }
}

/** How long the host waits for more batched changes before it writes, in ms. */
export const PERSIST_DELAY = 50;
/** The longest a batched change waits to be written, in ms. */
export const PERSIST_MAX_DELAY = 1000;
/** How long a page waits after a failed report before it tries again, in ms. */
export const RETRY_GAP = 60000;

export class Host {
  constructor() {
    this.state = 'loading'; // 'ready' or 'failed' once loaded
    this.module = null; // kept to rebuild after a trap
    this.engine = null;
    this.ruleset = null; // load_ruleset's result: {id, version, items, slots}
    this.ewr = null; // the signed ruleset, loaded again (and verified again) after a trap
    this.publicKey = null;
    this.snapshot = null; // the last snapshot of the profile
    this.journal = []; // batched calls since that snapshot: [{op, request}]
    this.context = null; // the last context, without coordinates
    this.feeds = new Map(); // feed id -> the signed feed the engine holds, loaded again after a trap
    this.prefs = null; // the last preferences the engine accepted
    this.effective = null; // and those in effect
    this.factory = null; // the IndexedDB factory, or null without storage
    this.store = null; // a promise of the open Storage, or of null
    this.opened = Promise.resolve(null); // the store as compile opened it
    this.reported = null; // the epoch whose report is settled: sent, or refused for good
    this.after = 0; // no report is sent before this time (Unix ms): the collector's Retry-After
    this.tried = -RETRY_GAP; // when this page last failed to send one (Date.now())
    this.writes = Promise.resolve(); // settles when what was persisted is written
    this.timer = null; // the pending batched write
    this.since = 0; // when its first change came (Date.now())
    this.errors = [];
    this.later = []; // errors from background writes, sent with the next reply
    this.queue = Promise.resolve();
  }

  /** Answers one message; never rejects. */
  handle(msg) {
    return this._enqueue(async () => {
      this.errors = [];
      let reply;
      try {
        if (!MESSAGES.has(msg && msg.type)) throw new Error(`unknown message ${JSON.stringify(msg && msg.type)}`);
        reply = await this[`_${msg.type}`](msg);
      } catch (e) {
        this._error('internal', `unexpected failure: ${e && e.message}`, (msg && (msg.op || msg.type)) || 'sdk');
        reply = { res: null };
      }
      const errors = [...this.later.splice(0), ...this.errors];
      const stored = Boolean(this.store && (await this.store));
      return { ...reply, id: msg && msg.id, state: this.state, errors, effective: this.effective, stored };
    });
  }

  // Runs fn after everything queued before it.
  _enqueue(fn) {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => {});
    return p;
  }

  async _compile({ wasm, storage }) {
    this.opened = this._openStorage(storage);
    // Checked before the engine is even fetched: without it every call would fail.
    if (!bigIntExports()) {
      this._error('unsupported_browser', UNSUPPORTED, 'load');
      return {};
    }
    try {
      // The page could not read the Response it was given.
      if (wasm && typeof wasm.failed === 'string') throw new Error(wasm.failed);
      this.module = await compileModule(wasm);
      mark('compiled');
    } catch (e) {
      this._error('compile_failed', `cannot compile the engine: ${e && e.message}`, 'load');
    }
    return {};
  }

  async _load({ ewr, publicKey }) {
    this.ewr = ewr;
    this.publicKey = publicKey;
    if (!(this.module && ewr && publicKey && (await this._rebuild('load')))) {
      this.state = 'failed';
      return {};
    }
    this.state = 'ready';
    this._takeSnapshot();
    mark('started');
    await this._restoreStored(await this.opened);
    mark('restored');
    await this._loadFeeds();
    const d = this.engine.call('describe');
    return { ruleset: this.ruleset, describe: d.result || null };
  }

  // Loads the ruleset's context feeds, kept or fetched. A feed still on its
  // way after FEED_WAIT ms is loaded when it comes, for the calls after.
  _loadFeeds() {
    const feeds = (this.ruleset && this.ruleset.feeds) || [];
    if (!feeds.length) return null;
    let late = false;
    const load = (bytes) => (late ? this._enqueue(() => this._loadFeed(bytes)) : this._loadFeed(bytes));
    const done = this.opened.then((store) => loadFeeds(feeds, load, store, (message) => this.later.push({ code: 'feed_failed', message, op: 'load' })));
    return Promise.race([done, new Promise((resolve) => setTimeout(resolve, FEED_WAIT))]).then(() => { late = true; });
  }

  // Hands one signed feed to the engine: load_feed's result, or null.
  _loadFeed(feed) {
    if (this.state !== 'ready' || this.engine.dead) return null;
    const res = this.engine.call('load_feed', { feed });
    if (res.error) {
      this.later.push({ ...res.error, op: 'load_feed' });
      return null;
    }
    this.feeds.set(res.result.id, feed);
    return res.result;
  }

  async _call({ op, request }) {
    if (this.state !== 'ready') return { res: null };
    // The browser's time zone and languages, unless the page gave its own:
    // the engine turns them into a coarse place, or drops them.
    if (op === 'set_context' && request && request.context) request = { ...request, context: { ...browserPlace(), ...request.context } };
    if (this.engine.dead && !(await this._rebuild(op))) return { res: null };
    const res = this.engine.call(op, request);
    if (res.error && res.error.code === 'trap') {
      this._error(res.error.code, res.error.message, op);
      return { res: null };
    }
    if (res.result) {
      if (op === 'set_context') this._keepContext(request.context);
      if (op === 'set_preferences') {
        this.prefs = request.preferences;
        this.effective = res.result.preferences;
      }
      if (BATCHED.has(op)) {
        this.journal.push({ op, request });
        this._later();
      }
    }
    // The first decide of a page may draw an experiment's arm and start
    // its epoch's exposure, which must outlive the page: written once.
    // Experiments run only for people who share cohorts.
    if (op === 'decide' && res.result && !this.decided && this.effective && this.effective.sharing === 'cohorts') {
      this.decided = true;
      this._takeSnapshot();
      this._persist();
    }
    // A refused snapshot resets the profile, so a restore changes it either way.
    if (op === 'restore' || (res.result && CHANGES_PROFILE.has(op))) {
      if (op === 'restore') this._syncPreferences();
      this._takeSnapshot();
      this._persist();
    }
    return { res };
  }

  // This epoch's cohort report: the published sizes, the engine's report,
  // the POST; the SDK checked first that the person allows it. The engine
  // gives the same report for every call in an epoch, so one that did not
  // go (the collector unreachable, a 5xx, 408 or 429) goes on a later call,
  // a later page view, of the same epoch, and a new epoch has a new one.
  // Nothing is requested before the time a Retry-After gave (kept with the
  // profile), nor within RETRY_GAP of this page's last failure: no tight
  // loop. One the collector will never take (any other 4xx) settles the
  // epoch as a sent one does, with one report_failed. The message queue is
  // the in-flight guard: a second call starts once the first is done.
  async _report({ collector }) {
    const now = Date.now();
    if (this.state !== 'ready' || now < this.after || now < this.tried + RETRY_GAP) return { report: null };
    let sizes;
    try {
      sizes = await fetchSizes(collector, this.ruleset.id);
    } catch (e) {
      // Without the published sizes k-anonymity cannot be checked: no report.
      this.tried = now;
      this._error('report_failed', `cannot read the cohort sizes: ${e && e.message}`, 'report');
      return { report: null };
    }
    const { res } = await this._call({ op: 'report', request: { now: Date.now(), sizes } });
    if (!res) return { report: null };
    if (res.error) {
      this._error(res.error.code, res.error.message, 'report');
      return { report: null };
    }
    // The ledger may have changed, whether a report goes or not.
    this._takeSnapshot();
    const report = res.result.report;
    if (!report || report.epoch === this.reported) {
      this._persist();
      return { report: null };
    }
    const body = reportBody(report);
    try {
      await postReport(collector, body);
    } catch (e) {
      const final = e && e.final;
      if (final) this.reported = body.epoch;
      else {
        this.tried = now;
        this.after = (e && e.after) || 0;
      }
      this._persist();
      this._error('report_failed', `cannot send the report: ${e && e.message}; ${final ? 'it is not sent again this epoch' : 'it is tried again later'}`, 'report');
      return { report: null };
    }
    this.reported = body.epoch;
    this._persist();
    return { report: body };
  }

  // Writes the profile now, if it changed, and waits for the write.
  async _flush() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.journal.length && this.engine && !this.engine.dead) {
      this._takeSnapshot();
      this._persist();
    }
    await this.writes;
    return {};
  }

  // Erases the profile (sharing off erases it; the preferences then come
  // back, none less private than before nor than the default: sharing
  // above the default, 'cohorts', returns to 'on-device') and the database
  // with its key. Nothing is written until the profile changes again.
  async _forget() {
    let ok = true;
    clearTimeout(this.timer);
    this.timer = null;
    this.reported = null;
    if (this.state === 'ready' && !this.engine.dead) {
      const { gpc_applied: _, ...prefs } = this.effective || {};
      if (prefs.sharing === 'cohorts') prefs.sharing = 'on-device';
      for (const preferences of [{ sharing: 'off' }, prefs]) {
        const res = this.engine.call('set_preferences', { preferences });
        if (res.result) {
          this.prefs = preferences;
          this.effective = res.result.preferences;
        } else if (preferences.sharing === 'off') ok = false;
      }
      this._takeSnapshot();
    }
    const store = this.store;
    this.store = null;
    try {
      await this.writes;
      const s = store && (await store);
      if (s) await s.destroy();
      else if (this.factory) await deleteDatabase(this.factory);
    } catch (e) {
      ok = false;
      this._error('storage_failed', `cannot delete the stored profile: ${e && e.message}`, 'forget');
    }
    return { ok };
  }

  // Starts a fresh instance from the cached module and brings back the
  // ruleset (checking its signature again), preferences, context and profile:
  // the last snapshot and the calls journaled since.
  async _rebuild(op) {
    let engine;
    try {
      engine = await instantiate(this.module);
    } catch (e) {
      return this._failed(e.code || 'instantiate_failed', e.message, op);
    }
    const loaded = engine.call('load_ruleset', { ewr: this.ewr, public_key: this.publicKey });
    if (loaded.error) return this._failed(loaded.error.code, loaded.error.message, op);
    this.ruleset = loaded.result;
    for (const feed of this.feeds.values()) engine.call('load_feed', { feed });
    if (this.prefs) engine.call('set_preferences', { preferences: this.prefs });
    if (this.context) engine.call('set_context', { context: this.context });
    if (this.snapshot) {
      const restored = engine.call('restore', { snapshot: this.snapshot });
      if (restored.error) {
        this.snapshot = null;
        this._error(restored.error.code, restored.error.message, op);
      }
    }
    for (const { op: done, request } of this.journal) engine.call(done, request);
    this.engine = engine;
    this._syncPreferences();
    return true;
  }

  _failed(code, message, op) {
    this.engine = null;
    this.state = 'failed';
    this._error(code, message, op);
    return false;
  }

  // Keeps the context to re-apply after a trap, without coordinates: only
  // the engine may see them, once. The request buffer that carried them is
  // zeroed too.
  _keepContext(context) {
    const { location, ...kept } = context || {};
    this.context = kept;
    if (location) this._scrub({ context });
  }

  _scrub(request) {
    try {
      const n = encodeRequest(request).length;
      const ex = this.engine && !this.engine.dead ? this.engine.exports : null;
      const ptr = ex ? ex.ew_alloc(n) : 0;
      if (ptr) new Uint8Array(ex.memory.buffer, ptr >>> 0, n).fill(0);
    } catch {
      // Best effort: the engine drops the coordinates itself.
    }
  }

  // Reads the preferences in effect, which a restore may bring.
  _syncPreferences() {
    const res = this.engine.call('preferences');
    if (!res.result) return;
    const { gpc_applied: _, ...prefs } = res.result.preferences;
    this.effective = res.result.preferences;
    this.prefs = prefs;
  }

  // Snapshots the profile: what a rebuild restores and what is persisted.
  _takeSnapshot() {
    const res = this.engine.call('snapshot');
    if (res.result) {
      this.snapshot = res.result.snapshot;
      this.journal = [];
    }
  }

  // Schedules the write of batched changes: PERSIST_DELAY after the last,
  // and no later than PERSIST_MAX_DELAY after the first.
  _later() {
    if (!this.factory) return;
    const now = Date.now();
    if (!this.timer) this.since = now;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this._enqueue(() => this._flush());
    }, Math.max(0, Math.min(PERSIST_DELAY, this.since + PERSIST_MAX_DELAY - now)));
  }

  // Opens the storage asked for: true is this global's IndexedDB, an object
  // an IndexedDB factory. Resolves to the Storage, or null; never rejects.
  _openStorage(storage) {
    if (storage !== true && !(storage && typeof storage.open === 'function')) return Promise.resolve(null);
    let factory = storage;
    try {
      if (storage === true) factory = globalThis.indexedDB;
    } catch {
      factory = null; // a sandboxed frame throws on access
    }
    this.factory = factory || null;
    return this._ensureStore(true);
  }

  _ensureStore(opening) {
    if (!this.store && (opening || this.factory)) {
      let subtle;
      try {
        subtle = globalThis.crypto.subtle;
      } catch {
        // no WebCrypto at all
      }
      this.store = openStorage(this.factory, subtle).catch((e) => {
        const message = `storage is unavailable, so the profile lasts only this page: ${e && e.message}`;
        // Reported once the engine runs: only then is there a profile to keep.
        if (this.state === 'loading') this.storageError = message;
        else if (this.state === 'ready') this.later.push({ code: 'storage_failed', message, op: 'storage' });
        return null;
      });
    }
    return this.store;
  }

  // Brings back the person's stored profile after load. An unreadable one
  // was erased by storage; one the engine refuses is replaced.
  async _restoreStored(store) {
    if (this.storageError) this._error('storage_failed', this.storageError, 'load');
    if (!store) return;
    let stored = null;
    try {
      stored = await store.load(this.ruleset.id);
    } catch (e) {
      this._error(e.code || 'storage_failed', e.message, 'load');
    }
    if (!stored) return;
    this.reported = stored.reported;
    this.after = stored.after;
    const res = this.engine.call('restore', { snapshot: stored.snapshot });
    this._syncPreferences();
    this._takeSnapshot();
    if (res.error) {
      this._error(res.error.code, `the stored profile was refused and reset: ${res.error.message}`, 'load');
      this._persist();
    }
  }

  // Writes the last snapshot, encrypted. Failures are reported with the
  // next reply, never thrown.
  _persist() {
    if (!this.snapshot || !this.ruleset || !this.factory) return;
    const snapshot = this.snapshot;
    const reported = this.reported;
    const after = this.after;
    const id = this.ruleset.id;
    this.writes = Promise.all([this.writes, this._ensureStore()])
      .then(([, s]) => s && s.save(id, snapshot, reported, after))
      .catch((e) => this.later.push({ code: 'storage_failed', message: `cannot store the profile: ${e && e.message}`, op: 'storage' }));
  }

  _error(code, message, op) {
    this.errors.push({ code, message, op });
  }
}
