// Browser end-to-end test of the demo shop in headless Chromium.
//
//   node --test demo/e2e/                 (Node 20)
//   node --test demo/e2e/demo.test.mjs    (any Node: 21+ no longer searches directories)
//
// Needs dist/edgewise.wasm and dist/edgewise.js (make build) and chromium at
// /usr/bin/chromium or $CHROMIUM. Uses $EDGEWISE_DEMO_BIN as the demo server,
// or builds one with go build. Without chromium the test fails; it never skips.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { demoBinary, launchBrowser, requireChromium, requireDist, startServer } from './harness.mjs';

const SLOT = '[data-edgewise-slot="recommended"]';
// The running and trail gear the tests view, all tagged running and trail.
const VIEWS = ['rockgrip-trail-shoe', 'mudline-trail-shoe', 'ridgeline-running-vest'];
// The page's clock: Wednesday 2 December 2026, 14:00 UTC, a weekday
// afternoon in the winter sale (the Go test TestExampleStory uses the same).
const NOW = new Date('2026-12-02T14:00:00Z');
// Everything the page may fetch: the page, its scripts and styles, the
// signed ruleset with its public key, the catalogue and the SDK. Anything
// else in the server log is a failure.
const STATIC_PATHS = new Set([
  '/', '/index.html', '/app.js', '/style.css', '/ruleset.ewr', '/config.json', '/catalogue.json',
  '/dist/edgewise.js', '/dist/edgewise.js.map', '/dist/edgewise.wasm',
]);
const isStatic = (path) => STATIC_PATHS.has(path) || /^\/js\/[a-z]+\.js$/.test(path);

async function serverLog(url) {
  const res = await fetch(`${url}/api/requests`);
  assert.equal(res.status, 200, 'GET /api/requests');
  return res.json();
}

/** The shop's display catalogue, as the server serves it. */
async function catalogue(url) {
  const res = await fetch(`${url}/catalogue.json`);
  assert.equal(res.status, 200, 'GET /catalogue.json');
  const cat = await res.json();
  return {
    items: new Map(cat.catalogue.map((it) => [it.id, it])),
    fallback: Object.fromEntries(cat.slots.map((s) => [s.id, s.fallback])),
  };
}

async function slotState(page, slot = 'recommended') {
  return page.$eval(`[data-edgewise-slot="${slot}"]`, (node) => ({
    state: node.dataset.state,
    render: Number(node.dataset.render),
    items: [...node.querySelectorAll('[data-pick]')].map((el) => ({
      item: el.dataset.item,
      reason: (el.querySelector('[data-reason]') || {}).textContent || '',
      rules: [...el.querySelectorAll('[data-why-rule]')].map((r) => r.dataset.whyRule),
    })),
  }));
}

/** A page at desktop width, in UTC, its clock fixed at NOW. */
async function newPage(browser, width = 1280) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, timezoneId: 'UTC' });
  const page = await context.newPage();
  await page.clock.setFixedTime(NOW);
  return page;
}

/** Runs action and waits until the recommended slot is drawn again. */
async function andRender(page, action) {
  const before = (await slotState(page)).render;
  await action();
  await page.waitForFunction(
    ([sel, n]) => Number(document.querySelector(sel).dataset.render) > n,
    [SLOT, before],
  );
}

test('demo shop personalizes in the browser and sends nothing to the server', { timeout: 180_000 }, async () => {
  requireChromium();
  requireDist();
  const demo = demoBinary();
  let server;
  let browser;
  try {
    server = await startServer(demo.bin);
    const { url } = server;
    const origin = new URL(url).origin;
    // The served ruleset is examples/outdoor-shop.yaml, compiled and signed
    // by the server at startup; /catalogue.json is its display catalogue.
    const { items, fallback } = await catalogue(url);
    const before = (await serverLog(url)).total;

    browser = await launchBrowser();
    console.log('browser test: chromium ran');
    const page = await newPage(browser);
    const pageErrors = [];
    const consoleErrors = [];
    const browserRequests = [];
    page.on('pageerror', (e) => pageErrors.push(String(e && e.stack || e)));
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('request', (r) => browserRequests.push({ method: r.method(), url: r.url() }));
    page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));

    await page.goto(url);

    // First render: the shop's fallback picks.
    await page.waitForSelector(`${SLOT}[data-state="fallback"] [data-pick]`, { timeout: 30_000 });
    await page.waitForSelector('html[data-edgewise="ready"]');
    const first = await slotState(page);
    assert.deepEqual(first.items.map((p) => p.item), fallback.recommended, 'the slot first shows the fallback items');
    assert.equal(await page.locator('[data-catalogue] [data-item]').count(), items.size, 'the grid shows the whole catalogue');

    // The page has loaded everything it needs; remember how much the server saw.
    const loaded = await serverLog(url);
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-panel="requests"] [data-request-row]').length >= n,
      loaded.total - before,
    );

    // View three trail running products; each view re-renders the slots.
    for (const id of VIEWS) {
      await andRender(page, () => page.click(`[data-catalogue] [data-item="${id}"] [data-action="view"]`));
    }

    const after = await slotState(page);
    assert.equal(after.state, 'personalized', 'after three views the slot is personalized');
    assert.equal(after.items.length, 4, 'the slot shows its limit of 4 items');
    assert.notDeepEqual(after.items.map((p) => p.item), first.items.map((p) => p.item), 'the recommendations changed');
    const viewedTags = new Set(VIEWS.flatMap((id) => items.get(id).tags));
    const lead = items.get(after.items[0].item);
    assert.ok(lead, `the first pick ${after.items[0].item} is in the catalogue`);
    assert.ok(lead.tags.some((t) => viewedTags.has(t)),
      `the first pick ${lead.id} (${lead.tags}) shares a tag with the viewed items (${[...viewedTags]})`);
    for (const pick of after.items) {
      assert.ok(!VIEWS.includes(pick.item), `the slot excludes seen items, but shows ${pick.item}`);
    }
    const viewedTitles = VIEWS.map((id) => items.get(id).title);
    for (const pick of after.items) {
      assert.ok(viewedTitles.some((t) => pick.reason === `Because you viewed ${t}`),
        `reason ${JSON.stringify(pick.reason)} for ${pick.item} names a viewed product`);
    }
    assert.equal(await page.textContent('[data-view-count]'), String(VIEWS.length));
    assert.equal(await page.textContent('[data-requests-since-view]'), '0');

    // The server saw the page load and nothing else: no request from the
    // views, only GETs of static files, nothing carrying an item id.
    const log = await serverLog(url);
    assert.equal(log.total, loaded.total, `views sent requests to the server: ${JSON.stringify(log.requests.slice(loaded.requests.length))}`);
    const seen = log.requests;
    assert.ok(seen.some((r) => r.path === '/dist/edgewise.wasm'), 'the server log shows the engine download');
    assert.ok(seen.some((r) => r.path === '/ruleset.ewr'), 'the engine loaded the signed ruleset');
    for (const r of seen) {
      const desc = JSON.stringify(r);
      assert.equal(r.method, 'GET', `only GET requests: ${desc}`);
      assert.ok(isStatic(r.path), `only static files: ${desc}`);
      assert.equal(r.query, '', `no query strings: ${desc}`);
      assert.equal(r.body_size, 0, `no request bodies: ${desc}`);
      assert.ok(r.status === 200 || r.status === 304, `static file served: ${desc}`);
      for (const id of items.keys()) {
        assert.ok(!`${r.path}?${r.query}${r.body || ''}`.includes(id), `request carries item id ${id}: ${desc}`);
      }
    }
    for (const r of browserRequests) {
      assert.ok(r.url.startsWith(`${origin}/`) || r.url.startsWith('data:') || r.url.startsWith('blob:'), `the page only talks to its own server: ${r.url}`);
      assert.equal(r.method, 'GET', `the browser only sent GETs: ${r.method} ${r.url}`);
    }

    // The panel shows one row per request, all GETs.
    const rows = await page.$$eval('[data-panel="requests"] [data-request-row]', (els) => els.map((e) => e.dataset.method));
    assert.equal(rows.length, seen.length, 'the panel has one row per request the browser made');
    assert.ok(rows.every((m) => m === 'GET'), `panel rows: ${rows}`);

    assert.equal(await page.isHidden('[data-errors]'), true,
      `the page reported Edgewise errors: ${await page.textContent('[data-errors]')}`);
    assert.deepEqual(pageErrors, [], 'no uncaught page errors');
    assert.deepEqual(consoleErrors, [], 'no console errors');

    await browser.close();
    browser = null;
    const exit = await server.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, `the server shuts down cleanly on SIGTERM; stderr: ${server.stderr()}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
    demo.cleanup();
  }
});

test('a scripted visit: each slot follows the example ruleset\'s rules', { timeout: 180_000 }, async () => {
  requireChromium();
  requireDist();
  const demo = demoBinary();
  let server;
  let browser;
  try {
    server = await startServer(demo.bin);
    const { url } = server;
    const { items, fallback } = await catalogue(url);
    browser = await launchBrowser();
    const page = await newPage(browser);
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e && e.stack || e)));
    await page.goto(url);
    await page.waitForSelector('html[data-edgewise="ready"]', { timeout: 30_000 });

    const slots = async () => ({
      hero: await slotState(page, 'home-hero'),
      recommended: await slotState(page, 'recommended'),
      weather: await slotState(page, 'weather-banner'),
    });
    const ids = (s) => s.items.map((p) => p.item);
    const pick = (s, id) => s.items.find((p) => p.item === id) || assert.fail(`${id} is not among ${ids(s)}`);

    // 1. A first look: nothing is known, every slot shows the shop's picks.
    let s = await slots();
    assert.deepEqual(ids(s.hero), fallback['home-hero']);
    assert.deepEqual(ids(s.recommended), fallback.recommended);
    assert.deepEqual(ids(s.weather), fallback['weather-banner']);
    for (const slot of Object.values(s)) assert.equal(slot.state, 'fallback');

    // 2. Browse three running and trail products.
    for (const id of VIEWS) {
      await andRender(page, () => page.click(`[data-catalogue] [data-item="${id}"] [data-action="view"]`));
    }
    s = await slots();
    // The hero shows a new arrival sharing the viewed tags (trail).
    assert.deepEqual(ids(s.hero), ['summit-hiking-boot'], 'hero after browsing running gear');
    // Recommended leaves the viewed items out and ranks by the learned
    // interests (running, trail), two per tag at most.
    assert.deepEqual(ids(s.recommended), ['cityline-road-shoe', 'summit-hiking-boot', 'carbon-trekking-poles', 'beam-400-headlamp'],
      'recommended after browsing running gear');
    // The banner shows weather gear; runners-see-trail-shoes lifts the
    // waterproof trail shoe (tagged rain) to the top.
    assert.deepEqual(ids(s.weather), ['mudline-trail-shoe', 'trail-microspikes'], 'weather banner after browsing');
    assert.deepEqual(pick(s.weather, 'mudline-trail-shoe').rules, ['runners-see-trail-shoes']);
    assert.equal(pick(s.weather, 'mudline-trail-shoe').reason, "Because you've been looking at running gear.");
    for (const slot of Object.values(s)) assert.equal(slot.state, 'personalized');

    // 3. It starts to rain (rain-brings-rain-gear boosts rain gear 3x).
    await andRender(page, () => page.click('[data-weather] label:has(input[value="rain"])'));
    s = await slots();
    assert.deepEqual(ids(s.hero), ['summit-hiking-boot'], 'the hero keeps its new arrival in the rain');
    assert.deepEqual(ids(s.recommended), ['cityline-road-shoe', 'summit-hiking-boot', 'stormfront-rain-shell', 'beam-400-headlamp'],
      'the rain shell joins the recommendations');
    assert.deepEqual(ids(s.weather), ['mudline-trail-shoe', 'stormfront-rain-shell'], 'the banner shows rain gear');
    const shell = pick(s.recommended, 'stormfront-rain-shell');
    assert.equal(shell.reason, "Because it's raining where you are.");
    assert.deepEqual(shell.rules, ['rain-brings-rain-gear']);
    assert.match(await page.textContent('[data-weather-label]'), /^Rain/);

    // 4. ...in London: wet-regions-favour-rain-gear adds 1.5x in Britain and
    // Ireland, and rain gear leads everywhere.
    await andRender(page, () => page.selectOption('#ctx-city', 'london'));
    s = await slots();
    assert.deepEqual(ids(s.hero), ['stormfront-rain-shell'], 'the hero is the rain shell in rainy London');
    assert.deepEqual(pick(s.hero, 'stormfront-rain-shell').rules, ['rain-brings-rain-gear', 'wet-regions-favour-rain-gear']);
    assert.deepEqual(ids(s.recommended), ['stormfront-rain-shell', 'packable-rain-pants', 'cityline-road-shoe', 'beam-400-headlamp'],
      'rain gear leads the recommendations in London');
    assert.deepEqual(ids(s.weather), ['mudline-trail-shoe', 'stormfront-rain-shell']);
    // What the engine kept of London: its export (country and regions), or,
    // with an SDK without one, the region rule it applied.
    await page.waitForSelector('[data-kept-regions], [data-kept-rule]', { state: 'attached' });
    const kept = await page.textContent('[data-kept-location]');
    assert.ok(/Britain and Ireland/.test(kept) || /Pacific Northwest, Britain and Ireland/.test(kept), `kept location: ${kept}`);
    assert.ok(!/51\.51/.test(await page.textContent('[data-your-data]')), 'the coordinates are not in your data');

    // Your data: the export holds the views, made in the page (a download,
    // not a request); "Forget me" erases them.
    await page.click('[data-tab="data"]');
    await page.waitForFunction(() => (document.querySelector('[data-ledger-events]') || {}).textContent === '3');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-action="export"]')]);
    const exported = await readFile(await download.path(), 'utf8');
    JSON.parse(exported);
    for (const id of VIEWS) assert.ok(exported.includes(id), `the export lists the view of ${id}`);
    assert.ok(!exported.includes('51.51'), 'the export holds no coordinates');
    await andRender(page, () => page.click('[data-action="forget"]'));
    await page.waitForFunction(() => document.querySelector('[data-ledger-events]').textContent === '0');
    assert.equal(await page.textContent('[data-view-count]'), '0');
    s = await slots();
    assert.ok(!s.recommended.items.some((p) => /Because you viewed/.test(p.reason)), 'nothing is picked for a forgotten view');

    // 5. Sharing off: the engine erases the profile and every slot shows
    // the shop's picks again.
    await page.click('[data-tab="privacy"]');
    await andRender(page, () => page.click('[data-sharing] label:has(input[value="off"])'));
    s = await slots();
    assert.deepEqual(ids(s.hero), fallback['home-hero']);
    assert.deepEqual(ids(s.recommended), fallback.recommended);
    assert.deepEqual(ids(s.weather), fallback['weather-banner']);
    for (const slot of Object.values(s)) assert.equal(slot.state, 'fallback');
    assert.match(await page.textContent(`${SLOT} [data-why]`), /Personalization is off/);
    await page.click('[data-tab="data"]');
    await page.waitForFunction(() => document.querySelector('[data-ledger-events]') && document.querySelector('[data-ledger-events]').textContent === '0');

    // Nothing of this visit reached the server: no writes, no item ids, no
    // coordinates, no weather.
    for (const r of (await serverLog(url)).requests) {
      const desc = JSON.stringify(r);
      assert.equal(r.method, 'GET', `only GETs: ${desc}`);
      assert.ok(isStatic(r.path), `only static files: ${desc}`);
      for (const secret of [...items.keys(), '51.51', 'rain', 'london']) {
        assert.ok(!`${r.path}?${r.query}${r.body || ''}`.toLowerCase().includes(secret), `a request carries ${secret}: ${desc}`);
      }
    }
    assert.deepEqual(pageErrors, [], 'no uncaught page errors');
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
    demo.cleanup();
  }
});

test('a ruleset changed on the way is refused: the page shows the shop picks and says why', { timeout: 120_000 }, async () => {
  requireChromium();
  requireDist();
  const demo = demoBinary();
  let server;
  let browser;
  try {
    server = await startServer(demo.bin);
    const { fallback } = await catalogue(server.url);
    browser = await launchBrowser();
    const page = await newPage(browser);
    // Flip one bit of the payload between the server and the page, as a
    // compromised CDN or proxy might.
    let tampered = false;
    await page.route('**/ruleset.ewr', async (route) => {
      const res = await route.fetch();
      const body = Buffer.from(await res.body());
      body[200] ^= 1;
      tampered = true;
      await route.fulfill({ response: res, body });
    });
    await page.goto(server.url);
    await page.waitForSelector('html[data-edgewise="ready"]', { timeout: 30_000 });
    assert.ok(tampered, 'the page fetched /ruleset.ewr');
    for (const id of ['home-hero', 'recommended', 'weather-banner']) {
      const slot = await slotState(page, id);
      assert.equal(slot.state, 'fallback', `${id} falls back`);
      assert.deepEqual(slot.items.map((p) => p.item), fallback[id], `${id} shows the shop picks`);
    }
    assert.equal(await page.textContent('[data-slot-status]'), 'Shop picks · engine unavailable');
    assert.equal(await page.isVisible('[data-errors]'), true, 'the page reports the refused ruleset');
    assert.match(await page.textContent('[data-errors]'), /bad_signature/);
    // Viewing still works on the page, and stays on the device.
    await page.click(`[data-catalogue] [data-item="${VIEWS[0]}"] [data-action="view"]`);
    assert.equal((await slotState(page)).state, 'fallback');
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
    demo.cleanup();
  }
});

test('the playground lints with positions, compiles, and the page\'s engine runs the edit', { timeout: 120_000 }, async () => {
  requireChromium();
  requireDist();
  const demo = demoBinary();
  let server;
  let browser;
  try {
    server = await startServer(demo.bin);
    browser = await launchBrowser();
    const page = await newPage(browser);
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e && e.stack || e)));
    await page.goto(`${server.url}/playground`);
    await page.waitForSelector('html[data-edgewise="ready"]', { timeout: 30_000 });
    const weather = '[data-edgewise-slot="weather-banner"]';
    const weatherIds = () => page.$$eval(`${weather} [data-pick]`, (els) => els.map((e) => e.dataset.item));
    assert.deepEqual(await weatherIds(), ['stormfront-rain-shell', 'wide-brim-sun-hat'], 'the preview starts with the shop\'s ruleset');
    const original = await page.inputValue('[data-editor]');

    // A lint error is listed at its line and column; clicking it selects
    // that place in the editor.
    const broken = original.replace('    boost: 3\n', '    boost: 12\n');
    const line = broken.slice(0, broken.indexOf('    boost: 12\n')).split('\n').length;
    await page.fill('[data-editor]', broken);
    await page.click('[data-action="lint"]');
    const diag = page.locator(`[data-diagnostic][data-line="${line}"]`);
    await diag.waitFor();
    assert.equal(await diag.getAttribute('data-col'), '12');
    assert.match(await diag.textContent(), /boost/);
    await diag.click();
    const selected = await page.$eval('[data-editor]', (t) => t.value.slice(0, t.selectionStart).split('\n').length);
    assert.equal(selected, line, 'clicking the diagnostic selects its line');
    // Compile checks first, and does not ask the server to sign a ruleset
    // with errors.
    const compiles = [];
    page.on('request', (r) => { if (r.url().endsWith('/api/playground/compile')) compiles.push(r.url()); });
    await Promise.all([page.waitForResponse('**/api/playground/lint'), page.click('[data-action="compile"]')]);
    await page.waitForFunction(() => /1 error/.test(document.querySelector('[data-compile-status]').textContent));
    assert.deepEqual(compiles, [], 'a ruleset with errors is not sent to be signed');
    assert.equal(await page.getAttribute('body', 'data-applied'), null, 'a ruleset with errors is not applied');

    // A valid edit: the weather banner's fallback in the other order.
    const edited = original.replace('fallback: [stormfront-rain-shell, wide-brim-sun-hat]', 'fallback: [wide-brim-sun-hat, stormfront-rain-shell]');
    assert.notEqual(edited, original);
    await page.fill('[data-editor]', edited);
    await page.click('[data-action="compile"]');
    await page.waitForSelector('body[data-applied="1"]');
    await page.waitForFunction((sel) => document.querySelector(`${sel} [data-pick]`).dataset.item === 'wide-brim-sun-hat', weather);
    assert.deepEqual(await weatherIds(), ['wide-brim-sun-hat', 'stormfront-rain-shell'], 'the preview runs the edited ruleset');
    assert.deepEqual(pageErrors, []);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
    demo.cleanup();
  }
});
