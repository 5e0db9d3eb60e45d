// Replays the ABI golden files against the real wasm module: every response
// must be byte-identical to the one the Go host recorded.
//
// EDGEWISE_GOLDEN_DIR overrides testdata/abi/golden (for local experiments).

import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from '@msgpack/msgpack';
import { OPS, encodeRequest, instantiate } from '../src/abi.js';
import { repoRoot, wasmModule } from '../testing/helpers.mjs';

const dir = process.env.EDGEWISE_GOLDEN_DIR || join(repoRoot, 'testdata', 'abi', 'golden');
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
const mod = await wasmModule();

test('the golden folder has files', () => {
  assert.ok(files.length > 0, `no *.json golden files in ${dir}`);
});

const b64 = (s) => new Uint8Array(Buffer.from(s, 'base64'));
const show = (bytes) => {
  try {
    return JSON.stringify(decode(bytes), (_, v) => (v instanceof Uint8Array ? `<bin ${Buffer.from(v).toString('hex')}>` : v));
  } catch {
    return `<undecodable ${Buffer.from(bytes).toString('hex')}>`;
  }
};

for (const file of files) {
  test(`golden ${file}`, async () => {
    const golden = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    assert.equal(typeof golden.name, 'string', `${file}: name must be a string`);
    assert.ok(Array.isArray(golden.steps) && golden.steps.length > 0, `${file}: steps must be a non-empty array`);
    const engine = await instantiate(mod); // a fresh instance per file
    golden.steps.forEach((step, i) => {
      const where = `${file} step ${i} (${step.op})`;
      assert.ok(OPS.includes(step.op), `${where}: unknown op`);
      const want = b64(step.response_b64);
      const got = engine.callRaw(step.op, b64(step.request_b64));
      assert.ok(
        Buffer.compare(Buffer.from(got), Buffer.from(want)) === 0,
        `${where}: response differs\n  got  ${show(got)}\n  want ${show(want)}`,
      );
    });
    assert.equal(engine.dead, false);
  });
}

// The SDK encodes requests the way the Go hosts do (sorted keys, smallest
// integers), so its requests match the recorded ones byte for byte. Requests
// that do not decode to a map are garbage on purpose; requests with floats are
// skipped, since JS cannot tell 14.0 from 14.
test('the SDK encodes the golden requests byte-identically', () => {
  let compared = 0;
  for (const file of files) {
    for (const [i, step] of JSON.parse(readFileSync(join(dir, file), 'utf8')).steps.entries()) {
      const want = Buffer.from(step.request_b64, 'base64');
      let request;
      try {
        request = decode(want);
      } catch {
        continue;
      }
      if (!request || typeof request !== 'object' || Array.isArray(request) || request instanceof Uint8Array) continue;
      if (want.includes(0xca) || want.includes(0xcb)) continue;
      assert.ok(Buffer.compare(Buffer.from(encodeRequest(request)), want) === 0, `${file} step ${i} (${step.op})`);
      compared++;
    }
  }
  assert.ok(compared > 0 || files.length === 0, 'no golden request was compared');
});
