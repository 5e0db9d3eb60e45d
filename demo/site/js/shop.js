// The shop's public display catalogue (/catalogue.json): products, slots and
// the public parts of the ruleset (signals, interests, regions, rules). It
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

  /** Edgewise.load's fallback option: each slot's items for when the engine cannot run. */
  fallback() {
    return Object.fromEntries(this.slots.map((s) => [s.id, s.fallback]));
  }

  /** Which signal kinds the ruleset declares. */
  declares(kind) { return this.signals.some((s) => s.kind === kind); }
}
