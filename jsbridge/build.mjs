// Bundles the SDK into <outdir>/edgewise.js (default: dist/ at the repo root)
// and fails when the bundle is over its gzip budget.
//
//   node jsbridge/build.mjs [outdir]

import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(process.argv[2] || join(here, '..', 'dist'));
const outfile = join(outdir, 'edgewise.js');
const BUDGET = 20 * 1024; // gzip bytes

await build({
  entryPoints: [join(here, 'src', 'index.js')],
  outfile,
  bundle: true,
  format: 'esm',
  minify: true,
  target: 'es2020',
  platform: 'browser',
  sourcemap: 'linked',
  logLevel: 'warning',
});

const raw = readFileSync(outfile);
const gz = gzipSync(raw, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`${outfile}: ${kb(raw.length)}, ${kb(gz)} gzip (budget ${kb(BUDGET)})`);
if (gz > BUDGET) {
  console.error(`the bundle is over its gzip budget by ${gz - BUDGET} bytes`);
  process.exit(1);
}
