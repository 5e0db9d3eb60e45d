// Takes screenshots of the demo at phone and desktop widths in Chromium,
// Firefox and WebKit, for a person to look at side by side. Not a test.
//
//   node demo/e2e/screenshot.mjs [outdir]        (make screenshots)
//   EDGEWISE_BROWSERS=webkit node demo/e2e/screenshot.mjs
//
// Needs what the browser test needs: dist/ built and the browsers. Prints
// the paths of the PNGs it writes (to a new temporary folder by default),
// named ENGINE-SIZE-WIDTH-LABEL.png: the shop on arrival, a catalogue card
// viewed and one bought with "Buy", the shop after viewing a few products in
// the rain in London, each side panel, the playground with a lint error,
// the dashboard and its experiment panel, the hero once its promotion's
// cap is reached, with "Your data", and the hero of a visitor
// in its experiment's comparison group, its "Why" open.

import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launch, selectedEngines } from '../../e2e/browsers.mjs';
import { demoBinary, requireDist, startServer, zeroRandomness } from './harness.mjs';

const outdir = process.argv[2] ? resolve(process.argv[2]) : mkdtempSync(join(tmpdir(), 'edgewise-shots-'));
mkdirSync(outdir, { recursive: true });

const SIZES = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 900 },
];
const VIEWS = ['rockgrip-trail-shoe', 'mudline-trail-shoe', 'ridgeline-running-vest'];

// A function that screenshots page at rest into outdir as
// ENGINE-SIZE-WIDTH-LABEL.png and adds the file to shots.
function shooter(page, engine, size, shots) {
  return async (label, options = {}) => {
    // Slots rise in over 0.25 s: shoot them at rest, in every engine alike.
    await page.waitFor(() => document.getAnimations().every((a) => a.playState !== 'running'), null, { what: 'animations to end' });
    const path = join(outdir, `${engine}-${size.name}-${size.width}-${label}.png`);
    await page.screenshot(path, options);
    shots.push(path);
  };
}

async function shootEngine(engine, url) {
  const browser = await launch(engine);
  const shots = [];
  try {
    for (const size of SIZES) {
      // The real clock: the collector takes reports only for the epochs
      // around its own, and the ledger shot needs one.
      const page = await browser.newPage({ target: url, width: size.width, height: size.height });
      const shoot = shooter(page, engine, size, shots);
      const updated = async (action) => {
        const n = await page.evaluate(() => Number(document.documentElement.dataset.updates || 0));
        await action();
        await page.waitFor((m) => Number(document.documentElement.dataset.updates || 0) > m, n, { what: 'an update' });
      };
      await page.goto(page.url('/'));
      await page.waitForSelector('html[data-edgewise="ready"]');
      await page.waitForSelector('[data-panel="requests"] [data-request-row]', { visible: false });
      await shoot('start', { fullPage: true });
      for (const id of VIEWS) await updated(() => page.click(`[data-catalogue] [data-item="${id}"] [data-action="view"]`));
      // A catalogue card with its "View" and "Buy", once viewed and once bought.
      await updated(() => page.click(`[data-catalogue] [data-item="${VIEWS[1]}"] [data-action="buy"]`));
      await shoot('card-viewed', { selector: `[data-catalogue] [data-item="${VIEWS[0]}"]` });
      await shoot('card-bought', { selector: `[data-catalogue] [data-item="${VIEWS[1]}"]` });
      await updated(() => page.click('[data-weather] label:has(input[value="rain"])'));
      await updated(() => page.select('#ctx-city', 'london'));
      await updated(() => page.select('#ctx-visits', '3'));
      // The "Recommendations updated" toast after a view fades after 2.5 s.
      await page.waitFor(() => !document.querySelector('[data-toast]').classList.contains('show'), null, { timeout: 10_000 });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.click('[data-edgewise-slot="home-hero"] [data-why] summary');
      await new Promise((ok) => setTimeout(ok, 300));
      await shoot('personalized', { fullPage: true });
      await shoot('personalized-fold');
      for (const section of ['weather', 'recs', 'server']) await shoot(`section-${section}`, { selector: `.${section}` });
      await shoot('panel-context', { selector: '.controls' });
      await page.click('[data-tab="privacy"]');
      await shoot('panel-privacy', { selector: '.controls' });
      // Allow counting: the page sends this epoch's report, and the ledger shows it.
      await updated(() => page.click('[data-sharing] label:has(input[value="cohorts"])'));
      await page.click('[data-tab="data"]');
      await page.waitFor(() => document.querySelector('[data-ledger-reports]').textContent === '1', null, { timeout: 10_000 })
        .catch(() => console.error(`${engine}: no report was sent`));
      await shoot('panel-data', { selector: '.controls' });
      await shoot('section-server-after-report', { selector: '.server' });
      await page.goto(page.url('/playground'));
      await page.waitForSelector('html[data-edgewise="ready"]');
      await page.fill('[data-editor]', (await page.value('[data-editor]')).replace('    boost: 3\n', '    boost: 12\n'));
      await page.click('[data-action="lint"]');
      await page.waitForSelector('[data-diagnostic]');
      // The diagnostic takes the editor to its line, in every engine alike.
      await page.click('[data-diagnostic]');
      await shoot('playground');
      await page.goto(page.url('/dashboard'));
      await shoot('dashboard', { fullPage: true });
      await page.evaluate(() => { for (const d of document.querySelectorAll('details.by-epoch')) d.open = true; });
      await shoot('dashboard-experiment', { selector: '[data-experiment-panel]' });
      for (const e of await page.errors()) console.error(`${engine} ${size.name}: page error: ${e}`);
      await page.close();

      // A cap that bites: the hero's rain shell, seen on three page views
      // (a second on screen each), gives way on the fourth and says why.
      const capped = await browser.newPage({ target: url, width: size.width, height: size.height });
      const shootCapped = shooter(capped, engine, size, shots);
      for (let view = 1; view <= 4; view++) {
        await capped.goto(capped.url('/'));
        await capped.waitForSelector('html[data-edgewise="ready"]');
        if (view < 4) await new Promise((ok) => setTimeout(ok, 1500));
      }
      await capped.click('[data-edgewise-slot="home-hero"] [data-why] summary');
      await new Promise((ok) => setTimeout(ok, 300));
      await shootCapped('capped-hero', { selector: '.hero' });
      await capped.click('[data-tab="data"]');
      await shootCapped('capped-data', { selector: '.controls' });
      await capped.close();

      // A visitor in the hero experiment's comparison group: the engine's
      // worker reads zeros for randomness, so its coin lands there (as the
      // browser test does it), once the visitor allows counting.
      const holdout = await browser.newPage({ target: url, width: size.width, height: size.height });
      const shootHoldout = shooter(holdout, engine, size, shots);
      zeroRandomness(holdout);
      await holdout.goto(holdout.url('/'));
      await holdout.waitForSelector('html[data-edgewise="ready"]');
      const n = await holdout.evaluate(() => Number(document.documentElement.dataset.updates || 0));
      await holdout.click('[data-tab="privacy"]');
      await holdout.click('[data-sharing] label:has(input[value="cohorts"])');
      await holdout.waitFor((m) => Number(document.documentElement.dataset.updates || 0) > m, n, { what: 'an update' });
      // The page sends this epoch's report, then draws the slots again.
      await holdout.waitFor(() => document.querySelector('[data-ledger-reports]').textContent === '1', null, { what: 'this epoch\'s report' });
      await holdout.waitFor(() => document.querySelector('[data-edgewise-slot="home-hero"]').dataset.experiment === 'hero-lift', null, { what: 'the comparison group' });
      await holdout.evaluate(() => window.scrollTo(0, 0));
      await holdout.click('[data-edgewise-slot="home-hero"] [data-why] summary');
      await new Promise((ok) => setTimeout(ok, 300));
      await shootHoldout('comparison-hero', { selector: '.hero' });
      for (const e of await holdout.errors()) console.error(`${engine} ${size.name}: page error: ${e}`);
      await holdout.close();
    }
  } finally {
    await browser.close();
  }
  return shots;
}

// The weather feed as a visitor in Paris who gives no location sees it: the
// banner's rain gear, its "Why" naming the feed, and what the engine kept.
async function shootFeed(engine, url) {
  const browser = await launch(engine, { timeZone: 'Europe/Paris', languages: ['fr-FR', 'fr'] });
  const shots = [];
  try {
    for (const size of SIZES) {
      const page = await browser.newPage({ target: url, width: size.width, height: size.height });
      const shoot = shooter(page, engine, size, shots);
      await page.goto(page.url('/'));
      await page.waitForSelector('html[data-edgewise="ready"]');
      await page.waitFor(() => Number(document.documentElement.dataset.updates || 0) > 0, null, { what: 'the first update' });
      await page.click('[data-edgewise-slot="weather-banner"] [data-why] summary');
      await new Promise((ok) => setTimeout(ok, 300));
      await shoot('feed-weather', { selector: '.weather' });
      await shoot('feed-context', { selector: '.controls' });
      for (const e of await page.errors()) console.error(`${engine} ${size.name}: page error: ${e}`);
      await page.close();
    }
  } finally {
    await browser.close();
  }
  return shots;
}

requireDist();
const demo = demoBinary();
let server;
try {
  // A simulated crowd's cohort reports, so the dashboard has cohorts to chart.
  server = await startServer(demo.bin, { args: ['-crowd', '30000'] });
  for (const engine of selectedEngines()) {
    console.log((await shootEngine(engine, server.url)).join('\n'));
    console.log((await shootFeed(engine, server.url)).join('\n'));
  }
} finally {
  if (server) await server.stop();
  demo.cleanup();
}
