// Browser end-to-end test of the demo shop in headless Chromium.
//
//   node --test demo/e2e/                 (Node 20)
//   node --test demo/e2e/demo.test.mjs    (any Node: 21+ no longer searches directories)
//
// Needs dist/edgewise.wasm and dist/edgewise.js (make build) and chromium at
// /usr/bin/chromium or $CHROMIUM. Uses $EDGEWISE_DEMO_BIN as the demo server,
// or builds one with go build. Without chromium the test fails; it never skips.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoBinary, launchBrowser, repoRoot, requireChromium, requireDist, startServer } from './harness.mjs';

const SLOT = '[data-edgewise-slot="recommended"]';
// The trail running gear the test views, all tagged running and trail.
const VIEWS = ['trail-runner-x', 'ridge-racer', 'stride-vest'];
// Everything the page may fetch: the page, its script and styles, the
// signed ruleset with its public key, the catalogue and the SDK. Anything
// else in the server log is a failure.
const STATIC_PATHS = new Set([
  '/', '/index.html', '/app.js', '/style.css', '/ruleset.ewr', '/config.json', '/catalogue.json',
  '/dist/edgewise.js', '/dist/edgewise.js.map', '/dist/edgewise.wasm',
]);

async function serverLog(url) {
  const res = await fetch(`${url}/api/requests`);
  assert.equal(res.status, 200, 'GET /api/requests');
  return res.json();
}

async function slotState(page) {
  return page.$eval(SLOT, (slot) => ({
    state: slot.dataset.state,
    render: Number(slot.dataset.render),
    items: [...slot.querySelectorAll('[data-rec-item]')].map((li) => ({
      item: li.dataset.recItem,
      reason: (li.querySelector('[data-rec-reason]') || {}).textContent || '',
    })),
  }));
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
    // The served ruleset is demo/ruleset.json, embedded in the server and
    // signed by it at startup.
    const ruleset = JSON.parse(readFileSync(join(repoRoot, 'demo', 'ruleset.json'), 'utf8'));
    const items = new Map(ruleset.catalogue.map((it) => [it.id, it]));
    const fallback = ruleset.slots.find((s) => s.id === 'recommended').fallback;
    assert.equal((await serverLog(url)).total, 0, 'the server log starts empty and does not log itself');

    browser = await launchBrowser();
    console.log('browser test: chromium ran');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors = [];
    const consoleErrors = [];
    const browserRequests = [];
    page.on('pageerror', (e) => pageErrors.push(String(e && e.stack || e)));
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('request', (r) => browserRequests.push({ method: r.method(), url: r.url() }));
    page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));

    await page.goto(url);

    // First render: the shop's fallback picks.
    await page.waitForSelector(`${SLOT}[data-state="fallback"] [data-rec-item]`, { timeout: 30_000 });
    await page.waitForSelector('html[data-edgewise="ready"]');
    const first = await slotState(page);
    assert.deepEqual(first.items.map((p) => p.item), fallback.slice(0, 4), 'the slot first shows the fallback items');
    assert.equal(await page.locator('[data-item]').count(), ruleset.catalogue.length, 'the grid shows the whole catalogue');

    // The page has loaded everything it needs; remember how much the server saw.
    const loaded = await serverLog(url);
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-panel="requests"] [data-request-row]').length >= n,
      loaded.total,
    );

    // View three trail running products; each view re-renders the slot.
    let render = first.render;
    for (const id of VIEWS) {
      await page.click(`[data-item="${id}"] [data-action="view"]`);
      await page.waitForFunction(
        ([sel, n]) => Number(document.querySelector(sel).dataset.render) > n,
        [SLOT, render],
      );
      render = (await slotState(page)).render;
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
    // Every viewed product is tagged trail, the interest they all share.
    assert.ok(lead.tags.includes('trail'), `the first pick ${lead.id} (${lead.tags}) is trail gear`);
    for (const pick of after.items) {
      assert.ok(!VIEWS.includes(pick.item), `the slot excludes seen items, but shows ${pick.item}`);
    }
    const viewedTitles = VIEWS.map((id) => items.get(id).title);
    for (const pick of after.items) {
      assert.match(pick.reason, /^Because you viewed /, `reason for ${pick.item}`);
      assert.ok(viewedTitles.some((t) => pick.reason === `Because you viewed ${t}`),
        `reason ${JSON.stringify(pick.reason)} names a viewed product`);
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
      assert.ok(STATIC_PATHS.has(r.path), `only static files: ${desc}`);
      assert.equal(r.query, '', `no query strings: ${desc}`);
      assert.equal(r.body_size, 0, `no request bodies: ${desc}`);
      assert.ok(r.status === 200 || r.status === 304, `static file served: ${desc}`);
      for (const id of items.keys()) {
        assert.ok(!`${r.path}?${r.query}${r.body || ''}`.includes(id), `request carries item id ${id}: ${desc}`);
      }
    }
    for (const r of browserRequests) {
      assert.ok(r.url.startsWith(`${origin}/`) || r.url.startsWith('data:'), `the page only talks to its own server: ${r.url}`);
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

test('a ruleset changed on the way is refused: the page shows the shop picks and says why', { timeout: 120_000 }, async () => {
  requireChromium();
  requireDist();
  const demo = demoBinary();
  let server;
  let browser;
  try {
    server = await startServer(demo.bin);
    const ruleset = JSON.parse(readFileSync(join(repoRoot, 'demo', 'ruleset.json'), 'utf8'));
    const fallback = ruleset.slots.find((s) => s.id === 'recommended').fallback;
    browser = await launchBrowser();
    const page = await browser.newPage();
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
    const slot = await slotState(page);
    assert.equal(slot.state, 'fallback');
    assert.deepEqual(slot.items.map((p) => p.item), fallback.slice(0, 4), 'the slot shows the shop picks');
    assert.equal(await page.textContent('[data-slot-status]'), 'Shop picks · engine unavailable');
    assert.equal(await page.isVisible('[data-errors]'), true, 'the page reports the refused ruleset');
    assert.match(await page.textContent('[data-errors]'), /bad_signature/);
    // Viewing still works on the page, and stays on the device.
    await page.click(`[data-item="${VIEWS[0]}"] [data-action="view"]`);
    assert.equal((await slotState(page)).state, 'fallback');
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
    demo.cleanup();
  }
});
