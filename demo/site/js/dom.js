// Small DOM helpers. Every text goes in with textContent: nothing from the
// catalogue, the engine or the server is ever parsed as markup.

/** el('li', {class: 'x', text: 'y', 'data-k': 'v'}, child...) */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k === 'on') for (const [type, fn] of Object.entries(v)) node.addEventListener(type, fn);
    else if (k.startsWith('data-') || k.startsWith('aria-') || ['type', 'title', 'role', 'for', 'name', 'value', 'href', 'id', 'tabindex', 'download'].includes(k)) {
      node.setAttribute(k, v === true ? '' : String(v));
    } else node[k] = v;
  }
  for (const c of children.flat()) if (c != null && c !== false) node.append(c);
  return node;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

export function formatBytes(n) {
  if (!n) return '0 B';
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`;
}

export function formatTime(ms) {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour12: false });
}

export function formatPrice(price) {
  return price ? `$${price}` : '';
}

export async function fetchJSON(path) {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`);
  return res.json();
}

/** Renders any JSON value as a readable, collapsible tree (for "Your data"). */
export function jsonTree(value, key) {
  const label = key != null ? el('span', { class: 'jt-key', text: `${key}: ` }) : null;
  if (value === null || typeof value !== 'object') {
    const kind = value === null ? 'null' : typeof value;
    return el('div', { class: 'jt-leaf' }, label, el('span', { class: `jt-${kind}`, text: JSON.stringify(value) }));
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  const summary = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  return el('details', { class: 'jt-node', open: entries.length <= 12 },
    el('summary', {}, label, el('span', { class: 'jt-count', text: summary })),
    el('div', { class: 'jt-children' }, entries.map(([k, v]) => jsonTree(v, k))));
}
