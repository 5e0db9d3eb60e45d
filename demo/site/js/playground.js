// The ruleset playground: edit the shop's YAML, check it through
// POST /api/playground/lint (diagnostics with line and column; clicking one
// selects that place in the editor), compile it through
// POST /api/playground/compile (signed .ewr bytes, with the demo's key), and
// hand the bytes to this page's engine with Edgewise.load({ruleset: bytes}).
// The profile carries over through snapshot() and restore().

import { Edgewise } from '/dist/edgewise.js';
import { ContextSimulator } from '/js/context.js';
import { $, el, fetchJSON } from '/js/dom.js';
import { Shop, SLOTS } from '/js/shop.js';
import { renderSlot } from '/js/slots.js';

const editor = $('[data-editor]');
const diagList = $('[data-diagnostics]');
const status = $('[data-compile-status]');
let original = '';
let config = {};
let shop = new Shop({});
let ew = null;
let sim;

function showError(d) {
  const box = $('[data-errors]');
  box.replaceChildren(el('p', { text: `Edgewise ${d.op ? `(${d.op}) ` : ''}${d.code || 'error'}: ${d.message || ''}` }));
  box.hidden = false;
}

function setStatus(text, ok) {
  status.textContent = text;
  status.className = `compile-status ${ok ? 'ok' : 'bad'}`;
}

/** Selects line:col in the editor and scrolls it into view. */
function jumpTo(line, col) {
  const lines = editor.value.split('\n');
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  const lineText = lines[line - 1] || '';
  const start = offset + Math.max(0, Math.min(col - 1, lineText.length));
  editor.focus();
  editor.setSelectionRange(start, offset + lineText.length);
  const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 19.5;
  editor.scrollTop = Math.max(0, (line - 4) * lineHeight);
}

function renderDiagnostics(res) {
  const diags = res.diagnostics || [];
  diagList.replaceChildren(...diags.map((d) => el('li', {},
    el('button', {
      type: 'button', class: `diag diag-${d.severity}`, 'data-diagnostic': '', 'data-line': String(d.line), 'data-col': String(d.col),
      on: { click: () => jumpTo(d.line, d.col) },
    },
    el('span', { class: 'diag-pos', text: d.line ? `${d.line}:${d.col} ${d.severity}` : d.severity }),
    el('span', { text: d.message }),
    d.hint ? el('span', { class: 'diag-hint', text: `hint: ${d.hint}` }) : null))));
}

async function post(path) {
  return fetch(path, { method: 'POST', headers: { 'Content-Type': 'text/yaml; charset=utf-8' }, body: editor.value });
}

async function lint() {
  // This check covers the typing that scheduled one: the list is drawn once,
  // not again under the reader's pointer 800 ms later.
  clearTimeout(lintTimer);
  const res = await post('/api/playground/lint');
  if (!res.ok) {
    setStatus(res.status === 413 ? 'The ruleset is too large (256 KiB at most).' : `Check failed: ${res.status}`, false);
    return null;
  }
  const body = await res.json();
  renderDiagnostics(body);
  setStatus(body.ok ? `No errors${body.warnings ? `, ${body.warnings} warning${body.warnings === 1 ? '' : 's'}` : ''}.`
    : `${body.errors} error${body.errors === 1 ? '' : 's'}: fix ${body.errors === 1 ? 'it' : 'them'} to compile.`, body.ok);
  return body;
}

async function compile() {
  const checked = await lint();
  if (!checked || !checked.ok) return;
  const res = await post('/api/playground/compile');
  if (res.status === 422) {
    renderDiagnostics(await res.json());
    setStatus('The server refused to sign it.', false);
    return;
  }
  if (!res.ok) {
    setStatus(`Compile failed: ${res.status}`, false);
    return;
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  const next = new Shop(checked.catalogue);
  const snapshot = ew ? await ew.snapshot() : null;
  const prefs = ew ? await ew.preferences() : null;
  const engine = await Edgewise.load({ wasm: config.wasm || '/dist/edgewise.wasm', ruleset: bytes, publicKey: config.publicKey, fallback: next.fallback() });
  engine.on('error', showError);
  if (engine.state !== 'ready') {
    setStatus('The engine refused the compiled ruleset.', false);
    return;
  }
  if (prefs) await engine.setPreferences(prefs);
  if (snapshot) await engine.restore(snapshot);
  ew = engine;
  shop = next;
  setStatus(`Applied: ${bytes.byteLength} signed bytes, ${shop.name}.`, true);
  document.body.dataset.applied = String(Number(document.body.dataset.applied || 0) + 1);
  await render();
}

async function render() {
  if (!ew) return;
  await ew.setContext(sim.context());
  const slots = SLOTS.filter((id) => shop.slots.some((s) => s.id === id));
  const decisions = slots.length ? await ew.decide(slots) : [];
  const fallbackWhy = ew.state === 'failed' ? 'engine' : 'nothing';
  const onView = async (id) => { await ew.observe({ type: 'view', item: id }); await render(); };
  for (const d of decisions) renderSlot(document, shop, d, { fallbackWhy, onView });
  for (const id of SLOTS) {
    if (!slots.includes(id)) {
      const node = $(`[data-edgewise-slot="${id}"]`);
      node.replaceChildren(el('p', { class: 'fine', text: `This ruleset has no ${id} slot.` }));
      node.dataset.state = 'empty';
    }
  }
  $('[data-preview-ruleset]').textContent = shop.name;
}

let lintTimer = 0;
async function main() {
  [original, config, shop] = await Promise.all([
    fetch('/ruleset.yaml').then((r) => r.text()), fetchJSON('/config.json'), Shop.fetch(),
  ]);
  editor.value = original;
  sim = new ContextSimulator($('[data-context-form]'), { onChange: render });
  ew = await Edgewise.load({ wasm: config.wasm || '/dist/edgewise.wasm', ruleset: '/ruleset.ewr', publicKey: config.publicKey, fallback: shop.fallback() });
  ew.on('error', showError);
  await render();
  $('[data-action="lint"]').addEventListener('click', lint);
  $('[data-action="compile"]').addEventListener('click', compile);
  $('[data-action="reset"]').addEventListener('click', () => { editor.value = original; lint(); });
  editor.addEventListener('input', () => { clearTimeout(lintTimer); lintTimer = setTimeout(lint, 800); });
  document.documentElement.dataset.edgewise = 'ready';
}

main().catch((err) => showError({ code: 'demo', message: String(err && err.message || err) }));
