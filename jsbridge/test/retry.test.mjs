// An unsent cohort report is kept and sent on a later page view of the
// same epoch, and never sent twice: against the real engine and the
// cohorts ruleset, with a fake fetch standing in for the collector (it
// counts every request) and fake-indexeddb keeping the profile between
// "page views" (each one a fresh Edgewise.load on the same database).

import test from 'node:test';
import assert from 'node:assert/strict';
import { IDBFactory } from 'fake-indexeddb';
import { Edgewise } from '../testing/sdk.mjs';
import { RETRY_GAP } from '../src/host.js';
import { retryAt } from '../src/report.js';
import { cohortsEwr, testPublicKey, wasmModule } from '../testing/helpers.mjs';

const mod = await wasmModule();
const HOUR = 3600000;
const WEEK = 7 * 24 * HOUR;
const COLLECTOR = 'https://collect.example';

// Moves Date.now by ms (for the SDK and the engine alike) until the test ends.
function shiftClock(t) {
  const real = Date.now;
  let offset = 0;
  Date.now = () => real() + offset;
  t.after(() => { Date.now = real; });
  return (ms) => { offset += ms; };
}

// The collector behind a fake fetch. GET /v1/cohort-sizes publishes sizes;
// each POST /v1/reports takes the next answer: a status, [status, headers],
// or 'network' (fetch rejects, as when the collector is unreachable); 204
// once they run out. posts lists {body, status, init}; requests every
// request as 'METHOD /path'.
function fakeCollector(t, answers = []) {
  const real = globalThis.fetch;
  const posts = [];
  const requests = [];
  let hold = null;
  globalThis.fetch = async (url, init = {}) => {
    const u = new URL(url);
    const method = init.method || 'GET';
    requests.push(`${method} ${u.pathname}`);
    if (method === 'GET') return Response.json({ 'interest=runners/area=nordics': 500 });
    const post = { body: init.body, init, status: null };
    posts.push(post);
    if (hold) await hold;
    const a = answers.length ? answers.shift() : 204;
    if (a === 'network') throw new TypeError('fetch failed');
    const [status, headers] = Array.isArray(a) ? a : [a, {}];
    post.status = status;
    return new Response(null, { status, headers });
  };
  t.after(() => { globalThis.fetch = real; });
  return {
    posts,
    requests,
    accepted: () => posts.filter((p) => p.status >= 200 && p.status < 300),
    // POSTs wait until the function it returns is called.
    holdPosts() {
      let release;
      hold = new Promise((ok) => { release = ok; });
      return () => { hold = null; release(); };
    },
  };
}

// One page view: the SDK loaded on the person's database. The first one
// makes the person a runner in Sweden who allows cohort reports.
async function pageView(idb, { first = false, ...options } = {}) {
  const ew = await Edgewise.load({ wasm: mod, ruleset: cohortsEwr(), publicKey: testPublicKey(), worker: false, storage: idb, collector: COLLECTOR, ...options });
  const errors = [];
  ew.on('error', (e) => errors.push(e));
  await Promise.resolve();
  assert.equal(ew.state, 'ready', JSON.stringify(errors));
  if (first) {
    const now = Date.now();
    await ew.setContext({ now, country: 'SE' });
    await ew.observe({ type: 'click', item: 'trail-shoe', at: now - HOUR });
    assert.equal((await ew.setConsent('cohorts')).sharing, 'cohorts');
  }
  // What the page leaves written as it goes (pagehide does this).
  const leave = () => ew._flush();
  return { ew, errors, leave };
}

const codes = (errors) => errors.map((e) => [e.code, e.op]);

test('a 2xx: sent once, and never again that epoch, in this page view or the next', async (t) => {
  const c = fakeCollector(t, [204]);
  const idb = new IDBFactory();
  const one = await pageView(idb, { first: true });
  const sent = await one.ew.report();
  assert.ok(sent, 'the report went');
  assert.deepEqual(JSON.parse(c.posts[0].body), sent);
  assert.equal(await one.ew.report(), null);
  await one.leave();
  const two = await pageView(idb);
  assert.equal(await two.ew.report(), null);
  assert.equal(c.posts.length, 1);
  assert.deepEqual([...one.errors, ...two.errors], []);
});

test('503, then 204 on the next page view: one accepted POST of the same report; nothing after', async (t) => {
  const c = fakeCollector(t, [503, 204]);
  const idb = new IDBFactory();
  const one = await pageView(idb, { first: true });
  assert.equal(await one.ew.report(), null, 'the collector is down');
  // The page calls again in the same page view: no tight loop.
  assert.equal(await one.ew.report(), null);
  assert.equal(c.posts.length, 1, 'not retried in the same page view at once');
  assert.deepEqual(codes(one.errors), [['report_failed', 'report']], 'one event, for the one try');
  assert.match(one.errors[0].message, /HTTP 503.*later/);
  await one.leave();

  const two = await pageView(idb);
  const sent = await two.ew.report();
  assert.ok(sent, 'retried on the next page view');
  assert.equal(c.posts.length, 2);
  assert.equal(c.posts[1].body, c.posts[0].body, 'the same report: same value, same epoch');
  assert.deepEqual(JSON.parse(c.posts[1].body), sent);
  assert.deepEqual(two.errors, []);
  await two.leave();

  const three = await pageView(idb);
  assert.equal(await three.ew.report(), null);
  assert.equal(c.posts.length, 2, 'a third page view sends nothing');
  assert.equal(c.accepted().length, 1);
  assert.deepEqual(three.errors, []);
});

test('a long page view retries, but only RETRY_GAP after its last try', async (t) => {
  const shift = shiftClock(t);
  const c = fakeCollector(t, [503, 'network', 204]);
  const { ew, errors } = await pageView(new IDBFactory(), { first: true });
  assert.equal(await ew.report(), null);
  shift(RETRY_GAP - 1000);
  assert.equal(await ew.report(), null);
  assert.equal(c.posts.length, 1);
  shift(1000);
  assert.equal(await ew.report(), null, 'the collector is unreachable now');
  assert.equal(c.posts.length, 2);
  shift(RETRY_GAP);
  assert.ok(await ew.report());
  assert.equal(c.posts.length, 3);
  assert.equal(new Set(c.posts.map((p) => p.body)).size, 1, 'each try the same report');
  assert.deepEqual(codes(errors), [['report_failed', 'report'], ['report_failed', 'report']]);
});

test('Retry-After in seconds: no request at all before then, even on a new page view; the report goes after', async (t) => {
  const shift = shiftClock(t);
  const c = fakeCollector(t, [[503, { 'Retry-After': '120' }], 204]);
  const idb = new IDBFactory();
  const one = await pageView(idb, { first: true });
  assert.equal(await one.ew.report(), null);
  await one.leave();
  const before = c.requests.length;

  shift(90_000);
  const two = await pageView(idb);
  assert.equal(await two.ew.report(), null, 'the collector asked for 120 s');
  assert.equal(c.requests.length, before, 'not even the cohort sizes are fetched');
  assert.deepEqual(two.errors, [], 'waiting is not an error');
  await two.leave();

  shift(31_000);
  const three = await pageView(idb);
  assert.ok(await three.ew.report(), 'sent once the time has come');
  assert.equal(c.posts.length, 2);
  assert.equal(c.accepted().length, 1);
  assert.equal(c.posts[1].body, c.posts[0].body);
});

test('Retry-After as an HTTP date, on a 429; kept in memory when there is no storage', async (t) => {
  const shift = shiftClock(t);
  const at = new Date(Date.now() + 10 * 60_000).toUTCString();
  const c = fakeCollector(t, [[429, { 'Retry-After': at }], 204]);
  const { ew } = await pageView(false, { first: true });
  assert.equal(await ew.report(), null);
  shift(9 * 60_000);
  assert.equal(await ew.report(), null, 'RETRY_GAP passed, but not the date the collector gave');
  assert.equal(c.posts.length, 1);
  shift(60_000);
  assert.ok(await ew.report());
  assert.equal(c.accepted().length, 1);
});

test('retryAt reads seconds and HTTP dates, ignores nonsense and caps the wait at a day', () => {
  const now = Date.UTC(2026, 0, 1);
  assert.equal(retryAt('120', now), now + 120_000);
  assert.equal(retryAt(' 5 ', now), now + 5000);
  assert.equal(retryAt('0', now), 0);
  assert.equal(retryAt('-5', now), 0);
  assert.equal(retryAt(null, now), 0);
  assert.equal(retryAt('', now), 0);
  assert.equal(retryAt('soon', now), 0);
  assert.equal(retryAt(new Date(now + 3000).toUTCString(), now), now + 3000);
  assert.equal(retryAt(new Date(now - 3000).toUTCString(), now), 0, 'a date already past');
  assert.equal(retryAt('31536000', now), now + 24 * HOUR, 'a year is capped at a day');
  assert.equal(retryAt('Fri, 31 Dec 9999 23:59:59 GMT', now), now + 24 * HOUR);
});

for (const answer of [408, 429, 500, 502, 503, 504, 'network']) {
  test(`${answer}: kept and retried on the next page view`, async (t) => {
    const c = fakeCollector(t, [answer, 204]);
    const idb = new IDBFactory();
    const one = await pageView(idb, { first: true });
    assert.equal(await one.ew.report(), null);
    assert.deepEqual(codes(one.errors), [['report_failed', 'report']]);
    await one.leave();
    const two = await pageView(idb);
    assert.ok(await two.ew.report());
    assert.equal(c.posts.length, 2);
    assert.equal(c.posts[1].body, c.posts[0].body);
    assert.equal(c.accepted().length, 1);
  });
}

for (const status of [400, 403, 404, 413, 415]) {
  test(`${status}: the collector will never take it; settled for the epoch, one report_failed`, async (t) => {
    const c = fakeCollector(t, [status, 204]);
    const idb = new IDBFactory();
    const one = await pageView(idb, { first: true });
    assert.equal(await one.ew.report(), null);
    assert.equal(await one.ew.report(), null);
    assert.deepEqual(codes(one.errors), [['report_failed', 'report']]);
    assert.match(one.errors[0].message, new RegExp(`HTTP ${status}.*not sent again`));
    await one.leave();
    const two = await pageView(idb);
    assert.equal(await two.ew.report(), null);
    assert.equal(c.posts.length, 1, 'never retried');
    assert.deepEqual(two.errors, [], 'and not reported again');
  });
}

test('concurrent report() calls POST once, whether the collector takes it or not', async (t) => {
  for (const answer of [503, 204]) {
    const c = fakeCollector(t, [answer]);
    const { ew } = await pageView(new IDBFactory(), { first: true });
    const release = c.holdPosts();
    const calls = [ew.report(), ew.report(), ew.report()];
    await new Promise((ok) => setTimeout(ok, 50));
    release();
    const got = await Promise.all(calls);
    assert.equal(c.posts.length, 1, `${answer}: one POST`);
    assert.equal(got.filter(Boolean).length, answer === 204 ? 1 : 0);
  }
});

test('a new epoch drops the last one\'s unsent report: the engine makes the new epoch\'s', async (t) => {
  const shift = shiftClock(t);
  const c = fakeCollector(t, [503, 204]);
  const idb = new IDBFactory();
  const one = await pageView(idb, { first: true });
  assert.equal(await one.ew.report(), null);
  await one.leave();
  shift(WEEK);
  const two = await pageView(idb);
  const sent = await two.ew.report();
  assert.ok(sent);
  const [first, second] = c.posts.map((p) => JSON.parse(p.body));
  assert.equal(second.epoch, first.epoch + 1, 'the new epoch\'s report, not the old one');
  assert.deepEqual(second, sent);
  assert.equal(c.posts.length, 2);
});

// sendBeacon was the fallback when fetch rejected the POST: it never
// existed in the worker (WorkerNavigator has none), and on the main thread
// it fired exactly when the collector was unreachable, sent the collector's
// cookies, and counted as sent. Now fetch tries again on a later page view.
test('a POST fetch cannot make is retried by fetch on a later page view, never handed to a beacon', async (t) => {
  const beacons = [];
  const navigator = { sendBeacon: (url, body) => beacons.push({ url, body }) > 0 };
  Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true, writable: true });
  t.after(() => { delete globalThis.navigator; });
  const c = fakeCollector(t, ['network', 204]);
  const idb = new IDBFactory();
  const one = await pageView(idb, { first: true });
  assert.equal(await one.ew.report(), null);
  assert.deepEqual(codes(one.errors), [['report_failed', 'report']]);
  await one.leave();
  const two = await pageView(idb);
  assert.ok(await two.ew.report());
  assert.equal(c.posts.length, 2);
  assert.equal(c.accepted().length, 1);
  assert.deepEqual(beacons, [], 'no beacon, no cookies');
});
