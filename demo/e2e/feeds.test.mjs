// The local weather without anyone learning where the person is, in
// Chromium, Firefox and WebKit: the demo's weather comes from the shop's
// signed weather feed, which every visitor fetches alike, joined on the
// device with the country the browser's time zone gives.
//
//   node --test demo/e2e/feeds.test.mjs
//
// Each test launches its own browsers, one in Europe/Paris (French) and one
// in Asia/Tokyo (Japanese), since a browser's time zone is its process's.
// The demo's example forecast has a rain front over northern France.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { launch, selectedEngines } from '../../e2e/browsers.mjs';
import { demoBinary, requireDist, startServer } from './harness.mjs';

const FEED = '/feeds/weather.ewf';
const RAIN_REASON = "Because it's raining where you are.";

let demo;
let server;

before(async () => {
  requireDist();
  demo = demoBinary();
  server = await startServer(demo.bin);
});

after(async () => {
  if (server) await server.stop();
  if (demo) demo.cleanup();
});

async function openShop(page) {
  await page.goto(page.url('/'));
  await page.waitForSelector('html[data-edgewise="ready"]', { timeout: 30_000 });
  // The first update with the engine: the slots decided with the feed.
  await page.waitFor(() => Number(document.documentElement.dataset.updates || 0) > 0, null, { what: 'the first update' });
}

/** Every pick on the page: its slot, item, reason and its Why's feed sentences. */
function picks(page) {
  return page.evaluate(() => [...document.querySelectorAll('[data-edgewise-slot] [data-pick]')].map((el) => ({
    slot: el.closest('[data-edgewise-slot]').dataset.edgewiseSlot,
    item: el.dataset.item,
    reason: (el.querySelector('[data-reason]') || {}).textContent || '',
    feeds: [...el.querySelectorAll('[data-why-feed]')].map((p) => p.textContent),
  })));
}

/** The feed requests a page made, as the test proxy saw them on the wire. */
const feedRequests = (page) => page.requests.filter((r) => r.path === FEED);

// What a request says, but for the Host header: each page's proxy listens on
// its own port, so Host names the test's proxy, not the visitor.
function onTheWire(r) {
  const { host, ...headers } = r.headers;
  return { method: r.method, url: r.url.replace(/^http:\/\/[^/]+/, ''), headers, body: r.body };
}

for (const name of selectedEngines()) {
  describe(`weather feed in ${name}`, { concurrency: false }, () => {
    let paris;
    let tokyo;
    let passed = 0;
    before(async () => {
      paris = await launch(name, { timeZone: 'Europe/Paris', languages: ['fr-FR', 'fr'] });
      tokyo = await launch(name, { timeZone: 'Asia/Tokyo', languages: ['ja-JP', 'ja'] });
    });
    // WebKit drives one page at a time: each test closes what it opened.
    afterEach(async () => {
      await Promise.all([paris, tokyo].map((b) => b && b.closePages()));
    });
    after(async () => {
      // The marker .ci/run looks for, as e2e/suite.mjs prints it.
      if (paris) console.log(`browser test: ${name} ran ${passed} tests in feeds (${paris.version})`);
      if (paris) await paris.close();
      if (tokyo) await tokyo.close();
    });

    test(`[${name}] a visitor in Paris who gives no location gets the rain rule from the feed, and the feed request is the same bytes as a Tokyo visitor's`, { timeout: 120_000 }, async () => {
      const page = await paris.newPage({ target: server.url, width: 1280 });
      await openShop(page);
      assert.equal(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone), 'Europe/Paris');
      const shown = await picks(page);
      const rainy = shown.filter((p) => p.reason === RAIN_REASON);
      assert.ok(rainy.length > 0, `no pick for the rain in Paris: ${JSON.stringify(shown)}`);
      for (const p of rainy) {
        assert.deepEqual(p.feeds.length, 1, JSON.stringify(p));
        assert.match(p.feeds[0], /^It's raining in France \(forecast from this shop's weather feed, (just made|\d+ minutes old)\)\.$/);
      }
      // What the engine kept: the country, from the time zone; no zone.
      assert.match(await page.text('[data-kept-from-zone]'), /Europe\/Paris/);
      assert.equal(await page.text('[data-kept-country]'), 'FR');
      assert.match(await page.text('[data-weather-label]'), /^Rain \(weather feed, France\)/);

      const there = await tokyo.newPage({ target: server.url, width: 1280 });
      await openShop(there);
      assert.equal(await there.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone), 'Asia/Tokyo');
      assert.deepEqual((await picks(there)).filter((p) => p.reason === RAIN_REASON), [], 'no rain in Tokyo');
      assert.equal(await there.text('[data-kept-country]'), 'JP');

      // One feed request each, and byte for byte the same: no query string,
      // no cookie, no Referer, the same Accept-Language, nothing about where
      // either visitor is.
      const a = feedRequests(page);
      const b = feedRequests(there);
      assert.equal(a.length, 1, 'one feed request from Paris');
      assert.equal(b.length, 1, 'one feed request from Tokyo');
      assert.deepEqual(onTheWire(a[0]), onTheWire(b[0]));
      assert.equal(new URL(a[0].url).search, '');
      for (const h of ['cookie', 'referer']) assert.equal(a[0].headers[h], undefined, h);
      assert.equal(a[0].headers['accept-language'], '*');
      // The page itself did tell the server the visitor's languages, as every
      // page load does; the feed request adds nothing to that.
      const doc = page.requests.find((r) => r.path === '/');
      assert.notEqual(doc.headers['accept-language'], a[0].headers['accept-language']);
      passed++;
    });

    test(`[${name}] the feed is kept until it expires: a second page view fetches nothing`, { timeout: 90_000 }, async () => {
      const page = await paris.newPage({ target: server.url, width: 390 });
      await openShop(page);
      assert.equal(feedRequests(page).length, 1);
      await page.reload();
      await page.waitForSelector('html[data-edgewise="ready"]', { timeout: 30_000 });
      await page.waitFor(() => Number(document.documentElement.dataset.updates || 0) > 0, null, { what: 'the first update' });
      assert.equal(feedRequests(page).length, 1, 'the second view used the kept feed');
      assert.ok((await picks(page)).some((p) => p.reason === RAIN_REASON), 'the kept feed still says rain');
      passed++;
    });
  });
}
