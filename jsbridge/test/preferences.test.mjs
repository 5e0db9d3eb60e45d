// Preferences through the public SDK, against the real wasm module and the
// signed rules fixture (testdata/abi/rules.ewr; readable: rules.json).

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from '@msgpack/msgpack';
import { Edgewise } from '../testing/sdk.mjs';
import { repoRoot, testPublicKey, wasmModule } from '../testing/helpers.mjs';

const mod = await wasmModule();
const rulesEwr = () => new Uint8Array(readFileSync(join(repoRoot, 'testdata', 'abi', 'rules.ewr')));
const T = Date.UTC(2025, 10, 29, 9, 53, 20);

async function load() {
  // storage: false, as Node has no IndexedDB (which would be an error event).
  const ew = await Edgewise.load({ wasm: mod, ruleset: rulesEwr(), publicKey: testPublicKey(), storage: false });
  const seen = { error: [] };
  ew.on('error', (e) => seen.error.push(e));
  await Promise.resolve();
  assert.equal(ew.state, 'ready', JSON.stringify(seen.error));
  return { ew, seen };
}

const ids = (d) => d.items.map((p) => p.item);

test('preferences: defaults, and setPreferences returns those in effect', async () => {
  const { ew, seen } = await load();
  assert.deepEqual(await ew.preferences(), {
    sharing: 'on-device', history: true, location: true, hidden_interests: [], frequency: 'normal', gpc: false, gpc_applied: false,
  });
  const eff = await ew.setPreferences({ sharing: 'cohorts', gpc: true });
  assert.equal(eff.sharing, 'on-device');
  assert.equal(eff.gpc_applied, true);
  // Bad values never throw: null and an error event.
  assert.equal(await ew.setPreferences({ sharing: 'public' }), null);
  assert.equal(await ew.setPreferences('off'), null);
  assert.deepEqual(seen.error.map((e) => [e.code, e.op]), [['bad_request', 'set_preferences'], ['bad_request', 'set_preferences']]);
  assert.equal((await ew.preferences()).sharing, 'on-device');
});

test('sharing off: fallbacks everywhere and nothing stored in the snapshot', async () => {
  const { ew, seen } = await load();
  await ew.setContext({ now: T + 10000, tz_offset_minutes: 0 });
  assert.equal(await ew.observe({ type: 'view', item: 'headlamp', at: T }), true);
  assert.equal((await ew.decide('recommended')).fallback, false);

  assert.equal((await ew.setPreferences({ sharing: 'off' })).sharing, 'off');
  const d = await ew.decide('recommended', { record: true, at: T + 20000 });
  assert.equal(d.fallback, true);
  assert.deepEqual(ids(d), ['tent-2p', 'socks', 'rain-shell']);
  assert.equal(await ew.observe({ type: 'view', item: 'socks', at: T }), false);
  assert.deepEqual(seen.error.map((e) => [e.code, e.op]), [['consent', 'observe']]);

  const snap = decode(await ew.snapshot());
  assert.deepEqual(snap.events, []);
  assert.equal(snap.impressions, undefined);
  assert.equal(snap.preferences.sharing, 'off');
});

test('a hidden interest changes a decision', async () => {
  const { ew } = await load();
  await ew.setContext({ now: T + 10000, tz_offset_minutes: 0 });
  await ew.observe({ type: 'click', item: 'trail-shoe', at: T });
  await ew.observe({ type: 'view', item: 'road-shoe', at: T });
  const before = ids(await ew.decide('recommended'));
  assert.ok(!before.includes('road-shoe'), before); // trail interest buries road shoes
  await ew.setPreferences({ hidden_interests: ['trail'] });
  const after = await ew.decide('recommended');
  assert.equal(ids(after)[0], 'road-shoe');
  assert.deepEqual((await ew.preferences()).hidden_interests, ['trail']);
});

test('gpc defaults to navigator.globalPrivacyControl', async () => {
  const { ew } = await load();
  const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { globalPrivacyControl: true }, configurable: true, writable: true });
  try {
    const eff = await ew.setPreferences({ sharing: 'cohorts' });
    assert.equal(eff.gpc, true);
    assert.equal(eff.sharing, 'on-device');
    assert.equal((await ew.setPreferences({ sharing: 'cohorts', gpc: false })).sharing, 'cohorts');
  } finally {
    if (had) Object.defineProperty(globalThis, 'navigator', had);
    else delete globalThis.navigator;
  }
  assert.equal((await ew.setPreferences({ sharing: 'cohorts' })).gpc, false);
});

test('the browser\'s GPC applies from load, keeping the other stored choices', async () => {
  const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { globalPrivacyControl: true }, configurable: true, writable: true });
  try {
    const { ew } = await load();
    const eff = await ew.preferences();
    assert.equal(eff.gpc, true, 'GPC is in effect without any preference change');
    assert.equal(eff.sharing, 'on-device');
    assert.equal(ew.consent, 'on-device');
    // A person who asked for cohorts before turning GPC on: their other
    // choices survive, and GPC still caps the sharing.
    await ew.setPreferences({ sharing: 'cohorts', frequency: 'low', gpc: false });
    const snap = await ew.snapshot();
    const { ew: again } = await load();
    assert.equal(await again.restore(snap), true);
    await again._applyBrowserGPC();
    const after = await again.preferences();
    assert.deepEqual([after.gpc, after.gpc_applied, after.sharing, after.frequency], [true, true, 'on-device', 'low']);
  } finally {
    if (had) Object.defineProperty(globalThis, 'navigator', had);
    else delete globalThis.navigator;
  }
});
