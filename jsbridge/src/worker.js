// The worker's file, dist/edgewise-worker.js: the engine host (host.js) with
// the msgpack and WASI code and the profile's storage. Started by the SDK as
// a module worker (the URL's fragment says so), it answers the page's
// messages, so compiling and calling the engine never block the page. The
// page's file imports it only to run the host on the main thread, when
// there is no worker.

import { Host } from './host.js';
import { WORKER_MARK } from './channel.js';

export { Host };

/** Answers the SDK's messages in scope (the worker's global); returns the host. */
export function serveWorker(scope, host = new Host()) {
  scope.onmessage = async (e) => {
    scope.postMessage(await host.handle(e.data));
  };
  return host;
}

if (typeof document === 'undefined' && typeof self !== 'undefined' && self.location && self.location.hash === `#${WORKER_MARK}`) {
  serveWorker(self);
}
