// The browser harness: Chromium, Firefox and WebKit behind one small page
// API, so each browser test is written once and runs in all three engines.
//
//   Chromium  Debian's chromium, through puppeteer-core over CDP
//   Firefox   Debian's firefox-esr, through puppeteer-core over WebDriver BiDi
//   WebKit    Debian's WebKitWebDriver driving WebKitGTK's MiniBrowser under
//             an Xvfb display this harness starts, over W3C WebDriver
//
// Nothing here downloads a browser: a missing one is an error that says
// which Debian package to install (scripts/ensure-browsers.sh installs them).
// The API is what every engine can do alike: navigate, run a function in
// the page, click like a person, take a screenshot. Everything else a test
// looks at goes through the page (evaluate) or the test proxy (proxy.mjs),
// which sees every request on the wire, so no test leans on one engine's
// protocol.

import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { PNG } from 'pngjs';
import puppeteer from 'puppeteer-core';
import { startProxy } from './proxy.mjs';

export const ENGINES = ['chromium', 'firefox', 'webkit'];

const BINARIES = {
  chromium: { env: 'CHROMIUM', path: '/usr/bin/chromium', pkg: 'chromium' },
  firefox: { env: 'FIREFOX', path: '/usr/bin/firefox-esr', pkg: 'firefox-esr' },
  webkit: { env: 'WEBKIT_WEBDRIVER', path: '/usr/bin/WebKitWebDriver', pkg: 'webkit2gtk-driver' },
  minibrowser: { env: 'WEBKIT_MINIBROWSER', path: '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', pkg: 'libwebkit2gtk-4.1-0' },
  xvfb: { env: 'XVFB', path: '/usr/bin/Xvfb', pkg: 'xvfb' },
};

/** The path of a binary the harness needs; throws, naming the package, when it is missing. */
export function binary(name) {
  const b = BINARIES[name];
  const path = process.env[b.env] || b.path;
  if (!existsSync(path)) {
    throw new Error(`${name} not found at ${path}: the browser tests need it and never skip. ` +
      `Install Debian's ${b.pkg} (scripts/ensure-browsers.sh does, as root), or set ${b.env}=/path.`);
  }
  return path;
}

/**
 * The engines to run: $EDGEWISE_BROWSERS (a comma-separated subset, for a
 * quick local run), or all three.
 */
export function selectedEngines() {
  const asked = (process.env.EDGEWISE_BROWSERS || '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!asked.length) return ENGINES;
  for (const e of asked) if (!ENGINES.includes(e)) throw new Error(`EDGEWISE_BROWSERS: unknown engine ${JSON.stringify(e)}; known: ${ENGINES}`);
  return asked;
}

// Every process the harness starts, killed by process group if the test
// process exits without stopping them.
const children = new Set();
process.on('exit', () => {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function startProcess(cmd, args, options = {}) {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  let output = '';
  for (const s of [child.stdout, child.stderr]) if (s) s.setEncoding('utf8').on('data', (d) => { output = (output + d).slice(-4000); });
  const exited = new Promise((ok) => child.on('exit', (code, signal) => {
    children.delete(child);
    ok({ code, signal });
  }));
  return {
    child,
    exited,
    output: () => output,
    // The process and whatever it started (the driver's browser), by group id.
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }, 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

// Every engine's clock zone, so dates render alike: the tests' fixed clock is
// UTC unless a test places the browser elsewhere (options.timeZone). The
// language goes with it where an engine reads it from the environment.
const browserEnv = ({ timeZone = 'UTC', languages } = {}) => ({
  ...process.env, TZ: timeZone,
  ...(languages ? { LANG: `${languages[0].replace('-', '_')}.UTF-8`, LANGUAGE: languages.join(':').replaceAll('-', '_') } : {}),
});

/**
 * Launches an engine. options.prefs: Firefox preferences (for example real
 * Global Privacy Control); options.timeZone: the IANA zone the browser is
 * in (default UTC); options.languages: its preferred languages, where the
 * engine takes them from its command line, preferences or environment.
 * Resolves to a Browser: {name, version, newPage(options), close()}.
 */
export async function launch(name, options = {}) {
  if (name === 'chromium' || name === 'firefox') return launchPuppeteer(name, options);
  if (name === 'webkit') return launchWebKit(options);
  throw new Error(`unknown engine ${name}`);
}

// ---------------------------------------------------------------- pages

/**
 * What tests hold: a page (one at a time in WebKit) on its own origin (a
 * test proxy in front of options.target), at options.width x options.height.
 * options.clock (Unix ms) fixes the page's clock, and with
 * options.workerClock its workers' too (page.proxy.setClock moves it for
 * what loads next); options.gpc emulates navigator.globalPrivacyControl
 * for engines without it.
 */
class Page {
  constructor(driver, proxy) {
    this.driver = driver; // the engine's backend: the few primitives below
    this.proxy = proxy;
    this.url = proxy.url;
    this.origin = proxy.origin;
  }

  get requests() {
    return this.proxy.requests;
  }

  goto(url) {
    return this.driver.goto(url);
  }

  reload() {
    return this.driver.reload();
  }

  /** Runs fn(arg) in the page and resolves to its (JSON-able) result; fn may be async. */
  evaluate(fn, arg) {
    return this.driver.evaluate(fn, arg);
  }

  /** Polls fn(arg) in the page until it is truthy; resolves to that value. */
  async waitFor(fn, arg, { timeout = 30_000, what } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        last = await this.driver.evaluate(fn, arg);
        if (last) return last;
      } catch (e) {
        // A navigation in flight destroys the context: try again.
        last = e;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeout} ms waiting for ${what || fn.toString().slice(0, 200)}` +
          (last instanceof Error ? ` (last error: ${last.message})` : ''));
      }
      await new Promise((ok) => setTimeout(ok, 50));
    }
  }

  /** Waits until the proxy has answered a request matching predicate; resolves to it. */
  async waitForRequest(predicate, { timeout = 30_000, what = 'a request' } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = this.proxy.requests.find((r) => r.status !== undefined && predicate(r));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
      await new Promise((ok) => setTimeout(ok, 50));
    }
  }

  /** Waits for an element matching selector that is laid out (visible unless hidden: true). */
  waitForSelector(selector, { timeout, visible = true } = {}) {
    return this.waitFor(([sel, vis]) => {
      const el = document.querySelector(sel);
      if (!el) return false;
      if (!vis) return true;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    }, [selector, visible], { timeout, what: `selector ${selector}` });
  }

  /** Clicks the element like a person: scrolled into view, by the engine's own input. */
  async click(selector) {
    await this.waitFor((sel) => {
      const el = document.querySelector(sel);
      if (!el || el.disabled) return false;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0;
    }, selector, { what: `a visible, enabled ${selector} to click` });
    await this.driver.click(selector);
  }

  text(selector) {
    return this.evaluate((sel) => {
      const el = document.querySelector(sel);
      if (!el) throw new Error(`no element matches ${sel}`);
      return el.textContent;
    }, selector);
  }

  attribute(selector, name) {
    return this.evaluate(([sel, n]) => {
      const el = document.querySelector(sel);
      if (!el) throw new Error(`no element matches ${sel}`);
      return el.getAttribute(n);
    }, [selector, name]);
  }

  count(selector) {
    return this.evaluate((sel) => document.querySelectorAll(sel).length, selector);
  }

  /** Whether the element exists and takes up space on the page. */
  visible(selector) {
    return this.evaluate((sel) => {
      const el = document.querySelector(sel);
      if (!el || el.hidden) return false;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    }, selector);
  }

  value(selector) {
    return this.evaluate((sel) => document.querySelector(sel).value, selector);
  }

  checked(selector) {
    return this.evaluate((sel) => document.querySelector(sel).checked, selector);
  }

  /** Chooses an option of a <select>, as a person's choice fires input and change. */
  select(selector, value) {
    return this.evaluate(([sel, v]) => {
      const el = document.querySelector(sel);
      if (!el) throw new Error(`no element matches ${sel}`);
      if (![...el.options].some((o) => o.value === v)) throw new Error(`${sel} has no option ${v}`);
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }, [selector, value]);
  }

  /** Replaces the text of an input or textarea, firing input and change. */
  fill(selector, value) {
    return this.evaluate(([sel, v]) => {
      const el = document.querySelector(sel);
      if (!el) throw new Error(`no element matches ${sel}`);
      el.focus();
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }, [selector, value]);
  }

  /** Uncaught errors and unhandled rejections in the page so far. */
  errors() {
    return this.evaluate(() => (window.__edgewiseTest ? window.__edgewiseTest.errors : ['the test proxy\'s page-init.js did not run']));
  }

  consoleErrors() {
    return this.evaluate(() => window.__edgewiseTest.consoleErrors);
  }

  /** The files the page downloaded (blob: links): [{name, text}]. */
  downloads() {
    return this.evaluate(() => Promise.all(window.__edgewiseTest.downloads));
  }

  /** Writes a PNG: the viewport, the whole page (fullPage), or one element (selector). */
  screenshot(path, { fullPage = false, selector } = {}) {
    return this.driver.screenshot(path, { fullPage, selector });
  }

  /** Closes the page and its proxy; safe to call more than once. */
  close() {
    this.closing ||= (async () => {
      await this.driver.close();
      await this.proxy.close();
      if (this.onClose) this.onClose(this);
    })();
    return this.closing;
  }
}

// What every engine's Browser shares: the pages still open, closed by the
// suite after each test, whatever the test did.
function trackPages(browser) {
  const open = new Set();
  const newPage = browser.newPage;
  browser.newPage = async (options) => {
    const page = await newPage(options);
    open.add(page);
    page.onClose = () => open.delete(page);
    return page;
  };
  browser.closePages = () => Promise.all([...open].map((p) => p.close()));
  return browser;
}

// ---------------------------------------------------------------- puppeteer

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

// Scrollbars over the content, as Chromium's headless mode and WebKit draw
// them and as phones do: otherwise Firefox lays a 390 px page out in 378 px.
const FIREFOX_PREFS = { 'ui.useOverlayScrollbars': 1 };

async function launchPuppeteer(name, { prefs = {}, timeZone, languages } = {}) {
  const executablePath = binary(name);
  const env = browserEnv({ timeZone, languages });
  const langPrefs = languages ? { 'intl.accept_languages': languages.join(','), 'intl.locale.requested': languages.join(',') } : {};
  const browser = await puppeteer.launch(name === 'firefox'
    ? { browser: 'firefox', executablePath, headless: true, env, extraPrefsFirefox: { ...FIREFOX_PREFS, ...langPrefs, ...prefs } }
    : { executablePath, headless: true, args: [...CHROMIUM_ARGS, ...(languages ? [`--lang=${languages[0]}`, `--accept-lang=${languages.join(',')}`] : [])], env });
  const version = await browser.version();
  return trackPages({
    name,
    version,
    async newPage({ target, width = 1280, height = 900, clock, workerClock, gpc } = {}) {
      const proxy = await startProxy(target, { clock, workerClock, gpc });
      const page = await browser.newPage();
      page.setDefaultTimeout(60_000);
      await page.setViewport({ width, height });
      return new Page(puppeteerDriver(page), proxy);
    },
    close: () => browser.close(),
  });
}

function puppeteerDriver(page) {
  return {
    goto: (url) => page.goto(url, { waitUntil: 'load' }),
    reload: () => page.reload({ waitUntil: 'load' }),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    click: (selector) => page.click(selector),
    async screenshot(path, { fullPage, selector }) {
      if (selector) {
        const el = await page.$(selector);
        if (!el) throw new Error(`no element matches ${selector}`);
        await el.screenshot({ path });
      } else {
        await page.screenshot({ path, fullPage });
      }
    },
    close: () => page.close(),
  };
}

// ---------------------------------------------------------------- WebKit

// Xvfb on a display number it picks itself (-displayfd), so runs never collide.
async function startXvfb() {
  // A tall screen: a full-page screenshot grows the window to the page's
  // height, and X clips a window to its screen.
  const xvfb = startProcess(binary('xvfb'), ['-displayfd', '3', '-screen', '0', '1920x16000x24', '-nolisten', 'tcp', '-noreset'],
    { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const display = await new Promise((ok, fail) => {
    let text = '';
    const timer = setTimeout(() => fail(new Error(`Xvfb printed no display number in 10 s: ${xvfb.output()}`)), 10_000);
    xvfb.child.stdio[3].setEncoding('utf8').on('data', (d) => {
      text += d;
      if (/\n/.test(text)) {
        clearTimeout(timer);
        ok(`:${text.trim()}`);
      }
    });
    xvfb.exited.then(({ code }) => fail(new Error(`Xvfb exited (code ${code}): ${xvfb.output()}`)));
  });
  return { display, stop: () => xvfb.stop() };
}

async function launchWebKit({ timeZone, languages } = {}) {
  const driverPath = binary('webkit');
  const miniBrowser = binary('minibrowser');
  const xvfb = await startXvfb();
  const port = await freePort();
  const driver = startProcess(driverPath, [`--port=${port}`], { env: { ...browserEnv({ timeZone, languages }), DISPLAY: xvfb.display } });
  const base = `http://127.0.0.1:${port}`;
  const stopAll = async () => {
    await driver.stop();
    await xvfb.stop();
  };
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const res = await fetch(`${base}/status`);
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (driver.child.exitCode !== null) throw new Error(`WebKitWebDriver exited: ${driver.output()}`);
      if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not answer on port ${port} within 15 s: ${driver.output()}`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
    const wd = webDriver(base);
    // Full screen hides MiniBrowser's toolbar, so the window's size is the
    // viewport's and a 390 px phone width is possible.
    const session = await wd('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          'webkitgtk:browserOptions': { binary: miniBrowser, args: ['--automation', '--full-screen', `--time-zone=${timeZone || 'UTC'}`] },
        },
      },
    });
    const s = (path) => `/session/${session.sessionId}${path}`;
    await wd('POST', s('/timeouts'), { script: 120_000, pageLoad: 60_000, implicit: 0 });
    const version = `${session.capabilities.browserName} ${session.capabilities.browserVersion}`;
    let open = null;
    return trackPages({
      name: 'webkit',
      version,
      async newPage({ target, width = 1280, height = 900, clock, workerClock, gpc } = {}) {
        if (open) throw new Error('webkit: one page at a time; close the last one first');
        const proxy = await startProxy(target, { clock, workerClock, gpc });
        open = webKitDriver(wd, s, () => { open = null; });
        await open.setViewport(width, height);
        return new Page(open, proxy);
      },
      async close() {
        await wd('DELETE', s('')).catch(() => {});
        await stopAll();
      },
    });
  } catch (e) {
    await stopAll();
    throw e;
  }
}

// A W3C WebDriver client: (method, path, body) -> value, or throws the driver's error.
function webDriver(base) {
  return async (method, path, body) => {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    const value = json.value;
    if (!res.ok || (value && value.error)) {
      throw new Error(`WebDriver ${method} ${path}: ${(value && (value.message || value.error)) || res.status}`);
    }
    return value;
  };
}

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

function webKitDriver(wd, s, onClose) {
  const run = async (fn, arg) => {
    // Async so that fn may return a promise; the outcome crosses as {ok} or {err}.
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => (${fn})(arguments[0]))
        .then((ok) => done(ok === undefined ? { undef: true } : { ok }), (e) => done({ err: String((e && e.message) || e) }));`;
    const out = await wd('POST', s('/execute/async'), { script, args: [arg === undefined ? null : arg] });
    if (out && 'err' in out) throw new Error(`in the page: ${out.err}`);
    return out.undef ? undefined : out.ok;
  };
  const find = async (selector) => {
    const found = await wd('POST', s('/element'), { using: 'css selector', value: selector });
    return found[ELEMENT];
  };
  const size = async () => run(() => ({ w: innerWidth, h: innerHeight, doc: document.documentElement.scrollHeight }));
  // WebKitGTK answers the resize before the page has been laid out at the
  // new size: the page's width is awaited, for at most 3 s.
  const setViewport = async (width, height) => {
    await wd('POST', s('/window/rect'), { width, height });
    const deadline = Date.now() + 3000;
    let got = await size();
    while (got.w !== width && Date.now() < deadline) {
      await new Promise((ok) => setTimeout(ok, 50));
      got = await size();
    }
    if (got.w !== width) throw new Error(`webkit: asked for a ${width} px wide viewport, got ${got.w}`);
  };
  return {
    goto: (url) => wd('POST', s('/url'), { url }),
    reload: () => wd('POST', s('/refresh'), {}),
    evaluate: run,
    async click(selector) {
      // The page may draw the element again between finding and clicking it.
      for (let attempt = 1; ; attempt++) {
        try {
          await wd('POST', s(`/element/${await find(selector)}/click`), {});
          return;
        } catch (e) {
          if (attempt === 3 || !/stale element/.test(e.message)) throw e;
        }
      }
    },
    setViewport,
    async screenshot(path, { fullPage, selector }) {
      if (!selector && !fullPage) {
        writeFileSync(path, Buffer.from(await wd('GET', s('/screenshot')), 'base64'));
        return;
      }
      // WebKitGTK shoots only what is on screen, and its element shots come
      // out black under Xvfb: the window grows to the document's height for
      // one shot of the page, and an element is cut out of that.
      const before = await size();
      await wd('POST', s('/window/rect'), { width: before.w, height: Math.max(before.h, before.doc) });
      try {
        const png = Buffer.from(await wd('GET', s('/screenshot')), 'base64');
        if (!selector) {
          writeFileSync(path, png);
          return;
        }
        const box = await run((sel) => {
          const el = document.querySelector(sel);
          if (!el) throw new Error(`no element matches ${sel}`);
          const r = el.getBoundingClientRect();
          return { x: Math.round(r.left + scrollX), y: Math.round(r.top + scrollY), w: Math.round(r.width), h: Math.round(r.height) };
        }, selector);
        writeFileSync(path, cropPNG(png, box));
      } finally {
        await wd('POST', s('/window/rect'), { width: before.w, height: before.h });
      }
    },
    async close() {
      await wd('POST', s('/url'), { url: 'about:blank' }).catch(() => {});
      onClose();
    },
  };
}

// The part {x, y, w, h} of a PNG, clipped to the image.
function cropPNG(bytes, { x, y, w, h }) {
  const src = PNG.sync.read(bytes);
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const width = Math.max(1, Math.min(src.width, x + w) - x0);
  const height = Math.max(1, Math.min(src.height, y + h) - y0);
  const out = new PNG({ width, height });
  PNG.bitblt(src, out, x0, y0, width, height, 0, 0);
  return PNG.sync.write(out);
}
