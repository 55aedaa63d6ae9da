/**
 * loadgen: a steady stream of page views on productpage, from inside the
 * mesh, so that its status has live traffic to show. A share of the views
 * come from the user jason (end-user: jason), whom the reviews
 * VirtualService sends to v3.
 *
 * Every SUMMARY_SECONDS it logs one line, e.g.
 *   … loadgen 50 requests in 5 s (10.0/s), 5 as jason; 0 non-2xx, 0 failed; reviews v1=41 v2=4 v3=5; p50 9 ms, p99 31 ms
 * ("reviews" counts the x-reviews-version header productpage answers with).
 *
 * Environment:
 *   PRODUCTPAGE_SERVICE_HOST/PORT  productpage's address (kubelet's service variables; else productpage:9080)
 *   RATE            page views per second (10)
 *   JASON_PERCENT   share of them sent as end-user: jason (10)
 *   SUMMARY_SECONDS how often to log the summary (5)
 *   TIMEOUT_MS      give up on a view after this long (5000)
 *   MAX_IN_FLIGHT   views waiting at once; a tick beyond it is skipped and counted (100)
 */
import { intFromEnv, logger, onShutdown, serviceAddress } from './lib.mjs';

const log = logger('loadgen');
const rate = intFromEnv('RATE', 10, 1, 1000);
const jasonPercent = intFromEnv('JASON_PERCENT', 10, 0, 100);
const summarySeconds = intFromEnv('SUMMARY_SECONDS', 5, 1, 3600);
const timeoutMs = intFromEnv('TIMEOUT_MS', 5000, 1, 600_000);
const maxInFlight = intFromEnv('MAX_IN_FLIGHT', 100, 1, 10_000);
const target = `http://${serviceAddress('productpage', 9080)}/`;

/** Counters of the current summary window. */
function newWindow() {
  return { started: Date.now(), requests: 0, jason: 0, non2xx: 0, failed: 0, skipped: 0, versions: new Map(), latencies: [], lastProblem: undefined };
}
let win = newWindow();
let inFlight = 0;
let sent = 0;

/** Request n is jason's when it takes the running share past the next whole one: exactly JASON_PERCENT %, evenly spread. */
const isJason = (n) => Math.floor(((n + 1) * jasonPercent) / 100) > Math.floor((n * jasonPercent) / 100);

async function view(n) {
  const jason = isJason(n);
  const w = win;
  const started = performance.now();
  try {
    const res = await fetch(target, { headers: jason ? { 'end-user': 'jason' } : {}, signal: AbortSignal.timeout(timeoutMs) });
    // Read the page to its end so that the connection goes back to the pool; nothing of it is kept.
    for await (const _ of res.body ?? []);
    w.latencies.push(performance.now() - started);
    w.requests++;
    if (jason) w.jason++;
    if (res.status < 200 || res.status > 299) {
      w.non2xx++;
      w.lastProblem = `HTTP ${res.status}`;
    }
    const version = res.headers.get('x-reviews-version') ?? 'none';
    w.versions.set(version, (w.versions.get(version) ?? 0) + 1);
  } catch (err) {
    w.requests++;
    if (jason) w.jason++;
    w.failed++;
    const cause = err?.cause;
    w.lastProblem = err?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : cause ? `${cause.code ?? ''} ${cause.message ?? cause}`.trim() : String(err?.message ?? err);
  }
}

function tick() {
  if (inFlight >= maxInFlight) {
    win.skipped++;
    return;
  }
  inFlight++;
  view(sent++).finally(() => inFlight--);
}

function percentile(sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary() {
  const w = win;
  win = newWindow();
  const seconds = (Date.now() - w.started) / 1000;
  const versions = [...w.versions].sort(([a], [b]) => (a < b ? -1 : 1)).map(([v, c]) => `${v}=${c}`).join(' ') || 'none';
  const lat = w.latencies.sort((a, b) => a - b);
  let line = `${w.requests} requests in ${Math.round(seconds)} s (${(w.requests / seconds).toFixed(1)}/s), ${w.jason} as jason; ` +
    `${w.non2xx} non-2xx, ${w.failed} failed; reviews ${versions}; p50 ${Math.round(percentile(lat, 50))} ms, p99 ${Math.round(percentile(lat, 99))} ms`;
  if (w.skipped) line += `; ${w.skipped} skipped (${maxInFlight} in flight)`;
  if (w.lastProblem) line += `; last problem: ${w.lastProblem}`;
  log(line);
}

log(`calling ${target} at ${rate}/s, ${jasonPercent} % as end-user jason, a summary every ${summarySeconds} s`);
const ticker = setInterval(tick, 1000 / rate);
const summaries = setInterval(summary, summarySeconds * 1000);

onShutdown(() => {
  clearInterval(ticker);
  clearInterval(summaries);
});
