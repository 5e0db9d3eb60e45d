// The bundle's entry point, dist/edgewise.js. On a page it is the SDK, plus
// the declarative mode, which starts only when the page loaded it from a
// script tag with data attributes (dom.js). Started by the SDK as a module
// worker (the URL's fragment says so), it is the engine's worker instead:
// one file serves both, so a site hosts and caches one script.

import { autoload } from './dom.js';
import { WORKER_MARK } from './channel.js';
import { serveWorker } from './worker.js';

export * from './index.js';
export { default } from './index.js';

if (typeof document === 'undefined' && typeof self !== 'undefined' && self.location && self.location.hash === `#${WORKER_MARK}`) {
  serveWorker(self);
} else {
  autoload(import.meta.url);
}
