// Runs first in every HTML document the test proxy serves (proxy.mjs puts a
// <script src> to it at the top of <head>), in every engine alike, because
// WebKit's WebDriver has no preload scripts and no page events. It collects
// what a test asserts on (uncaught errors, console errors, downloads) and,
// when the page asks, fixes the clock or says Global Privacy Control is on.
// The proxy writes this page's settings in place of __CONFIG__.
(() => {
  const config = __CONFIG__;
  const seen = { errors: [], consoleErrors: [], downloads: [] };
  Object.defineProperty(window, '__edgewiseTest', { value: seen });

  addEventListener('error', (e) => {
    seen.errors.push(String((e.error && e.error.stack) || e.message || e));
  });
  addEventListener('unhandledrejection', (e) => {
    const r = e.reason;
    seen.errors.push(`unhandled rejection: ${String((r && r.stack) || r)}`);
  });
  const consoleError = console.error;
  console.error = function (...args) {
    seen.consoleErrors.push(args.map(String).join(' '));
    return consoleError.apply(this, args);
  };

  // A page's download of a blob: the file is read here instead of saved, so
  // the test sees the same bytes in every engine and no save dialog opens.
  // The blob is kept from createObjectURL: a CSP's connect-src may forbid
  // fetching blob: URLs.
  const blobs = new Map();
  const createObjectURL = URL.createObjectURL;
  URL.createObjectURL = function (object) {
    const url = createObjectURL.call(this, object);
    blobs.set(url, object);
    return url;
  };
  const click = HTMLAnchorElement.prototype.click;
  HTMLAnchorElement.prototype.click = function () {
    const blob = this.hasAttribute('download') && blobs.get(this.href);
    if (blob) {
      const name = this.getAttribute('download');
      seen.downloads.push(blob.text().then((text) => ({ name, text })));
      return undefined;
    }
    return click.call(this);
  };

  // GPC as a browser that supports it exposes it to pages.
  if (config.gpc) {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
  }

  // A fixed clock: Date.now() and new Date() say config.clock; timers run.
  if (typeof config.clock === 'number') {
    const RealDate = Date;
    const fixed = config.clock;
    function FixedDate(...args) {
      if (!new.target) return new RealDate(fixed).toString();
      return args.length ? new RealDate(...args) : new RealDate(fixed);
    }
    FixedDate.prototype = RealDate.prototype;
    FixedDate.now = () => fixed;
    FixedDate.parse = RealDate.parse;
    FixedDate.UTC = RealDate.UTC;
    Object.defineProperty(RealDate.prototype, 'constructor', { value: FixedDate, configurable: true, writable: true });
    window.Date = FixedDate;
  }
})();
