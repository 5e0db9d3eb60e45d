// The cold-start benchmark: what a shopper on a slow phone waits for. Not a
// test; `make bench` runs it. Chromium only, because CPU throttling and
// network emulation are CDP's.
//
//   node demo/e2e/coldstart.mjs [runs]        (default 3 runs)
//
// The demo serves the engine as a site should (content-hashed, brotli). Each
// run is a fresh profile: a first visit (nothing cached, nothing stored)
// that views two products, then a repeat visit (the HTTP cache, the stored
// profile and the no-flicker cache kept). Both run at 4x CPU throttling, on
// the page and on the engine's worker (a page's throttling does not reach
// its workers: the worker is paused at start, throttled, then resumed), and
// on a Fast-3G-like network: 1.6 Mbps down, 750 kbps up, 150 ms round trip.
//
// Printed per visit, in ms after navigation: first paint, the wasm fetched,
// the first decision in the DOM, the engine ready; the main thread's long
// tasks, the layout shift, and the bytes transferred.

import puppeteer from 'puppeteer-core';
import { CHROMIUM_ARGS, binary } from '../../e2e/browsers.mjs';
import { demoBinary, requireDist, startServer } from './harness.mjs';

const RUNS = Number(process.argv.find((a) => /^\d+$/.test(a)) || 3);
// --detail prints each visit's waterfall: the page's and the worker's
// requests and the engine's User Timing marks, on the page's clock.
const DETAIL = process.argv.includes('--detail');
const CPU_RATE = 4;
const NETWORK = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 };
const VIEWS = ['rockgrip-trail-shoe', 'mudline-trail-shoe'];

// Before any script of the page: when each milestone happened, long tasks
// and layout shifts.
function observe() {
  const m = { longTasks: [], shift: 0 };
  window.__coldstart = m;
  new PerformanceObserver((l) => { for (const e of l.getEntries()) { m.longTasks.push(Math.round(e.duration)); (m.longTaskAt ||= []).push([Math.round(e.startTime), Math.round(e.duration)]); } })
    .observe({ type: 'longtask', buffered: true });
  new PerformanceObserver((l) => { for (const e of l.getEntries()) if (!e.hadRecentInput) m.shift += e.value; })
    .observe({ type: 'layout-shift', buffered: true });
  new MutationObserver(() => {
    const root = document.documentElement;
    if (m.decided === undefined && root.dataset.updates) m.decided = performance.now();
    if (m.ready === undefined && root.dataset.edgewise === 'ready') m.ready = performance.now();
    // The engine's picks, or a repeat visit's cached ones drawn by the page.
    if (m.personalized === undefined && document.querySelector('[data-edgewise-slot][data-state="personalized"], [data-edgewise-slot][data-edgewise-state="cached"]')) {
      m.personalized = performance.now();
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
}

async function visit(page, url, workers) {
  const start = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('html[data-edgewise="ready"]', { timeout: 120_000 });
  const m = await page.evaluate(() => {
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    const bytes = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
      .reduce((n, e) => n + (e.transferSize || 0), 0);
    const c = window.__coldstart;
    return { paint: paint && paint.startTime, decided: c.decided, ready: c.ready, personalized: c.personalized,
      longTasks: c.longTasks, longTaskAt: c.longTaskAt, shift: c.shift, bytes, timeOrigin: performance.timeOrigin };
  });
  // The wasm is fetched by the worker: its own resource timing, moved to the page's clock.
  let wasm;
  const detail = [];
  if (DETAIL) {
    detail.push(...(await page.evaluate(() => [...performance.getEntriesByType('resource'), ...performance.getEntriesByType('mark')]
      .map((e) => ({ who: 'page', name: e.name, start: e.startTime, end: e.responseEnd || e.startTime, bytes: e.transferSize })))));
  }
  for (const w of workers.splice(0)) {
    if (DETAIL) {
      const d = await w.evaluate(() => [...performance.getEntriesByType('resource'), ...performance.getEntriesByType('mark')]
        .map((e) => ({ who: 'worker', name: e.name, start: performance.timeOrigin + e.startTime, end: performance.timeOrigin + (e.responseEnd || e.startTime), bytes: e.transferSize }))).catch(() => []);
      const origin = await w.evaluate(() => performance.timeOrigin).catch(() => 0);
      detail.push({ who: 'worker', name: '(worker started)', start: origin, end: origin }, ...d);
      for (const e of detail) if (e.who === 'worker') { e.start -= m.timeOrigin; e.end -= m.timeOrigin; }
    }
    const t = await w.evaluate(() => {
      const e = performance.getEntriesByType('resource').find((r) => /\.wasm$/.test(new URL(r.name).pathname));
      return e && { at: performance.timeOrigin + e.responseEnd, bytes: e.transferSize };
    }).catch(() => null);
    if (t) {
      wasm = t.at - m.timeOrigin;
      m.bytes += t.bytes;
    }
  }
  return { ...m, wasm, detail, wall: Date.now() - start };
}

const fmt = (v) => (v === undefined ? '—' : `${Math.round(v)}`.padStart(6));

requireDist();
const demo = demoBinary();
const server = await startServer(demo.bin);
const browser = await puppeteer.launch({ executablePath: binary('chromium'), headless: true, args: CHROMIUM_ARGS, env: { ...process.env, TZ: 'UTC' } });
try {
  console.log(`cold start, Chromium ${await browser.version()}, ${CPU_RATE}x CPU (page and worker), 1.6 Mbps / 150 ms RTT`);
  console.log(`${'visit'.padEnd(8)}${'paint'.padStart(7)}${'wasm'.padStart(7)}${'decide'.padStart(7)}${'ready'.padStart(7)}${'perso'.padStart(7)}  long tasks      shift   KB`);
  for (let run = 1; run <= RUNS; run++) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    const client = await page.createCDPSession();
    await client.send('Emulation.setCPUThrottlingRate', { rate: CPU_RATE });
    await client.send('Network.enable');
    await client.send('Network.emulateNetworkConditions', NETWORK);
    const workers = [];
    page.on('workercreated', (w) => {
      // Sent before puppeteer resumes the paused worker, so it starts throttled.
      w.client.send('Emulation.setCPUThrottlingRate', { rate: CPU_RATE }).catch(() => {});
      w.client.send('Network.emulateNetworkConditions', NETWORK).catch(() => {});
      workers.push(w);
    });
    await page.evaluateOnNewDocument(observe);
    for (const kind of ['first', 'repeat']) {
      const r = await visit(page, server.url, workers);
      const lt = `${r.longTasks.length} (${r.longTasks.reduce((a, b) => a + b, 0)} ms)`.padEnd(14);
      console.log(`${`${kind} ${run}`.padEnd(8)} ${fmt(r.paint)} ${fmt(r.wasm)} ${fmt(r.decided)} ${fmt(r.ready)} ${fmt(r.personalized)}  ${lt} ${r.shift.toFixed(3)}  ${Math.round(r.bytes / 1024)}`);
      if (DETAIL) {
        for (const [at, ms] of r.longTaskAt || []) r.detail.push({ who: 'page', name: `(long task, ${ms} ms)`, start: at, end: at + ms });
        for (const e of r.detail.sort((a, b) => a.start - b.start)) {
          const name = e.name.replace(server.url, '/').replace(/^\/\//, '/');
          console.log(`    ${e.who.padEnd(7)}${fmt(e.start)}${fmt(e.end)}  ${name.slice(0, 60)}${e.bytes ? ` ${Math.round(e.bytes / 1024)} KB` : ''}`);
        }
      }
      if (kind === 'first') {
        for (const id of VIEWS) {
          await page.click(`[data-catalogue] [data-item="${id}"] [data-action="view"]`);
          await page.waitForFunction((i) => /Viewed/.test(document.querySelector(`[data-catalogue] [data-item="${i}"] [data-viewed]`).textContent), {}, id);
        }
        await new Promise((ok) => setTimeout(ok, 500)); // let the profile reach IndexedDB
      }
    }
    await context.close();
  }
  console.log('paint: first contentful paint; wasm: the engine fetched; decide: the first decision drawn; ready: the engine running;');
  console.log('perso: personalized picks first in the DOM (the engine\'s, or the cached ones the page draws as it is parsed);');
  console.log('long tasks on the main thread; shift: cumulative layout shift; KB transferred by the page and its worker.');
} finally {
  await browser.close();
  await server.stop();
  demo.cleanup();
}
