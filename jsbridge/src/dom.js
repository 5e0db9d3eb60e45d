// Declarative use: a page personalizes without writing JavaScript.
//
//   <script type="module" src="/edgewise/edgewise.js" data-wasm="/edgewise/edgewise.wasm"
//           data-ruleset="/rules.ewr" data-public-key="BASE64"></script>
//   <script type="application/json" data-edgewise-catalogue>{"tent-2p": {"title": "Tent", "url": "/p/tent-2p"}}</script>
//   <ul data-edgewise-slot="recommended">
//     <li>shown until the engine decides, and kept if it cannot</li>
//     <template data-edgewise-item>
//       <li><a data-field-href="url" data-field="title"></a> <small data-field="reason"></small></li>
//     </template>
//     <template data-edgewise-item="tent-2p"><li>markup for this one item</li></template>
//   </ul>
//   <div data-edgewise-view="tent-2p"></div>   (a product page: observed as a view)
//
// Each pick clones the item's own template, else the slot's generic one.
// data-field="name" sets the element's text, data-field-ATTR="name" sets
// attribute ATTR, from the pick (item, reason, rank, slot) and the page's
// catalogue entry for the item. Values only ever go through textContent and
// setAttribute, never innerHTML; URL attributes accept http(s) and relative
// URLs only, and event-handler attributes are never set.

import { Edgewise } from './index.js';

// The tracker's file, beside this one (build.mjs sets it; unbundled it is track.js).
const TRACK_FILE = typeof EDGEWISE_TRACK_FILE === 'string' ? EDGEWISE_TRACK_FILE : './track.js';

const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'poster', 'cite', 'data', 'xlink:href', 'srcset']);

/** The page's catalogue: {item id: {field: value}} from its JSON script. */
function readCatalogue(doc) {
  const el = doc.querySelector('script[type="application/json"][data-edgewise-catalogue]');
  try {
    const v = el ? JSON.parse(el.textContent) : null;
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

function safeURL(value, base) {
  try {
    const u = new URL(value, base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? value : null;
  } catch {
    return null;
  }
}

// One pick's markup: a clone of its template with the fields filled in.
function renderItem(slotEl, template, values) {
  const frag = template.content.cloneNode(true);
  const base = slotEl.ownerDocument.baseURI;
  for (const el of frag.querySelectorAll('*')) {
    for (const attr of [...el.attributes]) {
      if (attr.name === 'data-field') {
        const v = values[attr.value];
        el.textContent = v == null ? '' : String(v);
      } else if (attr.name.startsWith('data-field-')) {
        const name = attr.name.slice('data-field-'.length);
        let v = values[attr.value];
        if (v == null || name.startsWith('on')) continue;
        v = String(v);
        if (URL_ATTRS.has(name) && (v = safeURL(v, base)) === null) continue;
        el.setAttribute(name, v);
      }
    }
  }
  for (const el of frag.children) el.setAttribute('data-edgewise-item-id', values.item);
  return frag;
}

/**
 * Fills a slot element with item ids (and reasons, once the engine gave
 * them). Returns false, leaving the element as it is, when there is
 * nothing to show or no template.
 */
export function fillSlot(slotEl, picks, catalogue, state) {
  if (!picks.length) return false;
  const generic = slotEl.querySelector(':scope > template[data-edgewise-item=""]');
  const own = new Map([...slotEl.querySelectorAll(':scope > template[data-edgewise-item]')]
    .map((t) => [t.getAttribute('data-edgewise-item'), t]));
  const nodes = [];
  picks.forEach((pick, i) => {
    const template = own.get(pick.item) || generic;
    if (!template) return;
    const info = catalogue[pick.item] && typeof catalogue[pick.item] === 'object' ? catalogue[pick.item] : {};
    nodes.push(renderItem(slotEl, template, {
      ...info, item: pick.item, reason: pick.reason || '', rank: i + 1, slot: slotEl.getAttribute('data-edgewise-slot'),
    }));
  });
  if (!nodes.length) return false;
  // The templates stay, so later decisions can render again.
  for (const child of [...slotEl.childNodes]) {
    if (!(child.nodeType === 1 && child.matches('template'))) child.remove();
  }
  slotEl.append(...nodes);
  slotEl.setAttribute('data-edgewise-state', state);
  return true;
}

/** The script element that loaded this module with data-ruleset, if any. */
function ownScript(doc, moduleURL) {
  for (const s of doc.querySelectorAll('script[data-ruleset][src]')) {
    if (new URL(s.getAttribute('src'), doc.baseURI).href === moduleURL) return s;
  }
  return null;
}

/**
 * Loads Edgewise from the data attributes of the script tag that imported
 * moduleURL, and personalizes the page's slots: cached picks first (no
 * flicker), then the engine's. Does nothing without such a script tag.
 * When done, <html data-edgewise> is 'ready' or 'failed' and document gets
 * an 'edgewise:ready' event whose detail is the instance.
 */
export async function autoload(moduleURL) {
  if (typeof document === 'undefined') return;
  const doc = document;
  const script = ownScript(doc, moduleURL);
  if (!script) return;
  const data = script.dataset;
  const slots = [...doc.querySelectorAll('[data-edgewise-slot]')];
  const catalogue = readCatalogue(doc);
  const ids = (el) => el.getAttribute('data-edgewise-slot');

  // A repeat visit renders the last personalized picks at once.
  for (const el of slots) {
    const cached = Edgewise.cached(ids(el));
    if (cached) fillSlot(el, cached.map((item) => ({ item })), catalogue, 'cached');
  }

  const fallback = {};
  for (const el of slots) {
    const f = el.getAttribute('data-edgewise-fallback');
    if (f) fallback[ids(el)] = f.split(/\s+/).filter(Boolean);
  }
  const ew = await Edgewise.load({
    wasm: data.wasm,
    ruleset: data.ruleset,
    publicKey: data.publicKey,
    collector: data.collector || undefined,
    worker: data.worker !== 'false',
    fallback,
  });
  ew.on('error', (e) => console.warn(`[edgewise] ${e.op}: ${e.code}: ${e.message}`));

  await ew.setContext({});
  for (const el of doc.querySelectorAll('[data-edgewise-view]')) {
    await ew.observe({ type: 'view', item: el.getAttribute('data-edgewise-view') });
  }
  // A click on a rendered pick counts as a click on its item.
  doc.addEventListener('click', (e) => {
    const el = e.target && e.target.closest ? e.target.closest('[data-edgewise-item-id]') : null;
    if (el) ew.observe({ type: 'click', item: el.getAttribute('data-edgewise-item-id') });
  });

  const decisions = slots.length ? await ew.decide(slots.map(ids)) : [];
  // Each pick counts as shown once it has been in view (edgewise-track.js).
  const seen = import(new URL(TRACK_FILE, moduleURL).href).then((m) => m.trackImpressions(ew), () => null);
  slots.forEach((el, i) => {
    const d = decisions[i];
    if (!fillSlot(el, d.items, catalogue, d.fallback ? 'fallback' : 'personalized') && !el.hasAttribute('data-edgewise-state')) {
      el.setAttribute('data-edgewise-state', 'fallback');
    }
    seen.then((t) => t && el.querySelectorAll('[data-edgewise-item-id]').forEach((p) => t.track(p, { item: p.getAttribute('data-edgewise-item-id'), slot: d.slot })));
  });
  doc.documentElement.setAttribute('data-edgewise', ew.state);
  doc.dispatchEvent(new CustomEvent('edgewise:ready', { detail: ew }));
}
