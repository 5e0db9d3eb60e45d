// The SDK in headless Chromium: the worker mode, encrypted persistence across
// reloads, the no-flicker second visit, the fallback when CSP blocks wasm,
// forget(), and main-thread blocking during load in both modes.
//
//   node --test jsbridge/e2e/sdk.test.mjs     (needs make build and chromium)
//
// Serves dist/ and e2e/pages/ itself (harness.mjs); builds nothing.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PUBLIC_KEY, launchBrowser, requireDist, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  requireDist();
  server = await startServer();
  browser = await launchBrowser();
  console.log('browser test: chromium ran');
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.close();
});

// A fresh profile (its own storage), a page on the test origin, and the
// page's errors collected.
async function open(path = '/pages/blank.html') {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(server.url(path));
  return { context, page, problems };
}

// Loads the SDK in the page; window.ew is the instance, window.errors its
// error events.
function loadSDK(page, options = {}) {
  return page.evaluate(async ({ publicKey, options }) => {
    const { Edgewise } = await import('/dist/edgewise.js');
    window.errors = [];
    window.ew = await Edgewise.load({ wasm: '/dist/edgewise.wasm', ruleset: '/rules.ewr', publicKey, ...options });
    window.ew.on('error', (e) => window.errors.push(e));
    await Promise.resolve();
    return { state: window.ew.state, errors: window.errors };
  }, { publicKey: PUBLIC_KEY, options });
}

const ids = (d) => d.items.map((p) => p.item);

test('worker mode: the engine runs in a Web Worker and personalizes', async () => {
  const { context, page, problems } = await open();
  const workers = [];
  page.on('worker', (w) => workers.push(w.url()));
  const loaded = await loadSDK(page);
  assert.deepEqual(loaded, { state: 'ready', errors: [] });
  assert.equal(workers.length, 1, 'one worker');
  assert.match(workers[0], /\/dist\/edgewise\.js#edgewise-worker$/);
  // The engine's download came from the worker, not the page.
  const got = await page.evaluate(async () => {
    await ew.observe({ type: 'view', item: 'sock' });
    await ew.observe({ type: 'view', item: 'sock' });
    const d = await ew.decide('related');
    return { d, why: await ew.explain('hat'), consent: ew.consent, version: await ew.version() };
  });
  assert.equal(got.d.fallback, false);
  assert.equal(got.d.items[0].item, 'hat');
  assert.deepEqual(got.why, { item: 'hat', slot: 'related', reason: 'Because you viewed Wool socks', rules: [] });
  assert.equal(got.consent, 'on-device');
  assert.equal(got.version.ruleset, 'shop@1');
  assert.deepEqual(problems, []);
  await context.close();
});

test('the profile persists across reloads, encrypted in IndexedDB', async () => {
  const { context, page } = await open();
  await loadSDK(page);
  const before = await page.evaluate(async () => {
    await ew.observe({ type: 'view', item: 'sock' });
    await ew.observe({ type: 'add_to_cart', item: 'sock' });
    const d = await ew.decide(['home', 'related']);
    await ew._writes;
    return d;
  });
  // The stored record, read back in the page: bytes that do not spell out
  // the history, and a key that cannot be exported.
  const stored = await page.evaluate(async () => {
    const db = await new Promise((ok, fail) => {
      const r = indexedDB.open('edgewise');
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    const get = (key) => new Promise((ok) => {
      const r = db.transaction('kv').objectStore('kv').get(key);
      r.onsuccess = () => ok(r.result);
    });
    const record = await get('profile:shop');
    const key = await get('key');
    const bytes = new Uint8Array(record.data);
    const text = new TextDecoder('latin1').decode(bytes);
    let exported = 'refused';
    try {
      await crypto.subtle.exportKey('raw', key);
      exported = 'exported';
    } catch { /* non-extractable */ }
    db.close();
    return {
      length: bytes.length, ivLength: record.iv.length, key: key.constructor.name, extractable: key.extractable, exported,
      plaintext: ['sock', 'add_to_cart', 'shop', 'view'].filter((w) => text.includes(w)),
    };
  });
  assert.ok(stored.length > 20, JSON.stringify(stored));
  assert.deepEqual({ ...stored, length: 0 }, {
    length: 0, ivLength: 12, key: 'CryptoKey', extractable: false, exported: 'refused', plaintext: [],
  });

  await page.reload();
  assert.equal((await loadSDK(page)).state, 'ready');
  const afterReload = await page.evaluate(() => ew.decide(['home', 'related']));
  assert.deepEqual(afterReload, before, 'the reloaded page decides as before');
  await context.close();
});

test('a second visit renders cached picks before the engine is ready, then reconciles', async () => {
  const { context, page, problems } = await open('/pages/declarative.html');
  await page.waitForSelector('html[data-edgewise="ready"]', { timeout: 30_000 });
  const first = await page.$$eval('#related li.pick', (lis) => lis.map((li) => li.getAttribute('data-edgewise-item-id')));
  assert.equal(await page.getAttribute('#related', 'data-edgewise-state'), 'personalized');
  assert.equal(first[0], 'hat', 'the page viewed socks: the wool hat leads');
  // Fields are filled with text and safe attributes only.
  const pan = await page.$('#related li[data-edgewise-item-id="pan"] a');
  if (pan) assert.equal(await pan.getAttribute('href'), null, 'a javascript: URL is not set');
  assert.equal(await page.textContent('#related li[data-edgewise-item-id="hat"] a'), 'Wool hat');
  assert.match(await page.textContent('#related li[data-edgewise-item-id="hat"] small'), /^Because you viewed Wool socks/);
  assert.equal(await page.locator('#home li.special').count(), await page.locator('#home li[data-edgewise-item-id="mug"]').count(), "mug's own template");

  // Second visit: hold the engine back and look at the page meanwhile.
  const release = server.holdWasm();
  const start = server.log.length;
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#related[data-edgewise-state="cached"] li.pick', { timeout: 10_000 });
  const early = await page.evaluate(() => ({
    ready: document.documentElement.getAttribute('data-edgewise'),
    items: [...document.querySelectorAll('#related li.pick')].map((li) => li.getAttribute('data-edgewise-item-id')),
    reasons: [...document.querySelectorAll('#related li.pick small')].map((s) => s.textContent),
    static: document.querySelectorAll('#related li.static').length,
  }));
  const wasm = server.log.slice(start).filter((r) => r.path === '/dist/edgewise.wasm');
  assert.ok(wasm.length === 0 || wasm.every((r) => !r.done), 'the engine has not arrived');
  assert.deepEqual(early, { ready: null, items: first, reasons: first.map(() => ''), static: 0 });
  release();
  await page.waitForSelector('html[data-edgewise="ready"]', { timeout: 30_000 });
  assert.equal(await page.getAttribute('#related', 'data-edgewise-state'), 'personalized');
  assert.match(await page.textContent('#related li.pick small'), /^Because you/);
  assert.deepEqual(problems, []);
  console.log(`no-flicker: ${early.items.length} cached picks shown before the engine arrived`);
  await context.close();
});

test('with wasm blocked by CSP the page shows its fallback and reports why', async () => {
  server.csp = "default-src 'self'; script-src 'self'; worker-src 'self'";
  try {
    // Declarative: the slot shows the page's fallback items.
    const { context, page } = await open('/pages/declarative.html');
    await page.waitForSelector('html[data-edgewise="failed"]', { timeout: 30_000 });
    assert.equal(await page.getAttribute('#related', 'data-edgewise-state'), 'fallback');
    assert.deepEqual(await page.$$eval('#related li.pick', (lis) => lis.map((li) => li.getAttribute('data-edgewise-item-id'))), ['pan', 'mug']);

    // Both modes, through the API: fallback decisions and a compile_failed event.
    for (const worker of [true, false]) {
      const { state, errors } = await loadSDK(page, { worker, fallback: { home: ['mug'] } });
      assert.equal(state, 'failed', `worker: ${worker}`);
      assert.deepEqual(errors.map((e) => [e.code, e.op]), [['compile_failed', 'load']], JSON.stringify(errors));
      assert.match(errors[0].message, /WebAssembly|wasm|Content Security Policy|CSP/i);
      const d = await page.evaluate(() => ew.decide('home'));
      assert.deepEqual(d, { slot: 'home', items: [{ item: 'mug', score: 0, reason: 'Picked by the shop for everyone' }], fallback: true });
    }
    await context.close();
  } finally {
    server.csp = undefined;
  }
});

test('forget() leaves no IndexedDB database, localStorage or cookie behind', async () => {
  const { context, page } = await open('/pages/declarative.html');
  await page.waitForSelector('html[data-edgewise="ready"]', { timeout: 30_000 });
  // The page's own instance stored the cache and a profile; a second
  // instance, through the API, forgets for both.
  await loadSDK(page);
  const beforeForget = await page.evaluate(async () => {
    await ew.observe({ type: 'view', item: 'mug' });
    await ew.decide(['home', 'related']);
    await ew._writes;
    return { dbs: (await indexedDB.databases()).map((d) => d.name), local: localStorage.length };
  });
  assert.deepEqual(beforeForget, { dbs: ['edgewise'], local: 1 });
  const left = await page.evaluate(async () => {
    const ok = await ew.forget();
    return { ok, dbs: await indexedDB.databases(), local: localStorage.length, session: sessionStorage.length, cookie: document.cookie, errors };
  });
  assert.deepEqual(left, { ok: true, dbs: [], local: 0, session: 0, cookie: '', errors: [] });
  assert.deepEqual(await context.cookies(), []);
  await context.close();
});

test('main-thread blocking during load: long tasks in worker and main-thread mode', async () => {
  const results = {};
  for (const mode of ['worker', 'main-thread', 'worker', 'main-thread']) {
    const { context, page } = await open();
    const r = await page.evaluate(async ({ publicKey, worker }) => {
      const supported = PerformanceObserver.supportedEntryTypes.includes('longtask');
      const tasks = [];
      const po = new PerformanceObserver((list) => tasks.push(...list.getEntries()));
      po.observe({ type: 'longtask', buffered: true });
      const { Edgewise } = await import('/dist/edgewise.js');
      const t0 = performance.now();
      const ew = await Edgewise.load({ wasm: '/dist/edgewise.wasm', ruleset: '/rules.ewr', publicKey, worker, storage: false });
      const t1 = performance.now();
      await new Promise((ok) => setTimeout(ok, 200)); // let the observer deliver
      po.disconnect();
      const during = tasks.filter((t) => t.startTime + t.duration > t0 && t.startTime < t1);
      return {
        supported,
        state: ew.state,
        loadMs: Math.round(t1 - t0),
        longTasks: during.length,
        blockedMs: Math.round(during.reduce((s, t) => s + t.duration, 0)),
        longestMs: Math.round(Math.max(0, ...during.map((t) => t.duration))),
      };
    }, { publicKey: PUBLIC_KEY, worker: mode === 'worker' });
    assert.equal(r.supported, true, 'Chromium reports long tasks');
    assert.equal(r.state, 'ready');
    (results[mode] ||= []).push(r);
    await context.close();
  }
  for (const [mode, runs] of Object.entries(results)) {
    for (const r of runs) {
      console.log(`long tasks during load, ${mode}: ${r.longTasks} tasks, ${r.blockedMs} ms blocked, longest ${r.longestMs} ms, load ${r.loadMs} ms`);
    }
  }
});
