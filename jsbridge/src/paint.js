// The pre-paint snippet, dist/edgewise-paint.js: a classic script a page
// inlines after its last [data-edgewise-slot] element (or at the end of
// <body>), so it runs while the page is parsed, before the first paint. It
// fills each slot with the picks the no-flicker cache (cache.js) holds for
// it, as dom.js's fillSlot does: a clone of the item's own
// <template data-edgewise-item="ID">, else of the slot's generic
// <template data-edgewise-item>, its data-field and data-field-ATTR filled
// from the page's catalogue (<script type="application/json"
// data-edgewise-catalogue>) with text and attributes only, never an event
// handler or a value with a scheme other than http(s). A filled slot gets
// data-edgewise-state="cached"; the SDK replaces the picks once the engine
// decides.
//
// It reads localStorage and the page, nothing else, and never throws: a
// pick without a template stops it, leaving the slots not yet filled as
// they are. build.mjs holds it to 1 KB. Keep it in step with cache.js (the
// entry's name, version and age) and dom.js (the templates).

// Wrapped in a function by build.mjs (format iife), so nothing leaks.
try {
  const cache = JSON.parse(localStorage.getItem('edgewise.slots'));
  const el = document.querySelector('script[data-edgewise-catalogue]');
  const catalogue = (el && JSON.parse(el.textContent)) || {};
  if (cache.v === 2 && Date.now() / 864e5 - cache.day < 7) { // days
    for (const slot of document.querySelectorAll('[data-edgewise-slot]:not([data-edgewise-state])')) {
      const name = slot.dataset.edgewiseSlot;
      const templates = {};
      for (const t of slot.querySelectorAll(':scope>template[data-edgewise-item]')) templates[t.dataset.edgewiseItem] = t;
      const nodes = (cache.slots[name] || []).map((item, i) => {
        const t = templates[item] || templates[''];
        const values = { ...catalogue[item], item, rank: i + 1, slot: name };
        const frag = t.content.cloneNode(true);
        for (const e of frag.querySelectorAll('*')) {
          for (const { name: attr, value } of [...e.attributes]) {
            const v = values[value];
            if (attr === 'data-field') e.textContent = v ?? '';
            // No event handlers, and no value with a scheme but http(s).
            else if (attr.startsWith('data-field-') && v != null && !/^on/i.test(attr.slice(11)) && !/^\s*(?!https?:)[a-z][\w+.-]*:/i.test(v)) {
              e.setAttribute(attr.slice(11), v);
            }
          }
        }
        for (const e of frag.children) e.dataset.edgewiseItemId = item;
        return frag;
      });
      if (nodes.length) {
        for (const c of [...slot.childNodes]) if (c.localName !== 'template') c.remove();
        slot.append(...nodes);
        slot.dataset.edgewiseState = 'cached';
      }
    }
  }
} catch {
  // No storage or no entry, a damaged one, a pick without a template.
}
