// Fails the build when the engine is over its size budget: what every
// visitor downloads, measured as a site serves it (brotli, quality 11).
// Usage: node scripts/wasm-budget.mjs FILE
// EDGEWISE_WASM_BUDGET overrides the budget in bytes (tests).
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';

const BUDGET = Number(process.env.EDGEWISE_WASM_BUDGET) || 600 * 1024;
const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/wasm-budget.mjs FILE');
  process.exit(2);
}
const data = readFileSync(file);
const size = brotliCompressSync(data, {
  params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
}).length;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`${file}: ${kib(size)} brotli (${size} bytes; budget ${kib(BUDGET)})`);
if (size > BUDGET) {
  console.error(`${file} is over its brotli budget by ${size - BUDGET} bytes: see README.md, "The engine's size"`);
  process.exit(1);
}
