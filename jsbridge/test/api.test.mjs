// describe, exportData and report through the public SDK, against the real
// engine, the signed ruleset with cohorts of the golden report case, and a
// stand-in collector that records every request it gets.

import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Edgewise } from '../testing/sdk.mjs';
import { cohortsEwr, shopEwr, testPublicKey, wasmModule } from '../testing/helpers.mjs';

const mod = await wasmModule();
const HOUR = 3600000;

// A collector that publishes sizes and accepts reports, logging requests.
async function collector({ sizes = { 'interest=runners/area=nordics': 500 }, status = 204 } = {}) {
  const log = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      log.push({ method: req.method, url: req.url, body, cookie: req.headers.cookie, type: req.headers['content-type'] });
      res.setHeader('access-control-allow-origin', '*');
      if (req.method === 'GET' && req.url.startsWith('/v1/cohort-sizes?')) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(sizes));
      } else if (req.method === 'POST' && req.url === '/v1/reports') {
        res.writeHead(status).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}/`, log, close: () => new Promise((ok) => server.close(ok)) };
}

async function load(options = {}) {
  const ew = await Edgewise.load({ wasm: mod, ruleset: cohortsEwr(), publicKey: testPublicKey(), worker: false, storage: false, ...options });
  const seen = { error: [] };
  ew.on('error', (e) => seen.error.push(e));
  await Promise.resolve();
  assert.equal(ew.state, 'ready', JSON.stringify(seen.error));
  return { ew, seen };
}

// A person in a cohort: a runner in Sweden.
async function runner(ew) {
  const now = Date.now();
  await ew.setContext({ now, country: 'SE' });
  await ew.observe({ type: 'click', item: 'trail-shoe', at: now - HOUR });
}

test('describe says what the ruleset collects and why; slots fall back to its items', async () => {
  const { ew } = await load();
  const d = await ew.describe();
  assert.equal(d.ruleset.id, 'corpus-cohorts');
  assert.deepEqual(d.signals.map((s) => [s.id, s.retention_days]), [['history', 30], ['weather', 0], ['region', 0], ['time', 0]]);
  assert.ok(d.signals.every((s) => typeof s.purpose === 'string' && s.purpose));
  assert.deepEqual(d.interests.map((i) => i.id), ['runners', 'campers']);
  assert.equal(d.reporting.min_k, 50);
  // The ruleset's fallbacks, not the page's, once the engine verified it.
  const hero = d.slots.find((s) => s.id === 'hero').fallback;
  ew._channel.host.engine.exports.ew_decide = () => {
    throw new WebAssembly.RuntimeError('unreachable');
  };
  const during = await ew.decide('hero');
  assert.equal(during.fallback, true);
  assert.deepEqual(during.items.map((p) => p.item), hero);

  const failed = await Edgewise.load({ wasm: mod, ruleset: shopEwr().slice(0, 9), publicKey: testPublicKey(), worker: false, storage: false });
  assert.equal(await failed.describe(), null);
});

test('exportData is readable JSON of everything kept on the device', async () => {
  const { ew } = await load();
  await runner(ew);
  await ew.decide('recommended', { record: true });
  const text = await ew.exportData();
  assert.equal(typeof text, 'string');
  assert.ok(text.includes('\n  '), 'indented for people');
  const data = JSON.parse(text);
  assert.deepEqual(data.engine.events.map((e) => [e.type, e.item]), [['click', 'trail-shoe']]);
  assert.equal(data.engine.preferences.sharing, 'on-device');
  assert.equal(data.engine.ruleset.id, 'corpus-cohorts');
  assert.equal(data.engine.context.location, undefined);
  assert.ok('stored' in data);
});

test('report sends the cohort report, and only its fields, without credentials', async (t) => {
  const c = await collector();
  t.after(c.close);
  const { ew, seen } = await load({ collector: c.url });
  await runner(ew);
  assert.equal((await ew.setConsent('cohorts')).sharing, 'cohorts');
  const sent = await ew.report();
  assert.deepEqual(seen.error, []);
  assert.ok(sent, 'a report was sent');
  assert.deepEqual(c.log.map((r) => [r.method, r.url]), [
    ['GET', '/v1/cohort-sizes?ruleset=corpus-cohorts'],
    ['POST', '/v1/reports'],
  ]);
  const body = JSON.parse(c.log[1].body);
  assert.deepEqual(body, sent);
  assert.deepEqual(Object.keys(body).sort(), ['epoch', 'epsilon', 'mechanism', 'ruleset', 'value']);
  assert.equal(body.mechanism, 'krr');
  assert.ok(Number.isInteger(body.value) && body.value >= 0, `value ${body.value}`);
  assert.equal(body.ruleset, 'corpus-cohorts');
  assert.equal(body.epsilon, 2);
  assert.equal(body.epoch, Math.floor(Date.now() / (7 * 24 * HOUR)));
  assert.match(c.log[1].type, /^text\/plain/, 'no preflight');
  assert.ok(c.log.every((r) => r.cookie === undefined));

  // One report per epoch: asking again sends nothing new.
  assert.equal(await ew.report(), null);
  assert.equal(c.log.filter((r) => r.method === 'POST').length, 1);
  const ledger = JSON.parse(await ew.exportData()).engine.ledger;
  assert.equal(ledger.length, 1);
});

test('forget() returns cohorts sharing to on-device, keeps the more private choices, and no second report goes this epoch', async (t) => {
  const c = await collector();
  t.after(c.close);
  const { ew, seen } = await load({ collector: c.url });
  await runner(ew);
  await ew.setConsent('cohorts');
  assert.ok(await ew.report(), 'the first report of the epoch');
  await ew.setPreferences({ sharing: 'cohorts', location: false });
  assert.equal(await ew.forget(), true);
  const after = await ew.preferences();
  assert.equal(after.sharing, 'on-device', 'a person who asked to be forgotten is not reporting any more');
  assert.equal(after.location, false, 'a more private choice stays');
  assert.equal(await ew.report(), null);
  // Opting in again in the same epoch still sends nothing: the engine
  // keeps when the last report's period ends.
  assert.equal((await ew.setPreferences({ sharing: 'cohorts', location: true })).sharing, 'cohorts');
  await runner(ew);
  assert.equal(await ew.report(), null);
  assert.equal(c.log.filter((r) => r.method === 'POST').length, 1, 'one report in the epoch, before and after Forget');
  assert.deepEqual(seen.error, []);

  // Sharing off stays off.
  const { ew: off } = await load();
  await off.setConsent('off');
  assert.equal(await off.forget(), true);
  assert.equal((await off.preferences()).sharing, 'off');
});

test('report sends nothing at all below cohorts, under GPC, or without a collector', async (t) => {
  const c = await collector();
  t.after(c.close);
  const { ew } = await load({ collector: c.url });
  await runner(ew);
  assert.equal(await ew.report(), null, 'on-device, the default');
  await ew.setConsent('off');
  assert.equal(await ew.report(), null, 'off');
  assert.equal((await ew.setPreferences({ sharing: 'cohorts', gpc: true })).sharing, 'on-device');
  assert.equal(await ew.report(), null, 'gpc');
  // GPC from the browser stops it before the engine is even asked.
  await ew.setPreferences({ sharing: 'cohorts', gpc: false });
  Object.defineProperty(globalThis, 'navigator', { value: { globalPrivacyControl: true }, configurable: true, writable: true });
  try {
    assert.equal(await ew.report(), null, 'navigator.globalPrivacyControl');
  } finally {
    delete globalThis.navigator;
  }
  const { ew: nowhere } = await load();
  await runner(nowhere);
  await nowhere.setConsent('cohorts');
  assert.equal(await nowhere.report(), null, 'no collector');
  assert.deepEqual(c.log, [], 'not one request');
});

test('report: small cohorts, a collector that is down or refuses give null and an error', async (t) => {
  const small = await collector({ sizes: { 'interest=runners/area=nordics': 3 } });
  t.after(small.close);
  const { ew, seen } = await load({ collector: small.url });
  await runner(ew);
  await ew.setConsent('cohorts');
  assert.equal(await ew.report(), null, 'below min_k at every level');
  assert.deepEqual(small.log.map((r) => r.method), ['GET']);
  assert.deepEqual(seen.error, []);

  const down = await load({ collector: 'http://127.0.0.1:1' });
  await runner(down.ew);
  await down.ew.setConsent('cohorts');
  assert.equal(await down.ew.report(), null);
  assert.deepEqual(down.seen.error.map((e) => [e.code, e.op]), [['report_failed', 'report']]);

  const refuses = await collector({ status: 400 });
  t.after(refuses.close);
  const r = await load({ collector: refuses.url });
  await runner(r.ew);
  await r.ew.setConsent('cohorts');
  assert.equal(await r.ew.report(), null);
  assert.deepEqual(r.seen.error.map((e) => e.code), ['report_failed']);
  assert.match(r.seen.error[0].message, /HTTP 400/);
});
