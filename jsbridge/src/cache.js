// The no-flicker cache: the item ids each slot last showed, personalized,
// in one localStorage entry, so a repeat visit can render them before the
// engine is ready. localStorage because it is synchronous: the page reads
// it in its first script run, before any await.
//
// It holds only what a first paint needs: {v: 2, ruleset, day, slots},
// the item ids per slot, the ruleset they came from (a new ruleset's
// picks replace them) and the UTC day they were written (for the 7-day
// expiry). No reasons ("Because you viewed ..."), scores or rules, which
// would spell out the history, and no time finer than the day, which
// would say when the person was here. Fallback decisions are not kept
// (they are the same for everyone), nothing is written while sharing is
// off, and forget() removes the entry. Entries of format 1, with a
// timestamp in ms, are ignored and replaced.

export const CACHE_KEY = 'edgewise.slots';
const FORMAT = 2;
const MAX_AGE_DAYS = 7;
const today = () => Math.floor(Date.now() / 864e5);
const MAX_SLOTS = 32;
const MAX_ITEMS = 50;

function store() {
  try {
    return typeof localStorage !== 'undefined' && localStorage ? localStorage : null;
  } catch {
    return null; // a sandboxed frame or blocked storage throws on access
  }
}

function read() {
  const ls = store();
  try {
    const v = ls && JSON.parse(ls.getItem(CACHE_KEY));
    if (v && v.v === FORMAT && typeof v.slots === 'object' && today() - v.day < MAX_AGE_DAYS) return v;
  } catch {
    // unreadable: as if absent
  }
  return null;
}

/** The cached item ids for a slot, or null. */
export function cachedItems(slot) {
  const v = read();
  const ids = v && Object.prototype.hasOwnProperty.call(v.slots, slot) ? v.slots[slot] : null;
  return Array.isArray(ids) ? ids.filter((id) => typeof id === 'string') : null;
}

/** The ruleset id the cache was written for, or null. */
export function cachedRuleset() {
  const v = read();
  return v ? v.ruleset : null;
}

/** Records what slots showed: personalized ones are kept, others dropped. */
export function remember(rulesetId, decisions) {
  const ls = store();
  if (!ls) return;
  const v = read();
  const slots = v && v.ruleset === rulesetId ? { ...v.slots } : {};
  for (const d of decisions) {
    if (d.fallback) delete slots[d.slot];
    else slots[d.slot] = d.items.slice(0, MAX_ITEMS).map((p) => p.item);
  }
  const names = Object.keys(slots);
  for (const name of names.slice(0, Math.max(0, names.length - MAX_SLOTS))) delete slots[name];
  // localStorage writes are synchronous on the main thread: write only new
  // picks, or to keep unchanged ones from expiring, at most once a day.
  if (v && v.ruleset === rulesetId && v.day === today() && JSON.stringify(slots) === JSON.stringify(v.slots)) return;
  try {
    if (Object.keys(slots).length) ls.setItem(CACHE_KEY, JSON.stringify({ v: FORMAT, ruleset: rulesetId, day: today(), slots }));
    else ls.removeItem(CACHE_KEY);
  } catch {
    // Quota or blocked storage: the next visit just waits for the engine.
  }
}

/** Removes the cache. */
export function clearCache() {
  const ls = store();
  try {
    if (ls) ls.removeItem(CACHE_KEY);
  } catch {
    // nothing to remove
  }
}
