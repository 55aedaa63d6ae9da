/**
 * The upstream response's headers as the client gets them: hop-by-hop
 * headers dropped, x-envoy-upstream-service-time added, then the weighted
 * cluster's and the route's response header operations.
 */
import type { HttpStream } from '../filters/stream.js';
import type { UpstreamHeaders } from '../upstream/response.js';
import { applyHeaderOps, type HeaderOp, type Headers } from './header-ops.js';
import { HOP } from './upstream-headers.js';

export function downstreamHeaders(ex: HttpStream, headers: UpstreamHeaders, responseOps: readonly HeaderOp[], keep?: readonly string[]): Headers {
  // A copy without hop-by-hop headers: `delete` would turn the object into a slow dictionary for every later step.
  const out: Headers = {};
  for (const k in headers) if (!HOP.has(k)) out[k] = headers[k];
  // A 101 keeps the hop-by-hop headers that say what the connection became (Connection, Upgrade).
  if (keep) for (const k of keep) out[k] = headers[k];
  out['x-envoy-upstream-service-time'] = String(ex.info.upstreamServiceTimeMs ?? 0);
  if (ex.clusterResponseOps.length > 0) applyHeaderOps(out, ex.clusterResponseOps);
  if (responseOps.length > 0) applyHeaderOps(out, responseOps);
  return out;
}
