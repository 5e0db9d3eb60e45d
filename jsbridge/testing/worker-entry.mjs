// A worker_threads script that serves the SDK's worker protocol (src/worker.js)
// as a browser worker would. Node has no Web Worker, so the Node tests run the
// worker mode through this; the browser tests run the real one.
//
// One test-only message: {type: 'test:poison'} zeroes the engine's memory,
// so its next call traps for real, inside the worker.

import { parentPort } from 'node:worker_threads';
import { serveWorker } from '../src/worker.js';

let onmessage = null;
const host = serveWorker({
  set onmessage(fn) {
    onmessage = fn;
  },
  postMessage: (m) => parentPort.postMessage(m),
});
parentPort.on('message', (data) => {
  if (data && data.type === 'test:poison') {
    new Uint8Array(host.engine.exports.memory.buffer).fill(0);
    parentPort.postMessage({ id: data.id, poisoned: true });
    return;
  }
  onmessage({ data });
});
