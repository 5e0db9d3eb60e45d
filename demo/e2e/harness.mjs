// Shared by the browser test (demo.test.mjs) and the screenshot script
// (screenshot.mjs): find the built SDK and start the demo server. The
// browsers come from the shared harness in e2e/. Nothing here builds dist/;
// `make build` does that.

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// EDGEWISE_DIST is for trying the demo against another build; the default is
// the repository's dist/.
export const distDir = resolve(process.env.EDGEWISE_DIST || join(repoRoot, 'dist'));

/** Throws unless the SDK bundle and the engine are built. */
export function requireDist() {
  for (const name of ['edgewise.wasm', 'edgewise.js']) {
    const path = join(distDir, name);
    if (!existsSync(path)) {
      throw new Error(`${path} is missing: run make build first (this test builds nothing itself)`);
    }
  }
}

/**
 * Returns the demo binary: $EDGEWISE_DEMO_BIN, or one built now with
 * `go build ./demo` into a temporary folder. cleanup() removes what it built.
 */
export function demoBinary() {
  if (process.env.EDGEWISE_DEMO_BIN) {
    const bin = resolve(process.env.EDGEWISE_DEMO_BIN);
    if (!existsSync(bin)) throw new Error(`EDGEWISE_DEMO_BIN=${bin} does not exist`);
    return { bin, cleanup() {} };
  }
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-demo-'));
  const bin = join(dir, 'demo');
  try {
    execFileSync('go', ['build', '-o', bin, './demo'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`go build ./demo failed: ${e.message}`);
  }
  return { bin, cleanup() { rmSync(dir, { recursive: true, force: true }); } };
}

const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts the demo server on a free port, with extra flags args (such as
 * ['-crowd', '30000']). Resolves to {url, stop, stderr()} once it prints its
 * listening line. stop() sends SIGTERM, waits for the
 * exit (SIGKILL after 5s) and resolves to {code, signal}; it is safe to call
 * more than once.
 */
export function startServer(bin, { timeoutMs = 15000, args = [] } = {}) {
  const child = spawn(bin, ['-addr', '127.0.0.1:0', '-dist', distDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  const exited = new Promise((resolveExit) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolveExit({ code, signal });
    });
  });
  let stopping = null;
  const stop = () => {
    if (!stopping) {
      stopping = (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          const result = await exited;
          clearTimeout(timer);
          return result;
        }
        return exited;
      })();
    }
    return stopping;
  };
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => {
      stop();
      rejectStart(new Error(`the demo server printed no listening line within ${timeoutMs}ms; stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      rejectStart(new Error(`cannot start ${bin}: ${e.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rejectStart(new Error(`the demo server exited (code ${code}, signal ${signal}) before listening: ${stderr.trim()}`));
    });
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
      const m = /^Edgewise demo listening on (http:\/\/\S+)$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolveStart({ url: m[1], stop, stdout: () => stdout, stderr: () => stderr });
      }
    });
  });
}


/**
 * Decides the coin of the ruleset's experiments for a page: every random
 * byte the engine's worker asks for is 0, so each arm drawn (a number in
 * [0, 1) below the holdout share) is the comparison group, and randomized
 * response keeps every answer as it is. The worker's script gets, on its
 * way through page's test proxy, a first line that says so. For tests and
 * screenshots only: it takes away what the noise promises.
 */
export function zeroRandomness(page) {
  fixedRandomness(page, 0);
}

/**
 * Like zeroRandomness, every random byte the engine's worker asks for is
 * byte instead. 0x80 draws numbers just above 1/2: with a holdout below
 * that, the personalized arm, and randomized response over two values at
 * ε = 1 (kept with probability e/(e+1) ≈ 0.73) still keeps every answer.
 */
export function fixedRandomness(page, byte) {
  const line = Buffer.from(`Crypto.prototype.getRandomValues = function (a) { new Uint8Array(a.buffer, a.byteOffset, a.byteLength).fill(${byte}); return a; };\n`);
  page.proxy.rewrite(/^\/dist\/edgewise-worker\.js$/, (body) => (body.length ? Buffer.concat([line, body]) : body));
}
