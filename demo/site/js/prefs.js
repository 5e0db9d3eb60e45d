// The preference center: sharing level, a switch per declared signal, a
// switch per interest, how often promotions may repeat, and the browser's
// Global Privacy Control. The engine enforces what it can (sharing,
// history, location, hidden interests, frequency, GPC); for the signals the
// page itself supplies (weather, time, device...) the switch stops the page
// handing them over.

import { el } from './dom.js';
import { SIGNAL_LABELS } from './shop.js';

const SHARING = [
  ['off', 'Off', 'Keep nothing about me. Everyone sees the same shop.'],
  ['on-device', 'On this device', 'Personalize in this browser and send nothing. (Default.)'],
  ['cohorts', 'Also count me, anonymously', 'At most one randomized cohort report a week, as counts only.'],
];
const FREQUENCY = [['low', 'Less often'], ['normal', 'Normal'], ['high', 'More often']];
// Signals the engine switches itself; the others the page stops supplying.
const ENGINE_SWITCHES = { history: 'history', location: 'location' };

function retention(days) {
  if (!days) return 'Used for the moment, never stored.';
  return `Kept on this device for ${days} day${days === 1 ? '' : 's'}.`;
}

function titleCase(id) {
  const s = String(id).replace(/[-_]+/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export class PreferenceCenter {
  /** {form, signalsList, gpcStatus, onChange(prefs)}; build() draws the controls. */
  constructor({ form, signalsList, gpcStatus, onChange }) {
    Object.assign(this, { form, signalsList, gpcStatus, onChange });
    this.pageOff = new Set(); // signal kinds the person switched off that the page supplies
    this.form.addEventListener('change', () => this.onChange(this.preferences()));
    this.form.addEventListener('submit', (ev) => ev.preventDefault());
  }

  /**
   * Draws the controls from a description of the ruleset: the SDK's
   * describe() ({signals, interests, reporting}), or, when the engine
   * cannot run, the same fields of /catalogue.json.
   */
  build({ signals = [], interests = [], reporting = {} }) {
    const days = reporting.epoch_days || 7;
    const every = days === 7 ? 'a week' : `every ${days} days`;
    const cohortsHint = `At most one randomized answer ${every} about the group you are in, counted only in groups of ${reporting.min_k || 'many'} people or more.`;
    const sharing = el('fieldset', { class: 'field', 'data-sharing': '' },
      el('legend', { text: 'Personalization' }),
      SHARING.map(([v, t, d]) => el('label', { class: 'radio-card' },
        el('input', { type: 'radio', name: 'sharing', value: v, checked: v === 'on-device' }),
        el('span', { class: 'radio-text' }, el('b', { text: t }), el('span', { class: 'field-hint', text: v === 'cohorts' ? cohortsHint : d })))));
    const groups = el('fieldset', { class: 'field', 'data-interests': '' },
      el('legend', { text: 'Interests the engine may use' }),
      interests.map((g) => el('label', { class: 'switch' },
        el('input', { type: 'checkbox', name: 'interest', value: g.id, checked: true, 'data-tags': g.tags.join(' ') }),
        el('span', { text: titleCase(g.id) }),
        el('span', { class: 'field-hint', text: g.tags.join(', ') }))));
    const frequency = el('div', { class: 'field' },
      el('label', { for: 'pref-frequency', text: 'Show the same promotion' }),
      el('select', { id: 'pref-frequency', name: 'frequency' }, FREQUENCY.map(([v, t]) => el('option', { value: v, text: t, selected: v === 'normal' }))));
    this.form.replaceChildren(sharing, groups, frequency);
    this.renderSignals(signals);
  }

  /**
   * The declared signals, each with its purpose, retention and a switch:
   * [{id, kind, purpose, retention_days}].
   */
  renderSignals(signals) {
    this.signalsList.replaceChildren(...signals.map((s) => {
      const input = el('input', { type: 'checkbox', name: 'signal', value: s.kind, checked: !this.pageOff.has(s.kind), 'data-signal': s.id });
      input.addEventListener('change', () => {
        if (!ENGINE_SWITCHES[s.kind]) {
          if (input.checked) this.pageOff.delete(s.kind); else this.pageOff.add(s.kind);
        }
        this.onChange(this.preferences());
      });
      return el('li', { class: 'signal', 'data-signal-item': s.id },
        el('label', { class: 'switch' }, input, el('b', { text: SIGNAL_LABELS[s.kind] || s.id })),
        el('p', { class: 'signal-purpose', 'data-signal-purpose': '', text: s.purpose }),
        el('p', { class: 'field-hint', 'data-signal-retention': '', text: retention(s.retention_days) }));
    }));
  }

  /** Whether the person lets the page hand the engine signals of this kind. */
  allowed(kind) {
    if (this.sharing() === 'off') return false;
    if (ENGINE_SWITCHES[kind]) return true; // the engine enforces these itself
    return !this.pageOff.has(kind);
  }

  sharing() {
    const c = this.form.querySelector('input[name="sharing"]:checked');
    return c ? c.value : 'on-device';
  }

  signalOn(kind) {
    const box = this.signalsList.querySelector(`input[name="signal"][value="${kind}"]`);
    return box ? box.checked : true;
  }

  /** The preferences for setPreferences. */
  preferences() {
    const hidden = [];
    for (const box of this.form.querySelectorAll('input[name="interest"]')) {
      if (!box.checked) hidden.push(...box.dataset.tags.split(' '));
    }
    return {
      sharing: this.sharing(),
      history: this.signalOn('history'),
      location: this.signalOn('location'),
      hidden_interests: [...new Set(hidden)],
      frequency: this.form.elements.frequency.value,
    };
  }

  /** Shows the preferences in effect, as the engine answered them. */
  show(effective) {
    if (!effective) return;
    const radio = this.form.querySelector(`input[name="sharing"][value="${effective.sharing}"]`);
    if (radio && !effective.gpc_applied) radio.checked = true;
    const hidden = new Set(effective.hidden_interests || []);
    for (const box of this.form.querySelectorAll('input[name="interest"]')) {
      box.checked = !box.dataset.tags.split(' ').every((t) => hidden.has(t));
    }
    for (const [kind, on] of [['history', effective.history], ['location', effective.location]]) {
      const box = this.signalsList.querySelector(`input[name="signal"][value="${kind}"]`);
      if (box) box.checked = on !== false;
    }
    const freq = this.form.elements.frequency;
    if (freq && effective.frequency) freq.value = effective.frequency;
    const gpc = effective.gpc
      ? `Global Privacy Control is on in this browser: nothing is ever reported${effective.gpc_applied ? ', so cohort counting stays off' : ''}.`
      : 'Global Privacy Control is off in this browser. Were it on, the engine would never send a report.';
    this.gpcStatus.textContent = gpc;
    this.gpcStatus.dataset.gpc = effective.gpc ? 'on' : 'off';
  }
}
