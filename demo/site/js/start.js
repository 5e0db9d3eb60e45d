// Starts the engine. The page runs this module on its own (async, in the
// head) so the engine's worker is created, and fetches and compiles the
// engine, while the rest of the shop's code is still being fetched: a
// module runs only once its whole import graph has arrived, and this one
// imports nothing but the SDK. app.js imports the same module and gets the
// same promise.
//
// What it reads is what the server put in the page (#edgewise-config, as
// /config.json serves it too): the public key, the engine's content-hashed
// URL (preloaded in the page's head), the collector and each slot's
// fallback items. load never rejects: if the engine cannot start, or the
// ruleset does not verify, decide() answers with the fallback items and the
// error arrives through on('error').

import { Edgewise } from '/dist/edgewise.js';

function pageConfig() {
  try {
    return JSON.parse(document.getElementById('edgewise-config').textContent);
  } catch {
    return {};
  }
}

const config = pageConfig();

/** The engine, once Edgewise.load settles. */
export const loading = Edgewise.load({
  wasm: config.wasm || '/dist/edgewise.wasm', ruleset: '/ruleset.ewr', publicKey: config.publicKey,
  fallback: config.fallback, collector: config.collector ? new URL(config.collector, location.href).href : undefined,
});
