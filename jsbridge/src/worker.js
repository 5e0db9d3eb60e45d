// The engine's side of the Web Worker: the engine is compiled, initialized
// and called here, so none of it blocks the page's main thread. The page
// talks to it through channel.js. dist/edgewise.js calls serveWorker when it
// is started as the SDK's worker (browser.js).

import { Host } from './host.js';

/** Answers the SDK's messages in scope (the worker's global); returns the host. */
export function serveWorker(scope, host = new Host()) {
  scope.onmessage = async (e) => {
    scope.postMessage(await host.handle(e.data));
  };
  return host;
}
