// The test proxy: one per page, in front of the server under test. Each
// proxy listens on its own port, so each page is its own origin with its own
// storage, in every engine, without a new browser. It records every request
// the browser sends (the page's and its workers'), with headers and body, and
// puts page-init.js at the top of every HTML document. Tests can hold back or
// rewrite responses on the way, as a slow network or a compromised CDN would.
//
// Nothing here is engine-specific: the three engines are observed through
// the same wire.

import { createServer, request as httpRequest, Agent } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const INIT_PATH = '/__edgewise-test/page-init.js';
const initSource = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'page-init.js'), 'utf8');
const agent = new Agent({ keepAlive: true });

/**
 * Starts a proxy to target (an http:// origin). settings: {clock (Unix ms,
 * fixes the page's clock), workerClock (the clock is fixed in the page's
 * workers too), gpc (the page sees navigator.globalPrivacyControl true)}.
 * Resolves to {url, origin, requests, hold(pattern), rewrite(pattern, fn),
 * setClock(ms), close()}.
 *
 * requests lists {method, url, path, headers, body, status, responseHeaders} in the
 * order they arrived;
 * the proxy's own script is not listed. hold(pattern) keeps back responses
 * whose path matches until the function it returns is called; rewrite(pattern,
 * fn) passes matching response bodies (Buffers) through fn. setClock(ms)
 * moves the fixed clock for the documents (and, with workerClock, the
 * workers) fetched after it: a test moves a visit to another day, or epoch,
 * on the same origin, its storage kept.
 *
 * With workerClock, a worker's script (Sec-Fetch-Dest: worker) is fetched
 * whole, never from a cache, and goes to the page with the clock prepended
 * and Cache-Control: no-store, so the next worker gets the clock of its time.
 */
export async function startProxy(target, settings = {}) {
  const to = new URL(target);
  const requests = [];
  const holds = [];
  const rewrites = [];
  let clock = settings.clock ?? null;
  const init = () => initSource.replace('__CONFIG__;', `${JSON.stringify({ clock, gpc: Boolean(settings.gpc) })};`);

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url, 'http://proxy');
      if (url.pathname === INIT_PATH) {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
        res.end(init());
        return;
      }
      const body = Buffer.concat(chunks);
      const entry = { method: req.method, url: `${proxy.origin}${req.url}`, path: url.pathname, headers: { ...req.headers }, body: body.toString('utf8') };
      requests.push(entry);
      const headers = { ...req.headers };
      // A document, and anything a test rewrites, is changed on the way
      // back, so it must come unencoded.
      const held = holds.filter((h) => h.pattern.test(url.pathname)).map((h) => h.released);
      const rewrite = rewrites.filter((r) => r.pattern.test(url.pathname));
      const isDocument = req.headers['sec-fetch-dest'] === 'document' || /text\/html/.test(req.headers.accept || '');
      const workerClock = settings.workerClock && typeof clock === 'number' && /^(shared)?worker$/.test(req.headers['sec-fetch-dest'] || '')
        ? clock : null;
      if (isDocument || rewrite.length || workerClock !== null) delete headers['accept-encoding'];
      if (workerClock !== null) {
        delete headers['if-none-match'];
        delete headers['if-modified-since'];
      }
      const upstream = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers, agent }, async (up) => {
        entry.status = up.statusCode;
        entry.responseHeaders = up.headers;
        await Promise.all(held);
        const type = up.headers['content-type'] || '';
        const inject = /^text\/html/.test(type) && !up.headers['content-encoding'];
        const clockWorker = workerClock !== null && up.statusCode === 200 && /javascript/.test(type) && !up.headers['content-encoding'];
        if (!inject && !rewrite.length && !clockWorker) {
          res.writeHead(up.statusCode, up.headers);
          up.pipe(res);
          return;
        }
        const parts = [];
        for await (const c of up) parts.push(c);
        let out = Buffer.concat(parts);
        for (const r of rewrite) out = Buffer.from(await r.fn(out));
        if (inject) out = Buffer.from(injectScript(out.toString('utf8')));
        if (clockWorker) out = Buffer.concat([Buffer.from(fixedClockSource(workerClock)), out]);
        const h = { ...up.headers, 'content-length': String(out.length) };
        delete h['transfer-encoding'];
        if (clockWorker) {
          delete h.etag;
          delete h['last-modified'];
          h['cache-control'] = 'no-store';
        }
        res.writeHead(up.statusCode, h);
        res.end(out);
      });
      upstream.on('error', (e) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`test proxy: ${e.message}`);
      });
      upstream.end(body);
      // A page that goes away (an event stream, a navigation) ends the upstream request too.
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const proxy = {
    origin,
    url: (path = '/') => origin + path,
    requests,
    hold(pattern) {
      let release;
      const h = { pattern, released: new Promise((ok) => { release = ok; }) };
      holds.push(h);
      return () => {
        holds.splice(holds.indexOf(h), 1);
        release();
      };
    },
    rewrite(pattern, fn) {
      rewrites.push({ pattern, fn });
    },
    setClock(ms) {
      clock = ms;
    },
    close: () => new Promise((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
  return proxy;
}

// A worker's fixed clock, as page-init.js fixes the page's: Date.now() and
// new Date() say ms; timers run.
function fixedClockSource(ms) {
  return `(() => { const RealDate = Date; const fixed = ${Number(ms)};
  function FixedDate(...args) {
    if (!new.target) return new RealDate(fixed).toString();
    return args.length ? new RealDate(...args) : new RealDate(fixed);
  }
  FixedDate.prototype = RealDate.prototype;
  FixedDate.now = () => fixed;
  FixedDate.parse = RealDate.parse;
  FixedDate.UTC = RealDate.UTC;
  Object.defineProperty(RealDate.prototype, 'constructor', { value: FixedDate, configurable: true, writable: true });
  globalThis.Date = FixedDate;
})();
`;
}

// The proxy's script goes first in <head>, before anything of the page's.
function injectScript(html) {
  const tag = `<script src="${INIT_PATH}"></script>`;
  const head = /<head[^>]*>/i.exec(html);
  if (head) return html.slice(0, head.index + head[0].length) + tag + html.slice(head.index + head[0].length);
  const doctype = /^\s*<!doctype[^>]*>/i.exec(html);
  return doctype ? doctype[0] + tag + html.slice(doctype[0].length) : tag + html;
}
