// The shop's public display catalogue (/catalogue.json): products, slots and
// the public parts of the ruleset (signals, interests, regions, rules,
// experiments). It
// is the same for every visitor; nothing in it is about the person.

export const SLOTS = ['home-hero', 'weather-banner', 'recommended'];

export const CAMPAIGNS = {
  'winter-sale': 'Winter sale',
  'spring-trail': 'Spring trail edition',
  'new-arrivals': 'New arrival',
};

export const SIGNAL_LABELS = {
  history: 'Shopping history',
  location: 'Approximate region',
  weather: 'Local weather',
  time: 'Time of day and week',
  device: 'Device type',
  referrer: 'Referring site',
  page: 'Shop section',
  visits: 'Visit count',
};

function humanize(id) {
  const s = String(id).replace(/[-_]+/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export class Shop {
  constructor(display) {
    this.id = display.id;
    this.version = display.version;
    this.items = new Map((display.catalogue || []).map((it) => [it.id, it]));
    this.slots = display.slots || [];
    this.signals = display.signals || [];
    this.interests = display.interests || [];
    this.regions = new Map((display.regions || []).map((r) => [r.id, r]));
    this.rules = new Map((display.rules || []).map((r) => [r.id, r]));
    this.reporting = display.reporting || {};
    this.experiments = new Map((display.experiments || []).map((x) => [x.id, x]));
  }

  static async fetch() {
    const res = await fetch('/catalogue.json');
    if (!res.ok) throw new Error(`GET /catalogue.json answered ${res.status}`);
    return new Shop(await res.json());
  }

  get name() { return `${this.id}@${this.version}`; }

  /** The product, or a stand-in drawn from its id (an item the playground added). */
  item(id) {
    return this.items.get(id) || { id, title: humanize(id), tags: [], art: 'mountain' };
  }

  rule(id) { return this.rules.get(id) || { id, signals: [] }; }

  /** An experiment of the ruleset, or a stand-in named by its id. */
  experiment(id) { return this.experiments.get(id) || { id, slots: [], goals: [], holdout: 0 }; }

  /** Edgewise.load's fallback option: each slot's items for when the engine cannot run. */
  fallback() {
    return Object.fromEntries(this.slots.map((s) => [s.id, s.fallback]));
  }

  /** Which signal kinds the ruleset declares. */
  declares(kind) { return this.signals.some((s) => s.kind === kind); }
}

/** A share of people in words: 0.2 is "one shopper in five", 0.35 "35% of shoppers". */
export function shareWords(share) {
  const n = Math.round(1 / share);
  if (share > 0 && n >= 2 && n <= 10 && Math.abs(1 / n - share) < 1e-9) {
    return `one shopper in ${['', '', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'][n]}`;
  }
  return `${Math.round(share * 100)}% of shoppers`;
}

/** An experiment's goals in words: "you bought something or clicked one of the products in the test". */
export function goalWords(goals) {
  const words = { purchase: 'bought something', add_to_cart: 'added something to your cart', click: 'clicked one of the products in the test' };
  const out = (goals || []).map((g) => words[g] || g);
  if (!out.length) return 'its goal was reached';
  return `you ${out.length === 1 ? out[0] : `${out.slice(0, -1).join(', ')} or ${out[out.length - 1]}`}`;
}
