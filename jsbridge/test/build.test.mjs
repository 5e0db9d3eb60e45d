// build.mjs bundles a working SDK within its size budget.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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

  const bundle = readFileSync(join(out, 'edgewise.js'), 'utf8');
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
