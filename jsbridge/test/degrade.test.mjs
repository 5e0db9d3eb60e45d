// What the SDK does where a browser engine lacks a feature: module workers,
// Global Privacy Control, WebCrypto, compileStreaming, WebAssembly BigInt
// integration, IndexedDB, localStorage, newer wasm opcodes. Each missing
// or failing feature is simulated in Node; the promise is the same for all:
// load resolves, nothing throws, an 'error' event carries a code, and
// decide serves personalized or fallback items.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { IDBFactory } from 'fake-indexeddb';
import { Edgewise } from '../testing/sdk.mjs';
import { OPEN_TIMEOUT } from '../src/storage.js';
import { CACHE_KEY } from '../src/cache.js';
import { cohortsEwr, serve, shopEwr, shopFallback, testPublicKey, wasmBytes, wasmModule } from '../testing/helpers.mjs';

const mod = await wasmModule();
const T0 = 1700000000000;
const ids = (d) => d.items.map((p) => p.item);
const codes = (errors) => errors.map((e) => [e.code, e.op]);
const realCrypto = globalThis.crypto;

async function load(options = {}) {
  const ew = await Edgewise.load({
    wasm: mod, ruleset: shopEwr(), publicKey: testPublicKey(), fallback: shopFallback(), worker: false, storage: false, ...options,
  });
  const errors = [];
  ew.on('error', (e) => errors.push(e));
  await Promise.resolve(); // load's errors arrive in a microtask
  return { ew, errors };
}

// The engine runs and learns: a view of the mug puts it first.
async function assertPersonalized(ew) {
  assert.equal(ew.state, 'ready');
  assert.equal(await ew.observe({ type: 'view', item: 'mug', at: T0 }), true);
  const d = await ew.decide('related');
  assert.equal(d.fallback, false);
  assert.deepEqual(ids(d), ['mug', 'pan']);
}

// The engine does not run: every slot shows the page's fallback items.
async function assertFallback(ew) {
  assert.equal(ew.state, 'failed');
  assert.deepEqual(await ew.decide(['home', 'related']), [
    { slot: 'home', items: shopFallback().home.map((item) => ({ item, score: 0, reason: 'Picked by the shop for everyone' })), fallback: true },
    { slot: 'related', items: shopFallback().related.map((item) => ({ item, score: 0, reason: 'Picked by the shop for everyone' })), fallback: true },
  ]);
  assert.equal(await ew.observe({ type: 'view', item: 'mug', at: T0 }), false);
}

// Replaces a property (deleted when descriptor is null) until the test ends.
function swap(t, obj, name, descriptor) {
  const had = Object.getOwnPropertyDescriptor(obj, name);
  if (descriptor) Object.defineProperty(obj, name, { configurable: true, ...(descriptor.get ? {} : { writable: true }), ...descriptor });
  else delete obj[name];
  t.after(() => {
    if (had) Object.defineProperty(obj, name, had);
    else delete obj[name];
  });
}

// --- 1. Module workers ---------------------------------------------------

// A Worker constructor as an engine without module workers has one: it
// parses the script as a classic one, where the SDK's import/export is a
// SyntaxError that reaches the page as an 'error' event. readsType: whether
// it reads the type option at all (engines that never knew it do not).
function classicWorkers(readsType) {
  const made = [];
  class ClassicWorker extends EventTarget {
    constructor(url, options = {}) {
      super();
      if (readsType) void options.type;
      void options.name;
      Object.assign(this, { posted: [], terminated: false, event: null });
      made.push(this);
      const file = new URL(url);
      file.hash = '';
      let message = 'script error';
      try {
        new vm.Script(readFileSync(fileURLToPath(file), 'utf8'));
      } catch (e) {
        message = `${e.name}: ${e.message}`;
      }
      setTimeout(() => {
        if (this.terminated) return;
        this.event = Object.assign(new Event('error', { cancelable: true }), { message });
        this.dispatchEvent(this.event);
      }, 5);
    }

    postMessage(m) {
      this.posted.push(m);
    }

    terminate() {
      this.terminated = true;
    }
  }
  return { ClassicWorker, made };
}

test('module workers: new Worker(url, {type: "module"}) throwing moves the engine to the main thread', { timeout: 20_000 }, async (t) => {
  const seen = [];
  swap(t, globalThis, 'Worker', {
    value: class {
      constructor(url, options) {
        seen.push(options.type);
        throw new TypeError('Module scripts are not supported on DedicatedWorker yet');
      }
    },
  });
  const { ew, errors } = await load({ worker: true });
  assert.deepEqual(seen, ['module']);
  assert.deepEqual(codes(errors), [['worker_unavailable', 'load']]);
  assert.match(errors[0].message, /DedicatedWorker.*main thread/);
  assert.ok(ew._engine, 'the engine runs on the main thread');
  await assertPersonalized(ew);
});

test('module workers: an engine that ignores type is detected before the classic worker gets a message', { timeout: 20_000 }, async (t) => {
  const { ClassicWorker, made } = classicWorkers(false);
  swap(t, globalThis, 'Worker', { value: ClassicWorker });
  const { ew, errors } = await load({ worker: true });
  assert.equal(made.length, 1);
  assert.equal(made[0].terminated, true);
  assert.deepEqual(made[0].posted.map((m) => m.type), [], 'nothing was sent to the classic worker');
  assert.deepEqual(codes(errors), [['worker_unavailable', 'load']]);
  assert.match(errors[0].message, /module workers.*main thread/);
  assert.ok(ew._engine);
  await assertPersonalized(ew);
});

test('module workers: a SyntaxError from a classic worker arrives as an error event, and the engine moves to the main thread', { timeout: 20_000 }, async (t) => {
  const { ClassicWorker, made } = classicWorkers(true);
  swap(t, globalThis, 'Worker', { value: ClassicWorker });
  const { ew, errors } = await load({ worker: true });
  const [w] = made;
  assert.ok(w.posted.length > 0, 'the SDK talked to the worker before it failed');
  assert.ok(w.event, 'the worker reported its error');
  assert.equal(w.event.defaultPrevented, true, 'the page does not see it as an uncaught error');
  assert.equal(w.terminated, true);
  assert.deepEqual(codes(errors), [['worker_unavailable', 'load']]);
  assert.match(errors[0].message, /SyntaxError.*main thread/);
  assert.ok(ew._engine);
  await assertPersonalized(ew);
});

// --- 2. Global Privacy Control -------------------------------------------

// A collector that logs every request it gets.
async function collector(t) {
  const log = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      log.push(`${req.method} ${req.url.replace(/\?.*/, '')}`);
      if (req.method === 'GET') res.setHeader('content-type', 'application/json');
      res.end(req.method === 'GET' ? JSON.stringify({ 'interest=runners/area=nordics': 500 }) : '');
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise((ok) => server.close(ok)));
  return { url: `http://127.0.0.1:${server.address().port}`, log };
}

const NAVIGATORS = {
  'no navigator at all': null,
  'globalPrivacyControl undefined (WebKit, Chromium)': { value: { userAgent: 'AppleWebKit' } },
  'globalPrivacyControl false': { value: { globalPrivacyControl: false } },
  'globalPrivacyControl true': { value: { globalPrivacyControl: true } },
};

for (const [name, navigator] of Object.entries(NAVIGATORS)) {
  test(`GPC: ${name}`, async (t) => {
    swap(t, globalThis, 'navigator', navigator);
    const gpc = name.endsWith('true');
    const { url, log } = await collector(t);
    const { ew, errors } = await load({ ruleset: cohortsEwr(), fallback: undefined, collector: url });
    assert.equal(ew.state, 'ready');
    assert.equal((await ew.preferences()).gpc, gpc, 'GPC applies from load exactly when the browser sends it');
    const eff = await ew.setPreferences({ sharing: 'cohorts' });
    assert.deepEqual([eff.sharing, eff.gpc, eff.gpc_applied], gpc ? ['on-device', true, true] : ['cohorts', false, false]);
    const now = Date.now();
    await ew.setContext({ now, country: 'SE' });
    await ew.observe({ type: 'click', item: 'trail-shoe', at: now - 1000 });
    const sent = await ew.report();
    if (gpc) {
      assert.equal(sent, null);
      assert.deepEqual(log, [], 'under GPC nothing is requested at all');
    } else {
      assert.equal(sent.ruleset, 'corpus-cohorts');
      assert.deepEqual(log, ['GET /v1/cohort-sizes', 'POST /v1/reports']);
    }
    assert.deepEqual(errors, []);
  });
}

// --- 3. WebCrypto --------------------------------------------------------

// Writes what the host batched, and waits for it.
const settle = (ew) => ew._flush();

// The database's records by key, or null when there is no database.
async function dump(idb) {
  if (!(await IDBFactory.prototype.databases.call(idb)).some((d) => d.name === 'edgewise')) return null;
  const db = await new Promise((ok, fail) => {
    const r = idb.open('edgewise');
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  const store = db.transaction('kv').objectStore('kv');
  const [keys, values] = await Promise.all([store.getAllKeys(), store.getAll()].map((r) => new Promise((ok) => { r.onsuccess = () => ok(r.result); })));
  db.close();
  return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
}

// A crypto global whose subtle is given (undefined: an insecure context).
function fakeCrypto(subtle) {
  return { value: { subtle, getRandomValues: (a) => realCrypto.getRandomValues(a) } };
}

// Storage that cannot be used: the profile lives in memory for the page,
// one storage_failed event says so, and nothing is written.
async function assertMemoryOnly(ew, errors, idb, stored = null) {
  assert.equal(ew.state, 'ready');
  assert.deepEqual(codes(errors), [['storage_failed', 'load']]);
  assert.match(errors[0].message, /storage is unavailable, so the profile lasts only this page/);
  await assertPersonalized(ew);
  await ew.observe({ type: 'view', item: 'sock', at: T0 + 1 });
  await ew.observe({ type: 'view', item: 'sock', at: T0 + 2 });
  assert.equal((await ew.decide('related')).items[0].item, 'hat', 'the profile of this page keeps growing');
  await settle(ew);
  assert.equal(errors.length, 1, `one event, not one per write: ${JSON.stringify(errors)}`);
  if (idb) assert.deepEqual(await dump(idb), stored, 'nothing written, nothing erased');
  const exported = JSON.parse(await ew.exportData());
  assert.equal(exported.stored.indexeddb, 'nothing');
}

test('WebCrypto: without crypto.subtle (an insecure context) the profile lives in memory only', async (t) => {
  for (const [name, crypto] of [['no crypto.subtle', fakeCrypto(undefined)], ['no crypto at all', null]]) {
    await t.test(name, async (t) => {
      swap(t, globalThis, 'crypto', crypto);
      const idb = new IDBFactory();
      const { ew, errors } = await load({ storage: idb });
      await assertMemoryOnly(ew, errors, idb);
      assert.match(errors[0].message, /WebCrypto/);
      assert.equal(await ew.forget(), true);
    });
  }
});

test('WebCrypto: AES-GCM refused (NotSupportedError) keeps the stored profile untouched and this one in memory', async (t) => {
  for (const op of ['generateKey', 'encrypt', 'decrypt']) {
    await t.test(op, async (t) => {
      // An earlier visit, with working WebCrypto, stored a profile.
      const idb = new IDBFactory();
      const { ew: before } = await load({ storage: idb });
      await before.observe({ type: 'view', item: 'pan', at: T0 });
      await settle(before);
      const stored = await dump(idb);
      assert.deepEqual(Object.keys(stored).sort(), ['key', 'profile:shop']);

      const real = realCrypto.subtle;
      const subtle = {
        generateKey: (...a) => real.generateKey(...a),
        encrypt: (...a) => real.encrypt(...a),
        decrypt: (...a) => real.decrypt(...a),
        [op]: async () => {
          throw new DOMException('AES-GCM is not supported', 'NotSupportedError');
        },
      };
      swap(t, globalThis, 'crypto', fakeCrypto(subtle));
      const { ew, errors } = await load({ storage: idb });
      await assertMemoryOnly(ew, errors, idb, stored);
      assert.match(errors[0].message, /AES-GCM is not supported/);
    });
  }
});

// --- 4. compileStreaming -------------------------------------------------

async function wasmServer(t, type) {
  const server = await serve({ '/edgewise.wasm': { type, body: wasmBytes() } });
  t.after(() => server.close());
  return server.url('/edgewise.wasm');
}

test('compileStreaming missing: the engine compiles from the bytes', async (t) => {
  const url = await wasmServer(t, 'application/wasm');
  swap(t, WebAssembly, 'compileStreaming', null);
  const compile = t.mock.method(WebAssembly, 'compile');
  const { ew, errors } = await load({ wasm: url });
  assert.deepEqual(errors, []);
  assert.equal(compile.mock.callCount(), 1);
  assert.ok(compile.mock.calls[0].arguments[0] instanceof ArrayBuffer);
  await assertPersonalized(ew);
});

test('compileStreaming rejecting with a TypeError (not application/wasm) falls back to compiling the bytes', async (t) => {
  const url = await wasmServer(t, 'application/octet-stream');
  const streaming = t.mock.method(WebAssembly, 'compileStreaming');
  const compile = t.mock.method(WebAssembly, 'compile');
  const { ew, errors } = await load({ wasm: url });
  assert.deepEqual(errors, []);
  assert.equal(streaming.mock.callCount(), 1);
  await assert.rejects(streaming.mock.calls[0].result, TypeError, 'Node refuses the MIME type as browsers do');
  assert.equal(compile.mock.callCount(), 1);
  await assertPersonalized(ew);
});

test('compileStreaming rejecting with anything else is compile_failed, with fallbacks', async (t) => {
  const url = await wasmServer(t, 'application/wasm');
  for (const error of [new WebAssembly.CompileError('invalid opcode 0xfc00'), new RangeError('out of memory'), new DOMException('aborted', 'AbortError')]) {
    await t.test(error.name, async (t) => {
      t.mock.method(WebAssembly, 'compileStreaming', async () => {
        throw error;
      });
      const compile = t.mock.method(WebAssembly, 'compile');
      const { ew, errors } = await load({ wasm: url });
      assert.deepEqual(codes(errors), [['compile_failed', 'load']]);
      assert.ok(errors[0].message.includes(error.message));
      assert.equal(compile.mock.callCount(), 0, 'a real failure is not retried');
      await assertFallback(ew);
    });
  }
});

// --- 5. BigInt -----------------------------------------------------------

// Makes every wasm export that returns an i64 throw a TypeError, as engines
// without WebAssembly BigInt integration do.
function withoutBigIntIntegration(t) {
  const wrap = (exports) => Object.fromEntries(Object.entries(exports).map(([k, v]) => [k, typeof v !== 'function' ? v : (...a) => {
    const r = v(...a);
    if (typeof r === 'bigint') throw new TypeError('cannot pass an i64 to JavaScript');
    return r;
  }]));
  const { Instance, instantiate } = WebAssembly;
  swap(t, WebAssembly, 'Instance', { value: function (m, imports) { return { exports: wrap(new Instance(m, imports).exports) }; } });
  swap(t, WebAssembly, 'instantiate', { value: async (m, imports) => ({ exports: wrap((await instantiate(m, imports)).exports) }) });
}

test('no WebAssembly BigInt integration: unsupported_browser at load, fallbacks, no trap and no download', async (t) => {
  withoutBigIntIntegration(t);
  const fetched = t.mock.method(globalThis, 'fetch');
  const url = await wasmServer(t, 'application/wasm');
  for (const wasm of [mod, url]) {
    const { ew, errors } = await load({ wasm });
    await assertFallback(ew);
    await ew.decide('home');
    assert.deepEqual(codes(errors), [['unsupported_browser', 'load']]);
    assert.match(errors[0].message, /BigInt/);
  }
  assert.equal(fetched.mock.callCount(), 0, 'the engine is not even fetched');
});

test('no BigInt at all: unsupported_browser at load, fallbacks', async () => {
  const had = Object.getOwnPropertyDescriptor(globalThis, 'BigInt');
  delete globalThis.BigInt;
  let loaded;
  try {
    loaded = await load();
    await assertFallback(loaded.ew);
  } finally {
    Object.defineProperty(globalThis, 'BigInt', had);
  }
  assert.deepEqual(codes(loaded.errors), [['unsupported_browser', 'load']]);
});

test('a page whose CSP forbids compiling still gets compile_failed, not unsupported_browser', async (t) => {
  // A function, not an arrow: the SDK still asks `instanceof WebAssembly.Module`.
  function refuse() {
    throw new WebAssembly.CompileError('Wasm code generation disallowed by embedder');
  }
  swap(t, WebAssembly, 'Module', { value: refuse });
  t.mock.method(WebAssembly, 'compile', async () => refuse());
  const { ew, errors } = await load({ wasm: wasmBytes() });
  assert.deepEqual(codes(errors), [['compile_failed', 'load']]);
  await assertFallback(ew);
});

test('WebKit refuses wasm under CSP at instantiation, not compilation: still compile_failed', async (t) => {
  // WebKitGTK 2.50's words, from the browser suite.
  const refusal = "Refused to create a WebAssembly object because 'unsafe-eval' or 'wasm-unsafe-eval' is not an allowed source of script in the following Content Security Policy directive: \"script-src 'self'\".";
  t.mock.method(WebAssembly, 'instantiate', async () => {
    throw new Error(refusal);
  });
  const { ew, errors } = await load();
  assert.deepEqual(codes(errors), [['compile_failed', 'load']]);
  assert.match(errors[0].message, /wasm-unsafe-eval/);
  await assertFallback(ew);
});

// --- 6. IndexedDB --------------------------------------------------------

// A request that fires after the current task, as IndexedDB's do.
function request({ error }) {
  const r = { error: null };
  setTimeout(() => {
    r.error = error || null;
    const fire = error ? r.onerror : r.onsuccess;
    if (fire) fire();
  }, 0);
  return r;
}

const INVALID = () => new DOMException('A mutation operation was attempted on a database that did not allow mutations.', 'InvalidStateError');

const UNUSABLE = {
  'indexedDB undefined': { value: undefined, forgot: true },
  'indexedDB throwing on access (a sandboxed frame)': {
    get() {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    },
    forgot: true,
  },
  'indexedDB.open throwing (Firefox private browsing before 115)': {
    value: {
      open() {
        throw INVALID();
      },
      deleteDatabase() {
        throw INVALID();
      },
    },
    forgot: false,
  },
  'the open request firing error': {
    value: { open: () => request({ error: new DOMException('Internal error.', 'UnknownError') }), deleteDatabase: () => request({}) },
    forgot: true,
  },
};

for (const [name, { forgot, ...descriptor }] of Object.entries(UNUSABLE)) {
  test(`IndexedDB: ${name}: the profile lives in memory only`, async (t) => {
    swap(t, globalThis, 'indexedDB', descriptor);
    const { ew, errors } = await load({ storage: true });
    await assertMemoryOnly(ew, errors, null);
    // forget() erases what it can and says whether all of it is gone.
    assert.equal(await ew.forget(), forgot);
    assert.deepEqual(codes(errors.slice(1)), forgot ? [] : [['storage_failed', 'forget']]);
    assert.equal((await ew.decide('related')).fallback, true, 'the page\'s profile is erased');
  });
}

test('IndexedDB: without indexedDB.databases (Firefox before 126) nothing breaks, forget() included', async () => {
  const idb = new IDBFactory();
  idb.databases = undefined;
  const { ew, errors } = await load({ storage: idb });
  await assertPersonalized(ew);
  await settle(ew);
  const { ew: again, errors: errors2 } = await load({ storage: idb });
  assert.deepEqual(ids(await again.decide('related')), ['mug', 'pan'], 'the profile came back');
  assert.equal(await again.forget(), true);
  assert.equal(await dump(idb), null, 'the database is gone');
  assert.deepEqual([...errors, ...errors2], []);
});

// --- 7. localStorage -----------------------------------------------------

const BROKEN_LOCAL_STORAGE = {
  'throwing on access (storage disabled)': {
    get() {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    },
  },
  'refusing every write (Safari private browsing of old)': {
    value: {
      getItem: () => null,
      setItem() {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      },
      removeItem() {},
    },
  },
};

for (const [name, descriptor] of Object.entries(BROKEN_LOCAL_STORAGE)) {
  test(`localStorage ${name}: the no-flicker cache is skipped silently`, async (t) => {
    swap(t, globalThis, 'localStorage', descriptor);
    assert.equal(Edgewise.cached('related'), null);
    const { ew, errors } = await load();
    await assertPersonalized(ew);
    assert.equal(Edgewise.cached('related'), null);
    assert.equal(JSON.parse(await ew.exportData()).stored.localStorage[CACHE_KEY], null);
    assert.equal((await ew.setConsent('off')).sharing, 'off');
    assert.equal(await ew.forget(), true);
    assert.deepEqual(errors, []);
  });
}

// --- 8. wasm features the engine lacks -------------------------------------

// A function using an opcode (0xfc 0x7f) no engine knows, as an engine
// without sign-extension or saturating conversions sees those opcodes.
const UNKNOWN_OPCODE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 0xfc, 0x7f, 11,
]);

test('a wasm the engine cannot compile (an unknown opcode) is compile_failed, with fallbacks', async (t) => {
  const server = await serve({ '/edgewise.wasm': { type: 'application/wasm', body: UNKNOWN_OPCODE } });
  t.after(() => server.close());
  for (const wasm of [UNKNOWN_OPCODE, server.url('/edgewise.wasm')]) {
    const { ew, errors } = await load({ wasm });
    assert.deepEqual(codes(errors), [['compile_failed', 'load']]);
    assert.match(errors[0].message, /opcode/);
    await assertFallback(ew);
  }
});

// --- 6, last: should load ever wait on it again, this test's load never
// settles, which ends the run; here it cannot take other tests with it.

test('IndexedDB: an open request that never answers (WebKit) stops holding up load', { timeout: 20_000 }, async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let opened;
  const asked = new Promise((resolve) => {
    opened = resolve;
  });
  swap(t, globalThis, 'indexedDB', { value: { open: () => (opened(), {}), deleteDatabase: () => ({}) } });
  const loading = load({ storage: true });
  await asked;
  t.mock.timers.tick(OPEN_TIMEOUT);
  const { ew, errors } = await loading;
  t.mock.timers.reset();
  await assertMemoryOnly(ew, errors, null);
  assert.match(errors[0].message, /did not open/);
});
