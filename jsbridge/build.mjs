// Bundles the SDK into <outdir>/edgewise.js (default outdir: dist/ at the
// repo root): one ES module that is the page's SDK and, started as a module
// worker, the engine's Web Worker. Writes <outdir>/sri.json, the sha384
// Subresource Integrity hash of each file, and fails when the JavaScript is
// over its gzip budget.
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
// gzip bytes of all the JavaScript; EDGEWISE_JS_BUDGET overrides it (tests).
const BUDGET = Number(process.env.EDGEWISE_JS_BUDGET) || 20 * 1024;

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
  entryPoints: { edgewise: join(here, 'src', 'browser.js') },
  outdir,
  format: 'esm',
  metafile: true,
});
const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js')).map((f) => f.split('/').pop()).sort();

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const sri = {};
let total = 0;
for (const name of files) {
  const raw = readFileSync(join(outdir, name));
  const gz = gzipSync(raw, { level: 9 }).length;
  total += gz;
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
console.log(`total: ${kb(total)} gzip (budget ${kb(BUDGET)})`);
if (total > BUDGET) {
  console.error(`the SDK is over its gzip budget by ${total - BUDGET} bytes`);
  process.exit(1);
}
