// "Your data": everything kept about the person, decoded, with the privacy
// ledger (reports sent, privacy budget spent), an export and "Forget me".
//
// The SDK's exportData() gives the engine's own account (events,
// impressions, interests, the kept context, reports and ledger); forget()
// erases everything; report() sends this epoch's cohort report. Each is
// used when the SDK has it. Without them the panel shows what this page
// handed to the engine, and forgetting goes through setPreferences: sharing
// "off" erases the profile at once, and the previous choices then return.

import { el, formatBytes, formatTime, jsonTree } from './dom.js';

/**
 * The SDK's exportData(), when it has one, as {all, engine}: all is the
 * whole export (exportData resolves to JSON text or an object), engine the
 * engine's part of it ({events, context, interests, reports, ledger,
 * epsilon_spent, ...}). null when there is none.
 */
export async function readExport(ew) {
  if (!ew || typeof ew.exportData !== 'function') return null;
  let all = await ew.exportData();
  if (typeof all === 'string') {
    try {
      all = JSON.parse(all);
    } catch {
      return null;
    }
  }
  if (!all || typeof all !== 'object') return null;
  return { all, engine: all.engine && typeof all.engine === 'object' ? all.engine : all };
}

export class YourData {
  /**
   * {ledger, view, note, exportButton, forgetButton, reportButton,
   *  engine(): the Edgewise instance, pageRecord: {events, context},
   *  shop, onForget(), onReport()}
   */
  constructor(opts) {
    Object.assign(this, opts);
    this.reports = 0;
    this.exportButton.addEventListener('click', () => this.download());
    this.forgetButton.addEventListener('click', () => this.forget());
    this.reportButton.addEventListener('click', () => this.report());
  }

  /** The person's data: the SDK's export when it has one. */
  async collect() {
    const ew = this.engine();
    const exported = await readExport(ew);
    if (exported) return { source: 'engine', data: exported.all, engine: exported.engine };
    const snapshot = ew ? await ew.snapshot() : null;
    return {
      source: 'page',
      data: {
        ruleset: this.shop.name,
        preferences: ew ? await ew.preferences() : null,
        events: this.pageRecord.events.map((e) => ({ ...e, time: formatTime(e.at) })),
        context: this.pageRecord.context,
        profile_snapshot_bytes: snapshot ? snapshot.byteLength : 0,
        reports_sent: this.reports,
      },
    };
  }

  async refresh(sharing) {
    const ew = this.engine();
    this.reportButton.hidden = !(ew && typeof ew.report === 'function' && sharing === 'cohorts');
    const { source, data, engine } = await this.collect();
    const eps = this.shop.reporting.epsilon || 0;
    const e = engine || data;
    const reports = source === 'engine' ? (e.ledger || e.reports || []).length : this.reports;
    const spent = source === 'engine' && typeof e.epsilon_spent === 'number' ? e.epsilon_spent : reports * eps;
    const events = (e.events || []).length;
    this.ledger.replaceChildren(
      el('div', {}, el('dt', { text: 'Events kept' }), el('dd', { 'data-ledger-events': '', text: String(events) })),
      el('div', {}, el('dt', { text: 'Reports sent' }), el('dd', { 'data-ledger-reports': '', text: String(reports) })),
      el('div', {}, el('dt', { text: 'Privacy budget spent' }), el('dd', { 'data-ledger-epsilon': '', text: `ε ${Math.round(spent * 100) / 100}` })));
    const intro = source === 'engine'
      ? 'The export: everything kept about you in this browser.'
      : `What this page handed the engine. The engine keeps it as a ${formatBytes(data.profile_snapshot_bytes)} profile in this tab.`;
    this.view.replaceChildren(el('p', { class: 'fine', text: intro }), jsonTree(data));
    this.view.dataset.source = source;
  }

  async download() {
    const { data } = await this.collect();
    const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: `edgewise-${this.shop.id}-my-data.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    this.note.textContent = 'Exported: the file was made in this tab and sent nowhere.';
  }

  async forget() {
    const ew = this.engine();
    if (!ew) return;
    if (typeof ew.forget === 'function') {
      await ew.forget();
    } else {
      const prefs = (await ew.preferences()) || {};
      await ew.setPreferences({ ...prefs, sharing: 'off' });
      await ew.setPreferences({ sharing: prefs.sharing, history: prefs.history, location: prefs.location,
        hidden_interests: prefs.hidden_interests, frequency: prefs.frequency, gpc: prefs.gpc });
    }
    this.pageRecord.events.length = 0;
    this.note.textContent = 'Forgotten: your history on this device is erased.';
    await this.onForget();
  }

  async report() {
    const ew = this.engine();
    if (!ew || typeof ew.report !== 'function') return;
    const result = await ew.report();
    if (result) this.reports++;
    this.note.textContent = result
      ? 'Sent one randomized cohort report. See it arrive under “What the server saw”.'
      : 'No report was sent. The engine sends at most one a week, only when it can place you in every cohort dimension '
        + '(set a visit count in the context simulator) and only into a cohort the collector already publishes.';
    await this.onReport();
  }
}
