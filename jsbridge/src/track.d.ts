import type { Edgewise, Pick } from './index.js';

/** At least this share of a pick's element in view... */
export const VIEWABLE_RATIO: number;
/** ...for at least this long, continuously, in ms, while the page is visible. */
export const VIEWABLE_MS: number;

/** Counts rendered picks as impressions once they have been seen. */
export interface ImpressionTracker {
  /**
   * Counts pick (as decide gave it; slot, when given, tells two slots'
   * copies apart) once element has been at least half in view for a
   * continuous second while the page is visible: once per pick per page
   * view. Nothing is kept while sharing is off, nor after forget() until
   * the person acts again.
   */
  track(element: Element, pick: Pick | { item: string; slot?: string }): void;
  /** Stops watching every element. */
  disconnect(): void;
}

/** A tracker for ew's picks (IntersectionObserver; without it, nothing is counted). */
export function trackImpressions(ew: Edgewise, env?: typeof globalThis): ImpressionTracker;
