// Draws the three personalized slots from the engine's decisions, each pick
// with "Why am I seeing this?". Used by the shop page and the playground.

import { accentClass, productArt } from './art.js';
import { CAMPAIGNS, SIGNAL_LABELS, goalWords, shareWords } from './shop.js';
import { el, formatPrice } from './dom.js';

const renders = new Map(); // slot id -> times drawn

/**
 * Why a slot shows the shop's picks instead of personal ones. `why` is one of
 * 'engine' (the engine is not running), 'off' (sharing is off) or 'nothing'
 * (nothing personal applies yet).
 */
// The reason the engine and the SDK give a fallback item.
const SHOP_PICK = 'Picked by the shop for everyone';
const isShopPick = (pick) => pick.reason === SHOP_PICK && !(pick.rules || []).length;

// How a weather category reads after "It's".
const WEATHER_WORDS = { clear: 'clear', cloudy: 'cloudy', rain: 'raining', snow: 'snowing', storm: 'stormy', hot: 'hot', cold: 'cold' };

/** How old something made at `issued` (Unix ms) is at `now`, in words. */
export function ageWords(issued, now = Date.now()) {
  const minutes = Math.max(0, Math.round((now - issued) / 60_000));
  if (minutes < 2) return 'just made';
  if (minutes < 90) return `${minutes} minutes old`;
  const hours = Math.round(minutes / 60);
  return hours < 36 ? `${hours} hours old` : `${Math.round(hours / 24)} days old`;
}

/**
 * One sentence on a context feed value a pick's rules read (pick.feeds):
 * what it said, for which place, from which of the shop's feeds, how old.
 * A cell (three lowercase characters) is "around" its label; a country or
 * a region is "in" it.
 */
export function feedSentence(source, now = Date.now()) {
  const cell = /^[0-9a-z]{3}$/.test(source.place);
  const where = `${cell ? 'around' : 'in'} ${source.label || (cell ? 'your area' : source.place)}`;
  const age = ageWords(source.issued, now);
  if (source.kind === 'weather') {
    return `It's ${WEATHER_WORDS[source.value] || source.value} ${where} (forecast from this shop's weather feed, ${age}).`;
  }
  if (source.kind === 'holidays') {
    return `${source.value === 'school_break' ? 'School holidays' : 'A public holiday'} ${where} today (from this shop's holiday calendar, ${age}).`;
  }
  return `This shop's ${source.feed} feed says “${source.value}” ${where} (${age}).`;
}

const FALLBACK_WHY = {
  engine: 'The engine is not running in this page, so the shop shows its standard picks.',
  off: 'Personalization is off, so nothing about you is used.',
  nothing: 'Nothing about you or this moment changes the order yet, so the shop shows its standard picks.',
};

/**
 * What a person in an experiment's comparison group is told (the decision
 * names the experiment): the engine's reason, what the shop is testing and
 * how people are chosen, and what leaves the browser about it.
 */
function comparisonWhy(shop, pick, id, withReason = true) {
  const x = shop.experiment(id);
  const share = x.holdout > 0 ? shareWords(x.holdout) : 'a share of shoppers';
  const what = x.control === 'without_rules' ? 'these picks without some of the shop\'s rules' : 'the shop\'s usual picks here instead of personal ones';
  const sees = `${share.startsWith('one ') ? 'sees' : 'see'} ${what}`;
  const reason = (pick.reason || 'You are in the shop\'s comparison group here').replace(/\.?$/, '.');
  return [
    withReason ? el('p', { class: 'why-experiment', 'data-why-experiment': id, text: reason }) : null,
    el('p', { text: `The shop is testing${x.description ? `: “${x.description}”` : ' whether its personal picks help'}${/[.?!]$/.test(x.description || '') ? '' : '.'} ${share.charAt(0).toUpperCase()}${share.slice(1)}, drawn at random in this browser and never from who you are, ${sees}; everywhere else the page is personalized as usual.` }),
    el('p', { class: 'fine', text: `With this browser's weekly report, one randomized answer goes to the shop: your group, and whether ${goalWords(x.goals)} that week. It is noised before it leaves, and listed in Your data.` }),
  ].filter(Boolean);
}

/**
 * The "Why am I seeing this?" disclosure for one pick: its reason, and the
 * shop rules that shaped it (pick.rules, as decide() and the SDK's explain()
 * give them) with the signals each reads. In an experiment's comparison
 * group (experiment set), it says so first.
 */
export function whyDetails(shop, slot, pick, { fallback, fallbackWhy, capped, experiment }) {
  const body = el('div', { class: 'why-body' });
  if (capped && capped.length) {
    // A frequency cap held back what this slot would have shown (decide's capped).
    const names = capped.map((id) => shop.item(id).title);
    const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
    body.append(el('p', { class: 'why-capped', 'data-why-capped': capped.join(' '),
      text: `${list} ${names.length === 1 ? 'has' : 'have'} been shown to you as often as this shop allows, so this takes ${names.length === 1 ? 'its' : 'their'} place.` }));
  }
  if (experiment && fallback) {
    // The comparison group sees the slot's fallback items (control: fallback).
    body.append(...comparisonWhy(shop, pick, experiment));
  } else if (!fallback && isShopPick(pick)) {
    // The engine fills a slot with few personal picks from its fallback items.
    body.append(el('p', { text: `${SHOP_PICK}. Too few products fit you or this moment to fill this slot, so the shop's standard picks complete it.` }));
  } else if (fallback) {
    body.append(el('p', { text: `${pick.reason || SHOP_PICK}. ${FALLBACK_WHY[fallbackWhy] || FALLBACK_WHY.nothing}` }));
  } else {
    body.append(el('p', { class: 'why-reason', text: pick.reason || 'Ranked for you by the engine.' }));
    for (const source of pick.feeds || []) {
      body.append(el('p', { class: 'why-feed', 'data-why-feed': source.feed, text: feedSentence(source) }));
    }
    const rules = (pick.rules || []).map((id) => shop.rule(id));
    if (rules.length) {
      body.append(el('p', { class: 'why-sub', text: 'Shop rules that shaped it:' }),
        el('ul', { class: 'why-rules' }, rules.map((r) => el('li', { 'data-why-rule': r.id },
          el('span', { text: r.description || r.reason || r.id }),
          ' ',
          (r.signals || []).map((k) => el('span', { class: 'chip chip-signal', text: SIGNAL_LABELS[k] || k }))))));
    } else {
      body.append(el('p', { class: 'why-sub', text: 'No shop rule: it is ranked by the interests your browsing on this device shows.' }));
    }
    // The comparison group sees picks without some rules (control: without_rules).
    if (experiment) body.append(...comparisonWhy(shop, pick, experiment, false));
    if (typeof pick.score === 'number' && pick.score > 0) {
      body.append(el('p', { class: 'fine', text: 'Worked out in this browser; nothing was sent.' }),
        el('details', { class: 'figures-detail' }, el('summary', { text: 'The figures' }),
          el('p', { class: 'fine', 'data-score': '', text: `Ranking score ${pick.score.toFixed(2)}: picks are shown highest first.` })));
    }
  }
  const details = el('details', { class: 'why', 'data-why': '' },
    el('summary', { text: 'Why am I seeing this?' }), body);
  return details;
}

function viewButton(item, onView) {
  return el('button', {
    type: 'button', class: 'btn btn-small', 'data-action': 'view', text: 'View',
    'aria-label': `View ${item.title}`, on: { click: (ev) => onView(item.id, ev.currentTarget) },
  });
}

function heroCard(shop, pick, opts) {
  const item = shop.item(pick.item);
  return el('article', { class: `hero-card ${accentClass(item)}`, 'data-pick': '', 'data-item': item.id, 'data-shop-pick': isShopPick(pick) },
    productArt(item, 'hero'),
    el('div', { class: 'hero-body' },
      el('p', { class: 'eyebrow', text: CAMPAIGNS[item.campaign] || 'Our pick' }),
      el('h2', { class: 'hero-title', text: item.title }),
      el('p', { class: 'price', text: formatPrice(item.price) }),
      el('p', { class: 'reason', 'data-reason': '', text: pick.reason || '' }),
      el('div', { class: 'card-foot' }, opts.onView ? viewButton(item, opts.onView) : null),
      whyDetails(shop, 'home-hero', pick, opts)));
}

function recCard(shop, slot, pick, i, opts) {
  const item = shop.item(pick.item);
  return el('li', { class: `rec ${accentClass(item)}`, 'data-pick': '', 'data-item': item.id, 'data-shop-pick': isShopPick(pick) },
    el('span', { class: 'rank', 'aria-hidden': 'true', text: String(i + 1) }),
    productArt(item, 'sm'),
    el('div', { class: 'rec-body' },
      el('h3', { text: item.title }),
      el('p', { class: 'price', text: formatPrice(item.price) }),
      el('p', { class: 'reason', 'data-reason': '', text: pick.reason || '' }),
      whyDetails(shop, slot, pick, opts)));
}

/**
 * Draws one decision into its slot element ([data-edgewise-slot=ID] under
 * root). opts: {onView, fallbackWhy, explain}. Sets data-state
 * (personalized, fallback or empty) and bumps data-render.
 */
export function renderSlot(root, shop, decision, opts = {}) {
  const slot = decision.slot;
  const node = root.querySelector(`[data-edgewise-slot="${slot}"]`);
  if (!node) return;
  const picks = Array.isArray(decision.items) ? decision.items : [];
  const o = { ...opts, fallback: decision.fallback, experiment: decision.experiment };
  // The first pick's explanation says what a cap held back, if anything.
  const first = { ...o, capped: decision.capped };
  const children = slot === 'home-hero'
    ? picks.slice(0, 1).map((p) => heroCard(shop, p, first))
    : picks.map((p, i) => recCard(shop, slot, p, i, i === 0 ? first : o));
  node.replaceChildren(...children);
  // The cached picks the page drew before the engine ran (edgewise-paint.js) are gone.
  delete node.dataset.edgewiseState;
  node.dataset.state = !picks.length ? 'empty' : decision.fallback ? 'fallback' : 'personalized';
  // The experiment whose comparison group the person is in here, if any.
  if (decision.experiment) node.dataset.experiment = decision.experiment;
  else delete node.dataset.experiment;
  const n = (renders.get(slot) || 0) + 1;
  renders.set(slot, n);
  node.dataset.render = String(n);
}
