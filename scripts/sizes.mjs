// Prints raw, gzip -9 and brotli -q 11 sizes of build artifacts: what a
// visitor downloads. Usage: node scripts/sizes.mjs FILE...
import { readFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`.padStart(12);
console.log(`${'artifact'.padEnd(24)}${'raw'.padStart(12)}${'gzip -9'.padStart(12)}${'brotli -11'.padStart(12)}`);
for (const file of process.argv.slice(2)) {
  const data = readFileSync(file);
  const gz = gzipSync(data, { level: 9 }).length;
  const br = brotliCompressSync(data, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  }).length;
  console.log(`${file.padEnd(24)}${kb(data.length)}${kb(gz)}${kb(br)}`);
}
