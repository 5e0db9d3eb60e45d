// The demo's screens lay out at a phone's, a tablet's and a desktop's width,
// in Chromium, Firefox and WebKit: nothing overflows sideways, no two
// cards overlap, and no product title is cut short.
//
//   node --test demo/e2e/layout.test.mjs
//
// Needs what demo.test.mjs needs (make build, the browsers).

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { forEachEngine } from '../../e2e/suite.mjs';
import { demoBinary, requireDist, startServer } from './harness.mjs';

const WIDTHS = [390, 1024, 1440];
// The screens, each with what to wait for and its cards: the boxes that
// must not overlap each other.
const SCREENS = [
  { path: '/', ready: 'html[data-updates]', cards: '.shop-column > *, .side-column > *, .rec, .weather-list > li' },
  { path: '/dashboard', ready: '.dash', cards: '.dash > .card-panel, .figures > div' },
  { path: '/playground', ready: 'html[data-edgewise="ready"]', cards: '.playground > *, .preview > *, .preview .rec, .preview .weather-list > li' },
];

let demo;
let server;

before(async () => {
  requireDist();
  demo = demoBinary();
  // A simulated crowd, so the dashboard has published and suppressed cohorts.
  server = await startServer(demo.bin, { args: ['-crowd', '30000'] });
});

after(async () => {
  if (server) await server.stop();
  if (demo) demo.cleanup();
});

/** In the page: the sideways overflow, and every pair of visible cards that overlap. */
function measure(selector) {
  const doc = document.documentElement;
  const boxes = [...document.querySelectorAll(selector)]
    .filter((el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden')
    .map((el) => ({ el, r: el.getBoundingClientRect() }))
    .filter(({ r }) => r.width > 0 && r.height > 0);
  const name = (el) => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '');
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
      const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (w > 1 && h > 1) overlaps.push(`${name(a.el)} and ${name(b.el)} overlap by ${Math.round(w)}x${Math.round(h)}`);
    }
  }
  const wide = [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 1 && getComputedStyle(el).position !== 'fixed')
    .filter((el) => !el.closest('.chart, pre, .editor, textarea'))
    .slice(0, 5).map((el) => `${name(el)} ends at ${Math.round(el.getBoundingClientRect().right)}`);
  // A cohort id's parts (up to each "/" or "=") are its .id-part spans;
  // one that takes two lines broke mid-word.
  const brokenIds = [];
  for (const el of document.querySelectorAll('.estimates th[scope="row"], .suppressed li')) {
    if (!el.querySelector('.id-part')) brokenIds.push(`${el.textContent} has no parts`);
    for (const part of el.querySelectorAll('.id-part')) {
      const lines = new Set([...part.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (lines.size > 1) brokenIds.push(part.textContent);
    }
  }
  const negative = [...document.querySelectorAll('.chart .tick-label, .estimates td')]
    .map((el) => el.textContent).filter((t) => /(^|\s)[-−]\d/.test(t));
  // A pick's title is shown whole: its box has a fixed size (no layout
  // shift), and the text must fit in it, not run out of it or be cut. The
  // picks depend on the clock, so every title of the catalogue is tried in
  // each kind of title box on the page, not only the ones shown now.
  const fits = (el) => el.scrollHeight <= el.clientHeight + 1 && el.scrollWidth <= el.clientWidth + 1;
  const cutTitles = [...document.querySelectorAll('.hero-title, .rec h3')]
    .filter((el) => el.getClientRects().length > 0 && el.textContent.trim() !== '' && !fits(el))
    .map((el) => el.textContent.trim());
  const catalogueEl = document.querySelector('script[data-edgewise-catalogue]');
  const titles = catalogueEl ? Object.values(JSON.parse(catalogueEl.textContent)).map((i) => i.title) : [];
  for (const sel of ['.hero .hero-title', '.weather-list .rec h3', '.recs .rec h3']) {
    const el = [...document.querySelectorAll(sel)].find((e) => e.getClientRects().length > 0);
    if (!el) continue;
    const shown = el.textContent;
    for (const t of titles) {
      el.textContent = t;
      if (!fits(el)) cutTitles.push(`${t} (in ${sel})`);
    }
    el.textContent = shown;
  }
  return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, overlaps, wide, cards: boxes.length, brokenIds, negative, cutTitles };
}

forEachEngine('layout', (engine) => {
  for (const width of WIDTHS) {
    engine.test(`the shop, the dashboard and the playground at ${width} px: no sideways overflow, no overlapping cards`, async () => {
      for (const screen of SCREENS) {
        const page = await engine.browser.newPage({ target: server.url, width, height: 900 });
        await page.goto(page.url(screen.path));
        await page.waitForSelector(screen.ready, { timeout: 30_000 });
        await page.waitFor(() => document.getAnimations().every((a) => a.playState !== 'running'), null, { what: 'animations to end' });
        // Every panel open: what a visitor can unfold must fit too.
        await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
        const m = await page.evaluate(measure, screen.cards);
        assert.ok(m.cards > 0, `${screen.path}: no cards found with ${screen.cards}`);
        assert.ok(m.scrollWidth <= m.clientWidth, `${screen.path} at ${width} px is ${m.scrollWidth} px wide in a ${m.clientWidth} px window: ${m.wide.join('; ')}`);
        assert.deepEqual(m.overlaps, [], `${screen.path} at ${width} px`);
        assert.deepEqual(m.brokenIds, [], `${screen.path} at ${width} px: cohort ids wrap only between their parts`);
        assert.deepEqual(m.negative, [], `${screen.path} at ${width} px: head counts are never shown below zero`);
        assert.deepEqual(m.cutTitles, [], `${screen.path} at ${width} px: product titles are shown whole`);
        await page.close();
      }
    });
  }
});
