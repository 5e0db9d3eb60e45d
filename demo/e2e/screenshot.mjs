// Takes screenshots of the demo at phone and desktop widths, before and
// after viewing a few products, for a person to look at. Not a test.
//
//   node demo/e2e/screenshot.mjs [outdir]
//
// Needs what the browser test needs: dist/ built and chromium. Prints the
// paths of the PNGs it writes (to a new temporary folder by default).

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
const VIEWS = ['trail-runner-x', 'ridge-racer', 'stride-vest'];

requireDist();
const demo = demoBinary();
let server;
let browser;
try {
  server = await startServer(demo.bin);
  browser = await launchBrowser();
  for (const size of SIZES) {
    const page = await browser.newPage({ viewport: { width: size.width, height: size.height } });
    page.on('pageerror', (e) => console.error(`page error: ${e}`));
    page.on('console', (m) => { if (m.type() === 'error') console.error(`console error: ${m.text()}`); });
    await page.goto(server.url);
    await page.waitForSelector('html[data-edgewise="ready"]');
    await page.waitForSelector('[data-panel="requests"] [data-request-row]');
    const shots = [];
    const shoot = async (label, fullPage) => {
      const path = join(outdir, `${size.name}-${size.width}-${label}.png`);
      await page.screenshot({ path, fullPage });
      shots.push(path);
    };
    await shoot('start', true);
    for (const id of VIEWS) {
      await page.click(`[data-item="${id}"] [data-action="view"]`);
      await page.waitForSelector('[data-edgewise-slot="recommended"][data-state="personalized"]');
    }
    await page.waitForTimeout(400); // let the card animation and toast settle
    await shoot('after-click', false);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shoot('viewed', true);
    await shoot('viewed-fold', false);
    console.log(shots.join('\n'));
    await page.close();
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) await server.stop();
  demo.cleanup();
}
