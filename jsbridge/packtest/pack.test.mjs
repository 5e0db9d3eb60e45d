// The npm package as people install it: npm pack (which builds the bundle
// and copies the engine, see prepack), an install of the tarball into a
// temporary folder, and the SDK's API tests run against the installed
// package instead of src/. The install uses the npm cache first
// (--prefer-offline); the package's two dependencies are already there
// after the workspace's npm ci.
//
//   node --test packtest/pack.test.mjs      (needs make build first)

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// The API tests that run against the package (the ABI and worker tests
// exercise src/ internals the package does not export).
const TESTS = ['sdk', 'preferences', 'context', 'storage', 'api', 'retry'].map((n) => join(here, 'test', `${n}.test.mjs`));

test('the packed package installs and passes the API tests', { timeout: 180_000 }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'edgewise-pack-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));

  // What prepack does, run first so npm pack prints only its JSON.
  execFileSync(process.execPath, ['build.mjs', 'dist', '--with-wasm'], { cwd: here, stdio: ['ignore', 'ignore', 'inherit'] });
  const [packed] = JSON.parse(execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], {
    cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  }));
  const files = packed.files.map((f) => f.path).sort();
  const built = Object.keys(JSON.parse(readFileSync(join(here, 'dist', 'sri.json'), 'utf8')));
  assert.deepEqual(built.sort(), ['edgewise-paint.js', 'edgewise-track.js', 'edgewise-worker.js', 'edgewise.js', 'edgewise.wasm']);
  for (const want of ['package.json', 'README.md', ...built.map((f) => `dist/${f}`), 'dist/edgewise.js.map', 'dist/edgewise-worker.js.map', 'dist/sri.json', 'src/index.d.ts', 'src/abi.js']) {
    assert.ok(files.includes(want), `the package holds ${want}: ${files.join(', ')}`);
  }
  assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('testing/') || f.startsWith('e2e/')), 'no tests in the package');

  const app = join(tmp, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'edgewise-pack-check', private: true, type: 'module' }));
  execFileSync(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(tmp, packed.filename)], {
    cwd: app, stdio: ['ignore', 'ignore', 'inherit'],
  });
  const installed = join(app, 'node_modules', '@edgewise', 'jsbridge');
  assert.ok(existsSync(join(installed, 'dist', 'edgewise.js')));
  // Imported by name, from inside the app, as a site's build would.
  writeFileSync(join(app, 'sdk.mjs'), "export * from '@edgewise/jsbridge';\nimport '@edgewise/jsbridge/abi';\n");
  const sdk = await import(join(app, 'sdk.mjs'));
  assert.equal(typeof sdk.Edgewise.load, 'function');
  assert.equal(sdk.ABI_VERSION, 1);
  assert.deepEqual(readFileSync(join(installed, 'dist', 'edgewise.wasm')).subarray(0, 4), Buffer.from('\0asm'));

  // A test run of its own: without NODE_TEST_CONTEXT, which would make the
  // child report to this runner instead of running the files.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const run = spawnSync(process.execPath, ['--test', ...TESTS], {
    cwd: here, encoding: 'utf8', env: { ...env, EDGEWISE_SDK: join(app, 'sdk.mjs') },
  });
  const out = run.stdout;
  const pass = /^# pass (\d+)$/m.exec(out);
  const fail = /^# fail (\d+)$/m.exec(out);
  console.log(`API tests against the installed package: ${pass && pass[1]} passed, ${fail && fail[1]} failed`);
  // On failure, show the failing tests' reports (the child's TAP output).
  if (run.status !== 0) console.log(out.split('\n').filter((l) => /^not ok|error:|expected|actual|^\s+at |Error/.test(l)).join('\n'), run.stderr);
  assert.equal(run.status, 0);
  assert.equal(fail && fail[1], '0');
});
