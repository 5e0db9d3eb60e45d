// The SDK per-call benchmark: what one decide and one observe cost a page
// in Chromium, through the worker, beside the raw engine call. Not a test;
// `make bench` runs it after the Go benchmarks.
//
//   node jsbridge/e2e/percall.mjs [calls]      (default 2000 calls each)
//   EDGEWISE_DIST=/tmp/old-dist node jsbridge/e2e/percall.mjs   (another build)
//
// The workload is the Go benchmarks' standard one (testdata/bench/standard.json:
// 1,000 items, 60 rules, a 500-event profile, a full context), signed here
// with a throwaway key by dist/edgewise build. The page is cross-origin
// isolated (COOP and COEP), so performance.now() ticks in 5 µs steps rather
// than 100 µs. Each figure is the median and the 95th percentile of single
// calls, each awaited before the next:
//   raw decide / raw observe: EngineInstance.call in the page (no SDK, no
//     worker, no persistence), the engine as the SDK's main-thread host runs it;
//   sdk decide: Edgewise.decide(the three slots), state unchanged (warm),
//     through the worker, with the no-flicker cache's check;
//   sdk observe: Edgewise.observe(a view), through the worker, with
//     whatever persistence costs the page.
// No CPU throttling: these are per-call costs on this machine's CPU.

import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { CHROMIUM_ARGS, binary } from '../../e2e/browsers.mjs';

const CALLS = Number(process.argv[2] || 2000);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// EDGEWISE_DIST compares another build of the SDK (an older one, say).
const dist = resolve(process.env.EDGEWISE_DIST || join(repoRoot, 'dist'));
for (const name of ['edgewise.js', 'edgewise.wasm', 'edgewise']) {
  if (!existsSync(join(dist, name))) throw new Error(`${join(dist, name)} is missing: run make build first`);
}

// The standard workload's ruleset, signed with a throwaway key.
const std = JSON.parse(readFileSync(join(repoRoot, 'testdata', 'bench', 'standard.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'edgewise-percall-'));
const cli = join(dist, 'edgewise');
writeFileSync(join(tmp, 'standard.json'), JSON.stringify(std.ruleset));
execFileSync(cli, ['keygen', '-o', join(tmp, 'site.key')], { stdio: 'ignore' });
execFileSync(cli, ['build', join(tmp, 'standard.json'), '--key', join(tmp, 'site.key'), '-o', join(tmp, 'standard.ewr')], { stdio: 'ignore' });
const publicKey = /public key:\s*(\S+)/.exec(execFileSync(cli, ['keygen', '--show', join(tmp, 'site.pub')], { encoding: 'utf8' }))[1];

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' };
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  const headers = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cache-control': 'no-store' };
  const m = /^\/dist\/([\w.-]+)$/.exec(path);
  if (path === '/') {
    res.writeHead(200, { ...headers, 'content-type': 'text/html' }).end('<!doctype html><title>per call</title>');
  } else if (path === '/standard.ewr') {
    res.writeHead(200, { ...headers, 'content-type': 'application/octet-stream' }).end(readFileSync(join(tmp, 'standard.ewr')));
  } else if (m && existsSync(join(dist, m[1]))) {
    res.writeHead(200, { ...headers, 'content-type': TYPES[extname(m[1])] || 'application/octet-stream' }).end(readFileSync(join(dist, m[1])));
  } else {
    res.writeHead(404, headers).end();
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`;

// In the page: loads the SDK twice (worker and main thread), brings both to
// the standard profile and context, and times single calls.
async function measure({ publicKey, std, calls }) {
  const { Edgewise } = await import('/dist/edgewise.js');
  const errors = [];
  const setup = async (worker) => {
    const ew = await Edgewise.load({ wasm: '/dist/edgewise.wasm', ruleset: '/standard.ewr', publicKey, worker });
    ew.on('error', (e) => errors.push(`${e.op}: ${e.code}: ${e.message}`));
    await ew.setContext(std.context);
    for (const e of std.events) await ew.observe(e);
    for (const i of std.impressions) await ew.recordImpressions(i.items, i.at);
    await ew.decide(std.slots);
    return ew;
  };
  const stats = (xs) => {
    xs.sort((a, b) => a - b);
    return { median: xs[Math.floor(xs.length / 2)] * 1000, p95: xs[Math.floor(xs.length * 0.95)] * 1000 };
  };
  const time = async (fn) => {
    const xs = [];
    for (let i = 0; i < calls / 10; i++) await fn(i); // warm-up
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      await fn(i);
      xs.push(performance.now() - t);
    }
    return stats(xs);
  };
  const items = std.ruleset.catalogue.map((it) => it.id);
  const at = std.context.now;
  const out = { isolated: self.crossOriginIsolated };
  const main = await setup(false);
  const engine = main._engine;
  if (!engine) return { state: [main.state], errors };
  out.rawDecide = await time(() => engine.call('decide', { slots: std.slots }));
  out.rawObserve = await time((i) => engine.call('observe', { event: { type: 'view', item: items[i % items.length], at: at + i } }));
  const ew = await setup(true);
  out.sdkDecide = await time(() => ew.decide(std.slots));
  out.sdkObserve = await time((i) => ew.observe({ type: 'view', item: items[i % items.length], at: at + i }));
  out.state = [main.state, ew.state];
  out.errors = errors;
  return out;
}

const browser = await puppeteer.launch({ executablePath: binary('chromium'), headless: true, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  const r = await page.evaluate(measure, { publicKey, std, calls: CALLS });
  if (r.state.join() !== 'ready,ready' || r.errors.length) throw new Error(`the SDK did not run cleanly: ${JSON.stringify(r)}`);
  const us = (v) => `${v.toFixed(0)} µs`.padStart(9);
  console.log(`SDK per call, Chromium ${await browser.version()}, standard workload, ${CALLS} calls each${r.isolated ? '' : ' (not isolated: 100 µs timer steps)'}`);
  console.log(`${''.padEnd(34)}   median       p95`);
  for (const [name, v] of [
    ['decide, raw engine call', r.rawDecide],
    ['decide through the SDK (worker)', r.sdkDecide],
    ['observe, raw engine call', r.rawObserve],
    ['observe through the SDK (worker)', r.sdkObserve],
  ]) console.log(`${name.padEnd(34)}${us(v.median)} ${us(v.p95)}`);
} finally {
  await browser.close();
  server.close();
  rmSync(tmp, { recursive: true, force: true });
}
