// build.mjs bundles a working SDK within its size budget.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { shopEwr, testPublicKey, wasmModule } from '../testing/helpers.mjs';

test('the bundle builds, stays small and works', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'edgewise-build-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const log = execFileSync(process.execPath, [fileURLToPath(new URL('../build.mjs', import.meta.url)), out], { encoding: 'utf8' });
  const gzip = Number(/total: ([\d.]+) KB gzip/.exec(log)[1]);
  assert.ok(gzip > 1 && gzip <= 21, `gzip size ${gzip} KB, over build.mjs's 21 KB budget`);
  const page = Number(/page: edgewise\.js (\d+) bytes gzip/.exec(log)[1]);
  assert.ok(page > 1000 && page <= 6 * 1024, `the page's file is ${page} bytes gzip`);
  assert.equal(gzipSync(readFileSync(join(out, 'edgewise.js')), { level: 9 }).length, page, 'the printed size is the file\'s');

  // Subresource Integrity hashes of every file built, printed too.
  const sri = JSON.parse(readFileSync(join(out, 'sri.json'), 'utf8'));
  assert.deepEqual(Object.keys(sri).sort(), ['edgewise-paint.js', 'edgewise-track.js', 'edgewise-worker.js', 'edgewise.js']);
  for (const name of Object.keys(sri)) {
    const want = `sha384-${createHash('sha384').update(readFileSync(join(out, name))).digest('base64')}`;
    assert.equal(sri[name], want, name);
    assert.ok(log.includes(`${name} integrity ${want}`), `the hash of ${name} is printed too`);
  }

  // The page's file carries none of the engine's host: no WASI, no msgpack.
  const bundle = readFileSync(join(out, 'edgewise.js'), 'utf8');
  const worker = readFileSync(join(out, 'edgewise-worker.js'), 'utf8');
  for (const marker of ['wasi_snapshot_preview1', 'Unrecognized object:', 'AES-GCM']) {
    assert.ok(!bundle.includes(marker), `${marker} is not in the page's file`);
    assert.ok(worker.includes(marker), `${marker} is in the worker's file`);
  }
  assert.ok(bundle.includes('edgewise-worker.js'), 'the page starts the worker from its file');
  for (const name of ['edgewise.js', 'edgewise-worker.js']) {
    const code = readFileSync(join(out, name), 'utf8');
    assert.match(code, new RegExp(`//# sourceMappingURL=${name.replace('.', '\\.')}\\.map\\s*$`));
    assert.ok(existsSync(join(out, `${name}.map`)));
    assert.ok(!/\bimport\s*[{*"']|\brequire\(/.test(code), `${name} has no static imports left`);
  }

  // Node has no Worker: the page's file imports the worker's for the host.
  const { Edgewise, ABI_VERSION } = await import(pathToFileURL(join(out, 'edgewise.js')).href);
  assert.equal(ABI_VERSION, 1);
  const ew = await Edgewise.load({ wasm: await wasmModule(), ruleset: shopEwr(), publicKey: testPublicKey() });
  assert.equal(ew.state, 'ready');
  await ew.observe({ type: 'view', item: 'sock', at: 1700000000000 });
  assert.equal((await ew.decide('related')).items[0].item, 'hat');
});

test('without the worker\'s file the SDK serves fallbacks and says why', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'edgewise-build-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  execFileSync(process.execPath, [fileURLToPath(new URL('../build.mjs', import.meta.url)), out], { encoding: 'utf8' });
  rmSync(join(out, 'edgewise-worker.js'));
  const { Edgewise } = await import(`${pathToFileURL(join(out, 'edgewise.js')).href}?missing`);
  const ew = await Edgewise.load({ wasm: await wasmModule(), ruleset: shopEwr(), publicKey: testPublicKey(), fallback: { related: ['pan'] } });
  const errors = [];
  ew.on('error', (e) => errors.push([e.code, e.op]));
  await Promise.resolve();
  assert.equal(ew.state, 'failed');
  assert.deepEqual(errors, [['compile_failed', 'load']]);
  assert.deepEqual((await ew.decide('related')).items.map((p) => p.item), ['pan']);
});

test('the build fails when the page\'s file is over its own budget', (t) => {
  const out = mkdtempSync(join(tmpdir(), 'edgewise-build-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../build.mjs', import.meta.url)), out], {
    encoding: 'utf8', env: { ...process.env, EDGEWISE_PAGE_BUDGET: '4096' },
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the page's file, edgewise\.js, is over its gzip budget by \d+ bytes/);
  assert.doesNotMatch(r.stderr, /the SDK is over/);
});

test('the build fails when the pre-paint snippet is over its budget', (t) => {
  const out = mkdtempSync(join(tmpdir(), 'edgewise-build-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const ok = execFileSync(process.execPath, [fileURLToPath(new URL('../build.mjs', import.meta.url)), out], { encoding: 'utf8' });
  const size = Number(/snippet: edgewise-paint\.js (\d+) bytes/.exec(ok)[1]);
  assert.ok(size > 200 && size <= 1024, `the snippet is ${size} bytes`);
  assert.equal(readFileSync(join(out, 'edgewise-paint.js')).length, size);
  assert.doesNotMatch(readFileSync(join(out, 'edgewise-paint.js'), 'utf8'), /\bimport\b|\bexport\b|sourceMappingURL/, 'a classic script, whole');
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../build.mjs', import.meta.url)), out], {
    encoding: 'utf8', env: { ...process.env, EDGEWISE_PAINT_BUDGET: String(size - 1) },
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the pre-paint snippet, edgewise-paint\.js, is over its budget by 1 bytes/);
});

test('the build fails when the JavaScript is over its budget', (t) => {
  const out = mkdtempSync(join(tmpdir(), 'edgewise-build-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../build.mjs', import.meta.url)), out], {
    encoding: 'utf8', env: { ...process.env, EDGEWISE_JS_BUDGET: '1024' },
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /over its gzip budget by \d+ bytes/);
});
