// Public API of the Edgewise browser SDK.

export const ABI_VERSION: 1;

/** dismiss hides the item for 48 hours. */
export type EventType = 'view' | 'click' | 'add_to_cart' | 'purchase' | 'custom' | 'dismiss';

export interface ObservedEvent {
  type: EventType;
  item: string;
  /** Unix time in milliseconds; defaults to Date.now(). */
  at?: number;
}

/** One chosen item, with a reason a person can read. */
export interface Pick {
  item: string;
  score: number;
  reason: string;
  /** Ids of the ruleset's rules that shaped this pick; absent when none did. */
  rules?: string[];
  /** The context feed values those rules read, with where each came from; absent when none did. */
  feeds?: FeedSource[];
}

export type Daypart = 'morning' | 'afternoon' | 'evening' | 'night';
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export type Weather = 'clear' | 'cloudy' | 'rain' | 'snow' | 'storm' | 'hot' | 'cold';
export type Device = 'mobile' | 'tablet' | 'desktop';
export type Referrer = 'direct' | 'search' | 'social' | 'email' | 'partner';

/**
 * What the page knows about the current moment. Every field is optional;
 * signals whose kind the ruleset does not declare are dropped by the engine,
 * and a bad value is refused with an 'error' event (bad_request).
 */
export interface Context {
  /** Unix time in milliseconds that interest decays to; defaults to Date.now(). */
  now?: number;
  /**
   * Offset from UTC in minutes, east positive (UTC+2 is 120, UTC-5 is -300);
   * defaults to the browser's time zone at `now`. The engine derives daypart
   * and weekday from now with it.
   */
  tz_offset_minutes?: number;
  /** Wins over the daypart derived from now. */
  daypart?: Daypart;
  /** Wins over the weekday derived from now. */
  weekday?: Weekday;
  /**
   * Wins over the weather the ruleset's weather feed gives for the person's
   * region; leave it out to use the feed.
   */
  weather?: Weather;
  device?: Device;
  referrer?: Referrer;
  page_section?: string;
  /** How many visits the person has made to the site. */
  visits?: number;
  /** ISO 3166-1 alpha-2, e.g. 'DE'. */
  country?: string;
  /** ISO 3166-2, e.g. 'US-WA'. */
  subdivision?: string;
  /** Ids of the ruleset's regions the page already resolved the person to be in. */
  regions?: string[];
  /**
   * The device's coordinates (WGS 84 degrees). The engine turns them into
   * country, subdivision and regions at once and drops them; the SDK never
   * keeps them either, so after the engine is rebuilt (after a trap) the
   * context is re-applied without them.
   */
  location?: { lat: number; lon: number };
  /** A geohash cell of at most 3 characters (about 156 km) the page resolved. */
  geohash?: string;
  /**
   * The IANA time zone (defaults to the browser's) and languages (defaults
   * to navigator.languages). With no country, subdivision or location, the
   * engine turns them into a country, and where the zone lies in one, a
   * subdivision, for regions and feeds, and drops them. Pass '' and [] to
   * hand over neither.
   */
  time_zone?: string;
  languages?: string[];
}

/** A value a context feed gave for the person's region (Pick.feeds). */
export interface FeedSource {
  /** The feed's id in the ruleset. */
  feed: string;
  kind: 'weather' | 'holidays' | 'custom';
  /** What it said, e.g. 'rain' or 'school_break'. */
  value: string;
  /** The key that matched: a geohash cell ('u09'), a subdivision ('FR-IDF') or a country ('FR'). */
  place: string;
  /** The feed's name for that place, e.g. 'Paris' or 'France', when it has one. */
  label?: string;
  /** When the feed was made, Unix ms. */
  issued: number;
}

export interface DecideOptions {
  /**
   * Also record the items the engine picked (every slot, each item once) as
   * impressions for the ruleset's caps, as recordImpressions would. Fallback
   * items served without an engine are not recorded.
   */
  record?: boolean;
  /** When the impressions happened, Unix ms; defaults to Date.now(). */
  at?: number;
}

/** What one slot shows. */
export interface Decision {
  slot: string;
  items: Pick[];
  /** True when the slot shows fallback items instead of personalized ones. */
  fallback: boolean;
  /**
   * The items the slot would have shown, best first, had a frequency cap
   * not held them back: what its picks replace. Absent when none was.
   */
  capped?: string[];
}

/**
 * The person's consent and privacy choices, enforced by the engine. Each
 * setPreferences replaces them all: a field left out takes its default.
 */
export interface Preferences {
  /**
   * 'off' keeps nothing (the profile is erased at once, observe and
   * recordImpressions are refused with code 'consent', every slot shows its
   * fallback); 'on-device' (the default); 'cohorts'.
   */
  sharing?: 'off' | 'on-device' | 'cohorts';
  /** false erases the events and stops keeping new ones (default true). */
  history?: boolean;
  /** false drops country, subdivision, regions and coordinates (default true). */
  location?: boolean;
  /** Tags that never influence a decision. */
  hidden_interests?: string[];
  /** Scales the ruleset's caps: low ×0.5 (at least 1), high ×1.5 (default normal). */
  frequency?: 'low' | 'normal' | 'high';
  /**
   * Global Privacy Control: sharing is at most 'on-device'. Defaults to
   * navigator.globalPrivacyControl === true in a browser.
   */
  gpc?: boolean;
}

/** The preferences in effect. */
export interface EffectivePreferences {
  sharing: 'off' | 'on-device' | 'cohorts';
  history: boolean;
  location: boolean;
  hidden_interests: string[];
  frequency: 'low' | 'normal' | 'high';
  gpc: boolean;
  /** True when gpc lowered the sharing asked for. */
  gpc_applied: boolean;
}

export interface VersionInfo {
  abi: number;
  engine: string;
  /** "id@version" of the loaded ruleset. */
  ruleset?: string;
}

/**
 * An error event. Codes are the engine's (bad_request, too_large, unknown_op,
 * no_ruleset, invalid_ruleset, bad_ruleset_file, bad_signature, bad_feed,
 * unknown_slot, unknown_item, corrupt_snapshot, snapshot_version, consent,
 * internal) or the SDK's (fetch_failed, no_public_key, bad_public_key,
 * compile_failed, instantiate_failed, abi_version, unsupported_browser, trap,
 * bad_response, worker_unavailable, storage_failed, storage_corrupt,
 * report_failed, feed_failed). feed_failed means a context feed the ruleset
 * names could not be fetched: rules that read it do not hold until it can.
 * bad_signature means the ruleset is not signed with publicKey, or was
 * changed after signing; compile_failed with wasm blocked by CSP means the
 * page's script-src lacks 'wasm-unsafe-eval', and otherwise can mean the
 * browser lacks a WebAssembly feature the engine uses; unsupported_browser
 * means the browser lacks BigInt or WebAssembly BigInt integration, so the
 * engine is not even fetched; worker_unavailable means the engine runs on the
 * main thread (no module workers, say); storage_failed at load means
 * IndexedDB or WebCrypto (AES-GCM) is unavailable and the profile lasts only
 * this page; storage_corrupt means the stored profile could not be decrypted
 * and was erased; report_failed means a cohort report did not go: its
 * message ends "it is tried again later" (see report()) or, when the
 * collector refused it for good, "it is not sent again this epoch".
 */
export interface EdgewiseError {
  code: string;
  message: string;
  /** The method or operation that failed, e.g. 'load', 'observe', 'decide'. */
  op: string;
}

export interface EventMap {
  error: EdgewiseError;
  decision: Decision;
}

export type Bytes = ArrayBuffer | ArrayBufferView;

export interface LoadOptions {
  /**
   * The engine: a URL, a Response (or a promise of one), bytes, or a
   * precompiled WebAssembly.Module (for runtimes that forbid compiling).
   */
  wasm: string | URL | Response | Promise<Response> | Bytes | WebAssembly.Module;
  /**
   * The signed ruleset (.ewr, from `edgewise build`): its URL, a Response
   * (or a promise of one), or its bytes. It loads only if it is signed with
   * publicKey and unchanged since.
   */
  ruleset: string | URL | Response | Promise<Response> | Bytes;
  /**
   * The site's Ed25519 public key (`edgewise keygen` writes it): 32 bytes,
   * or their base64.
   */
  publicKey: string | Bytes;
  /**
   * Item ids by slot id: what each slot shows when the engine cannot run
   * (the ruleset cannot be fetched or verified, the wasm is blocked...).
   * Without an entry, a slot shows nothing then. Once the engine has
   * verified the ruleset, slots fall back to the ruleset's own fallback
   * items instead.
   */
  fallback?: Record<string, string[]>;
  /**
   * The cohort-report collector's base URL (`edgewise collect`), e.g.
   * 'https://collect.example.com'. Without it report() sends nothing.
   */
  collector?: string | URL;
  /**
   * Where the profile persists between visits: true (the default) keeps it
   * in IndexedDB, encrypted with a non-extractable AES-GCM key; false keeps
   * it for this page only; an IDBFactory uses that one (and runs the engine
   * on the main thread: a factory cannot cross to a worker). Changes from
   * observe and recordImpressions are written together a moment later, and
   * at once when the page starts to leave, goes or is hidden. When IndexedDB or
   * WebCrypto is unavailable the profile lasts this page only, never stored
   * unencrypted, and a storage_failed error says so.
   */
  storage?: boolean | IDBFactory;
  /**
   * Where the engine runs: true (the default) in a module Web Worker
   * started from dist/edgewise-worker.js beside this script; false on the
   * main thread, which then imports that same file; a URL of
   * edgewise-worker.js on this origin (when the SDK was bundled into another
   * script); or a Worker to talk to. Without Worker support, or when the
   * worker cannot start (no module workers, CSP, a failing script), the
   * engine runs on the main thread.
   */
  worker?: boolean | string | URL | Worker;
}

/** What the ruleset declares, for a preference center (the engine's describe). */
export interface Description {
  ruleset: { id: string; version: string; items: number; slots: number };
  /** Each signal the ruleset may use, why, and for how many days events are kept. */
  signals: { id: string; kind: string; purpose: string; retention_days: number }[];
  /** The ruleset's named interests, for hidden_interests. */
  interests: { id: string; tags: string[] }[];
  /** Each slot's fallback items. */
  slots: { id: string; fallback: string[] }[];
  reporting: { epsilon: number; epoch_days: number; min_k: number; cohorts?: number };
}

/** Why an item was shown, from the engine's last decision that picked it. */
export interface Explanation {
  item: string;
  slot: string;
  /** The reason a person can read, e.g. "Because you viewed Wool socks". */
  reason: string;
  /** Ids of the rules that shaped the pick (empty when none did). */
  rules: string[];
}

/** A cohort report as sent to the collector (POST /v1/reports). */
export interface CohortReport {
  ruleset: string;
  epoch: number;
  /** k-ary randomized response. */
  mechanism: 'krr';
  /** The noised cohort index; the same answer repeats for the same cohort. */
  value: number;
  /** The mechanism's epsilon, which the collector needs to debias counts. */
  epsilon: number;
}

export type Sharing = 'off' | 'on-device' | 'cohorts';

/**
 * One person's personalization engine. No method throws and no promise
 * rejects: failures are reported as 'error' events, and decisions fall back
 * to the shop's picks.
 */
export class Edgewise {
  /** Resolves, never rejects; check `state` or listen for 'error'. */
  static load(options: LoadOptions): Promise<Edgewise>;

  /**
   * The item ids the slot last showed, personalized, on an earlier visit
   * (the no-flicker cache), read synchronously so a page can render them
   * before load resolves; null when there are none.
   */
  static cached(slot: string): string[] | null;

  /** 'ready', or 'failed' when only fallback decisions are available. */
  readonly state: 'loading' | 'ready' | 'failed';

  /** The sharing level in effect, or null when the engine is unavailable. */
  readonly consent: Sharing | null;

  /** Records an event; resolves true when the engine accepted it. */
  observe(event: ObservedEvent): Promise<boolean>;
  /** Hides an item for 48 hours: observe({ type: 'dismiss', item, at }). */
  dismiss(item: string, at?: number): Promise<boolean>;
  /**
   * Sets the current moment and its signals. Resolves true when the engine
   * accepted it; a bad value gives false and an 'error' event.
   */
  setContext(context?: Context): Promise<boolean>;
  /**
   * Counts items as shown (at, Unix ms, default Date.now()) for the
   * ruleset's caps. Resolves true when the engine accepted them.
   */
  recordImpressions(items: string[], at?: number): Promise<boolean>;
  /**
   * Decides one slot or several (answered in order; one call is one page,
   * an item shows once). With { record: true } the picked items are also
   * recorded as impressions at once, seen or not: the cruder choice;
   * trackImpressions (edgewise-track.js) counts them when seen.
   */
  decide(slot: string, options?: DecideOptions): Promise<Decision>;
  decide(slots: string[], options?: DecideOptions): Promise<Decision[]>;
  /** Why an item was shown, or null when no slot's last decision picked it. */
  explain(item: string): Promise<Explanation | null>;
  /** What the ruleset collects and why, or null when the engine is unavailable. */
  describe(): Promise<Description | null>;
  /** The profile as bytes to persist, or null when the engine is unavailable. */
  snapshot(): Promise<Uint8Array | null>;
  /** Replaces the profile with bytes from snapshot(); resolves true on success. */
  restore(snapshot: Uint8Array | ArrayBuffer): Promise<boolean>;
  version(): Promise<VersionInfo | null>;
  /** The preferences in effect, or null when the engine is unavailable. */
  preferences(): Promise<EffectivePreferences | null>;
  /**
   * Replaces the person's preferences and applies them at once; resolves to
   * those in effect, or null after an 'error' event.
   */
  setPreferences(preferences: Preferences): Promise<EffectivePreferences | null>;
  /** Changes only the sharing level; resolves to the preferences in effect. */
  setConsent(sharing: Sharing): Promise<EffectivePreferences | null>;
  /**
   * Everything kept about the person on this device, as indented JSON:
   * {engine: {ruleset, preferences, context, events, impressions, caps
   * (each cap's showings today and this week, and what it allows), interests,
   * cohort, reports, ledger, epsilon_spent}, stored: {...}}.
   */
  exportData(): Promise<string>;
  /**
   * Erases everything kept on this device: the profile, the IndexedDB
   * database and its key, and the no-flicker cache. The preferences stay
   * in effect for this page, except that sharing 'cohorts' returns to the
   * default 'on-device': a person who asked to be forgotten opts in to
   * reporting again if they want it. Resolves true when all of it is gone.
   */
  forget(): Promise<boolean>;
  /**
   * Sends this epoch's cohort report to the collector when the sharing
   * level is 'cohorts' and there is no Global Privacy Control signal;
   * otherwise makes no request at all. Resolves to the report sent, or null.
   * Call it on every page view: a report the collector could not take now
   * (unreachable, 5xx, 408, 429) is kept and sent, the same report, by a
   * later call in the same epoch, not before its Retry-After; one it
   * refused for good (another 4xx) is not sent again that epoch. Each
   * failed try is one 'report_failed' event; a call that waits is silent.
   */
  report(): Promise<CohortReport | null>;

  /**
   * Adds a listener. Errors raised before the first 'error' listener (such as
   * load's) are delivered to it when it is added.
   */
  on<K extends keyof EventMap>(type: K, listener: (detail: EventMap[K]) => void): this;
  off<K extends keyof EventMap>(type: K, listener: (detail: EventMap[K]) => void): this;
}

export default Edgewise;
