// Cohort reports: the only data that may ever leave the device, and only at
// the 'cohorts' sharing level. The collector's HTTP API (collector/http.go):
//   GET  {collector}/v1/cohort-sizes?ruleset=ID -> {cohort id: size, ...}
//   POST {collector}/v1/reports  {ruleset, epoch, mechanism, value, epsilon}
// Requests carry no credentials and no referrer, and the body is sent as
// text/plain so no CORS preflight precedes it.

/** Whether sharing allows a report at all; checked before any request. */
export function reportAllowed(effective, gpc) {
  return Boolean(effective && effective.sharing === 'cohorts' && !effective.gpc_applied && !effective.gpc && !gpc);
}

const NO_CREDENTIALS = { credentials: 'omit', referrerPolicy: 'no-referrer', cache: 'no-store', mode: 'cors' };

/** The collector's base URL without a trailing slash. */
export function collectorBase(collector) {
  return String(collector).replace(/\/+$/, '');
}

/** The published cohort sizes for k-anonymity; rejects on any failure. */
export async function fetchSizes(collector, rulesetId) {
  const res = await fetch(`${collectorBase(collector)}/v1/cohort-sizes?ruleset=${encodeURIComponent(rulesetId)}`, NO_CREDENTIALS);
  if (!res.ok) throw new Error(`GET /v1/cohort-sizes answered HTTP ${res.status}`);
  const sizes = await res.json();
  if (!sizes || typeof sizes !== 'object' || Array.isArray(sizes)) throw new Error('GET /v1/cohort-sizes did not answer a map of sizes');
  const out = {};
  for (const [id, n] of Object.entries(sizes)) if (typeof n === 'number' && Number.isFinite(n)) out[id] = n;
  return out;
}

/** The intake body for an engine report: exactly the fields the collector accepts. */
export function reportBody(report) {
  return { ruleset: report.ruleset, epoch: report.epoch, mechanism: report.mechanism, value: report.value, epsilon: report.epsilon };
}

/**
 * POSTs a report. fetch with keepalive outlives the page like a beacon and,
 * unlike sendBeacon (whose credentials mode is always 'include'), can omit
 * cookies; sendBeacon is the fallback where fetch is missing or refuses.
 * Resolves true when the collector accepted it (or the beacon was queued).
 */
export async function postReport(collector, body) {
  const url = `${collectorBase(collector)}/v1/reports`;
  const json = JSON.stringify(body);
  if (typeof fetch === 'function') {
    let res;
    try {
      res = await fetch(url, { ...NO_CREDENTIALS, method: 'POST', body: json, keepalive: true });
    } catch (e) {
      if (!canBeacon()) throw e;
    }
    if (res) {
      if (!res.ok) throw new Error(`POST /v1/reports answered HTTP ${res.status}`);
      return true;
    }
  }
  if (!canBeacon()) throw new Error('neither fetch nor sendBeacon is available');
  if (!navigator.sendBeacon(url, json)) throw new Error('the browser refused to queue the report');
  return true;
}

function canBeacon() {
  return typeof navigator !== 'undefined' && navigator !== null && typeof navigator.sendBeacon === 'function';
}
