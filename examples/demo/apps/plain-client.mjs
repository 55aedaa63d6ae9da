/**
 * plain-client: runs in the namespace "legacy", which has no sidecar
 * injection, and calls a URL now and then in plain HTTP — what an app
 * outside the mesh does. Each call is one log line with what happened:
 * with STRICT mTLS in the namespace "demo", a call to productpage there is
 * refused (the connection is closed: the sidecar waits for a TLS handshake
 * and gets an HTTP request); with PERMISSIVE it answers 200.
 *
 *   … plain-client GET http://productpage.demo.svc.cluster.local:9080/health → failed: ECONNRESET socket hang up
 *
 * Environment:
 *   TARGET            the URL to call (http://productpage.demo.svc.cluster.local:9080/health)
 *   INTERVAL_SECONDS  time between calls (10)
 *   TIMEOUT_MS        give up on a call after this long (3000)
 */
import { intFromEnv, logger, onShutdown } from './lib.mjs';

const log = logger('plain-client');
// Another namespace's Services get no {NAME}_SERVICE_HOST variables from kubelet: the name is the way in.
const target = process.env.TARGET || 'http://productpage.demo.svc.cluster.local:9080/health';
const intervalSeconds = intFromEnv('INTERVAL_SECONDS', 10, 1, 3600);
const timeoutMs = intFromEnv('TIMEOUT_MS', 3000, 1, 600_000);

async function once() {
  let outcome;
  try {
    const res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs) });
    let bytes = 0;
    for await (const chunk of res.body ?? []) bytes += chunk.length;
    outcome = `HTTP ${res.status} (${bytes} bytes)`;
  } catch (err) {
    const cause = err?.cause;
    outcome = `failed: ${err?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : cause ? `${cause.code ?? ''} ${cause.message ?? cause}`.trim() : String(err?.message ?? err)}`;
  }
  log(`GET ${target} → ${outcome}`);
}

log(`calling ${target} every ${intervalSeconds} s, in plain HTTP (no sidecar)`);
// One call at a time: a call that hangs until its timeout makes the next tick wait, never pile up.
let busy = false;
const tick = () => {
  if (busy) return;
  busy = true;
  once().finally(() => (busy = false));
};
tick();
const timer = setInterval(tick, intervalSeconds * 1000);

onShutdown(() => clearInterval(timer));
