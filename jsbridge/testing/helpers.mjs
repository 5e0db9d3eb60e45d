// Shared helpers for the Node tests in ../test. They live outside test/ so
// `node --test test/` does not run this file as a test of its own.

import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker as NodeWorker } from 'node:worker_threads';
import { decode } from '@msgpack/msgpack';
import { OPS } from '../src/abi.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const wasmPath = join(repoRoot, 'dist', 'edgewise.wasm');

/** The real engine's bytes, or a clear error when it has not been built. */
export function wasmBytes() {
  if (!existsSync(wasmPath)) {
    throw new Error(`${wasmPath} is missing: run \`make build\` at the repo root first`);
  }
  return readFileSync(wasmPath);
}

let compiled;
/** The engine, compiled once per test file. */
export function wasmModule() {
  compiled ??= WebAssembly.compile(wasmBytes());
  return compiled;
}

const fixture = (...path) => new Uint8Array(readFileSync(join(repoRoot, 'testdata', ...path)));

/**
 * A small shop: wool things, a kitchen thing, and two slots. This is the
 * readable form (testdata/abi/shop.json); the engine loads shopEwr().
 */
export function shopRuleset() {
  return JSON.parse(readFileSync(join(repoRoot, 'testdata', 'abi', 'shop.json'), 'utf8'));
}

/**
 * shopRuleset() signed with the fixed test key, as edgewise build signs it.
 * Go writes it (go test ./internal/abi -update), so JS never signs.
 */
export function shopEwr() {
  return fixture('abi', 'shop.ewr');
}

/**
 * A ruleset that names a weather and a holidays feed
 * (testdata/abi/feeds.json), signed, and its weather feed
 * (testdata/abi/weather-feed.json: rain in FR, clear in Paris's cell u09
 * and JP, from 1764400000000 for three hours), signed with the same key.
 */
export function feedsEwr() {
  return fixture('abi', 'feeds.ewr');
}

export function weatherFeedEwf() {
  return fixture('abi', 'weather-feed.ewf');
}

/** A ruleset with non-ASCII titles (testdata/abi/unicode.json), signed. */
export function unicodeEwr() {
  return fixture('abi', 'unicode.ewr');
}

/** The public key of the fixed test key: 32 raw bytes. */
export function testPublicKey() {
  return fixture('keys', 'test.pub');
}

/** A load_ruleset request for shopEwr(). */
export function loadShop() {
  return { ewr: shopEwr(), public_key: testPublicKey() };
}

/** The shop's fallback items by slot, as a page passes them to Edgewise.load. */
export function shopFallback() {
  return Object.fromEntries(shopRuleset().slots.map((s) => [s.id, s.fallback.slice(0, s.limit)]));
}

/** A copy of bytes with the low bit of byte i flipped (i < 0 counts from the end). */
export function flipByte(bytes, i) {
  const out = new Uint8Array(bytes);
  out[i < 0 ? out.length + i : i] ^= 1;
  return out;
}

/** A deterministic byte generator (mulberry32), so failures reproduce. */
export function randomBytes(n, seed) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return out;
}

/**
 * Serves fixed responses on localhost: routes maps a path to
 * {type, body, status}. Resolves to {url(path), requests, close()};
 * requests lists {method, url, headers} as they came.
 */
export async function serve(routes) {
  const requests = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, headers: { ...req.headers } });
    const r = routes[req.url];
    if (!r) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(r.status || 200, { 'content-type': r.type }).end(r.body);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    url: (path) => base + path,
    requests,
    close: () => new Promise((ok) => server.close(ok)),
  };
}

/**
 * Assembles a tiny stand-in engine: it exports the ABI's functions, and every
 * ew_<op> answers with the same canned msgpack response. Used to test hosts
 * against modules the Go build cannot produce (another ABI version, say).
 */
export function fakeEngine(response) {
  const u32 = (n) => {
    const out = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const s64 = (n) => {
    const out = [];
    for (;;) {
      const b = Number(n & 0x7fn);
      n >>= 7n;
      if ((n === 0n && !(b & 0x40)) || (n === -1n && b & 0x40)) return [...out, b];
      out.push(b | 0x80);
    }
  };
  const vec = (items) => [...u32(items.length), ...items.flat()];
  const name = (s) => vec([...Buffer.from(s)]);
  const section = (id, body) => [id, ...u32(body.length), ...body];
  const I32 = 0x7f, I64 = 0x7e, AT = 16;
  const ops = OPS;
  const body = (code) => [...u32(code.length + 1), 0, ...code]; // no locals
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, 0, 0], [0x60, 1, I32, 1, I32], [0x60, 2, I32, I32, 1, I64]])),
    ...section(3, vec([[0], [1], [2]])),
    ...section(5, vec([[0, 1]])),
    ...section(7, vec([
      [...name('memory'), 2, 0],
      [...name('_initialize'), 0, 0],
      [...name('ew_alloc'), 0, 1],
      ...ops.map((op) => [...name('ew_' + op), 0, 2]),
    ])),
    ...section(10, vec([
      body([0x0b]),
      body([0x41, ...u32(1024), 0x0b]), // i32.const 1024
      body([0x42, ...s64((BigInt(AT) << 32n) | BigInt(response.length)), 0x0b]),
    ])),
    ...section(11, vec([[0, 0x41, ...u32(AT), 0x0b, ...vec([...response])]])),
  ]);
}

/**
 * A browser-style Worker (postMessage, addEventListener 'message' and
 * 'error', terminate) running testing/worker-entry.mjs in worker_threads:
 * what the SDK's worker option accepts. unref'd, so tests exit.
 */
export function nodeWorker() {
  const w = new NodeWorker(new URL('./worker-entry.mjs', import.meta.url));
  const target = new EventTarget();
  w.on('message', (data) => target.dispatchEvent(Object.assign(new Event('message'), { data })));
  w.on('error', (err) => target.dispatchEvent(Object.assign(new Event('error'), { message: err.message })));
  let next = 1e9;
  return Object.assign(target, {
    postMessage: (m) => w.postMessage(m),
    terminate: () => w.terminate(),
    /** Makes the engine's next call inside the worker trap. */
    poison: () => new Promise((resolve) => {
      const id = next++;
      const on = (e) => {
        if (e.data && e.data.id === id) {
          target.removeEventListener('message', on);
          resolve();
        }
      };
      target.addEventListener('message', on);
      w.postMessage({ type: 'test:poison', id });
    }),
  });
}

/** A minimal in-memory localStorage (Node has none), installed on globalThis. */
export function installLocalStorage() {
  const map = new Map();
  globalThis.localStorage = {
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => void map.set(k, String(v)),
    removeItem: (k) => void map.delete(k),
    clear: () => map.clear(),
    key: (i) => [...map.keys()][i] ?? null,
    get length() {
      return map.size;
    },
  };
  return map;
}

/** The signed ruleset with cohorts of the golden report case (corpus-cohorts). */
export function cohortsEwr() {
  const golden = JSON.parse(readFileSync(join(repoRoot, 'testdata', 'abi', 'golden', 'report.json'), 'utf8'));
  const step = golden.steps.find((s) => s.op === 'load_ruleset');
  return decode(Buffer.from(step.request_b64, 'base64')).ewr;
}
