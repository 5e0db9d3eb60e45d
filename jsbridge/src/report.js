// Cohort reports: the only data that may ever leave the device, and only at
// the 'cohorts' sharing level. The collector's HTTP API (collector/http.go):
//   GET  {collector}/v1/cohort-sizes?ruleset=ID -> {cohort id: size, ...}
//   POST {collector}/v1/reports  {ruleset, epoch, mechanism, value?, epsilon,
//                                 outcomes?: [{experiment, epoch, value, epsilon}]}
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
  if (!res.ok) throw failure('GET /v1/cohort-sizes', res);
  const sizes = await res.json();
  if (!sizes || typeof sizes !== 'object' || Array.isArray(sizes)) throw new Error('GET /v1/cohort-sizes did not answer a map of sizes');
  const out = {};
  for (const [id, n] of Object.entries(sizes)) if (typeof n === 'number' && Number.isFinite(n)) out[id] = n;
  return out;
}

/** The intake body for an engine report: exactly the fields the collector accepts. */
export function reportBody(report) {
  const body = { ruleset: report.ruleset, epoch: report.epoch, mechanism: report.mechanism, value: report.value, epsilon: report.epsilon };
  if (report.outcomes && report.outcomes.length) {
    body.outcomes = report.outcomes.map((o) => ({ experiment: o.experiment, epoch: o.epoch, value: o.value, epsilon: o.epsilon }));
  }
  return body;
}

/**
 * POSTs a report with fetch and keepalive, which outlives the page like a
 * beacon and, unlike sendBeacon (whose credentials mode is always
 * 'include'), omits cookies. Resolves once the collector accepted it (2xx);
 * rejects otherwise, with the error's final set when the collector will
 * never take this body (see failure) and after when it asked for a wait.
 * A rejected fetch (the collector unreachable, a network error) is not
 * final: the report is tried again later, by fetch. There is no sendBeacon
 * fallback: the worker has none, and on the main thread it would fire
 * exactly when the collector is unreachable, with cookies, its outcome
 * unknown.
 */
export async function postReport(collector, body) {
  const res = await fetch(`${collectorBase(collector)}/v1/reports`, { ...NO_CREDENTIALS, method: 'POST', body: JSON.stringify(body), keepalive: true });
  if (!res.ok) throw failure('POST /v1/reports', res);
}

/** The most a Retry-After can make a report wait, in ms: a day (an epoch is a week or more). */
export const MAX_RETRY_AFTER = 864e5;

/**
 * When a Retry-After header value (delay-seconds or an HTTP date) allows
 * the next try, in Unix ms at most MAX_RETRY_AFTER after now; 0 when it
 * allows one now or says nothing usable.
 */
export function retryAt(value, now) {
  const t = value ? (Number(value) >= 0 ? now + value * 1e3 : Date.parse(value)) : 0;
  return t > now ? Math.min(t, now + MAX_RETRY_AFTER) : 0;
}

// A collector's answer other than 2xx, as an Error: final when it will
// never accept this request (a 4xx other than 408 Request Timeout and 429
// Too Many Requests), and after, when its Retry-After allows the next try.
// A cross-origin collector must expose Retry-After
// (Access-Control-Expose-Headers) for the page to read it.
function failure(what, res) {
  const s = res.status;
  return Object.assign(new Error(`${what} answered HTTP ${s}`), {
    final: s > 399 && s < 500 && s !== 408 && s !== 429,
    after: retryAt(res.headers.get('retry-after'), Date.now()),
  });
}
