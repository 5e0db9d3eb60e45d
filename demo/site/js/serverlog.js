// "What the server saw": the server's own log of every request it received,
// streamed to the page (GET /api/requests/stream), with bodies. It is the
// server's log, not this tab's list, so it cannot leave anything out.

import { el, formatBytes, formatTime } from './dom.js';

const PATH_NOTES = {
  '/': 'the shop page',
  '/index.html': 'the shop page',
  '/app.js': 'this demo’s script',
  '/style.css': 'styles',
  '/ruleset.ewr': 'signed ruleset',
  '/config.json': 'the key that signed it',
  '/catalogue.json': 'product list',
  '/dist/edgewise.js': 'Edgewise SDK',
  '/dist/edgewise.js.map': 'SDK source map',
  '/dist/edgewise.wasm': 'Edgewise engine',
  '/v1/reports': 'a cohort report',
  '/v1/cohort-sizes': 'published cohort sizes, for k-anonymity',
  '/api/playground/lint': 'playground: check YAML',
  '/api/playground/compile': 'playground: sign YAML',
};

function note(path) {
  if (PATH_NOTES[path]) return PATH_NOTES[path];
  if (path.startsWith('/js/')) return 'demo module';
  if (/^\/dist\/edgewise\.[0-9a-f]+\.wasm$/.test(path)) return 'Edgewise engine';
  return '';
}

export class ServerLog {
  /** {list, status, viewCount, sinceView} elements. */
  constructor(els) {
    this.els = els;
    this.lastSeq = 0;
    this.seqAtFirstView = null;
    this.sinceView = 0;
    this.views = 0;
  }

  start() {
    const source = new EventSource('/api/requests/stream');
    source.onopen = () => { this.els.status.textContent = 'live'; this.els.status.classList.remove('down'); };
    source.onerror = () => { this.els.status.textContent = 'reconnecting'; this.els.status.classList.add('down'); };
    source.onmessage = (ev) => {
      try {
        this.add(JSON.parse(ev.data));
      } catch {
        // A malformed event is skipped; the next one still shows.
      }
    };
  }

  /** Counts a product view; the first one starts the "since" counter. */
  viewed() {
    this.views++;
    if (this.seqAtFirstView === null) this.seqAtFirstView = this.lastSeq;
    this.update();
  }

  /** Forget resets the counters too. */
  reset() {
    this.views = 0;
    this.seqAtFirstView = null;
    this.sinceView = 0;
    this.update();
  }

  add(r) {
    if (r.seq <= this.lastSeq) return;
    this.lastSeq = r.seq;
    const time = new Date(r.time);
    const target = r.path + (r.query ? `?${r.query}` : '');
    // The log is the server's, not this tab's: dim what came before this page.
    const earlier = time.getTime() < performance.timeOrigin - 1000;
    const classes = ['req'];
    if (r.method !== 'GET' && r.method !== 'HEAD') classes.push('req-write');
    if (earlier) classes.push('req-earlier');
    const meta = [formatTime(time.getTime()), note(r.path), earlier ? 'before this page' : '', r.body_size ? `body ${formatBytes(r.body_size)}` : '']
      .filter(Boolean).join(' · ');
    this.els.list.prepend(el('li', {
      class: classes.join(' '), 'data-request-row': '', 'data-seq': String(r.seq), 'data-method': r.method, 'data-path': r.path,
    },
    el('span', { class: 'req-method', text: r.method }),
    el('span', { class: 'req-target', text: target, title: target }),
    el('span', { class: `req-status s${String(r.status)[0]}`, text: String(r.status) }),
    el('span', { class: 'req-meta', text: meta }),
    r.body ? el('code', { class: 'req-body', 'data-request-body': '', text: r.body }) : null));
    if (this.seqAtFirstView !== null && r.seq > this.seqAtFirstView) this.sinceView++;
    this.update();
  }

  update() {
    this.els.viewCount.textContent = String(this.views);
    this.els.sinceView.textContent = this.seqAtFirstView === null ? '–' : String(this.sinceView);
    this.els.sinceView.classList.toggle('zero', this.seqAtFirstView !== null && this.sinceView === 0);
  }
}
