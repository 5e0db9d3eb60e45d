// Impressions when seen, the page's file dist/edgewise-track.js. A rendered
// pick counts as shown once at least half of it has been in view for one
// continuous second while the page is visible (the IAB/MRC display
// standard), and once per pick per page view. Caps count these impressions;
// a pick decided for a slot below the fold, or on a tab nobody looks at,
// does not count until someone sees it.
//
//   import { trackImpressions } from '/edgewise/edgewise-track.js';
//   const seen = trackImpressions(ew);
//   seen.track(element, pick);        // pick: {item, slot?} as decide gave it
//
// The declarative mode loads this file itself and tracks every pick it
// renders. It is its own file, loaded only by pages that track, so the
// page's own file keeps its budget. Without IntersectionObserver nothing is
// counted (decide's {record: true} remains, the cruder choice).

/** At least this share of the element in view... */
export const VIEWABLE_RATIO = 0.5;
/** ...for at least this long, continuously, in ms. */
export const VIEWABLE_MS = 1000;

/**
 * Tracks rendered picks for ew (an Edgewise instance): each counts once,
 * through ew.recordImpressions, when it has been viewable. env is the
 * global scope (tests pass their own).
 */
export function trackImpressions(ew, env = globalThis) {
  const IO = env.IntersectionObserver;
  const doc = env.document;
  const counted = new Set(); // the picks counted in this page view
  const watched = new Map(); // element -> {item, key, inView, timer}
  const hidden = () => Boolean(doc && doc.visibilityState === 'hidden');
  const stop = (w) => {
    clearTimeout(w.timer);
    w.timer = null;
  };
  const forget = (el) => {
    stop(watched.get(el));
    watched.delete(el);
    io.unobserve(el);
  };
  // Starts the second a viewable pick must stay viewable.
  const start = (el, w) => {
    if (w.timer || !w.inView || hidden()) return;
    w.timer = setTimeout(() => {
      w.timer = null;
      forget(el);
      if (counted.has(w.key)) return;
      counted.add(w.key);
      // Nothing is kept while sharing is off, nor after forget() until the
      // person acts again.
      if (ew.consent !== 'off' && !ew._forgotten) ew.recordImpressions([w.item]);
    }, VIEWABLE_MS);
  };
  const io = typeof IO === 'function'
    ? new IO((entries) => {
      for (const e of entries) {
        const w = watched.get(e.target);
        if (!w) continue;
        // A ratio reported a hair under the threshold it crossed still counts.
        w.inView = e.isIntersecting && e.intersectionRatio >= VIEWABLE_RATIO - 0.001;
        if (w.inView) start(e.target, w);
        else stop(w);
      }
    }, { threshold: [0, VIEWABLE_RATIO, 1] })
    : null;
  if (io && doc) {
    // A hidden page pauses every count: the second starts again when it is back.
    doc.addEventListener('visibilitychange', () => {
      for (const [el, w] of watched) {
        if (hidden()) stop(w);
        else start(el, w);
      }
    });
  }
  return {
    /** Counts pick ({item, slot?}) as shown once element has been viewable. */
    track(element, pick) {
      if (!io || !element || !pick || typeof pick.item !== 'string') return;
      const key = `${pick.slot || ''}\n${pick.item}`;
      if (counted.has(key)) return;
      // A re-render replaces the pick's element: the new one is watched,
      // and the old one's time does not carry over.
      for (const [el, w] of watched) if (w.key === key || el === element) forget(el);
      watched.set(element, { item: pick.item, key, inView: false, timer: null });
      io.observe(element);
    },
    /** Stops watching every element. */
    disconnect() {
      for (const el of [...watched.keys()]) forget(el);
    },
  };
}
