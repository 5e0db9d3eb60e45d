// The engine host: owns one compiled module and its running instance, and
// answers the SDK's messages. It runs inside the Web Worker (worker.js) or,
// without one, on the main thread (channel.js); both modes exchange the same
// structured-cloneable messages, so one set of tests covers both.
//
// Messages, each answered once in the order received:
//   {type: 'compile', wasm}                        -> {state, errors}
//   {type: 'load', ewr, publicKey}                 -> {state, errors, ruleset, describe, effective}
//   {type: 'call', op, request}                    -> {state, errors, res, effective?, snapshot?}
// res is the engine's response ({result} or {error}), or null when there is
// no engine. errors are failures the SDK reports as 'error' events (a trap,
// a failed rebuild, a refused stored profile). snapshot is the profile after
// an operation that changed it, for the SDK to persist.

import { UNSUPPORTED, bigIntExports, compileModule, encodeRequest, instantiate } from './abi.js';

const MESSAGES = new Set(['compile', 'load', 'call']);

// Operations after which the profile may have changed.
const CHANGES_PROFILE = new Set(['observe', 'record_impressions', 'set_preferences', 'restore', 'report']);

export class Host {
  constructor() {
    this.state = 'loading'; // 'ready' or 'failed' once loaded
    this.module = null; // kept to rebuild after a trap
    this.engine = null;
    this.ruleset = null; // load_ruleset's result: {id, version, items, slots}
    this.ewr = null; // the signed ruleset, loaded again (and verified again) after a trap
    this.publicKey = null;
    this.snapshot = null; // the last good profile
    this.context = null; // the last context, without coordinates
    this.prefs = null; // the last preferences the engine accepted
    this.effective = null; // and those in effect
    this.errors = [];
    this.queue = Promise.resolve();
  }

  /** Answers one message; never rejects. */
  handle(msg) {
    const run = async () => {
      this.errors = [];
      let reply;
      try {
        if (!MESSAGES.has(msg && msg.type)) throw new Error(`unknown message ${JSON.stringify(msg && msg.type)}`);
        reply = await this[`_${msg.type}`](msg);
      } catch (e) {
        this._error('internal', `unexpected failure: ${e && e.message}`, (msg && (msg.op || msg.type)) || 'sdk');
        reply = { res: null };
      }
      return { ...reply, id: msg && msg.id, state: this.state, errors: this.errors, effective: this.effective };
    };
    const p = this.queue.then(run);
    this.queue = p;
    return p;
  }

  async _compile({ wasm }) {
    // Checked before the engine is even fetched: without it every call would fail.
    if (!bigIntExports()) {
      this._error('unsupported_browser', UNSUPPORTED, 'load');
      return {};
    }
    try {
      this.module = await compileModule(wasm);
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
    this._save();
    const d = this.engine.call('describe');
    return { ruleset: this.ruleset, describe: d.result || null };
  }

  async _call({ op, request }) {
    if (this.state !== 'ready') return { res: null };
    if (this.engine.dead && !(await this._rebuild(op))) return { res: null };
    const res = this.engine.call(op, request);
    if (res.error && res.error.code === 'trap') {
      this._error(res.error.code, res.error.message, op);
      return { res: null };
    }
    let snapshot;
    if (res.result) {
      if (op === 'set_context') this._keepContext(request.context);
      if (op === 'set_preferences') {
        this.prefs = request.preferences;
        this.effective = res.result.preferences;
      }
    }
    // A refused snapshot resets the profile, so a restore changes it either way.
    if (op === 'restore' || (res.result && CHANGES_PROFILE.has(op))) {
      if (op === 'restore') this._syncPreferences();
      snapshot = this._save();
    }
    return { res, snapshot };
  }

  // Starts a fresh instance from the cached module and brings back the
  // ruleset (checking its signature again), preferences, context and profile.
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
    if (this.prefs) engine.call('set_preferences', { preferences: this.prefs });
    if (this.context) engine.call('set_context', { context: this.context });
    if (this.snapshot) {
      const restored = engine.call('restore', { snapshot: this.snapshot });
      if (restored.error) {
        this.snapshot = null;
        this._error(restored.error.code, restored.error.message, op);
      }
    }
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

  // Keeps a snapshot of the profile to restore after a trap, and returns it
  // for the SDK to persist.
  _save() {
    const res = this.engine.call('snapshot');
    if (res.result) this.snapshot = res.result.snapshot;
    return res.result ? res.result.snapshot : undefined;
  }

  _error(code, message, op) {
    this.errors.push({ code, message, op });
  }
}
