// Edgewise browser SDK: on-device personalization with one WebAssembly engine.
//
// Failures are quiet by design: load never rejects, no method throws, and a
// page always gets something to show. Problems are reported as 'error' events.

import { compileModule, instantiate } from './abi.js';

export { ABI_VERSION } from './abi.js';

const FALLBACK_REASON = 'Picked by the shop for everyone';

// Errors raised before anyone listens are kept, up to this many, and handed
// to the first 'error' listener (load's errors happen before on() can run).
const MAX_PENDING_ERRORS = 20;

export class Edgewise {
  /**
   * Compiles the engine and loads the ruleset. Always resolves: on failure
   * the instance is in the 'failed' state and serves fallback decisions.
   */
  static async load({ wasm, ruleset, fallback } = {}) {
    const ew = new Edgewise(fallback);
    const [rs, mod] = await Promise.allSettled([
      typeof ruleset === 'string' || ruleset instanceof URL ? fetchJSON(ruleset) : ruleset,
      compileModule(wasm),
    ]);
    if (rs.status === 'rejected') {
      ew._error('fetch_failed', `cannot fetch the ruleset: ${rs.reason && rs.reason.message}`, 'load');
    } else if (!rs.value || typeof rs.value !== 'object') {
      ew._error('no_ruleset', 'Edgewise.load needs a ruleset object or URL', 'load');
    } else {
      ew._ruleset = rs.value;
    }
    if (mod.status === 'rejected') {
      ew._error('compile_failed', `cannot compile the engine: ${mod.reason && mod.reason.message}`, 'load');
    } else {
      ew._module = mod.value;
    }
    if (ew._ruleset && ew._module) await ew._rebuild('load');
    ew.state = ew._engine ? 'ready' : 'failed';
    return ew;
  }

  constructor(fallback) {
    /** 'loading', 'ready' or 'failed'. A failed instance serves fallbacks only. */
    this.state = 'loading';
    this._fallback = fallback && typeof fallback === 'object' ? fallback : {};
    this._ruleset = null; // the ruleset object: reloaded after a trap, source of fallbacks
    this._module = null; // the compiled module, kept to rebuild after a trap
    this._engine = null;
    this._snapshot = null; // the last good profile snapshot
    this._context = null;
    this._listeners = new Map();
    this._pending = [];
    this._queue = Promise.resolve();
  }

  /** Records one event. Resolves true when the engine accepted it. */
  observe({ type, item, at = Date.now() } = {}) {
    return this._run(false, async () => {
      if (!(await this._call('observe', { event: { type, item, at } }))) return false;
      this._save();
      return true;
    });
  }

  /** Sets the current moment (Unix ms, default now) that interest decays to. */
  setContext({ now = Date.now() } = {}) {
    return this._run(false, async () => {
      const context = { now };
      if (!(await this._call('set_context', { context }))) return false;
      this._context = context;
      return true;
    });
  }

  /** Decides one slot (a string) or several (an array, answered in order). */
  decide(slots) {
    const many = Array.isArray(slots);
    const ids = many ? slots : [slots];
    return this._run(null, () => this._decide(ids)).then((decisions) => {
      decisions = decisions || ids.map((id) => this._fallbackDecision(id));
      decisions.forEach((d) => this._emit('decision', d));
      return many ? decisions : decisions[0];
    });
  }

  async _decide(ids) {
    // Ask only for slots the ruleset declares, so one unknown slot id does
    // not cost the whole page its decisions.
    const known = new Set(this._slots().map((s) => s.id));
    const ask = [...new Set(ids.filter((id) => known.has(id)))];
    const res = ask.length ? await this._call('decide', { slots: ask }) : null;
    if (this.state === 'ready') {
      for (const id of ids) {
        if (!known.has(id)) this._error('unknown_slot', `slot ${JSON.stringify(id)} is not in the ruleset`, 'decide');
      }
    }
    const got = new Map(res ? res.decisions.map((d) => [d.slot, d]) : []);
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
      if (this.state === 'ready') this._save();
      return ok;
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
    if (this.state !== 'ready') return null;
    if (this._engine.dead && !(await this._rebuild(op))) return null;
    const res = this._engine.call(op, request);
    if (res.error) {
      this._error(res.error.code, res.error.message, op);
      return null;
    }
    return res.result;
  }

  // Starts a fresh instance from the cached module and brings back the
  // ruleset, context and profile. On failure the SDK goes to 'failed'.
  async _rebuild(op) {
    let engine;
    try {
      engine = await instantiate(this._module);
    } catch (e) {
      return this._failed(e.code || 'instantiate_failed', e.message, op);
    }
    const loaded = engine.call('load_ruleset', { ruleset: this._ruleset });
    if (loaded.error) return this._failed(loaded.error.code, loaded.error.message, op);
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

  // Keeps a snapshot of the profile to restore after a trap.
  _save() {
    const res = this._engine.call('snapshot');
    if (res.result) this._snapshot = res.result.snapshot;
  }

  _slots() {
    const slots = this._ruleset && this._ruleset.slots;
    return Array.isArray(slots) ? slots.filter((s) => s && typeof s === 'object') : [];
  }

  // What a slot shows without the engine: the ruleset's fallback items, else
  // the fallback option's, else nothing. Items the catalogue lacks are skipped.
  _fallbackDecision(slot) {
    const s = this._slots().find((x) => x.id === slot);
    const items = this._ruleset && Array.isArray(this._ruleset.catalogue) && this._ruleset.catalogue;
    const known = items && new Set(items.map((i) => i && i.id));
    let ids = (s && s.fallback) || this._fallback[slot];
    ids = Array.isArray(ids) ? ids.filter((id) => typeof id === 'string' && (!known || known.has(id))) : [];
    if (s && s.limit > 0) ids = ids.slice(0, s.limit);
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

async function fetchJSON(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
  return res.json();
}

export default Edgewise;
