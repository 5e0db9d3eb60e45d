// Trailhead Outfitters: the Edgewise demo shop.
//
// The engine loads /ruleset.ewr, the shop's ruleset as the server signed it
// at startup, and checks its signature against the public key the server
// put in the page (#edgewise-config, as /config.json serves it too).
// js/start.js starts the engine before the rest of this code arrives. The shop is drawn from
// /catalogue.json, the public display catalogue of the same ruleset; on a
// repeat visit the pre-paint snippet in the page has already drawn the
// cached picks from the page's copy of it. Everything personal happens in this tab:
// "View" and "Buy" record events in the engine (so does a click on a pick
// in the hero or "recommended"), the context simulator and the preference
// center feed it, and the three slots (home-hero, recommended,
// weather-banner) are its decisions. "What the server saw" follows the
// server's own request log, so anyone can check that none of it is sent.
//
// Modules: js/start.js (the engine's start), js/shop.js (catalogue), js/slots.js (slots and "why"),
// js/context.js (simulator), js/prefs.js (preference center),
// js/yourdata.js (your data, export, forget, report), js/serverlog.js
// (the server's log), js/art.js (product drawings).

import { productArt, accentClass } from '/js/art.js';
import { ContextSimulator } from '/js/context.js';
import { $, el, formatPrice } from '/js/dom.js';
import { PreferenceCenter } from '/js/prefs.js';
import { ServerLog } from '/js/serverlog.js';
import { Shop, SLOTS } from '/js/shop.js';
import { renderSlot } from '/js/slots.js';
import { trackImpressions } from '/dist/edgewise-track.js';
import { loading } from '/js/start.js';
import { setupTabs } from '/js/tabs.js';
import { capSentence, readExport, regionNames, YourData } from '/js/yourdata.js';

const WEATHER_LABELS = { clear: 'Clear', cloudy: 'Cloudy', rain: 'Rain', snow: 'Snow', storm: 'Storm', hot: 'Hot', cold: 'Cold' };

let ew = null;
let seen = null; // the impressions tracker, once the engine is loaded
let shop = new Shop({});
let sim;
let prefs;
let yourData;
const viewed = new Map(); // item id -> times viewed in this tab

const serverLog = new ServerLog({
  list: $('[data-panel="requests"]'),
  status: $('[data-stream-status]'),
  viewCount: $('[data-view-count]'),
  sinceView: $('[data-requests-since-view]'),
});

// ---------------------------------------------------------------- catalogue

function renderCatalogue() {
  const grid = $('[data-catalogue]');
  grid.replaceChildren(...[...shop.items.values()].map((item) => el('li', { class: `card ${accentClass(item)}`, 'data-item': item.id },
    productArt(item, 'lg'),
    el('div', { class: 'card-body' },
      el('h3', { text: item.title }),
      el('p', { class: 'price', text: formatPrice(item.price) }),
      el('ul', { class: 'tags', 'aria-label': 'Tags' }, item.tags.map((t) => el('li', { text: t }))),
      el('div', { class: 'card-foot' },
        el('button', {
          type: 'button', class: 'btn btn-small', 'data-action': 'view', text: 'View', disabled: true,
          'aria-label': `View ${item.title}`, on: { click: (ev) => onView(item.id, ev.currentTarget) },
        }),
        el('button', {
          type: 'button', class: 'btn btn-small btn-quiet', 'data-action': 'buy', text: 'Buy', disabled: true,
          'aria-label': `Buy ${item.title}`, on: { click: (ev) => onBuy(item.id, ev.currentTarget) },
        }),
        el('span', { class: 'viewed', 'data-viewed': '', 'aria-live': 'polite' }))))));
  $('[data-catalogue-count]').textContent = `${shop.items.size} products`;
}

function setViewButtons(enabled) {
  for (const b of document.querySelectorAll('[data-catalogue] [data-action="view"], [data-catalogue] [data-action="buy"]')) b.disabled = !enabled;
}

// Events are kept only with sharing on and the history allowed: the page
// records nothing otherwise (the engine would refuse it anyway).
const recording = () => ew && ew.consent !== 'off' && prefs.preferences().history;

async function onView(id, button) {
  if (!ew) return;
  const mark = $(`[data-catalogue] [data-item="${CSS.escape(id)}"] [data-viewed]`);
  if (!recording()) {
    if (mark) mark.textContent = 'Not recorded';
    return;
  }
  button.disabled = true;
  try {
    if (await ew.observe({ type: 'view', item: id })) {
      viewed.set(id, (viewed.get(id) || 0) + 1);
      serverLog.viewed();
      if (mark) mark.textContent = viewed.get(id) === 1 ? 'Viewed' : `Viewed ×${viewed.get(id)}`;
    }
    await update();
    notifyIfOffscreen();
  } finally {
    button.disabled = false;
  }
}

// "Buy": a purchase, the goal of the shop's experiments (docs/experiments.md).
// The demo has no checkout: the button records the event, as a shop's
// order confirmation would.
async function onBuy(id, button) {
  if (!ew) return;
  const mark = $(`[data-catalogue] [data-item="${CSS.escape(id)}"] [data-viewed]`);
  if (!recording()) {
    if (mark) mark.textContent = 'Not recorded';
    return;
  }
  button.disabled = true;
  try {
    if (await ew.observe({ type: 'purchase', item: id })) {
      if (mark) mark.textContent = 'Bought';
    }
    await update();
    notifyIfOffscreen();
  } finally {
    button.disabled = false;
  }
}

// A click on a pick the hero or "recommended" shows is a click on its item
// (a goal of the experiment on its slot), as the SDK's own wiring counts
// one (jsbridge/src/dom.js); what the click does besides (the hero's
// "View") still happens. Opening "Why am I seeing this?" is not a click on
// the product.
function onPickClick(ev) {
  const card = ev.target.closest && ev.target.closest('[data-edgewise-slot="home-hero"] [data-pick], [data-edgewise-slot="recommended"] [data-pick]');
  if (!card || ev.target.closest('[data-why]') || !recording()) return;
  const id = card.dataset.item;
  ew.observe({ type: 'click', item: id }).then((kept) => kept && update());
}

// ---------------------------------------------------------------- deciding

// Updates run one after another, so the slots always show the latest state.
let queue = Promise.resolve();
function update() {
  queue = queue.then(decideAndRender).catch((err) => showError({ code: 'demo', message: String(err && err.message || err) }));
  return queue;
}

async function decideAndRender() {
  const ctx = sim.context((kind) => prefs.allowed(kind));
  await ew.setContext(ctx);
  $('[data-context-given]').textContent = JSON.stringify(ctx, null, 2);
  const decisions = await ew.decide(SLOTS);
  const failed = ew.state === 'failed';
  const fallbackWhy = failed ? 'engine' : ew.consent === 'off' ? 'off' : 'nothing';
  for (const d of decisions) {
    renderSlot(document, shop, d, { fallbackWhy, onView });
    // A pick counts toward the shop's caps once it has been seen: half in
    // view for a second (edgewise-track.js), not when it is decided.
    for (const card of document.querySelectorAll(`[data-edgewise-slot="${d.slot}"] [data-pick]`)) {
      if (seen) seen.track(card, { item: card.dataset.item, slot: d.slot });
    }
  }
  const rec = decisions.find((d) => d.slot === 'recommended');
  const status = $('[data-slot-status]');
  const state = !rec || !rec.items.length ? 'empty' : rec.fallback ? 'fallback' : 'personalized';
  status.textContent = state === 'personalized' ? 'Personalized on this device'
    : state === 'fallback' ? (failed ? 'Shop picks · engine unavailable' : 'Shop picks') : 'Unavailable';
  status.className = `badge ${state}`;
  renderWeatherLabel(decisions);
  // Everything the engine now keeps, from its own export: what it made of
  // the location, and the "Your data" panel.
  const exported = failed ? null : await readExport(ew);
  renderKept(exported);
  yourData.render(exported);
  showCaps(exported);
  // Every panel now shows this update: scripts (and the browser tests) that
  // wait for a change wait for this count.
  document.documentElement.dataset.updates = String(Number(document.documentElement.dataset.updates || 0) + 1);
}

// Each shown pick that a cap counts says, in its "Why am I seeing this?",
// how often the person has seen it against the cap (the engine's export).
function showCaps(exported) {
  const caps = (exported && exported.engine && exported.engine.caps) || [];
  for (const card of document.querySelectorAll('[data-edgewise-slot] [data-pick]')) {
    const body = card.querySelector('[data-why] .why-body');
    if (!body) continue;
    for (const old of body.querySelectorAll('[data-why-cap]')) old.remove();
    for (const cap of caps) {
      if (!cap.items.includes(card.dataset.item) || (!cap.shown_this_week && !cap.shown_today)) continue;
      body.append(el('p', { class: 'why-sub', 'data-why-cap': cap.id, text: capSentence(cap, shop) }));
    }
  }
}

// The weather the slots were decided with: the simulator's, else what the
// shop's weather feed said for the person's region (as a pick's feeds tell).
function renderWeatherLabel(decisions) {
  const w = sim.weather();
  const place = sim.place();
  const fed = decisions.flatMap((d) => d.items.flatMap((p) => p.feeds || [])).find((f) => f.kind === 'weather');
  const parts = [!prefs.allowed('weather') ? 'Weather not used'
    : w ? WEATHER_LABELS[w]
      : fed ? `${WEATHER_LABELS[fed.value] || fed.value} (weather feed, ${fed.label || fed.place})` : 'Weather not known'];
  if (place && prefs.allowed('location')) parts.push(place.name);
  $('[data-weather-label]').textContent = parts.join(' · ');
}

function timeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'unknown';
  } catch {
    return 'unknown';
  }
}

// What the engine kept of the location, from its export: the country, the
// state or province, and every region of the shop the person is in
// (context.regions); never the coordinates.
function renderKept(exported) {
  const box = $('[data-kept-location]');
  const place = sim.place();
  if (!prefs.allowed('location') || !prefs.preferences().location) {
    box.replaceChildren(el('p', { class: 'fine', text: 'Location is switched off in the preference center: the engine ignores it.' }));
    return;
  }
  const c = (exported && exported.engine && exported.engine.context) || {};
  if (!place && !c.country) {
    // The same one line the page starts with, so nothing below it moves.
    box.replaceChildren(el('p', { class: 'fine', 'data-kept-from-zone': '',
      text: 'No location given. Pick a city to see what the engine keeps of it.' }));
    return;
  }
  const handed = place ? el('p', { text: `Handed over: ${place.lat.toFixed(2)}, ${place.lon.toFixed(2)} (${place.name}).` })
    : el('p', { 'data-kept-from-zone': '', text: `No location given: the browser's time zone (${timeZone()}) is all the engine had.` });
  if (!exported || !exported.engine) {
    box.replaceChildren(handed, el('p', { class: 'fine', text: 'The engine is not running, so nothing is kept.' }));
    return;
  }
  const regions = regionNames(shop, c);
  box.replaceChildren(handed,
    el('p', { class: 'kept-note', text: 'Only the coarse region is kept:' }),
    el('dl', { class: 'kept-list' },
      el('div', {}, el('dt', { text: 'Country' }), el('dd', { 'data-kept-country': '', text: c.country || 'none' })),
      el('div', {}, el('dt', { text: 'State or province' }), el('dd', { 'data-kept-subdivision': '', text: c.subdivision || 'none' })),
      el('div', {}, el('dt', { text: 'Shop regions' }), el('dd', { 'data-kept-regions': '', text: regions.join(', ') || 'none of this shop\'s' })),
      el('div', {}, el('dt', { text: 'Weather cell (about 156 km)' }), el('dd', { 'data-kept-geohash': '', text: c.geohash || 'none' })),
      el('div', {}, el('dt', { text: 'Coordinates' }), el('dd', { 'data-kept-coordinates': '', text: 'not kept' }))));
}

// ---------------------------------------------------------------- reports

// Sends this period's cohort report when the person allows counting, as a
// site would on each visit: report() makes no request at all otherwise, and
// the engine sends at most one per period. Resolves to the report sent, or null.
async function sendReport() {
  if (!ew || ew.consent !== 'cohorts') return null;
  const sent = await ew.report();
  await update();
  return sent;
}

// On a phone the slots are far above the grid: say that they changed.
let toastTimer = 0;
function notifyIfOffscreen() {
  const slot = $('[data-edgewise-slot="recommended"]');
  if (slot.getBoundingClientRect().bottom > 0) return;
  const toast = $('[data-toast]');
  toast.textContent = 'Recommendations updated ↑';
  toast.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => toast.classList.remove('show'), 2500);
}

// ---------------------------------------------------------------- preferences

async function onPreferences(p) {
  if (!ew) return;
  const before = ew.consent;
  const effective = await ew.setPreferences(p);
  prefs.show(effective);
  if (ew.consent === 'off' || (effective && !effective.history)) {
    // The engine erased the history: so does the page's count of it.
    viewed.clear();
    for (const m of document.querySelectorAll('[data-catalogue] [data-viewed]')) m.textContent = '';
  }
  await update();
  // Counting was just allowed: this visit's report goes now.
  if (before !== 'cohorts' && ew.consent === 'cohorts') await sendReport();
}

// ---------------------------------------------------------------- errors

function showError(detail) {
  const d = detail || {};
  const box = $('[data-errors]');
  if (!box.firstChild) {
    const close = el('button', { type: 'button', class: 'error-close', 'aria-label': 'Dismiss', text: '×' });
    close.addEventListener('click', () => { box.hidden = true; box.replaceChildren(); });
    box.append(close);
  }
  box.append(el('p', { text: `Edgewise ${d.op ? `(${d.op}) ` : ''}${d.code || 'error'}: ${d.message || 'unknown error'}` }));
  box.hidden = false;
}

// ---------------------------------------------------------------- start

async function main() {
  // The engine is already starting (js/start.js).
  serverLog.start();
  setupTabs($('.controls'));
  try {
    shop = await Shop.fetch();
  } catch (err) {
    showError({ code: 'catalogue', message: String(err && err.message || err) });
  }
  $('[data-ruleset-name]').textContent = shop.name;
  renderCatalogue();
  sim = new ContextSimulator($('[data-context-form]'), { onChange: update });
  prefs = new PreferenceCenter({
    form: $('[data-preferences-form]'), signalsList: $('[data-signals]'), gpcStatus: $('[data-gpc-status]'),
    onChange: onPreferences,
  });
  yourData = new YourData({
    ledger: $('[data-ledger]'), view: $('[data-your-data]'), note: $('[data-data-note]'),
    exportButton: $('[data-action="export"]'), forgetButton: $('[data-action="forget"]'), reportButton: $('[data-action="report"]'),
    engine: () => ew, shop,
    onForget: async () => {
      // Forget returns "count me" to the default, keeping more private
      // choices: the preference center shows what is now in effect.
      prefs.show(await ew.preferences());
      // The engine erased the context with everything else: the simulator
      // starts over too, so the page hands it nothing of the old moment.
      sim.reset();
      viewed.clear();
      serverLog.reset();
      for (const m of document.querySelectorAll('[data-catalogue] [data-viewed]')) m.textContent = '';
      await update();
    },
    onReport: sendReport,
  });
  ew = await loading;
  seen = trackImpressions(ew);
  document.addEventListener('click', onPickClick);
  ew.on('error', (err) => showError(err));
  // The preference center shows what the engine says the verified ruleset
  // declares; without an engine, the same fields of the public catalogue.
  const described = await ew.describe();
  prefs.build(described || shop);
  yourData.epochDays = (described || shop).reporting.epoch_days;
  prefs.show(await ew.preferences());
  $('[data-engine-status]').textContent = ew.state === 'ready'
    ? `The engine is running in this tab with ruleset ${shop.name}.`
    : 'The engine could not start: the shop shows its standard picks.';
  await update();
  setViewButtons(true);
  // A visit: when the person allowed counting on an earlier one, this
  // period's report goes now (at most one per period, however many visits).
  await sendReport();
  document.documentElement.dataset.edgewise = 'ready';
}

main().catch((err) => showError({ code: 'demo', message: String(err && err.message || err) }));
