// Context feeds, on the engine's side of the channel (host.js): fetching the
// signed feeds the ruleset names, keeping them until they expire, and the
// browser's own coarse place (time zone and languages) for set_context.
//
// A feed request carries nothing about the person: the same URL for every
// visitor (the ruleset names it, with no query string), no cookies, no
// Referer, and a fixed Accept-Language, so a visitor in Paris and one in
// Tokyo send the same bytes. The engine, not this file, joins a feed with
// the person's region.

/** The Cache API cache that keeps feeds until they expire. */
export const FEED_CACHE = 'edgewise-feeds';

/** How long load waits for feeds from the network before it goes on without them, in ms. */
export const FEED_WAIT = 1500;

const REQUEST = { credentials: 'omit', referrerPolicy: 'no-referrer', headers: { 'Accept-Language': '*' } };

function feedCache() {
  return typeof caches !== 'undefined' ? caches.open(FEED_CACHE).catch(() => null) : Promise.resolve(null);
}

function bytesOf(response) {
  return response.arrayBuffer().then((b) => new Uint8Array(b));
}

/**
 * The bytes of each feed, kept ones first: for a kept feed the engine says
 * whether it is still current (load returns its expiry); the others are
 * fetched. load(bytes) hands a feed to the engine and returns load_feed's
 * result or null. Resolves once every feed is loaded or failed; report(e)
 * gets each failure.
 */
export async function loadFeeds(feeds, load, report) {
  const cache = await feedCache();
  await Promise.all(feeds.map(async (feed) => {
    let url = feed.url;
    try {
      url = new URL(url, globalThis.location && location.href).href;
      const kept = cache && (await cache.match(url));
      if (kept) {
        const info = await load(await bytesOf(kept));
        if (info && info.expires > Date.now()) return;
      }
      const response = await fetch(url, REQUEST);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const bytes = await bytesOf(response);
      if ((await load(bytes)) && cache) await cache.put(url, new Response(bytes));
    } catch (e) {
      report(`cannot fetch feed ${feed.id} from ${url}: ${e && e.message}`);
    }
  }));
}

/** Forgets the kept feeds (they are the same for everyone, but say this browser came by). */
export function dropFeeds() {
  return typeof caches !== 'undefined' ? caches.delete(FEED_CACHE).catch(() => false) : Promise.resolve(false);
}

/**
 * What the browser knows of its place without asking: its IANA time zone
 * and languages. The engine turns them into a country (and sometimes a
 * subdivision) only when the ruleset declares location and nothing more
 * precise is given, and keeps neither.
 */
export function browserPlace() {
  let zone = '';
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch {
    // no Intl time zones here
  }
  const langs = typeof navigator !== 'undefined' && Array.isArray(navigator.languages) ? navigator.languages.slice(0, 16) : [];
  return { time_zone: zone, languages: langs };
}
