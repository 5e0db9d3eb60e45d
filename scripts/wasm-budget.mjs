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
const brotli = (b) => brotliCompressSync(b, {
  params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: b.length },
}).length;
const size = brotli(data);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`${file}: ${kib(size)} brotli (${size} bytes; budget ${kib(BUDGET)})`);
// The code and data sections compressed apart. The whole file's brotli
// size moves by a kilobyte or two when any code moves, since the linker's
// tables move with it; the two sections' sizes move with what changed, so
// they are what to compare when judging a change (README.md, "The artifact").
const sections = wasmSections(data);
if (sections.code && sections.data) {
  const code = brotli(sections.code);
  const dataSize = brotli(sections.data);
  console.log(`  sections apart: code ${code}, data ${dataSize}, sum ${code + dataSize} bytes brotli`);
}
if (size > BUDGET) {
  console.error(`${file} is over its brotli budget by ${size - BUDGET} bytes: see README.md, "The artifact"`);
  process.exit(1);
}

// wasmSections returns the bodies of a module's code (10) and data (11)
// sections.
function wasmSections(buf) {
  const out = {};
  let p = 8;
  const leb = () => {
    let r = 0;
    let shift = 0;
    let b;
    do {
      b = buf[p++];
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return r;
  };
  while (p < buf.length) {
    const id = buf[p++];
    const len = leb();
    if (id === 10) out.code = buf.subarray(p, p + len);
    if (id === 11) out.data = buf.subarray(p, p + len);
    p += len;
  }
  return out;
}
