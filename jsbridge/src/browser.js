// The page's file, dist/edgewise.js: the SDK, plus the declarative mode,
// which starts only when the page loaded it from a script tag with data
// attributes (dom.js). The engine's side is the worker's own file,
// dist/edgewise-worker.js (worker.js).

import { autoload } from './dom.js';

export * from './index.js';
export { default } from './index.js';

autoload(import.meta.url);
