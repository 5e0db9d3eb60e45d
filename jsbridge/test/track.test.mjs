// Impressions when seen (src/track.js), with a stand-in IntersectionObserver
// and the test runner's clock: at least half in view for a continuous
// second while the page is visible, once per pick per page view.

import test from 'node:test';
import assert from 'node:assert/strict';
import { VIEWABLE_MS, trackImpressions } from '../src/track.js';

// A page whose observer the test drives: see(el, ratio) reports el at ratio.
function page() {
  const listeners = [];
  const doc = { visibilityState: 'visible', addEventListener: (type, fn) => type === 'visibilitychange' && listeners.push(fn) };
  let observer = null;
  class IntersectionObserver {
    constructor(callback, options) {
      this.callback = callback;
      this.options = options;
      this.observed = new Set();
      observer = this;
    }
    observe(el) { this.observed.add(el); }
    unobserve(el) { this.observed.delete(el); }
  }
  const recorded = [];
  const ew = { consent: 'on-device', _forgotten: false, recordImpressions: (items) => recorded.push(...items) };
  return {
    env: { IntersectionObserver, document: doc },
    ew,
    recorded,
    see(el, ratio) {
      if (!observer.observed.has(el)) return;
      observer.callback([{ target: el, isIntersecting: ratio > 0, intersectionRatio: ratio }]);
    },
    hide(hidden) {
      doc.visibilityState = hidden ? 'hidden' : 'visible';
      for (const fn of listeners) fn();
    },
    get observer() { return observer; },
  };
}

test('a pick counts once it has been half in view for a continuous second, and once only', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const p = page();
  const seen = trackImpressions(p.ew, p.env);
  assert.deepEqual(p.observer.options.threshold.includes(0.5), true);
  const card = {};
  seen.track(card, { item: 'tent', slot: 'hero' });
  p.see(card, 0.4); // less than half
  t.mock.timers.tick(5000);
  assert.deepEqual(p.recorded, [], 'under half in view never counts');
  p.see(card, 0.6);
  t.mock.timers.tick(VIEWABLE_MS - 1);
  p.see(card, 0); // scrolled past just before the second
  t.mock.timers.tick(5000);
  assert.deepEqual(p.recorded, [], 'scrolled past in under a second');
  p.see(card, 0.5);
  t.mock.timers.tick(VIEWABLE_MS);
  assert.deepEqual(p.recorded, ['tent'], 'held in view for a second');
  p.see(card, 1);
  t.mock.timers.tick(10_000);
  seen.track(card, { item: 'tent', slot: 'hero' });
  p.see(card, 1);
  t.mock.timers.tick(10_000);
  assert.deepEqual(p.recorded, ['tent'], 'once per pick per page view');
});

test('a hidden page pauses the second; a re-rendered pick starts it again; sharing off or forgotten counts nothing', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const p = page();
  const seen = trackImpressions(p.ew, p.env);
  const a = {};
  seen.track(a, { item: 'stove' });
  p.see(a, 1);
  t.mock.timers.tick(600);
  p.hide(true);
  t.mock.timers.tick(5000);
  assert.deepEqual(p.recorded, [], 'nothing while the tab is hidden');
  p.hide(false);
  t.mock.timers.tick(600);
  assert.deepEqual(p.recorded, [], 'the second starts again when the page is back');
  t.mock.timers.tick(400);
  assert.deepEqual(p.recorded, ['stove']);

  // The same pick re-rendered: the old element is let go, the new one timed afresh.
  const b1 = {};
  const b2 = {};
  seen.track(b1, { item: 'mug' });
  p.see(b1, 1);
  t.mock.timers.tick(900);
  seen.track(b2, { item: 'mug' });
  assert.equal(p.observer.observed.has(b1), false);
  t.mock.timers.tick(200);
  assert.deepEqual(p.recorded, ['stove'], 'the old element\'s time does not carry over');
  p.see(b2, 1);
  t.mock.timers.tick(VIEWABLE_MS);
  assert.deepEqual(p.recorded, ['stove', 'mug']);

  for (const [field, value] of [['consent', 'off'], ['_forgotten', true]]) {
    const q = page();
    q.ew[field] = value;
    const s = trackImpressions(q.ew, q.env);
    const c = {};
    s.track(c, { item: 'hat' });
    q.see(c, 1);
    t.mock.timers.tick(VIEWABLE_MS * 2);
    assert.deepEqual(q.recorded, [], `${field} ${value}: nothing is kept`);
  }
});

test('without IntersectionObserver nothing is counted and nothing throws', () => {
  const recorded = [];
  const seen = trackImpressions({ consent: 'on-device', recordImpressions: (i) => recorded.push(...i) }, {});
  seen.track({}, { item: 'tent' });
  seen.disconnect();
  assert.deepEqual(recorded, []);
});
