// Reading what pages pass to the SDK: preferences, context, the ruleset,
// the public key and the engine. Values are passed on as given where the
// engine checks them; only their shape is settled here.

// The preference fields the ABI documents; others are ignored.
const PREFERENCE_FIELDS = ['sharing', 'history', 'location', 'hidden_interests', 'frequency', 'gpc'];

// A set_preferences request's preferences from setPreferences' argument: the
// documented fields that are not undefined, gpc defaulting to the browser's
// Global Privacy Control signal. Values are passed as given: the engine
// checks them.
export function readPreferences(prefs) {
  const out = {};
  for (const key of PREFERENCE_FIELDS) {
    if (prefs[key] !== undefined) out[key] = prefs[key];
  }
  if (out.gpc === undefined && browserGPC()) out.gpc = true;
  if (Array.isArray(out.hidden_interests)) out.hidden_interests = [...out.hidden_interests];
  return out;
}

// Whether the browser sends Global Privacy Control; false outside a browser.
export function browserGPC() {
  try {
    return typeof navigator !== 'undefined' && navigator !== null && navigator.globalPrivacyControl === true;
  } catch {
    return false;
  }
}

// The context fields the ABI documents, in its order; others are ignored.
const CONTEXT_FIELDS = [
  'now', 'tz_offset_minutes', 'daypart', 'weekday', 'weather', 'device', 'referrer',
  'page_section', 'visits', 'country', 'subdivision', 'regions', 'geohash', 'location', 'time_zone', 'languages',
];

// A set_context context from setContext's argument: the documented fields
// that are not undefined, now defaulting to Date.now() and the time zone to
// the browser's. Values are passed as given: the engine checks them.
export function readContext(ctx) {
  const out = {};
  for (const key of CONTEXT_FIELDS) {
    if (ctx[key] !== undefined) out[key] = ctx[key];
  }
  if (out.now === undefined) out.now = Date.now();
  if (out.tz_offset_minutes === undefined) out.tz_offset_minutes = tzOffsetMinutes(out.now);
  if (Array.isArray(out.regions)) out.regions = [...out.regions];
  if (Array.isArray(out.languages)) out.languages = [...out.languages];
  const loc = out.location;
  if (loc && typeof loc === 'object' && !Array.isArray(loc)) out.location = { lat: loc.lat, lon: loc.lon };
  return out;
}

// The browser's offset from UTC at now, in minutes east of UTC (UTC+2 is
// 120). getTimezoneOffset counts the other way (UTC+2 is -120).
function tzOffsetMinutes(now) {
  const at = new Date(typeof now === 'number' && Number.isFinite(now) ? now : Date.now());
  const off = at.getTimezoneOffset();
  return Number.isFinite(off) ? 0 - off : 0;
}

function loadError(code, message) {
  return Object.assign(new Error(message), { code });
}

// The signed ruleset's bytes, from a URL, a Response (or a promise of one)
// or bytes. Rejects with an Error whose code is the error event's.
export async function readRuleset(source) {
  if (source == null) throw loadError('no_ruleset', 'Edgewise.load needs ruleset: the URL or bytes of a signed .ewr file');
  if (source instanceof ArrayBuffer) return new Uint8Array(source.slice(0));
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength));
  if (typeof source === 'string' || source instanceof URL) source = fetch(source);
  const res = await source;
  if (!res || typeof res.arrayBuffer !== 'function') {
    throw loadError('bad_ruleset_file',
      'ruleset must be the URL or bytes of a signed .ewr file, built with edgewise build; ruleset objects are not accepted');
  }
  if (!res.ok) throw loadError('fetch_failed', `cannot fetch the ruleset: HTTP ${res.status} from ${res.url || 'its URL'}`);
  return new Uint8Array(await res.arrayBuffer());
}

// The site's Ed25519 public key: 32 bytes, or their base64 (standard or
// URL-safe). Returns {bytes} or {error: {code, message}}.
export function readPublicKey(key) {
  if (key == null || key === '') {
    return { error: { code: 'no_public_key', message: 'Edgewise.load needs publicKey: the site\'s Ed25519 public key, as bytes or base64' } };
  }
  let bytes = null;
  if (key instanceof ArrayBuffer) bytes = new Uint8Array(key.slice(0));
  else if (ArrayBuffer.isView(key)) bytes = new Uint8Array(key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength));
  else if (typeof key === 'string') {
    try {
      const bin = atob(key.trim().replace(/-/g, '+').replace(/_/g, '/'));
      bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    } catch {
      bytes = null;
    }
  }
  if (!bytes || bytes.length !== 32) {
    const what = bytes ? `${bytes.length} bytes` : typeof key === 'string' ? 'a string that is not base64' : typeof key;
    return { error: { code: 'bad_public_key', message: `publicKey must be a 32-byte Ed25519 public key (bytes or base64), got ${what}` } };
  }
  return { bytes };
}

// The engine as a worker can receive it: a compiled module, bytes, or an
// absolute URL (a worker resolves relative URLs against its own script).
// A Response, or a promise of one, is read here.
export async function readWasm(source) {
  if (typeof WebAssembly !== 'undefined' && source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source.slice(0));
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength));
  if (typeof source === 'string' || source instanceof URL) {
    const base = typeof location !== 'undefined' && location ? location.href : undefined;
    try {
      return new URL(String(source), base).href;
    } catch {
      return String(source); // compile reports it
    }
  }
  const res = await source;
  if (!res || typeof res.arrayBuffer !== 'function') return res; // compile reports it
  if (!res.ok) throw new Error(`fetching ${res.url || 'the wasm module'} failed: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
