// Context signals, rules, caps and dismissals through the public SDK, against
// the real wasm module and the signed rules fixture (testdata/abi/rules.ewr,
// the readable form is testdata/abi/rules.json).

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Edgewise } from '../testing/sdk.mjs';
import { repoRoot, testPublicKey, wasmModule } from '../testing/helpers.mjs';
import { browserPlace } from '../src/feeds.js';

const mod = await wasmModule();
const rulesEwr = () => new Uint8Array(readFileSync(join(repoRoot, 'testdata', 'abi', 'rules.ewr')));
const FALLBACK = 'Picked by the shop for everyone';
const RAIN = "Because it's raining where you are";
const T = Date.UTC(2025, 10, 29, 9, 53, 20); // a Saturday morning in UTC
const HOUR = 3600000;
const DAY = 24 * HOUR;
// Stockholm, a few metres off the city's usual coordinates.
const STOCKHOLM = { lat: 59.331179, lon: 18.061234 };

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
const codes = (seen) => seen.error.map((e) => [e.code, e.op]);

// Records the requests the SDK sends to the current engine instance.
function spy(ew) {
  const calls = [];
  const engine = ew._engine;
  const call = engine.call.bind(engine);
  engine.call = (op, request) => {
    calls.push([op, structuredClone(request)]);
    return call(op, request);
  };
  return calls;
}

// Offsets of value's float64 bytes, either order, in bytes.
function findFloat(bytes, value) {
  const le = Buffer.from(new Float64Array([value]).buffer);
  const be = Buffer.from(le).reverse();
  const hay = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { le: hay.indexOf(le), be: hay.indexOf(be) };
}

test('a weather rule fires through setContext, and stops when the weather changes', async () => {
  const { ew, seen } = await load();
  assert.equal(await ew.setContext({ now: T, tz_offset_minutes: 0 }), true);
  const dry = await ew.decide('recommended');
  assert.equal(dry.fallback, true);
  assert.deepEqual(ids(dry), ['tent-2p', 'socks', 'rain-shell']);
  assert.ok(dry.items.every((p) => p.rules === undefined));

  assert.equal(await ew.setContext({ now: T, tz_offset_minutes: 0, weather: 'rain' }), true);
  const [wet, hero] = await ew.decide(['recommended', 'hero']);
  assert.equal(wet.fallback, false);
  // The slot's fallback items fill it up after the one personal pick.
  assert.deepEqual(wet.items, [
    { item: 'rain-shell', score: 3, reason: RAIN, rules: ['rain-gear'] },
    { item: 'tent-2p', score: 0, reason: FALLBACK },
    { item: 'socks', score: 0, reason: FALLBACK },
  ]);
  // The hero, asked after recommended, shows none of its items.
  assert.deepEqual(ids(hero), ['trail-shoe']);
  assert.deepEqual(ids(await ew.decide('hero')), ['rain-shell'], 'asked alone, the hero shows the rain shell');

  assert.equal(await ew.setContext({ now: T, weather: 'clear' }), true);
  assert.equal((await ew.decide('recommended')).fallback, true);
  assert.deepEqual(seen.error, []);
});

test('setContext forwards every documented field, drops undefined and unknown ones', async () => {
  const { ew, seen } = await load();
  const calls = spy(ew);
  const ctx = {
    now: T, tz_offset_minutes: 60, daypart: 'evening', weekday: 'sat', weather: 'snow', device: 'mobile',
    referrer: 'search', page_section: 'shoes', visits: 3, country: 'SE', subdivision: 'SE-AB', regions: ['nordics'],
    geohash: 'u6s', location: { ...STOCKHOLM }, time_zone: 'Europe/Stockholm', languages: ['sv-SE', 'en'],
    bogus: 'x', device_id: undefined,
  };
  assert.equal(await ew.setContext({ ...ctx, referrer: undefined }), true);
  const [op, request] = calls[0];
  assert.equal(op, 'set_context');
  const { bogus, device_id, referrer, ...want } = ctx; // eslint-disable-line no-unused-vars
  assert.deepEqual(request, { context: want });
  assert.ok(!('referrer' in request.context), 'undefined fields are left out');
  // Without its own, the page hands over the browser's time zone and languages.
  assert.equal(await ew.setContext({ now: T }), true);
  assert.deepEqual(calls[1][1], { context: { ...browserPlace(), now: T, tz_offset_minutes: calls[1][1].context.tz_offset_minutes } });
  assert.equal(calls[1][1].context.time_zone, Intl.DateTimeFormat().resolvedOptions().timeZone);
  assert.deepEqual(seen.error, []);
});

test('bad context values give false and an error event, never a throw', async () => {
  const { ew, seen } = await load();
  assert.equal(await ew.setContext({ now: T, tz_offset_minutes: 0, weather: 'rain' }), true);
  const bad = [
    { weather: 'drizzle' },
    { daypart: 'teatime' },
    { weekday: 'monday' },
    { device: 'watch' },
    { referrer: 'billboard' },
    { tz_offset_minutes: 900 },
    { visits: -1 },
    { location: { lat: 123.5, lon: 10.5 } },
    { location: { lat: 59.3 } },
    { location: 'Stockholm' },
  ];
  for (const fields of bad) {
    let p;
    assert.doesNotThrow(() => {
      p = ew.setContext({ now: T, ...fields });
    }, JSON.stringify(fields));
    assert.equal(await p, false, JSON.stringify(fields));
  }
  let p;
  assert.doesNotThrow(() => {
    p = ew.setContext('rain');
  });
  assert.equal(await p, false);
  assert.equal(seen.error.length, bad.length + 1);
  assert.ok(seen.error.every((e) => e.code === 'bad_request' && e.op === 'set_context' && e.message), JSON.stringify(seen.error));
  assert.match(seen.error[0].message, /drizzle/);
  // A refused context leaves the last good one in place.
  assert.deepEqual(ids(await ew.decide('recommended')), ['rain-shell', 'tent-2p', 'socks']);
  // null and no argument mean "just now".
  assert.equal(await ew.setContext(null), true);
  assert.equal(await ew.setContext(), true);
  assert.equal(seen.error.length, bad.length + 1);
});

test('location is coarsened by the engine and never retained by the SDK', async () => {
  const { ew, seen } = await load();
  const where = { ...STOCKHOLM };
  assert.equal(await ew.setContext({ now: T, tz_offset_minutes: 60, weather: 'rain', location: where }), true);
  assert.deepEqual(where, STOCKHOLM, "the caller's object is not changed");
  const d = await ew.decide('recommended');
  assert.equal(d.items[0].item, 'ski-wax', 'Stockholm is in the Nordics');
  assert.deepEqual(d.items[0].rules, ['nordic-ski']);

  // No coordinates in the SDK's own state...
  const state = JSON.stringify(ew, (k, v) => (v instanceof Uint8Array ? [...v] : v));
  assert.ok(!state.includes('59.33'), state);
  assert.ok(!state.includes('18.06'), state);
  // (the host keeps the context to re-apply after a trap; here it runs on
  // the main thread, as it does without a Worker)
  const host = ew._channel.host;
  assert.equal(host.context.location, undefined);
  // It keeps the time zone and languages, which the engine turns into a
  // country again, but not the coordinates.
  assert.deepEqual(host.context, { ...browserPlace(), now: T, tz_offset_minutes: 60, weather: 'rain' });
  // ...nor in the request buffer the SDK wrote them to, nor in the snapshot.
  const mem = new Uint8Array(ew._engine.exports.memory.buffer);
  assert.equal(findFloat(mem, STOCKHOLM.lat).be, -1, 'the set_context request was scrubbed');
  assert.equal(findFloat(mem, STOCKHOLM.lon).be, -1, 'the set_context request was scrubbed');
  const snap = await ew.snapshot();
  assert.deepEqual(findFloat(snap, STOCKHOLM.lat), { le: -1, be: -1 });

  // After a trap the context comes back without the location: the rain rule
  // still fires, the Nordic one does not.
  new Uint8Array(ew._engine.exports.memory.buffer).fill(0);
  assert.equal((await ew.decide('recommended')).fallback, true, 'the trapped call falls back');
  const after = await ew.decide('recommended');
  assert.deepEqual(ids(after), ['rain-shell', 'tent-2p', 'socks']);
  assert.deepEqual(after.items[0].rules, ['rain-gear']);
  assert.deepEqual(codes(seen), [['trap', 'decide']]);
});

test('tz_offset_minutes defaults to the browser time zone, east of UTC positive', async (t) => {
  const saved = process.env.TZ;
  t.after(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });
  const { ew, seen } = await load();
  const calls = spy(ew);
  const night = Date.UTC(2025, 10, 29, 21, 30); // 00:30 at UTC+3, 18:30 at UTC-3
  await ew.observe({ type: 'view', item: 'stove', at: night - HOUR });

  process.env.TZ = 'Etc/GMT-3'; // POSIX names count the other way: this is UTC+3
  assert.equal(await ew.setContext({ now: night }), true);
  assert.equal(calls.at(-1)[1].context.tz_offset_minutes, 180);
  // It is past midnight there: the no-stove-at-night rule hides the stove.
  assert.ok(!ids(await ew.decide('recommended')).includes('stove'));

  assert.equal(await ew.setContext({ now: night, tz_offset_minutes: -180 }), true);
  assert.ok(ids(await ew.decide('recommended')).includes('stove'), 'evening at UTC-3: the stove shows');

  process.env.TZ = 'America/New_York';
  const july = Date.UTC(2025, 6, 15, 12);
  assert.equal(await ew.setContext({ now: july }), true);
  assert.equal(calls.at(-1)[1].context.tz_offset_minutes, -240, 'EDT is UTC-4');
  const january = Date.UTC(2025, 0, 15, 12);
  assert.equal(await ew.setContext({ now: january }), true);
  assert.equal(calls.at(-1)[1].context.tz_offset_minutes, -300, 'EST is UTC-5, at now, not at the page load');

  process.env.TZ = 'UTC';
  assert.equal(await ew.setContext({ now: T }), true);
  assert.ok(Object.is(calls.at(-1)[1].context.tz_offset_minutes, 0));
  assert.deepEqual(seen.error, []);
});

test('decide with record: true counts impressions until a cap hides an item', async () => {
  const { ew, seen } = await load();
  await ew.observe({ type: 'view', item: 'headlamp', at: T - 10000 });
  await ew.observe({ type: 'view', item: 'socks', at: T - 10000 });
  assert.equal(await ew.setContext({ now: T, tz_offset_minutes: 0 }), true);

  // Without record, nothing is counted: the same items come back.
  const first = ids(await ew.decide('recommended'));
  assert.deepEqual(first, ['socks', 'headlamp', 'trail-shoe']);
  assert.deepEqual(ids(await ew.decide('recommended')), first);

  const calls = spy(ew);
  const shown = [];
  const heroes = [];
  for (let i = 0; i < 3; i++) {
    const [rec, hero] = await ew.decide(['recommended', 'hero'], { record: true, at: T - 1000 + i });
    shown.push(ids(rec));
    heroes.push(ids(hero));
    assert.ok(!ids(hero).some((id) => ids(rec).includes(id)), 'one decide shows an item once');
  }
  // Socks are capped at one a week, summer items at two a day: the
  // headlamp and the hero's tent spend the summer cap in the first decide,
  // after which the hero has nothing left that recommended does not show.
  assert.deepEqual(shown, [
    ['socks', 'headlamp', 'trail-shoe'],
    ['trail-shoe', 'road-shoe', 'rain-shell'],
    ['trail-shoe', 'road-shoe', 'rain-shell'],
  ]);
  assert.deepEqual(heroes, [['tent-2p'], [], []]);
  // One record_impressions per decide, of every slot's items.
  const recorded = calls.filter(([op]) => op === 'record_impressions').map(([, r]) => r);
  assert.deepEqual(recorded[0], { items: ['socks', 'headlamp', 'trail-shoe', ...heroes[0]], at: T - 1000 });
  assert.equal(recorded.length, 3);

  // Impressions are part of the profile: they survive a trap.
  new Uint8Array(ew._engine.exports.memory.buffer).fill(0);
  await ew.decide('recommended');
  assert.deepEqual(ids(await ew.decide('recommended')), ['trail-shoe', 'road-shoe', 'rain-shell']);
  assert.deepEqual(codes(seen), [['trap', 'decide']]);

  // A week later the caps have passed.
  assert.equal(await ew.setContext({ now: T + 8 * DAY, tz_offset_minutes: 0 }), true);
  assert.ok(ids(await ew.decide('recommended')).includes('socks'));
});

test('recordImpressions counts items for the caps, and reports bad ones', async () => {
  const { ew, seen } = await load();
  await ew.observe({ type: 'view', item: 'socks', at: T - 10000 });
  assert.equal(await ew.setContext({ now: T, tz_offset_minutes: 0 }), true);
  assert.equal(ids(await ew.decide('recommended'))[0], 'socks');
  assert.equal(await ew.recordImpressions(['socks'], T - 1000), true);
  assert.ok(!ids(await ew.decide('recommended')).includes('socks'));

  assert.equal(await ew.recordImpressions(['nope'], T), false);
  assert.equal(await ew.recordImpressions(['socks'], 0), false);
  assert.equal(await ew.recordImpressions(), false);
  assert.deepEqual(codes(seen), [
    ['unknown_item', 'record_impressions'], ['bad_request', 'record_impressions'], ['bad_request', 'record_impressions'],
  ]);

  // Without an engine there is nothing to record, and decide still answers.
  const failed = await Edgewise.load({ wasm: mod, ruleset: rulesEwr().slice(0, 50), publicKey: testPublicKey() });
  assert.equal(failed.state, 'failed');
  assert.equal(await failed.recordImpressions(['socks']), false);
  const d = await failed.decide('recommended', { record: true });
  assert.deepEqual(d, { slot: 'recommended', items: [], fallback: true });
});

test('dismiss hides an item for 48 hours', async () => {
  const { ew, seen } = await load();
  await ew.observe({ type: 'view', item: 'rain-shell', at: T - 10000 });
  assert.equal(await ew.setContext({ now: T, tz_offset_minutes: 0 }), true);
  assert.equal(ids(await ew.decide('recommended'))[0], 'rain-shell');

  assert.equal(await ew.dismiss('rain-shell', T - 5000), true);
  const d = await ew.decide(['recommended', 'hero']);
  assert.ok(d.every((x) => !ids(x).includes('rain-shell')), JSON.stringify(d));

  assert.equal(await ew.setContext({ now: T + 49 * HOUR, tz_offset_minutes: 0 }), true);
  assert.ok(ids(await ew.decide('recommended')).includes('rain-shell'), 'back after 48 hours');

  assert.equal(await ew.dismiss('nope'), false);
  assert.deepEqual(codes(seen), [['unknown_item', 'observe']]);
  assert.equal(await ew.observe(null), false, 'a null event is refused, not thrown');
  assert.equal(seen.error.at(-1).code, 'bad_request');
});

test('picks without rules have no rules field', async () => {
  const { ew } = await load();
  await ew.observe({ type: 'view', item: 'tent-2p', at: T - 10000 });
  assert.equal(await ew.setContext({ now: T, tz_offset_minutes: 0 }), true);
  const d = await ew.decide('recommended');
  assert.equal(d.fallback, false);
  assert.ok(d.items.every((p) => !('rules' in p)), JSON.stringify(d.items));
  assert.equal(d.items[0].item, 'tent-2p');
  assert.match(d.items[0].reason, /^Because you viewed /);
  assert.notEqual(d.items[0].reason, FALLBACK);
});
