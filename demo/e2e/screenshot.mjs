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
    // The real clock: the collector takes reports only for the epochs
    // around its own, and the ledger shot needs one.
    const shots = [];
    const shoot = async (label, fullPage, target = page) => {
      const path = join(outdir, `${size.name}-${size.width}-${label}.png`);
      await target.screenshot({ path, fullPage });
      shots.push(path);
    };
    const rendered = async (action) => {
      const n = await page.$eval('[data-edgewise-slot="recommended"]', (e) => Number(e.dataset.render));
      await action();
      await page.waitForFunction((m) => Number(document.querySelector('[data-edgewise-slot="recommended"]').dataset.render) > m, n);
    };
    await page.goto(server.url);
    await page.waitForSelector('html[data-edgewise="ready"]');
    await page.waitForSelector('[data-panel="requests"] [data-request-row]', { state: 'attached' });
    await shoot('start', true);
    for (const id of VIEWS) {
      await rendered(() => page.click(`[data-catalogue] [data-item="${id}"] [data-action="view"]`));
    }
    await rendered(() => page.check('input[name="weather"][value="rain"]', { force: true }));
    await rendered(() => page.selectOption('#ctx-city', 'london'));
    await rendered(() => page.selectOption('#ctx-visits', '3'));
    // The "Recommendations updated" toast after a view fades after 2.5 s.
    await page.waitForFunction(() => !document.querySelector('[data-toast]').classList.contains('show'));
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.click('[data-edgewise-slot="home-hero"] [data-why] summary');
    await page.waitForTimeout(300);
    await shoot('personalized', true);
    await shoot('personalized-fold', false);
    for (const section of ['weather', 'recs', 'server']) {
      await shoot(`section-${section}`, false, page.locator(`.${section}`));
    }
    await shoot('panel-context', false, page.locator('.controls'));
    await page.click('[data-tab="privacy"]');
    await shoot('panel-privacy', false, page.locator('.controls'));
    // Allow counting: the page sends this epoch's report, and the ledger shows it.
    await rendered(() => page.click('[data-sharing] label:has(input[value="cohorts"])'));
    await page.click('[data-tab="data"]');
    await page.waitForFunction(() => document.querySelector('[data-ledger-reports]').textContent === '1', null, { timeout: 10_000 })
      .catch(() => console.error('no report was sent'));
    await shoot('panel-data', false, page.locator('.controls'));
    await shoot('section-server-after-report', false, page.locator('.server'));
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
