// The SDK's two modes, main thread and Web Worker, speak the same message
// protocol (src/channel.js, src/host.js): the same scenarios run in both.
// Node has no Web Worker, so the worker here is worker_threads running
// src/worker.js (testing/worker-entry.mjs); the browser tests run the real one.

import test from 'node:test';
import assert from 'node:assert/strict';
import { Edgewise } from '../src/index.js';
import { nodeWorker, shopEwr, shopFallback, testPublicKey, wasmBytes, wasmModule } from '../testing/helpers.mjs';

const mod = await wasmModule();
const T0 = 1700000000000;
const ids = (d) => d.items.map((p) => p.item);

const MODES = {
  'main thread': () => ({ worker: false, poison: (ew) => new Uint8Array(ew._engine.exports.memory.buffer).fill(0) }),
  'worker': (t) => {
    const w = nodeWorker();
    t.after(() => w.terminate());
    return { worker: w, poison: () => w.poison() };
  },
};

async function load(t, mode, options = {}) {
  const { worker, poison } = MODES[mode](t);
  const ew = await Edgewise.load({ wasm: mod, ruleset: shopEwr(), publicKey: testPublicKey(), fallback: shopFallback(), worker, storage: false, ...options });
  const seen = { error: [] };
  ew.on('error', (e) => seen.error.push(e));
  await Promise.resolve();
  return { ew, seen, poison: () => poison(ew) };
}

for (const mode of Object.keys(MODES)) {
  test(`${mode}: decide, explain and the state`, async (t) => {
    const { ew, seen } = await load(t, mode, { wasm: wasmBytes() });
    assert.equal(ew.state, 'ready', JSON.stringify(seen.error));
    assert.equal(ew.consent, 'on-device');
    await ew.observe({ type: 'view', item: 'sock', at: T0 });
    await ew.observe({ type: 'view', item: 'sock', at: T0 + 1 });
    const d = await ew.decide('related');
    assert.equal(d.items[0].item, 'hat');
    assert.deepEqual(await ew.explain('hat'), { item: 'hat', slot: 'related', reason: 'Because you viewed Wool socks', rules: [] });
    assert.equal(await ew.explain('nothing-shown'), null);
    assert.equal((await ew.version()).ruleset, 'shop@1');
    assert.deepEqual(seen.error, []);
  });

  test(`${mode}: after a trap the engine is rebuilt with its profile`, async (t) => {
    const { ew, seen, poison } = await load(t, mode);
    await ew.observe({ type: 'view', item: 'sock', at: T0 });
    const want = await ew.decide(['home', 'related']);
    await poison();
    const during = await ew.decide('related');
    assert.equal(during.fallback, true);
    assert.deepEqual(ids(during), ['pan'], "the ruleset's fallback");
    assert.deepEqual(seen.error.map((e) => [e.code, e.op]), [['trap', 'decide']]);
    assert.deepEqual(await ew.decide(['home', 'related']), want);
    assert.equal(ew.state, 'ready');
  });

  test(`${mode}: load fails quietly`, async (t) => {
    const { ew, seen } = await load(t, mode, { ruleset: shopEwr().slice(0, 50) });
    assert.equal(ew.state, 'failed');
    assert.deepEqual(seen.error.map((e) => [e.code, e.op]), [['bad_ruleset_file', 'load']]);
    assert.deepEqual(ids(await ew.decide('home')), ['mug', 'pan']);
    assert.equal(await ew.observe({ type: 'view', item: 'sock' }), false);
    assert.equal(ew.consent, null);
  });

  test(`${mode}: a wasm that does not compile falls back`, async (t) => {
    const { ew, seen } = await load(t, mode, { wasm: new Uint8Array([1, 2, 3]) });
    assert.equal(ew.state, 'failed');
    assert.deepEqual(seen.error.map((e) => [e.code, e.op]), [['compile_failed', 'load']]);
    assert.equal((await ew.decide('home')).fallback, true);
  });
}

test('a worker that fails to start hands over to the main thread', async (t) => {
  const broken = new EventTarget();
  broken.postMessage = () => queueMicrotask(() => broken.dispatchEvent(Object.assign(new Event('error'), { message: 'worker script 404' })));
  broken.terminate = () => {};
  const { ew, seen } = await load(t, 'main thread', { worker: broken });
  assert.equal(ew.state, 'ready');
  assert.deepEqual(seen.error.map((e) => e.code), ['worker_unavailable']);
  assert.match(seen.error[0].message, /404.*main thread/);
  await ew.observe({ type: 'view', item: 'mug', at: T0 });
  assert.deepEqual(ids(await ew.decide('related')), ['mug', 'pan']);
});

test('the host answers an unknown message with an error, not a throw', async () => {
  const { Host } = await import('../src/host.js');
  const host = new Host();
  for (const msg of [{ id: 1, type: 'constructor' }, { id: 2, type: 'rebuild' }, null]) {
    const reply = await host.handle(msg);
    assert.equal(reply.res, null);
    assert.deepEqual(reply.errors.map((e) => e.code), ['internal']);
  }
});
