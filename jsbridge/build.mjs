// Bundles the SDK into <outdir> (default outdir: dist/ at the repo root):
//   edgewise.js         the page's file: the SDK's API, the no-flicker cache
//                       and the declarative mode; it starts the worker
//   edgewise-worker.js  the worker's file: the engine host with the msgpack
//                       and WASI code, the profile's storage and the report's
//                       requests; the page imports it only when the engine
//                       must run on the main thread
//   edgewise-track.js   impressions when seen (IntersectionObserver), loaded
//                       by pages that track and by the declarative mode
//   edgewise-paint.js   the pre-paint snippet, for a page to inline in its
//                       <head> (see the README)
// Writes <outdir>/sri.json, the sha384 Subresource Integrity hash of each
// file, and fails when the page's file is over its gzip budget (6 KB: it is
// what every page evaluates on its main thread), when the page's and the
// worker's files are over theirs (21 KB), when the snippet is over 1 KB raw,
// or the tracker over 1 KB gzip.
//
//   node jsbridge/build.mjs [outdir] [--with-wasm]
//
// --with-wasm also copies the engine (dist/edgewise.wasm at the repo root,
// built by make) into outdir: npm pack does, so the package ships it.

import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outdir = resolve(args.find((a) => !a.startsWith('--')) || join(here, '..', 'dist'));
const repoWasm = join(here, '..', 'dist', 'edgewise.wasm');
// gzip bytes of all the JavaScript, and of the page's file; the
// environment overrides them (tests). The snippet's budget is raw bytes.
// The total was 20 KB for one file; the page's file and the worker's each
// carry the little they share (the channel's messages), so the two together
// have 21 KB, while the page's own file keeps its 6 KB.
const BUDGET = Number(process.env.EDGEWISE_JS_BUDGET) || 21 * 1024;
const PAGE_BUDGET = Number(process.env.EDGEWISE_PAGE_BUDGET) || 6 * 1024;
const PAINT_BUDGET = Number(process.env.EDGEWISE_PAINT_BUDGET) || 1024;
const TRACK_BUDGET = Number(process.env.EDGEWISE_TRACK_BUDGET) || 1024;

const common = {
  bundle: true,
  minify: true,
  target: 'es2022', // module workers need newer browsers anyway; class fields stay as written
  platform: 'browser',
  sourcemap: 'linked',
  logLevel: 'warning',
};

const result = await build({
  ...common,
  entryPoints: {
    edgewise: join(here, 'src', 'browser.js'),
    'edgewise-worker': join(here, 'src', 'worker.js'),
    'edgewise-track': join(here, 'src', 'track.js'),
  },
  outdir,
  format: 'esm',
  metafile: true,
  define: { EDGEWISE_WORKER_FILE: '"./edgewise-worker.js"', EDGEWISE_TRACK_FILE: '"./edgewise-track.js"' },
});
// The snippet is a classic script, inlined by pages: no module syntax, no map.
const paint = await build({
  ...common,
  entryPoints: { 'edgewise-paint': join(here, 'src', 'paint.js') },
  outdir,
  format: 'iife',
  sourcemap: false,
  metafile: true,
});
const files = [...Object.keys(result.metafile.outputs), ...Object.keys(paint.metafile.outputs)]
  .filter((f) => f.endsWith('.js')).map((f) => f.split('/').pop()).sort();

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const sri = {};
let total = 0;
const gzipped = {};
const rawSize = {};
for (const name of files) {
  const raw = readFileSync(join(outdir, name));
  const gz = gzipSync(raw, { level: 9 }).length;
  // The snippet (inlined by pages) and the tracker (loaded by pages that
  // track) have budgets of their own.
  if (name !== 'edgewise-paint.js' && name !== 'edgewise-track.js') total += gz;
  gzipped[name] = gz;
  rawSize[name] = raw.length;
  sri[name] = `sha384-${createHash('sha384').update(raw).digest('base64')}`;
  console.log(`${join(outdir, name)}: ${kb(raw.length)}, ${kb(gz)} gzip`);
}
if (args.includes('--with-wasm') && resolve(repoWasm) !== join(outdir, 'edgewise.wasm')) {
  if (!existsSync(repoWasm)) {
    console.error(`${repoWasm} is missing: run make build at the repo root first`);
    process.exit(1);
  }
  copyFileSync(repoWasm, join(outdir, 'edgewise.wasm'));
}
// The engine's hash too, when it is built beside the bundle.
try {
  sri['edgewise.wasm'] = `sha384-${createHash('sha384').update(readFileSync(join(outdir, 'edgewise.wasm'))).digest('base64')}`;
} catch {
  // not built here
}
writeFileSync(join(outdir, 'sri.json'), `${JSON.stringify(sri, null, 2)}\n`);
for (const [name, hash] of Object.entries(sri)) console.log(`${name} integrity ${hash}`);
console.log(`page: edgewise.js ${gzipped['edgewise.js']} bytes gzip (budget ${PAGE_BUDGET})`);
console.log(`snippet: edgewise-paint.js ${rawSize['edgewise-paint.js']} bytes (budget ${PAINT_BUDGET})`);
console.log(`tracker: edgewise-track.js ${gzipped['edgewise-track.js']} bytes gzip (budget ${TRACK_BUDGET})`);
console.log(`total: ${kb(total)} gzip, the page's and the worker's files (budget ${kb(BUDGET)})`);
let over = false;
if (gzipped['edgewise.js'] > PAGE_BUDGET) {
  console.error(`the page's file, edgewise.js, is over its gzip budget by ${gzipped['edgewise.js'] - PAGE_BUDGET} bytes`);
  over = true;
}
if (rawSize['edgewise-paint.js'] > PAINT_BUDGET) {
  console.error(`the pre-paint snippet, edgewise-paint.js, is over its budget by ${rawSize['edgewise-paint.js'] - PAINT_BUDGET} bytes`);
  over = true;
}
if (gzipped['edgewise-track.js'] > TRACK_BUDGET) {
  console.error(`the tracker, edgewise-track.js, is over its gzip budget by ${gzipped['edgewise-track.js'] - TRACK_BUDGET} bytes`);
  over = true;
}
if (total > BUDGET) {
  console.error(`the SDK is over its gzip budget by ${total - BUDGET} bytes`);
  over = true;
}
if (over) process.exit(1);
