// wasm-budget.mjs passes the engine within its budget and fails it over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wasm = join(root, 'dist', 'edgewise.wasm');
const run = (env) => spawnSync(process.execPath, [join(root, 'scripts', 'wasm-budget.mjs'), wasm], {
  encoding: 'utf8', env: { ...process.env, ...env },
});

test('the engine is within its budget, and the check fails one over it', () => {
  assert.ok(existsSync(wasm), `${wasm} is missing: run make build`);
  const ok = run({});
  assert.equal(ok.status, 0, ok.stderr);
  const size = Number(/\((\d+) bytes; budget/.exec(ok.stdout)[1]);
  assert.ok(size > 100_000 && size <= 600 * 1024, `brotli size ${size}`);
  // The sections apart: both there, and together about the whole.
  const [, code, data, sum] = /sections apart: code (\d+), data (\d+), sum (\d+)/.exec(ok.stdout).map(Number);
  assert.ok(code > 100_000 && data > 100_000 && sum === code + data, ok.stdout);
  assert.ok(Math.abs(sum - size) < size * 0.05, `sections ${sum}, whole ${size}`);
  const over = run({ EDGEWISE_WASM_BUDGET: String(size - 1) });
  assert.equal(over.status, 1);
  assert.match(over.stderr, /over its brotli budget by 1 bytes: see README.md, "The artifact"/);
});
