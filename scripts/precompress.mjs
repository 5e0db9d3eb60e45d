// Writes FILE.br (brotli -q 11) and FILE.gz (gzip -9) beside each FILE: the
// copies a site serves to browsers that take them, made once at build time.
// Usage: node scripts/precompress.mjs FILE...
import { readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

for (const file of process.argv.slice(2)) {
  const data = readFileSync(file);
  writeFileSync(`${file}.br`, brotliCompressSync(data, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  }));
  writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
}
