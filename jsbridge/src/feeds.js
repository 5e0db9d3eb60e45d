// Context feeds, on the engine's side of the channel (host.js): fetching the
// signed feeds the ruleset names, keeping them (in the profile's IndexedDB
// database, storage.js) until they expire, and the browser's own coarse
// place (time zone and languages) for set_context.
//
// A feed request carries nothing about the person: the same URL for every
// visitor (the ruleset names it, with no query string), no cookies, no
// Referer, and a fixed Accept-Language, so a visitor in Paris and one in
// Tokyo send the same bytes. The engine, not this file, joins a feed with
// the person's region.

/** How long load waits for feeds from the network before it goes on without them, in ms. */
export const FEED_WAIT = 1500;

const REQUEST = { credentials: 'omit', referrerPolicy: 'no-referrer', headers: { 'Accept-Language': '*' } };

/**
 * The bytes of each feed, kept ones first: for a kept feed the engine says
 * whether it is still current (load returns its expiry); the others are
 * fetched. load(bytes) hands a feed to the engine and returns load_feed's
 * result or null; store is the profile's Storage, or null without one.
 * Resolves once every feed is loaded or failed; report(e) gets each failure.
 */
export async function loadFeeds(feeds, load, store, report) {
  await Promise.all(feeds.map(async (feed) => {
    let url = feed.url;
    try {
      url = new URL(url, globalThis.location && location.href).href;
      const kept = store && (await store.feed(url));
      if (kept) {
        const info = await load(kept);
        if (info && info.expires > Date.now()) return;
      }
      const response = await fetch(url, REQUEST);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      if ((await load(bytes)) && store) await store.keepFeed(url, bytes);
    } catch (e) {
      report(`cannot fetch feed ${feed.id} from ${url}: ${e && e.message}`);
    }
  }));
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
