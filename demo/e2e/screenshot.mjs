// Takes screenshots of the demo at phone and desktop widths, for a person to
// look at. Not a test.
//
//   node demo/e2e/screenshot.mjs [outdir]
//
// Needs what the browser test needs: dist/ built and chromium. Prints the
// paths of the PNGs it writes (to a new temporary folder by default): the
// shop on arrival, after viewing a few products in the rain in London, each
// side panel, the playground with a lint error, and the dashboard.

import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { demoBinary, launchBrowser, requireDist, startServer } from './harness.mjs';

const outdir = process.argv[2] ? resolve(process.argv[2]) : mkdtempSync(join(tmpdir(), 'edgewise-shots-'));
mkdirSync(outdir, { recursive: true });

const SIZES = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 900 },
];
const VIEWS = ['rockgrip-trail-shoe', 'mudline-trail-shoe', 'ridgeline-running-vest'];

requireDist();
const demo = demoBinary();
let server;
let browser;
try {
  // A simulated crowd's cohort reports, so the dashboard has cohorts to chart.
  server = await startServer(demo.bin, { args: ['-crowd', '3000'] });
  browser = await launchBrowser();
  for (const size of SIZES) {
    const context = await browser.newContext({ viewport: { width: size.width, height: size.height }, timezoneId: 'UTC' });
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error(`page error: ${e}`));
    page.on('console', (m) => { if (m.type() === 'error') console.error(`console error: ${m.text()}`); });
    await page.clock.setFixedTime(new Date('2026-12-02T14:00:00Z'));
    const shots = [];
    const shoot = async (label, fullPage, target = page) => {
      const path = join(outdir, `${size.name}-${size.width}-${label}.png`);
      await target.screenshot({ path, fullPage });
      shots.push(path);
    };
    await page.goto(server.url);
    await page.waitForSelector('html[data-edgewise="ready"]');
    await page.waitForSelector('[data-panel="requests"] [data-request-row]', { state: 'attached' });
    await shoot('start', true);
    for (const id of VIEWS) {
      await page.click(`[data-catalogue] [data-item="${id}"] [data-action="view"]`);
      await page.waitForSelector('[data-edgewise-slot="recommended"][data-state="personalized"]');
    }
    await page.check('input[name="weather"][value="rain"]', { force: true });
    await page.selectOption('#ctx-city', 'london');
    await page.waitForSelector('[data-kept-regions], [data-kept-rule]', { state: 'attached' });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.click('[data-edgewise-slot="home-hero"] [data-why] summary');
    await page.waitForTimeout(300);
    await shoot('personalized', true);
    await shoot('personalized-fold', false);
    for (const section of ['weather', 'recs', 'server']) {
      await shoot(`section-${section}`, false, page.locator(`.${section}`));
    }
    for (const tab of ['privacy', 'data']) {
      await page.click(`[data-tab="${tab}"]`);
      await shoot(`panel-${tab}`, false, page.locator('.controls'));
    }
    await page.goto(`${server.url}/playground`);
    await page.waitForSelector('html[data-edgewise="ready"]');
    await page.fill('[data-editor]', (await page.inputValue('[data-editor]')).replace('    boost: 3\n', '    boost: 12\n'));
    await page.click('[data-action="lint"]');
    await page.waitForSelector('[data-diagnostic]');
    await shoot('playground', false);
    await page.goto(`${server.url}/dashboard`);
    await shoot('dashboard', true);
    console.log(shots.join('\n'));
    await context.close();
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) await server.stop();
  demo.cleanup();
}
