// Runs a browser suite once per engine: one browser per engine, launched
// before its tests and closed after them, with every test's name and every
// failure's message naming the engine. After an engine's tests it prints the
// marker line CI looks for: "browser test: ENGINE ran N tests in SUITE".

import { after, before, describe, test as nodeTest } from 'node:test';
import { launch, selectedEngines } from './browsers.mjs';

/**
 * For each selected engine, calls body(engine) inside a describe block.
 * engine: {name, browser (once launched), test(title, options?, fn)}; fn gets
 * the engine too. Tests run one after another, engines one after another.
 */
export function forEachEngine(suite, body) {
  for (const name of selectedEngines()) {
    const engine = { name, browser: null, passed: 0 };
    engine.test = (title, options, fn) => {
      if (typeof options === 'function') [options, fn] = [{}, options];
      nodeTest(`[${name}] ${title}`, options, async (t) => {
        try {
          await fn(t);
        } catch (e) {
          if (e && typeof e.message === 'string' && !e.message.startsWith(`[${name}]`)) {
            e.message = `[${name}] ${e.message}`;
          }
          throw e;
        } finally {
          if (engine.browser) await engine.browser.closePages();
        }
        engine.passed++;
      });
    };
    describe(`${suite} in ${name}`, { concurrency: false }, () => {
      before(async () => {
        engine.browser = await launch(name);
      });
      after(async () => {
        if (engine.browser) await engine.browser.close();
        if (engine.browser) console.log(`browser test: ${name} ran ${engine.passed} tests in ${suite} (${engine.browser.version})`);
      });
      body(engine);
    });
  }
}
