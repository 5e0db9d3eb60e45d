// build.mjs bundles a working SDK within its size budget.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { shopEwr, testPublicKey, wasmModule } from '../testing/helpers.mjs';

test('the bundle builds, stays small and works', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'edgewise-build-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const log = execFileSync(process.execPath, [fileURLToPath(new URL('../build.mjs', import.meta.url)), out], { encoding: 'utf8' });
  const gzip = Number(/([\d.]+) KB gzip/.exec(log)[1]);
  assert.ok(gzip > 1 && gzip <= 20, `gzip size ${gzip} KB`);

  // Subresource Integrity hashes of what was built.
  const sri = JSON.parse(readFileSync(join(out, 'sri.json'), 'utf8'));
  const want = `sha384-${createHash('sha384').update(readFileSync(join(out, 'edgewise.js'))).digest('base64')}`;
  assert.equal(sri['edgewise.js'], want);
  assert.ok(log.includes(`edgewise.js integrity ${want}`), 'the hash is printed too');

  const bundle = readFileSync(join(out, 'edgewise.js'), 'utf8');
  assert.ok(bundle.includes('edgewise-worker'), 'the bundle is its own worker');
  assert.match(bundle, /\/\/# sourceMappingURL=edgewise\.js\.map\s*$/);
  assert.ok(existsSync(join(out, 'edgewise.js.map')));
  assert.ok(!/\bimport\s*[{*"']|\brequire\(/.test(bundle), 'the bundle has no imports left');

  const { Edgewise, ABI_VERSION } = await import(pathToFileURL(join(out, 'edgewise.js')).href);
  assert.equal(ABI_VERSION, 1);
  const ew = await Edgewise.load({ wasm: await wasmModule(), ruleset: shopEwr(), publicKey: testPublicKey() });
  assert.equal(ew.state, 'ready');
  await ew.observe({ type: 'view', item: 'sock', at: 1700000000000 });
  assert.equal((await ew.decide('related')).items[0].item, 'hat');
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
