// The profile at rest (src/storage.js): IndexedDB from fake-indexeddb,
// WebCrypto from Node. Encrypted with a non-extractable key, one record per
// ruleset, reset cleanly when unreadable, and gone after forget().

import test from 'node:test';
import assert from 'node:assert/strict';
import { IDBFactory } from 'fake-indexeddb';
import { Edgewise } from '../testing/sdk.mjs';
import { CACHE_KEY } from '../src/cache.js';
import { openStorage } from '../src/storage.js';
import { installLocalStorage, shopEwr, shopFallback, testPublicKey, wasmModule } from '../testing/helpers.mjs';

const mod = await wasmModule();
const T0 = 1700000000000;
const ids = (d) => d.items.map((p) => p.item);
const local = installLocalStorage();

async function load(idb, options = {}) {
  const ew = await Edgewise.load({ wasm: mod, ruleset: shopEwr(), publicKey: testPublicKey(), fallback: shopFallback(), storage: idb, worker: false, ...options });
  const seen = { error: [] };
  ew.on('error', (e) => seen.error.push(e));
  await Promise.resolve();
  return { ew, seen };
}

// Every value in the database, by key.
async function dump(idb) {
  const db = await new Promise((ok, fail) => {
    const r = idb.open('edgewise');
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  const tx = db.transaction('kv');
  const store = tx.objectStore('kv');
  const [keys, values] = await Promise.all([store.getAllKeys(), store.getAll()].map((r) => new Promise((ok) => { r.onsuccess = () => ok(r.result); })));
  db.close();
  return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
}

async function put(idb, key, value) {
  const db = await new Promise((ok) => {
    const r = idb.open('edgewise');
    r.onsuccess = () => ok(r.result);
  });
  const tx = db.transaction('kv', 'readwrite');
  tx.objectStore('kv').put(value, key);
  await new Promise((ok) => { tx.oncomplete = ok; });
  db.close();
}

// Writes what the host batched, and waits for it.
const settle = (ew) => ew._flush();

test('the profile survives a reload, encrypted with a key nobody can export', async () => {
  const idb = new IDBFactory();
  const { ew, seen } = await load(idb);
  await ew.observe({ type: 'view', item: 'sock', at: T0 });
  await ew.observe({ type: 'view', item: 'sock', at: T0 + 1 });
  const want = await ew.decide(['home', 'related']);
  await settle(ew);

  const stored = await dump(idb);
  assert.deepEqual(Object.keys(stored).sort(), ['key', 'profile:shop']);
  assert.ok(stored.key instanceof CryptoKey);
  assert.equal(stored.key.extractable, false);
  await assert.rejects(crypto.subtle.exportKey('raw', stored.key));
  const bytes = Buffer.from(stored['profile:shop'].data);
  assert.ok(bytes.length > 16);
  for (const word of ['sock', 'shop', 'events', 'view']) assert.equal(bytes.indexOf(word), -1, `"${word}" is not in the stored bytes`);
  assert.equal(stored['profile:shop'].iv.length, 12);

  const { ew: again, seen: seen2 } = await load(idb);
  assert.deepEqual(await again.decide(['home', 'related']), want, 'the next visit decides as this one did');
  assert.deepEqual([...seen.error, ...seen2.error], []);
});

test('an undecryptable profile is erased, reported, and the person starts afresh', async () => {
  const idb = new IDBFactory();
  const { ew } = await load(idb);
  await ew.observe({ type: 'view', item: 'sock', at: T0 });
  await settle(ew);
  const stored = await dump(idb);
  const data = new Uint8Array(stored['profile:shop'].data);
  data[3] ^= 1;
  await put(idb, 'profile:shop', { ...stored['profile:shop'], data: data.buffer });

  const { ew: next, seen } = await load(idb);
  assert.equal(next.state, 'ready');
  assert.deepEqual(seen.error.map((e) => [e.code, e.op]), [['storage_corrupt', 'load']]);
  assert.equal((await next.decide('home')).fallback, true, 'an empty profile');
  assert.equal((await dump(idb))['profile:shop'], undefined, 'the bad record is gone');
  await next.observe({ type: 'view', item: 'mug', at: T0 });
  await settle(next);
  const { ew: third, seen: seen3 } = await load(idb);
  assert.deepEqual(ids(await third.decide('related')), ['mug', 'pan']);
  assert.deepEqual(seen3.error, []);
});

test('a profile the engine refuses is reset and replaced', async () => {
  const idb = new IDBFactory();
  const { ew } = await load(idb);
  await ew.observe({ type: 'view', item: 'sock', at: T0 });
  await settle(ew);
  // A validly encrypted record holding bytes that are not a snapshot.
  const key = (await dump(idb)).key;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode('shop') }, key, new Uint8Array([0xc1, 2, 3]));
  await put(idb, 'profile:shop', { iv, data, at: Date.now() });

  const { ew: next, seen } = await load(idb);
  assert.equal(next.state, 'ready');
  assert.deepEqual(seen.error.map((e) => [e.code, e.op]), [['corrupt_snapshot', 'load']]);
  assert.equal((await next.decide('home')).fallback, true);
});

test('forget() erases the profile, the database and the no-flicker cache', async () => {
  const idb = new IDBFactory();
  const { ew, seen } = await load(idb);
  await ew.setPreferences({ frequency: 'low' });
  await ew.observe({ type: 'view', item: 'sock', at: T0 });
  const d = await ew.decide('related');
  assert.equal(d.fallback, false);
  assert.deepEqual(Edgewise.cached('related'), ids(d));
  await settle(ew);
  assert.deepEqual((await idb.databases()).map((x) => x.name), ['edgewise']);

  assert.equal(await ew.forget(), true);
  assert.deepEqual(await idb.databases(), []);
  assert.equal(local.get(CACHE_KEY), undefined);
  assert.equal(Edgewise.cached('related'), null);
  assert.equal((await ew.decide('related')).fallback, true, 'the profile is empty');
  assert.equal(await ew.explain('hat'), null);
  assert.equal((await ew.preferences()).frequency, 'low', 'the choices of this page stay in effect');
  await settle(ew);
  assert.deepEqual(await idb.databases(), [], 'nothing was written back');
  assert.deepEqual(seen.error, []);

  // Later activity is stored again, from scratch.
  await ew.observe({ type: 'view', item: 'mug', at: T0 });
  await settle(ew);
  assert.deepEqual((await idb.databases()).map((x) => x.name), ['edgewise']);
});

test('the no-flicker cache keeps item ids only, and nothing while sharing is off', async () => {
  const idb = new IDBFactory();
  local.clear();
  const { ew } = await load(idb);
  await ew.observe({ type: 'view', item: 'sock', at: T0 });
  const [home, related] = await ew.decide(['home', 'related']);
  const cache = JSON.parse(local.get(CACHE_KEY));
  // Only what a first paint needs: no time finer than the UTC day.
  assert.deepEqual(Object.keys(cache).sort(), ['day', 'ruleset', 'slots', 'v']);
  assert.equal(cache.day, Math.floor(Date.now() / 864e5));
  // Personalized slots only: related, whose wool hat the home slot shows
  // first, falls back and is not kept.
  assert.equal(related.fallback, true);
  assert.deepEqual(cache.slots, { home: ids(home) });
  assert.equal(cache.ruleset, 'shop');
  assert.ok(!local.get(CACHE_KEY).includes('Because'), 'no reasons');

  assert.equal(ew.consent, 'on-device');
  assert.equal((await ew.setConsent('off')).sharing, 'off');
  assert.equal(ew.consent, 'off');
  assert.equal(local.get(CACHE_KEY), undefined, 'sharing off clears it');
  await ew.decide(['home', 'related']);
  assert.equal(local.get(CACHE_KEY), undefined, 'and writes nothing');
  await settle(ew);
  // The choice itself is kept, so the next visit stays off.
  const { ew: next } = await load(idb);
  assert.equal(next.consent, 'off');
});

test('storage: false keeps nothing, and a broken IndexedDB only costs persistence', async () => {
  const { ew } = await load(false);
  await ew.observe({ type: 'view', item: 'sock', at: T0 });
  assert.equal(await ew.forget(), true);

  const broken = { open() { throw new Error('IndexedDB is disabled'); } };
  const { ew: b, seen } = await load(broken);
  assert.equal(b.state, 'ready');
  assert.deepEqual(seen.error.map((e) => [e.code, e.op]), [['storage_failed', 'load']]);
  assert.equal(await b.observe({ type: 'view', item: 'sock', at: T0 }), true);
});

test('the no-flicker cache is written when the picks change, not on every decide', async () => {
  local.clear();
  const { ew } = await load(new IDBFactory());
  await ew.observe({ type: 'view', item: 'sock', at: T0 });
  const writes = [];
  const setItem = localStorage.setItem;
  localStorage.setItem = (k, v) => {
    writes.push(k);
    setItem(k, v);
  };
  try {
    for (let i = 0; i < 5; i++) await ew.decide(['home', 'related']);
    assert.equal(writes.length, 1, 'five identical decides write once');
    await ew.observe({ type: 'view', item: 'pan', at: T0 + 1000 });
    await ew.observe({ type: 'view', item: 'pan', at: T0 + 2000 });
    const [, related] = await ew.decide(['home', 'related']);
    assert.equal(writes.length, 2, 'new picks are written');
    assert.deepEqual(JSON.parse(local.get(CACHE_KEY)).slots.related, ids(related));
  } finally {
    localStorage.setItem = setItem;
  }
});

test('the stored record shows nothing but what decrypting needs: no write time, no epoch', async () => {
  const idb = new IDBFactory();
  const storage = await openStorage(idb, crypto.subtle);
  const snapshot = new Uint8Array([1, 2, 3, 4, 5]);
  await storage.save('shop', snapshot, 2905);
  const record = (await dump(idb))['profile:shop'];
  assert.deepEqual(Object.keys(record).sort(), ['data', 'iv', 'v'], 'only the format, the IV and the ciphertext');
  assert.equal(record.v, 2);
  assert.deepEqual(await storage.load('shop'), { snapshot, reported: 2905, after: 0 }, 'the epoch comes back from inside the ciphertext');
  await storage.save('shop', snapshot, null);
  assert.deepEqual(await storage.load('shop'), { snapshot, reported: null, after: 0 });
  // The ciphertext is bound to its ruleset: moved to another, it does not open.
  await put(idb, 'profile:other', (await dump(idb))['profile:shop']);
  await assert.rejects(storage.load('other'), { code: 'storage_corrupt' });
  storage.db.close();
});

test('an unsent report\'s wait is kept inside the ciphertext, in the epoch\'s place; a wait already past is not kept', async () => {
  const idb = new IDBFactory();
  const storage = await openStorage(idb, crypto.subtle);
  const snapshot = new Uint8Array([1, 2, 3]);
  const later = Date.now() + 60_000;
  await storage.save('shop', snapshot, 2905, later);
  assert.deepEqual(await storage.load('shop'), { snapshot, reported: null, after: later },
    'a report waits only in an epoch not yet settled: the wait takes the epoch\'s place');
  assert.deepEqual(Object.keys((await dump(idb))['profile:shop']).sort(), ['data', 'iv', 'v'], 'nothing readable beside it');
  // What an SDK that knows only epochs reads there: a number no epoch
  // equals, so it sends the report (as it always did), and no crash.
  const plain = new Uint8Array(await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: (await dump(idb))['profile:shop'].iv, additionalData: new TextEncoder().encode('edgewise/2/shop') },
    storage.key, (await dump(idb))['profile:shop'].data));
  assert.equal(plain[0], 2, 'still format 2');
  assert.equal(new DataView(plain.buffer).getFloat64(1), -later);
  await storage.save('shop', snapshot, 2905, Date.now() - 1);
  assert.deepEqual(await storage.load('shop'), { snapshot, reported: 2905, after: 0 });
  await storage.save('shop', snapshot, null, 0);
  assert.deepEqual(await storage.load('shop'), { snapshot, reported: null, after: 0 });
  storage.db.close();
});

test('a record of the first format (plaintext epoch beside the ciphertext) is still read, and rewritten', async () => {
  const idb = new IDBFactory();
  const storage = await openStorage(idb, crypto.subtle);
  const snapshot = new Uint8Array([9, 8, 7]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode('shop') }, storage.key, snapshot);
  await put(idb, 'profile:shop', { iv, data, at: T0, reported: 2900 });
  assert.deepEqual(await storage.load('shop'), { snapshot, reported: 2900, after: 0 });
  await storage.save('shop', snapshot, 2900);
  assert.deepEqual(Object.keys((await dump(idb))['profile:shop']).sort(), ['data', 'iv', 'v']);
  storage.db.close();
});
