// Context feeds through the SDK (src/feeds.js in the host) against the real
// wasm module: the ruleset names its feeds, the host fetches them with a
// request that says nothing about the person, and the engine joins them
// with the person's region.

import test from 'node:test';
import assert from 'node:assert/strict';
import { Edgewise } from '../testing/sdk.mjs';
import { feedsEwr, serve, testPublicKey, wasmModule, weatherFeedEwf } from '../testing/helpers.mjs';
import { browserPlace } from '../src/feeds.js';

const mod = await wasmModule();
const ISSUED = 1764400000000; // testdata/abi/weather-feed.json

// The feeds' URLs are paths on the page's origin: here, the test server's.
async function site(routes) {
  const server = await serve(routes);
  globalThis.location = new URL(server.url('/'));
  return server;
}

async function load() {
  const ew = await Edgewise.load({ wasm: mod, ruleset: feedsEwr(), publicKey: testPublicKey(), storage: false });
  const errors = [];
  ew.on('error', (e) => errors.push(e));
  await Promise.resolve();
  return { ew, errors };
}

test('a weather feed the ruleset names reaches the weather rules, and the pick says where it came from', async (t) => {
  const server = await site({ '/feeds/weather.ewf': { type: 'application/octet-stream', body: weatherFeedEwf() } });
  t.after(() => server.close());
  const { ew, errors } = await load();
  assert.equal(ew.state, 'ready');
  // Paris by time zone: the country, France, where the feed says rain.
  assert.equal(await ew.setContext({ now: ISSUED + 40 * 60_000, time_zone: 'Europe/Paris', languages: ['fr-FR'] }), true);
  const hero = await ew.decide('hero');
  assert.equal(hero.items[0].item, 'rain-shell');
  assert.deepEqual(hero.items[0].feeds, [{ feed: 'weather', kind: 'weather', value: 'rain', place: 'FR', label: 'France', issued: ISSUED }]);
  // Tokyo: clear.
  await ew.setContext({ now: ISSUED + 40 * 60_000, time_zone: 'Asia/Tokyo', languages: ['ja'] });
  assert.equal((await ew.decide('hero')).items[0].item, 'sunglasses');
  // Three hours on the feed has expired: no weather, the shop's pick.
  await ew.setContext({ now: ISSUED + 3 * 3600_000, time_zone: 'Europe/Paris' });
  assert.equal((await ew.decide('hero')).fallback, true);
  // The holidays feed is not served: one error, and nothing else breaks.
  assert.deepEqual(errors.map((e) => [e.code, e.op]), [['feed_failed', 'load']]);
  assert.match(errors[0].message, /feed holidays .*HTTP 404/);

  // One request per feed, the same for everyone: no query string, no
  // cookies, no Referer, a fixed Accept-Language.
  const weather = server.requests.filter((r) => r.url.startsWith('/feeds/weather'));
  assert.equal(weather.length, 1);
  assert.equal(weather[0].url, '/feeds/weather.ewf');
  assert.equal(weather[0].headers.cookie, undefined);
  assert.equal(weather[0].headers.referer, undefined);
  assert.equal(weather[0].headers['accept-language'], '*');
});

test('a feed that is not what the ruleset names is refused with the engine\'s error', async (t) => {
  // The ruleset file where the feed should be.
  const server = await site({ '/feeds/weather.ewf': { type: 'application/octet-stream', body: feedsEwr() } });
  t.after(() => server.close());
  const { ew, errors } = await load();
  await ew.setContext({ now: ISSUED + 60_000, time_zone: 'Europe/Paris' });
  assert.equal((await ew.decide('hero')).fallback, true);
  const bad = errors.find((e) => e.code === 'bad_feed');
  assert.ok(bad, JSON.stringify(errors));
  assert.equal(bad.op, 'load_feed');
  assert.match(bad.message, /does not start with "EWFS"/);
});

test('the browser\'s time zone and languages are what the host hands over by default', () => {
  const place = browserPlace();
  assert.equal(place.time_zone, Intl.DateTimeFormat().resolvedOptions().timeZone);
  assert.ok(Array.isArray(place.languages));
});
