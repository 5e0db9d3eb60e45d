// Trailhead Outfitters: the Edgewise demo shop.
//
// The engine loads /ruleset.ewr, the shop's ruleset as the server signed it,
// and checks its signature against the public key in /config.json. The grid
// is drawn from /catalogue.json, a readable copy of the same catalogue.
// Recommendations come from the Edgewise engine running in this tab: "View"
// records an event on this device and asks the engine again. The "What the server saw" panel follows
// the server's own request log, so anyone can check that views send nothing.

import { Edgewise } from '/dist/edgewise.js';

const SLOT = 'recommended';

const $ = (sel) => document.querySelector(sel);
const slotEl = $('[data-edgewise-slot="recommended"]');
const slotStatus = $('[data-slot-status]');
const gridEl = $('[data-catalogue]');
const requestsEl = $('[data-panel="requests"]');
const streamStatus = $('[data-stream-status]');
const viewCountEl = $('[data-view-count]');
const sinceViewEl = $('[data-requests-since-view]');
const errorsEl = $('[data-errors]');
const toastEl = $('[data-toast]');

const catalogue = new Map(); // item id -> {id, title, tags}
const viewed = new Map(); // item id -> times viewed on this page
let ew = null;
let renders = 0;
let lastSeq = 0; // newest request seq the panel shows
let seqAtFirstView = null; // newest request seq when the first view happened
let requestsSinceView = 0;

// ---------------------------------------------------------------- artwork

// Each product is drawn with a small inline SVG (no image downloads).
// Shapes use currentColor; the card's accent class sets the colour.
const ART = {
  shoe: '<path d="M6 42c0-6 4-10 9-10h9l7-9c2-2 5-2 7 0l5 6c4 4 10 6 13 10v5H6z"/><path d="M6 45h52v5H6z" opacity=".55"/><path d="M27 31l4 3M31 27l4 3M35 24l3 3" stroke="#fff" stroke-width="2" stroke-linecap="round"/>',
  vest: '<path d="M21 8h6c1 7 9 7 10 0h6l6 12v36H15V20z"/><path d="M20 34h9v10h-9zM35 34h9v10h-9z" fill="#fff" opacity=".45"/><path d="M32 16v40" stroke="#fff" stroke-width="2" opacity=".6"/>',
  boot: '<path d="M16 10h18v24c6 2 16 4 20 9v4H14z"/><path d="M14 47h40v6H14z" opacity=".55"/><path d="M22 16h8M22 22h8M22 28h8" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/>',
  jacket: '<path d="M23 8h18l14 11-4 15-5-2v24H18V32l-5 2-4-15z"/><path d="M32 12v44" stroke="#fff" stroke-width="2" opacity=".7"/><path d="M26 8l6 8 6-8" fill="none" stroke="#fff" stroke-width="2" opacity=".7"/>',
  tent: '<path d="M4 52 32 12l28 40z"/><path d="M32 22l9 30H23z" fill="#fff" opacity=".4"/><path d="M2 52h60" stroke="currentColor" stroke-width="3" stroke-linecap="round"/>',
  bag: '<rect x="16" y="6" width="32" height="52" rx="16"/><circle cx="32" cy="20" r="8" fill="#fff" opacity=".4"/><path d="M40 28v24" stroke="#fff" stroke-width="2" stroke-dasharray="3 3" opacity=".7"/>',
  stove: '<path d="M32 6c7 8 9 13 5 19-2-4-7-4-9 0-4-6-2-12 4-19z"/><rect x="14" y="30" width="36" height="14" rx="3"/><path d="M20 44l-4 12M44 44l4 12M32 44v12" stroke="currentColor" stroke-width="3" stroke-linecap="round"/>',
  harness: '<rect x="19" y="6" width="26" height="52" rx="13" fill="none" stroke="currentColor" stroke-width="6"/><path d="M45 20 33 34" stroke="currentColor" stroke-width="4" stroke-linecap="round"/>',
  axe: '<path d="M24 58 38 10" stroke="currentColor" stroke-width="5" stroke-linecap="round"/><path d="M24 10h28l-5 7H30zM24 10c-6 2-10 6-12 12 6-2 10-4 14-6z"/>',
  bike: '<circle cx="16" cy="42" r="11" fill="none" stroke="currentColor" stroke-width="4"/><circle cx="48" cy="42" r="11" fill="none" stroke="currentColor" stroke-width="4"/><path d="M16 42l10-18h16l6 18M26 24l6 18 10-18M24 18h8" fill="none" stroke="currentColor" stroke-width="3.5" stroke-linejoin="round" stroke-linecap="round"/><path d="M27 26h14l-8 13z" opacity=".6"/>',
  gloves: '<path d="M20 58V30c0-4 5-4 5 0V16c0-5 6-5 6 0v-2c0-5 6-5 6 0v4c0-5 6-5 6 0v12l4-5c3-3 8 1 5 4l-8 12v17z"/><path d="M20 50h23" stroke="#fff" stroke-width="3" opacity=".5"/>',
  mountain: '<path d="M4 54 24 18l10 16 8-10 18 30z"/><path d="M24 18l-5 9 5-3 4 4z" fill="#fff"/>',
};

// Which drawing each product gets, by id, then by its first tag.
const ART_BY_ITEM = {
  'trail-runner-x': 'shoe', 'ridge-racer': 'shoe', 'stride-vest': 'vest',
  'summit-boot': 'boot', 'storm-shell': 'jacket', 'dome-tent': 'tent',
  'down-bag': 'bag', 'pocket-stove': 'stove', 'crag-harness': 'harness',
  'ice-axe': 'axe', 'gravel-frame-bag': 'bike', 'thermal-gloves': 'gloves',
};
const ART_BY_TAG = {
  running: 'shoe', trail: 'shoe', hiking: 'boot', camping: 'tent', rain: 'jacket',
  climbing: 'harness', cycling: 'bike', winter: 'gloves', alpine: 'axe',
};
const ACCENTS = new Set(['running', 'trail', 'hiking', 'camping', 'rain', 'climbing', 'cycling', 'winter', 'alpine']);

function art(item, size) {
  const kind = ART_BY_ITEM[item.id] || ART_BY_TAG[item.tags[0]] || 'mountain';
  const wrap = document.createElement('div');
  wrap.className = `art art-${size}`;
  wrap.innerHTML = `<svg viewBox="0 0 64 64" aria-hidden="true" focusable="false" fill="currentColor">${ART[kind]}</svg>`;
  return wrap;
}

function accentClass(item) {
  const tag = item.tags.find((t) => ACCENTS.has(t));
  return `accent-${tag || 'default'}`;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'type' || k === 'title') node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

function tagList(tags) {
  return el('ul', { class: 'tags', 'aria-label': 'Tags' }, ...tags.map((t) => el('li', { text: t })));
}

// ---------------------------------------------------------------- catalogue

function renderCatalogue() {
  gridEl.replaceChildren();
  for (const item of catalogue.values()) {
    const button = el('button', { type: 'button', class: 'btn', 'data-action': 'view', text: 'View', 'aria-label': `View ${item.title}`, disabled: true });
    button.addEventListener('click', () => onView(item.id, button));
    const card = el('li', { class: `card ${accentClass(item)}`, 'data-item': item.id },
      art(item, 'lg'),
      el('div', { class: 'card-body' },
        el('h3', { text: item.title }),
        tagList(item.tags),
        el('div', { class: 'card-foot' },
          button,
          el('span', { class: 'viewed', 'data-viewed': '', 'aria-live': 'polite' }))));
    gridEl.append(card);
  }
}

function setViewButtons(enabled) {
  for (const b of gridEl.querySelectorAll('[data-action="view"]')) b.disabled = !enabled;
}

async function onView(id, button) {
  if (!ew) return;
  button.disabled = true;
  try {
    await ew.observe({ type: 'view', item: id });
    viewed.set(id, (viewed.get(id) || 0) + 1);
    if (seqAtFirstView === null) seqAtFirstView = lastSeq;
    updateCounters();
    const mark = gridEl.querySelector(`[data-item="${CSS.escape(id)}"] [data-viewed]`);
    if (mark) mark.textContent = viewed.get(id) === 1 ? 'Viewed' : `Viewed ×${viewed.get(id)}`;
    await decide();
    notifyIfOffscreen();
  } catch (err) {
    showError({ code: 'demo', message: String(err && err.message || err), op: 'observe' });
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- slot

async function decide() {
  await ew.setContext({ now: Date.now() });
  const decision = await ew.decide(SLOT);
  renderSlot(decision);
}

function renderSlot(decision) {
  const picks = (decision && Array.isArray(decision.items)) ? decision.items : [];
  const nodes = picks.map((pick, i) => {
    const item = catalogue.get(pick.item) || { id: pick.item, title: pick.item, tags: [] };
    return el('li', { class: `rec ${accentClass(item)}`, 'data-rec-item': item.id },
      el('span', { class: 'rank', 'aria-hidden': 'true', text: String(i + 1) }),
      art(item, 'sm'),
      el('div', { class: 'rec-body' },
        el('h3', { text: item.title }),
        el('p', { class: 'why' },
          el('span', { class: 'why-label', text: 'Why am I seeing this?' }),
          el('span', { class: 'why-text', 'data-rec-reason': '', text: pick.reason || '' }))));
  });
  slotEl.replaceChildren(...nodes);
  const state = !decision ? 'empty' : decision.fallback ? 'fallback' : 'personalized';
  slotEl.dataset.state = state;
  slotEl.dataset.render = String(++renders);
  const failed = ew && ew.state === 'failed';
  slotStatus.textContent = state === 'personalized' ? 'Personalized on this device'
    : state === 'fallback' ? (failed ? 'Shop picks · engine unavailable' : 'Shop picks') : 'Unavailable';
  slotStatus.className = `badge ${state}`;
}

// On a phone the slot is far above the grid: say that it changed.
let toastTimer = 0;
function notifyIfOffscreen() {
  if (slotEl.getBoundingClientRect().bottom > 0) return;
  toastEl.textContent = 'Recommendations updated ↑';
  toastEl.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => toastEl.classList.remove('show'), 2500);
}

// ---------------------------------------------------------------- server log panel

const PATH_NOTES = {
  '/': 'the shop page',
  '/index.html': 'the shop page',
  '/app.js': 'this demo’s script',
  '/style.css': 'styles',
  '/ruleset.ewr': 'signed ruleset',
  '/config.json': 'the key that signed it',
  '/catalogue.json': 'product list',
  '/dist/edgewise.js': 'Edgewise SDK',
  '/dist/edgewise.js.map': 'SDK source map',
  '/dist/edgewise.wasm': 'Edgewise engine',
};

function formatSize(n) {
  if (!n) return '';
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`;
}

function addRequestRow(r) {
  if (r.seq <= lastSeq) return;
  lastSeq = r.seq;
  const time = new Date(r.time);
  const hhmmss = Number.isNaN(time.getTime()) ? '' : time.toLocaleTimeString([], { hour12: false });
  const target = r.path + (r.query ? `?${r.query}` : '');
  const note = PATH_NOTES[r.path];
  // The log is the server's, not this tab's: dim what came before this page.
  const earlier = time.getTime() < performance.timeOrigin - 1000;
  const classes = ['req'];
  if (r.method !== 'GET' && r.method !== 'HEAD') classes.push('req-write');
  if (earlier) classes.push('req-earlier');
  const row = el('li', {
    class: classes.join(' '),
    'data-request-row': '', 'data-seq': String(r.seq), 'data-method': r.method, 'data-path': r.path,
  },
  el('span', { class: 'req-method', text: r.method }),
  el('span', { class: 'req-target', text: target, title: target }),
  el('span', { class: `req-status s${String(r.status)[0]}`, text: String(r.status) }),
  el('span', { class: 'req-meta', text: [hhmmss, note, earlier ? 'before this page' : '', r.body_size ? `body ${formatSize(r.body_size)}` : ''].filter(Boolean).join(' · ') }),
  r.body ? el('code', { class: 'req-body', text: r.body }) : null);
  requestsEl.prepend(row);
  if (seqAtFirstView !== null && r.seq > seqAtFirstView) requestsSinceView++;
  updateCounters();
}

function updateCounters() {
  let views = 0;
  for (const n of viewed.values()) views += n;
  viewCountEl.textContent = String(views);
  sinceViewEl.textContent = seqAtFirstView === null ? '–' : String(requestsSinceView);
  sinceViewEl.classList.toggle('zero', seqAtFirstView !== null && requestsSinceView === 0);
}

function startRequestStream() {
  const source = new EventSource('/api/requests/stream');
  source.onopen = () => { streamStatus.textContent = 'live'; streamStatus.classList.remove('down'); };
  source.onerror = () => { streamStatus.textContent = 'reconnecting'; streamStatus.classList.add('down'); };
  source.onmessage = (ev) => {
    try {
      addRequestRow(JSON.parse(ev.data));
    } catch {
      // A malformed event is skipped; the next one still shows.
    }
  };
}

// ---------------------------------------------------------------- errors

function showError(detail) {
  const d = detail || {};
  if (!errorsEl.firstChild) {
    const close = el('button', { type: 'button', class: 'error-close', 'aria-label': 'Dismiss', text: '×' });
    close.addEventListener('click', () => { errorsEl.hidden = true; errorsEl.replaceChildren(); });
    errorsEl.append(close);
  }
  const line = el('p', { text: `Edgewise ${d.op ? `(${d.op}) ` : ''}${d.code || 'error'}: ${d.message || 'unknown error'}` });
  errorsEl.append(line);
  errorsEl.hidden = false;
}

// ---------------------------------------------------------------- start

async function fetchJSON(path) {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`);
  return res.json();
}

// The grid's products, and each slot's fallback items for when the engine
// cannot run (Edgewise.load's fallback option).
async function loadCatalogue() {
  const cat = await fetchJSON('/catalogue.json');
  for (const item of cat.catalogue || []) catalogue.set(item.id, item);
  return Object.fromEntries((cat.slots || []).map((s) => [s.id, s.fallback]));
}

async function main() {
  startRequestStream();
  let fallback = {};
  let publicKey;
  try {
    [fallback, { publicKey }] = await Promise.all([loadCatalogue(), fetchJSON('/config.json')]);
  } catch (err) {
    showError({ code: 'catalogue', message: String(err && err.message || err) });
  }
  renderCatalogue();
  // load never rejects: if the engine cannot start, or the ruleset does not
  // verify, decide() answers with the fallback items and the error arrives
  // through on('error').
  ew = await Edgewise.load({ wasm: '/dist/edgewise.wasm', ruleset: '/ruleset.ewr', publicKey, fallback });
  ew.on('error', (err) => showError(err));
  await decide();
  setViewButtons(true);
  document.documentElement.dataset.edgewise = 'ready';
}

main().catch((err) => showError({ code: 'demo', message: String(err && err.message || err) }));
