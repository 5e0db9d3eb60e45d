// How the SDK reaches its engine host (host.js): in a Web Worker by default,
// or on the main thread. Both speak the same messages; request() resolves to
// the host's reply and never rejects.
//
// The host's code (msgpack, the WASI shim, storage) is the worker's own
// file, dist/edgewise-worker.js, beside the page's dist/edgewise.js. On the
// main thread it is imported from that file only when needed, so a page
// whose worker runs never downloads or evaluates it.

/** The fragment that tells the worker's file it was started as the SDK's worker. */
export const WORKER_MARK = 'edgewise-worker';

// The worker's file, beside this one. build.mjs sets EDGEWISE_WORKER_FILE to
// './edgewise-worker.js'; unbundled (src/, the Node tests) it is worker.js.
const WORKER_FILE = typeof EDGEWISE_WORKER_FILE === 'string' ? EDGEWISE_WORKER_FILE : './worker.js';

/** The worker's file as a URL. */
export const workerURL = () => new URL(WORKER_FILE, import.meta.url);

/**
 * Opens a channel. worker is true (this bundle, started as a worker),
 * false (main thread), a worker script URL, or a Worker-like object (anything
 * with postMessage and addEventListener, as tests pass). Without a Worker
 * constructor, or when the worker fails to start, the host runs on the main
 * thread; onFallback(reason) says why.
 */
export function openChannel(worker, onFallback) {
  if (worker === false) return mainThread();
  let w = worker && typeof worker === 'object' && typeof worker.postMessage === 'function' ? worker : null;
  if (!w) {
    if (typeof Worker !== 'function') return mainThread();
    try {
      // The worker's file, started as a module worker; the fragment tells
      // it to serve the engine (worker.js).
      const url = new URL(typeof worker === 'string' || worker instanceof URL ? worker : workerURL(), typeof location !== 'undefined' ? location.href : undefined);
      url.hash = WORKER_MARK;
      // Engines without module workers never read the type option and
      // would run the bundle as a classic script (a SyntaxError): stop it.
      let module = false;
      w = new Worker(url, { get type() { module = true; return 'module'; } });
      if (!module) {
        w.terminate();
        throw new Error('this browser has no module workers');
      }
    } catch (e) {
      // A cross-origin script, CSP worker-src or an engine without module
      // workers refuses the worker at once.
      onFallback(`cannot start the worker: ${e && e.message}`);
      return mainThread();
    }
  }
  return workerChannel(w, onFallback);
}

// The host in this thread, once its code is imported. An import that
// fails (the file missing, a CSP) answers every message as a host without
// an engine would.
function mainThread() {
  let host = null;
  const ready = import(/* webpackIgnore: true */ workerURL().href).then(
    (m) => {
      host = new m.Host();
    },
    (e) => e,
  );
  return {
    get host() {
      return host;
    },
    async request(msg) {
      const failed = await ready;
      if (host) return host.handle(msg);
      return {
        id: msg && msg.id, state: 'failed', effective: null, stored: false, res: null,
        errors: msg && msg.type === 'load' ? [{ code: 'compile_failed', message: `cannot load the engine's host code: ${failed && failed.message}`, op: 'load' }] : [],
      };
    },
    close() {},
  };
}

function workerChannel(w, onFallback) {
  const waiting = new Map();
  const setup = []; // compile and load, answered already: replayed on failure
  let next = 1;
  let local = null; // the main-thread host, once the worker failed
  const fail = (reason) => {
    if (local) return;
    // The worker did not start (a 404, CSP worker-src, a syntax error) or
    // died: run the same host here, set it up as the worker was, and answer
    // the messages the worker did not.
    local = mainThread();
    try {
      w.terminate();
    } catch {
      // already gone
    }
    onFallback(reason);
    for (const msg of setup) local.request(msg);
    for (const [, { msg, resolve }] of waiting) local.request(msg).then(resolve);
    waiting.clear();
  };
  w.addEventListener('message', (e) => {
    const reply = e.data || {};
    const entry = waiting.get(reply.id);
    if (!entry) return;
    waiting.delete(reply.id);
    if (entry.msg.type !== 'call') setup.push(entry.msg);
    entry.resolve(reply);
  });
  w.addEventListener('error', (e) => {
    if (e && typeof e.preventDefault === 'function') e.preventDefault();
    fail(`the worker failed: ${(e && e.message) || 'script error'}`);
  });
  return {
    get host() {
      return local && local.host;
    },
    request(msg) {
      if (local) return local.request(msg);
      return new Promise((resolve) => {
        const id = next++;
        const sent = { ...msg, id };
        waiting.set(id, { msg: sent, resolve });
        // Bytes are copied, not transferred: the SDK keeps its copy of the
        // ruleset, and the page keeps the buffers it passed in.
        try {
          w.postMessage(sent);
        } catch (e) {
          // A value that cannot cross (a Module in a runtime that refuses
          // to share it): answer from a host in this thread instead.
          fail(`cannot message the worker: ${e && e.message}`);
        }
      });
    },
    close() {
      try {
        if (!local) w.terminate();
      } catch {
        // already gone
      }
    },
  };
}
