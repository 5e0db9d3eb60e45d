// The public SDK (src/index.js) against the real wasm module.

import test from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '@msgpack/msgpack';
import { Edgewise } from '../testing/sdk.mjs';
import {
  fakeEngine, flipByte, randomBytes, serve, shopEwr, shopFallback, testPublicKey, wasmBytes, wasmModule,
} from '../testing/helpers.mjs';

const mod = await wasmModule();
const FALLBACK = 'Picked by the shop for everyone';
const T0 = 1700000000000;

// What a page passes to Edgewise.load for the test shop; storage: false, as
// Node has no IndexedDB (which would be an error event).
const shop = () => ({ wasm: mod, ruleset: shopEwr(), publicKey: testPublicKey(), fallback: shopFallback(), storage: false });

// Loads an instance and collects its events.
async function load(options = {}) {
  const ew = await Edgewise.load({ ...shop(), ...options });
  const seen = { error: [], decision: [] };
  ew.on('error', (e) => seen.error.push(e)).on('decision', (d) => seen.decision.push(d));
  await Promise.resolve(); // errors raised during load arrive in a microtask
  return { ew, seen };
}

const ids = (d) => d.items.map((p) => p.item);

test('decide re-ranks after views, and says why', async () => {
  const { ew, seen } = await load({ wasm: wasmBytes() });
  assert.equal(ew.state, 'ready');
  const before = await ew.decide('related');
  // The fallback first, then the slot's other items up to its limit.
  assert.deepEqual(before, { slot: 'related', items: [{ item: 'pan', score: 0, reason: FALLBACK }, { item: 'mug', score: 0, reason: FALLBACK }], fallback: true });

  assert.equal(await ew.observe({ type: 'view', item: 'mug', at: T0 }), true);
  assert.deepEqual(ids(await ew.decide('related')), ['mug', 'pan']);

  // Socks are wool, like the hat: after two sock views the hat leads.
  assert.equal(await ew.observe({ type: 'view', item: 'sock', at: T0 + 1000 }), true);
  assert.equal(await ew.observe({ type: 'view', item: 'sock', at: T0 + 2000 }), true);
  const after = await ew.decide('related');
  assert.equal(after.fallback, false);
  assert.equal(after.items[0].item, 'hat');
  assert.match(after.items[0].reason, /^Because you viewed /);
  assert.equal(after.items[0].reason, 'Because you viewed Wool socks');
  assert.ok(after.items[0].score > after.items[1].score);

  const both = await ew.decide(['home', 'related']);
  assert.ok(Array.isArray(both));
  assert.deepEqual(both.map((d) => d.slot), ['home', 'related']);
  assert.equal(both[0].items[0].item, 'sock');
  // One decide shows an item once: the home slot, asked first, shows the
  // hat, so related does not.
  assert.ok(both[0].items.some((p) => p.item === 'hat'));
  assert.ok(!both[1].items.some((p) => p.item === 'hat'));
  const rest = ids(after).filter((id) => id !== 'hat');
  assert.deepEqual(ids(both[1]).slice(0, rest.length), rest, 'related keeps the rest of its order');
  assert.equal(seen.decision.length, 5, 'one decision event per decided slot');
  assert.deepEqual(seen.error, []);
  assert.equal((await ew.version()).ruleset, 'shop@1');
});

test('observe defaults at to now, and reports bad events', async () => {
  const { ew, seen } = await load();
  assert.equal(await ew.observe({ type: 'click', item: 'hat' }), true);
  assert.match((await ew.decide('related')).items[0].reason, /^Because you .+ Wool hat$/);
  assert.equal(await ew.observe({ type: 'view', item: 'ghost' }), false);
  assert.equal(await ew.observe({ type: 'stare', item: 'hat' }), false);
  assert.equal(await ew.observe(), false);
  assert.deepEqual(seen.error.map((e) => [e.code, e.op]), [
    ['unknown_item', 'observe'], ['bad_request', 'observe'], ['bad_request', 'observe'],
  ]);
  assert.equal(await ew.setContext({ now: -1 }), false);
  assert.equal(await ew.setContext(), true);
});

test('calls run in order without awaiting each one', async () => {
  const { ew } = await load();
  ew.observe({ type: 'view', item: 'sock', at: T0 });
  ew.observe({ type: 'view', item: 'sock', at: T0 + 1 });
  const d = await ew.decide('related');
  assert.equal(d.items[0].item, 'hat');
});

test('an unknown slot falls back alone', async () => {
  const { ew, seen } = await load();
  await ew.observe({ type: 'view', item: 'sock', at: T0 });
  const [home, nope] = await ew.decide(['home', 'nope']);
  assert.equal(home.fallback, false);
  assert.equal(home.items[0].item, 'sock');
  assert.deepEqual(nope, { slot: 'nope', items: [], fallback: true });
  assert.deepEqual(seen.error.map((e) => [e.code, e.op]), [['unknown_slot', 'decide']]);
});

test('a bad wasm gives fallback content and an error event, never a throw', async () => {
  const { ew, seen } = await load({ wasm: randomBytes(1000, 9) });
  assert.equal(ew.state, 'failed');
  assert.deepEqual(seen.error.map((e) => [e.code, e.op]), [['compile_failed', 'load']]);
  assert.deepEqual(await ew.decide('home'), {
    slot: 'home',
    items: [{ item: 'mug', score: 0, reason: FALLBACK }, { item: 'pan', score: 0, reason: FALLBACK }],
    fallback: true,
  });
  const many = await ew.decide(['related', 'nope']);
  assert.deepEqual(many.map(ids), [['pan'], []]);
  assert.ok(many.every((d) => d.fallback));
  assert.equal(await ew.observe({ type: 'view', item: 'sock' }), false);
  assert.equal(await ew.setContext({ now: T0 }), false);
  assert.equal(await ew.snapshot(), null);
  assert.equal(await ew.restore(new Uint8Array([1])), false);
  assert.equal(await ew.version(), null);
  assert.equal(seen.decision.length, 3);
});

test('load never rejects, whatever it is given', async (t) => {
  const server = await serve({ '/rules.ewr': { type: 'application/octet-stream', body: shopEwr() } });
  t.after(() => server.close());
  const { wasm, ruleset, publicKey } = shop();
  const cases = {
    'nothing': undefined,
    'no wasm': { ruleset, publicKey },
    'no ruleset': { wasm, publicKey },
    'no public key': { wasm, ruleset },
    'a 404 ruleset URL': { wasm, ruleset: server.url('/missing.ewr'), publicKey, fallback: { home: ['mug'] } },
    'an unreachable ruleset URL': { wasm, ruleset: 'http://127.0.0.1:1/rules.ewr', publicKey },
    'an unreachable wasm URL': { wasm: 'http://127.0.0.1:1/edgewise.wasm', ruleset, publicKey },
    'a ruleset object': { wasm, ruleset: { id: 'shop', catalogue: [], slots: [] }, publicKey },
    'bytes that are not a ruleset': { wasm, ruleset: randomBytes(200, 4), publicKey },
    'unsigned msgpack': { wasm, ruleset: encode({ id: 'shop' }), publicKey },
    'a truncated ruleset': { wasm, ruleset: ruleset.slice(0, 80), publicKey },
    'a changed ruleset': { wasm, ruleset: flipByte(ruleset, 100), publicKey },
    'another key': { wasm, ruleset, publicKey: randomBytes(32, 8) },
    'a short key': { wasm, ruleset, publicKey: publicKey.slice(0, 16) },
    'a key that is not base64': { wasm, ruleset, publicKey: 'not base64!' },
    'a module for another ABI': { wasm: fakeEngine(encode({ result: { abi: 2, engine: 'x' } })), ruleset, publicKey },
  };
  const codes = {};
  for (const [name, options] of Object.entries(cases)) {
    const ew = await Edgewise.load(options);
    assert.equal(ew.state, 'failed', name);
    const errors = [];
    ew.on('error', (e) => errors.push(e));
    await Promise.resolve();
    assert.ok(errors.length > 0, `${name}: an error event`);
    assert.ok(errors.every((e) => typeof e.message === 'string' && e.message && e.op === 'load'), name);
    codes[name] = errors.map((e) => e.code).join(',');
    const d = await ew.decide('home');
    assert.equal(d.fallback, true, name);
  }
  assert.deepEqual(codes, {
    'nothing': 'no_ruleset,no_public_key,compile_failed',
    'no wasm': 'compile_failed',
    'no ruleset': 'no_ruleset',
    'no public key': 'no_public_key',
    'a 404 ruleset URL': 'fetch_failed',
    'an unreachable ruleset URL': 'fetch_failed',
    'an unreachable wasm URL': 'compile_failed',
    'a ruleset object': 'bad_ruleset_file',
    'bytes that are not a ruleset': 'bad_ruleset_file',
    'unsigned msgpack': 'bad_ruleset_file',
    'a truncated ruleset': 'bad_ruleset_file',
    'a changed ruleset': 'bad_signature',
    'another key': 'bad_signature',
    'a short key': 'bad_public_key',
    'a key that is not base64': 'bad_public_key',
    'a module for another ABI': 'abi_version',
  });
  // The fallback option is what slots show when the engine cannot run;
  // a slot it does not name shows nothing.
  const failed = await Edgewise.load(cases['a 404 ruleset URL']);
  assert.deepEqual(await failed.decide('home'), { slot: 'home', items: [{ item: 'mug', score: 0, reason: FALLBACK }], fallback: true });
  assert.deepEqual(await failed.decide('related'), { slot: 'related', items: [], fallback: true });
});

test('a tampered ruleset gives fallback content and a bad_signature error', async () => {
  const { ew, seen } = await load({ ruleset: flipByte(shopEwr(), 200) });
  assert.equal(ew.state, 'failed');
  assert.equal(seen.error.length, 1);
  assert.equal(seen.error[0].code, 'bad_signature');
  assert.equal(seen.error[0].op, 'load');
  assert.match(seen.error[0].message, /changed|damaged/);
  assert.deepEqual(await ew.decide(['home', 'related']), [
    { slot: 'home', items: [{ item: 'mug', score: 0, reason: FALLBACK }, { item: 'pan', score: 0, reason: FALLBACK }], fallback: true },
    { slot: 'related', items: [{ item: 'pan', score: 0, reason: FALLBACK }], fallback: true },
  ]);
  assert.equal(await ew.observe({ type: 'view', item: 'sock' }), false, 'nothing is recorded without a verified ruleset');
  assert.equal(await ew.version(), null);
});

test('load takes URLs, responses and bytes for the ruleset, and bytes or base64 for the key', async (t) => {
  const server = await serve({
    '/edgewise.wasm': { type: 'application/wasm', body: wasmBytes() },
    '/rules.ewr': { type: 'application/octet-stream', body: shopEwr() },
  });
  t.after(() => server.close());
  const bytes = testPublicKey();
  const b64 = Buffer.from(bytes).toString('base64');
  const ewr = shopEwr();
  const variants = {
    'URL strings, base64 key': { wasm: server.url('/edgewise.wasm'), ruleset: server.url('/rules.ewr'), publicKey: b64 },
    'URL objects, URL-safe base64 key without padding': {
      wasm: new URL(server.url('/edgewise.wasm')),
      ruleset: new URL(server.url('/rules.ewr')),
      publicKey: b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
    },
    'a Response, an ArrayBuffer key': {
      wasm: mod, ruleset: await fetch(server.url('/rules.ewr')), publicKey: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 32),
    },
    'a promise of a Response': { wasm: mod, ruleset: fetch(server.url('/rules.ewr')), publicKey: bytes },
    'an ArrayBuffer, a padded key': { wasm: mod, ruleset: ewr.buffer.slice(ewr.byteOffset, ewr.byteOffset + ewr.length), publicKey: ` ${b64}\n` },
    'a DataView': { wasm: mod, ruleset: new DataView(ewr.buffer, ewr.byteOffset, ewr.length), publicKey: new DataView(bytes.buffer, bytes.byteOffset, 32) },
  };
  for (const [name, options] of Object.entries(variants)) {
    const ew = await Edgewise.load(options);
    const errors = [];
    ew.on('error', (e) => errors.push(e));
    await Promise.resolve();
    assert.equal(ew.state, 'ready', `${name}: ${JSON.stringify(errors)}`);
    assert.equal((await ew.version()).ruleset, 'shop@1', name);
  }
});

test('the SDK keeps its own copy of the ruleset and key', async () => {
  const ruleset = shopEwr();
  const publicKey = testPublicKey();
  const { ew, seen } = await load({ ruleset, publicKey });
  ruleset.fill(0);
  publicKey.fill(0);
  await ew.observe({ type: 'view', item: 'sock', at: T0 });
  // A trap makes the SDK load the ruleset again, from its copy.
  new Uint8Array(ew._engine.exports.memory.buffer).fill(0);
  await ew.decide('home');
  assert.equal((await ew.decide('home')).items[0].item, 'sock');
  assert.deepEqual(seen.error.map((e) => e.code), ['trap']);
});

test('snapshot and restore carry a profile into a fresh instance', async () => {
  const { ew } = await load();
  await ew.observe({ type: 'view', item: 'sock', at: T0 });
  await ew.observe({ type: 'add_to_cart', item: 'pan', at: T0 + 5000 });
  const want = await ew.decide(['home', 'related']);
  const snap = await ew.snapshot();
  assert.ok(snap instanceof Uint8Array && snap.length > 0);

  const { ew: fresh, seen } = await load();
  assert.ok((await fresh.decide('home')).fallback, 'a fresh instance starts empty');
  assert.equal(await fresh.restore(snap), true);
  assert.deepEqual(await fresh.decide(['home', 'related']), want);
  assert.deepEqual(await fresh.snapshot(), snap);

  // A corrupt snapshot is refused and leaves an empty profile, not half of one.
  assert.equal(await fresh.restore(snap.slice(0, snap.length - 3)), false);
  assert.equal(await fresh.restore('not bytes'), false);
  assert.deepEqual(seen.error.map((e) => [e.code, e.op]), [['corrupt_snapshot', 'restore'], ['bad_request', 'restore']]);
  assert.ok((await fresh.decide('home')).fallback);
  assert.equal(await fresh.observe({ type: 'view', item: 'hat', at: T0 }), true);
  assert.equal((await fresh.decide('related')).items[0].item, 'hat');
});

test('after a trap the next call rebuilds the engine with its profile', async () => {
  const { ew, seen } = await load();
  await ew.setContext({ now: T0 + 3 * 86400000 });
  await ew.observe({ type: 'view', item: 'sock', at: T0 });
  await ew.observe({ type: 'purchase', item: 'mug', at: T0 + 1000 });
  const want = await ew.decide(['home', 'related']);
  const first = ew._engine;

  // Corrupt the module's memory: its next call traps for real.
  new Uint8Array(first.exports.memory.buffer).fill(0);
  const during = await ew.decide('related');
  assert.deepEqual(during, { slot: 'related', items: [{ item: 'pan', score: 0, reason: FALLBACK }], fallback: true });
  assert.equal(first.dead, true);
  assert.deepEqual(seen.error.map((e) => [e.code, e.op]), [['trap', 'decide']]);

  // The next call gets a new instance with the ruleset, context and profile.
  assert.deepEqual(await ew.decide(['home', 'related']), want);
  assert.notEqual(ew._engine, first);
  assert.equal(ew.state, 'ready');
  assert.equal(seen.error.length, 1);
});

test('a trap in observe keeps the profile from the last snapshot', async () => {
  const { ew, seen } = await load();
  await ew.observe({ type: 'view', item: 'sock', at: T0 });
  ew._engine.exports.ew_observe = () => {
    throw new WebAssembly.RuntimeError('unreachable');
  };
  assert.equal(await ew.observe({ type: 'view', item: 'mug', at: T0 + 1 }), false);
  assert.equal(seen.error[0].code, 'trap');
  const d = await ew.decide('related');
  assert.equal(d.items[0].item, 'hat', 'the sock view came back from the snapshot');
  assert.equal(d.items[0].reason, 'Because you viewed Wool socks');
  assert.ok(!ids(d).includes('mug'), 'the trapped observe is not in the profile');
});

test('listeners: on, off, and a throwing listener does not break calls', async (t) => {
  const { ew } = await load();
  const got = [];
  const fn = (d) => got.push(d.slot);
  ew.on('decision', fn);
  await ew.decide('home');
  ew.off('decision', fn);
  await ew.decide('home');
  assert.deepEqual(got, ['home']);

  const logged = [];
  t.mock.method(console, 'error', (e) => logged.push(e));
  ew.on('decision', () => {
    throw new Error('listener bug');
  });
  assert.equal((await ew.decide('home')).slot, 'home');
  assert.equal(logged[0].message, 'listener bug');
});
