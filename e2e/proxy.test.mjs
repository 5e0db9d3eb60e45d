// The test proxy on its own, without a browser: what every browser test
// relies on to see requests and shape responses alike in all three engines.
//
//   node --test e2e/proxy.test.mjs

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { runInNewContext } from 'node:vm';
import { after, before, test } from 'node:test';
import { startProxy } from './proxy.mjs';

let upstream;
let origin;

before(async () => {
  upstream = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/page') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><html><head><title>t</title></head><body>hi</body></html>');
      } else if (req.url === '/worker.js') {
        // As a site serves a script: revalidated, and 304 when unchanged.
        if (req.headers['if-none-match'] === '"w1"') {
          res.writeHead(304, { etag: '"w1"' });
          res.end();
          return;
        }
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', etag: '"w1"', 'cache-control': 'no-cache' });
        res.end('postMessage(Date.now());\n');
      } else if (req.url === '/bytes') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.from([1, 2, 3, 4]));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end(`echo ${req.method} ${Buffer.concat(chunks)}`);
      }
    });
  });
  await new Promise((ok) => upstream.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${upstream.address().port}`;
});

after(() => new Promise((ok) => {
  upstream.closeAllConnections();
  upstream.close(ok);
}));

test('a document gets the page script first in <head>, with the page\'s settings', async () => {
  const proxy = await startProxy(origin, { clock: 1_764_684_000_000, gpc: true });
  try {
    const html = await (await fetch(proxy.url('/page'), { headers: { accept: 'text/html' } })).text();
    assert.equal(html, '<!doctype html><html><head><script src="/__edgewise-test/page-init.js"></script><title>t</title></head><body>hi</body></html>');
    const init = await (await fetch(proxy.url('/__edgewise-test/page-init.js'))).text();
    assert.match(init, /const config = \{"clock":1764684000000,"gpc":true\};/);
    assert.deepEqual(proxy.requests.map((r) => r.path), ['/page'], 'the proxy\'s own script is not a request of the page');
  } finally {
    await proxy.close();
  }
});

test('every request is recorded with its headers, body and status', async () => {
  const proxy = await startProxy(origin);
  try {
    const res = await fetch(proxy.url('/v1/reports'), { method: 'POST', body: '{"value":3}', headers: { 'sec-gpc': '1' } });
    assert.equal(res.status, 404);
    assert.equal(await res.text(), 'echo POST {"value":3}', 'the body reached the server unchanged');
    const [r] = proxy.requests;
    assert.equal(r.method, 'POST');
    assert.equal(r.url, proxy.url('/v1/reports'));
    assert.equal(r.body, '{"value":3}');
    assert.equal(r.headers['sec-gpc'], '1');
    assert.equal(r.status, 404);
  } finally {
    await proxy.close();
  }
});

test('rewrite changes a response on the way; hold keeps it back until released', async () => {
  const proxy = await startProxy(origin);
  try {
    proxy.rewrite(/^\/bytes$/, (body) => {
      body[0] ^= 0xff;
      return body;
    });
    assert.deepEqual([...new Uint8Array(await (await fetch(proxy.url('/bytes'))).arrayBuffer())], [254, 2, 3, 4]);

    const release = proxy.hold(/^\/bytes$/);
    let arrived = false;
    const pending = fetch(proxy.url('/bytes')).then((r) => r.arrayBuffer()).then(() => { arrived = true; });
    await new Promise((ok) => setTimeout(ok, 200));
    assert.equal(arrived, false, 'held back');
    release();
    await pending;
    assert.equal(arrived, true, 'released');
  } finally {
    await proxy.close();
  }
});

test('with workerClock a worker\'s script starts with the clock, fetched whole and never cached; setClock moves it', async () => {
  const proxy = await startProxy(origin, { clock: 1_764_684_000_000, workerClock: true });
  const asWorker = { 'sec-fetch-dest': 'worker', 'if-none-match': '"w1"', 'accept-encoding': 'gzip, br' };
  try {
    // The script as a worker runs it, in a global scope of its own: what Date.now() says there.
    const run = (src) => {
      let said;
      runInNewContext(src, { postMessage: (m) => { said = m; } });
      return said;
    };
    let res = await fetch(proxy.url('/worker.js'), { headers: asWorker });
    assert.equal(res.status, 200, 'a conditional request is sent whole');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('etag'), null);
    let src = await res.text();
    assert.ok(src.endsWith('postMessage(Date.now());\n'), 'the script follows the clock');
    assert.equal(run(src), 1_764_684_000_000, 'Date.now() in the worker says the page\'s clock');
    assert.equal(proxy.requests[0].headers['if-none-match'], '"w1"', 'the record keeps what the browser sent');
    proxy.setClock(1_765_000_000_000);
    src = await (await fetch(proxy.url('/worker.js'), { headers: asWorker })).text();
    assert.equal(run(src), 1_765_000_000_000, 'the next worker gets the new clock');
    const init = await (await fetch(proxy.url('/__edgewise-test/page-init.js'))).text();
    assert.match(init, /"clock":1765000000000/, 'and so does the next document');
    // Other scripts, and workers without workerClock, are left alone.
    res = await fetch(proxy.url('/worker.js'), { headers: { 'sec-fetch-dest': 'script' } });
    assert.equal(await res.text(), 'postMessage(Date.now());\n');
  } finally {
    await proxy.close();
  }
  const plain = await startProxy(origin, { clock: 1_764_684_000_000 });
  try {
    const res = await fetch(plain.url('/worker.js'), { headers: asWorker });
    assert.equal(res.status, 304, 'without workerClock a worker is revalidated as usual');
  } finally {
    await plain.close();
  }
});
