// "Your data": everything kept about the person in this browser, decoded,
// with the privacy ledger (reports sent, privacy budget spent), an export
// and "Forget me".
//
// It is the SDK's exportData(): the engine's own account of what it holds
// (preferences, the kept context, events, impressions, interests, cohort,
// reports and ledger) and what the SDK stores itself (IndexedDB, the
// no-flicker cache). forget() erases all of it; report() sends this
// epoch's cohort report when the person chose the cohorts level.

import { el, formatTime, jsonTree } from './dom.js';
import { CAMPAIGNS, goalWords } from './shop.js';

const EVENT_VERBS = {
  view: 'Viewed', click: 'Clicked', add_to_cart: 'Added to cart', purchase: 'Bought', custom: 'Did', dismiss: 'Dismissed',
};
const CONTEXT_LABELS = {
  daypart: 'Time of day', weekday: 'Day', weather: 'Weather', device: 'Device', referrer: 'Arrived from',
  page_section: 'Browsing', visits: 'Visits in 30 days',
};

/**
 * The SDK's exportData(), parsed: {all, engine}, where all is the whole
 * export and engine its engine part (null when the engine is not running).
 * exportData() resolves to indented JSON text; an object is taken as is.
 * null when there is no export at all.
 */
export async function readExport(ew) {
  if (!ew) return null;
  const raw = await ew.exportData();
  let all = raw;
  if (typeof raw === 'string') {
    try {
      all = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (!all || typeof all !== 'object') return null;
  const engine = all.engine && typeof all.engine === 'object' ? all.engine : null;
  return { all, engine, text: typeof raw === 'string' ? raw : JSON.stringify(raw, null, 2) };
}

/** The names of the shop's regions a kept context lists. */
export function regionNames(shop, context) {
  return ((context && context.regions) || []).map((id) => (shop.regions.get(id) || { name: id }).name);
}

function section(title, attr, ...body) {
  return el('section', { class: 'data-section', [attr]: '' }, el('h3', { class: 'data-title', text: title }), ...body);
}

function pairs(rows) {
  return el('dl', { class: 'kept-list' }, rows.map(([k, v, attr]) => el('div', {},
    el('dt', { text: k }), el('dd', attr ? { [attr]: '', text: v } : { text: v }))));
}

// A cohort id in words a shopper reads: "interest=hiking-camping/
// region=elsewhere/engagement=new" is "hiking camping · elsewhere · new".
export function plainCohort(id) {
  return id.split('/').map((part) => part.slice(part.indexOf('=') + 1).replaceAll('-', ' ').replaceAll('_', ' ')).join(' · ');
}

// Which of the person's cohorts a report was about, in words: k-anonymity
// may have made it coarser than the full cohort (fewer of its parts).
function levelOf(level, cohort) {
  const parts = cohort ? cohort.split('/') : [];
  if (!level || !parts.length) return 'your group';
  if (level >= parts.length) return `your group (${plainCohort(cohort)})`;
  return `a broader group (${plainCohort(parts.slice(0, level).join('/'))})`;
}

// The figures behind plain words, one click away.
function figures(text) {
  return el('details', { class: 'figures-detail' }, el('summary', { text: 'The figures' }), el('p', { class: 'fine', text }));
}

function capitalize(s) {
  return s.charAt(0).toUpperCase() + s.slice(1).replace(/[-_]+/g, ' ');
}

// Set through the CSSOM: the page's CSP allows no inline style attributes.
function barFill(weight) {
  const fill = el('span', { class: 'interest-bar-fill' });
  fill.style.width = `${Math.max(2, Math.round(weight * 100))}%`;
  return fill;
}

function dateTime(ms) {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${formatTime(ms)}`;
}

export class YourData {
  /**
   * {ledger, view, note, exportButton, forgetButton, reportButton,
   *  engine(): the Edgewise instance, shop, onForget(), onReport(sent)}
   * epochDays, the length of a reporting period, comes from describe().
   */
  constructor(opts) {
    Object.assign(this, opts);
    this.exportButton.addEventListener('click', () => this.download());
    this.forgetButton.addEventListener('click', () => this.forget());
    this.reportButton.addEventListener('click', () => this.report());
  }

  /** Draws the export; exported is readExport's answer. */
  render(exported) {
    const ew = this.engine();
    const e = (exported && exported.engine) || null;
    this.reportButton.hidden = !(ew && ew.consent === 'cohorts');
    const ledger = e ? e.ledger || [] : [];
    const spent = e && typeof e.epsilon_spent === 'number' ? e.epsilon_spent : 0;
    this.ledger.replaceChildren(
      el('div', {}, el('dt', { text: 'Events kept' }), el('dd', { 'data-ledger-events': '', text: String(e ? (e.events || []).length : 0) })),
      el('div', {}, el('dt', { text: 'Reports sent' }), el('dd', { 'data-ledger-reports': '', text: String(reportsIn(ledger)) })),
      el('div', {}, el('dt', { text: 'What reports said about you' }), el('dd', {},
        el('span', { class: 'ledger-words', text: spent > 0 ? 'A little: each answer is randomized' : 'Nothing yet' }),
        figures(`Privacy budget spent: ε ${Math.round(spent * 100) / 100}, the measure of how much the randomized answers can reveal; a new answer spends it, a repeated one does not.`),
        el('span', { hidden: true, 'data-ledger-epsilon': '', text: `ε ${Math.round(spent * 100) / 100}` }))));
    if (!exported) {
      this.view.replaceChildren(el('p', { class: 'fine', text: 'The engine is not running, so nothing about you is kept.' }));
      return;
    }
    const parts = [];
    if (e) parts.push(this.preferencesSection(e), this.contextSection(e), this.eventsSection(e), this.capsSection(e), this.interestsSection(e), this.reportsSection(e));
    parts.push(this.storedSection(exported.all.stored || {}));
    parts.push(el('details', { class: 'raw' }, el('summary', { text: 'The export as JSON' }), jsonTree(exported.all)));
    this.view.replaceChildren(...parts);
  }

  preferencesSection(e) {
    const p = e.preferences || {};
    const sharing = { off: 'Off', 'on-device': 'On this device', cohorts: 'Also counted, anonymously' }[p.sharing] || p.sharing;
    return section('Your choices', 'data-data-preferences', pairs([
      ['Personalization', sharing + (p.gpc_applied ? ' (capped by Global Privacy Control)' : '')],
      ['History', p.history === false ? 'not kept' : 'kept'],
      ['Location', p.location === false ? 'ignored' : 'used as a coarse region'],
      ['Hidden interests', (p.hidden_interests || []).join(', ') || 'none'],
    ]));
  }

  contextSection(e) {
    const c = e.context || {};
    const regions = regionNames(this.shop, c);
    const rows = [];
    if (c.country || c.subdivision || regions.length) {
      rows.push(['Country', c.country || 'none', 'data-export-country'], ['State or province', c.subdivision || 'none', 'data-export-subdivision'],
        ['Shop regions', regions.join(', ') || 'none', 'data-export-regions']);
      if (c.geohash) rows.push(['Weather cell (about 156 km)', c.geohash, 'data-export-geohash']);
    }
    for (const [k, label] of Object.entries(CONTEXT_LABELS)) if (c[k] != null) rows.push([label, capitalize(String(c[k]))]);
    const intro = c.country || regions.length
      ? 'Only the coarse region is kept: the coordinates or time zone the page handed over are gone.'
      : 'No location is kept.';
    return section('This moment, as the engine keeps it', 'data-data-context',
      el('p', { class: 'fine', 'data-coarse-note': '', text: intro }), rows.length ? pairs(rows) : el('p', { class: 'fine', text: 'Nothing but the time.' }));
  }

  eventsSection(e) {
    const events = e.events || [];
    const list = events.length
      ? el('ol', { class: 'data-list' }, [...events].reverse().map((ev) => el('li', { 'data-data-event': ev.item },
        el('span', { text: `${EVENT_VERBS[ev.type] || ev.type} ${this.shop.item(ev.item).title}` }),
        el('span', { class: 'fine', text: dateTime(ev.at) }))))
      : el('p', { class: 'fine', text: 'Nothing yet. Press View on a product.' });
    return section(`What you did here (${events.length})`, 'data-data-events', list);
  }

  // How often the shop's capped promotions were seen, against their caps,
  // in plain words (the engine's export: caps).
  capsSection(e) {
    const caps = (e.caps || []).filter((c) => c.shown_this_week > 0 || c.reached);
    const body = caps.length
      ? el('ul', { class: 'data-list', 'data-data-caps': String(caps.length) }, caps.map((c) => el('li', { 'data-data-cap': c.id },
        el('span', { text: capSentence(c, this.shop) }))))
      : el('p', { class: 'fine', 'data-data-caps': '0', text: 'None yet: a promotion counts once it has been on screen for a second.' });
    return section('Promotions you have seen', 'data-data-promotions', body);
  }

  interestsSection(e) {
    const interests = e.interests || [];
    const body = interests.length
      ? el('ul', { class: 'data-bars' }, interests.slice(0, 8).map((i) => el('li', { 'data-data-interest': i.tag },
        el('span', { text: i.tag }),
        el('span', { class: 'interest-bar', role: 'img', 'aria-label': `${Math.round(i.weight * 100)}%` }, barFill(i.weight)))))
      : el('p', { class: 'fine', text: 'None yet.' });
    const cohort = e.cohort
      ? el('div', {}, el('p', { class: 'fine', 'data-data-cohort': '', text: `If you allow counting, you would be counted in the group ${plainCohort(e.cohort)}.` }),
        figures(`Cohort ${e.cohort}`))
      : el('p', { class: 'fine', 'data-data-cohort': '', text: 'You are in no group yet.' });
    return section('Interests it learned', 'data-data-interests', body, cohort);
  }

  // Each answer a report carried: the cohort answer about its epoch, and
  // an experiment's outcome answer (experiment set) about an earlier one.
  reportsSection(e) {
    const ledger = e.ledger || [];
    const body = ledger.length
      ? el('ol', { class: 'data-list' }, ledger.map((r) => (r.experiment ? this.outcomeEntry(r) : el('li', { 'data-data-report': '' },
        el('span', { text: `${this.period(r.epoch)}: one randomized answer about ${levelOf(r.level, e.cohort)}` + (r.epsilon > 0 ? '' : ', the same answer as before') + '.' }),
        el('span', { class: 'fine', text: dateTime(r.at) }),
        figures(`Epoch ${r.epoch}, ${r.level} of the cohort's parts, ε ${r.epsilon} spent (0 when an earlier answer was repeated).`)))))
      : el('p', { class: 'fine', text: 'No report has left this browser.' });
    return section('Privacy ledger', 'data-data-ledger', body);
  }

  outcomeEntry(r) {
    const x = this.shop.experiment(r.experiment);
    const what = x.description ? `the shop's test “${x.description}”` : `the shop's test ${r.experiment}`;
    return el('li', { 'data-data-outcome': r.experiment, 'data-data-outcome-epoch': String(r.epoch) },
      el('span', { text: `${this.period(r.epoch)}: one randomized answer for ${what}: your group, and whether ${goalWords(x.goals)} that week.` }),
      el('span', { class: 'fine', text: dateTime(r.at) }),
      figures(`Experiment ${r.experiment}, about epoch ${r.epoch}, ε ${r.epsilon} spent.`));
  }

  /** The days of a reporting period (an epoch), e.g. "26 Nov – 2 Dec". */
  period(epoch) {
    const days = this.epochDays || 7;
    const day = (n) => new Date(n * 86_400_000).toLocaleDateString([], { day: 'numeric', month: 'short', timeZone: 'UTC' });
    return Number.isInteger(epoch) ? `${day(epoch * days)} – ${day(epoch * days + days - 1)}` : `Period ${epoch}`;
  }

  storedSection(stored) {
    const rows = [el('div', {}, el('dt', { text: 'IndexedDB' }), el('dd', { text: String(stored.indexeddb || 'nothing') }))];
    for (const [key, v] of Object.entries(stored.localStorage || {})) {
      // The no-flicker cache: item ids only, per slot, so a repeat visit
      // draws the last picks at once. Shown with the products' titles.
      const slots = v && typeof v === 'object' && v.slots && typeof v.slots === 'object' ? Object.entries(v.slots) : [];
      const value = slots.length
        ? el('dd', { 'data-data-cache': '' },
          el('span', { text: `Last picks per slot, item ids only${v.at ? `, from ${dateTime(v.at)}` : ''}:` }),
          el('ul', { class: 'data-cache' }, slots.map(([slot, ids]) => el('li', {},
            el('b', { text: `${slot}: ` }), (Array.isArray(ids) ? ids : []).map((id) => this.shop.item(id).title).join(', ')))))
        : el('dd', { 'data-data-cache': '', text: v ? JSON.stringify(v) : 'nothing' });
      rows.push(el('div', {}, el('dt', { text: `localStorage ${key}` }), value));
    }
    return section('Stored in this browser', 'data-data-stored', el('dl', { class: 'kept-list stacked' }, rows));
  }

  async download() {
    const exported = await readExport(this.engine());
    const text = exported ? exported.text : '{}';
    const blob = new Blob([text], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: `edgewise-${this.shop.id}-my-data.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    this.note.textContent = 'Exported: the file was made in this tab and sent nowhere.';
  }

  async forget() {
    const ew = this.engine();
    if (!ew) return;
    const ok = await ew.forget();
    this.note.textContent = ok
      ? 'Forgotten: your history, the stored profile and the cached picks are erased from this browser.'
      : 'Something could not be erased: see the error above.';
    await this.onForget();
  }

  async report() {
    const sent = await this.onReport();
    this.note.textContent = sent
      ? 'Sent one randomized cohort report. See it arrive under “What the server saw”.'
      : 'No report was sent: the engine sends at most one per period, and only when you allow counting.';
  }
}

// How many reports the ledger's entries came with: a report's answers
// (its cohort's and its experiments') are recorded at the same moment.
function reportsIn(ledger) {
  return new Set(ledger.map((r) => r.at)).size;
}

const times = (n) => (n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`);

/** What a cap's items are called: their campaign, their one title, or the cap's id. */
export function capName(cap, shop) {
  const camps = [...new Set(cap.items.map((id) => shop.item(id).campaign))];
  if (camps.length === 1 && camps[0] && CAMPAIGNS[camps[0]]) return `The ${CAMPAIGNS[camps[0]].toLowerCase()} promotion`;
  if (cap.items.length === 1) return shop.item(cap.items[0]).title;
  return cap.id.replace(/-/g, ' ');
}

/**
 * A cap in a sentence: "You've seen the winter sale promotion 3 times this
 * week. This shop shows it at most 3 times a week, or fewer if you choose
 * “less often”."
 */
export function capSentence(cap, shop) {
  const name = capName(cap, shop);
  const seen = cap.ruleset_per_week ? `${times(cap.shown_this_week)} this week` : `${times(cap.shown_today)} today`;
  const limit = (day, week) => [day && `${times(day)} a day`, week && `${times(week)} a week`].filter(Boolean).join(' and ');
  const shops = limit(cap.ruleset_per_day, cap.ruleset_per_week);
  const yours = limit(cap.per_day, cap.per_week);
  let s = `You've seen ${name.replace(/^The /, 'the ')} ${seen}. This shop shows it at most ${shops}`;
  s += yours === shops ? ', or fewer if you choose “less often”.' : `; with your choice of how often, ${yours}.`;
  if (cap.reached) s += ' That limit is reached, so it gives way to other picks for now.';
  return s;
}
