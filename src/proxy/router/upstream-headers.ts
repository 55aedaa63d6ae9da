/**
 * The request as the upstream gets it: hop-by-hop headers and pseudo-headers
 * dropped, Host (or its rewrite), x-forwarded-proto, trace context, the
 * weighted cluster's and the route's header operations, and the path after
 * prefix_rewrite / regex_rewrite (the original in x-envoy-original-path).
 */
import type { HttpStream } from '../filters/stream.js';
import { applyHeaderOps, type Headers } from './header-ops.js';
import type { ActionPlan } from './route-action.js';
import type { CompiledRoute } from './route-table.js';
import { propagateTrace } from './trace-context.js';

export type ForwardAction = Extract<ActionPlan, { kind: 'forward' }>;

/** Connection-level headers never forwarded (RFC 9110 §7.6.1), in either direction. */
export const HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings']);

export function upstreamHeaders(ex: HttpStream, route: CompiledRoute, a: ForwardAction): Headers {
  const src = ex.req.headers;
  const out: Headers = {};
  for (const k in src) {
    if (k.charCodeAt(0) === 58 /* : */ || HOP.has(k)) continue;
    out[k] = src[k];
  }
  // gRPC needs "te: trailers"; it is the one TE value a proxy may pass on.
  if (src.te === 'trailers') out.te = 'trailers';
  out.host = a.hostRewrite ?? ex.info.authority;
  out['x-forwarded-proto'] ??= 'http';
  propagateTrace(out);
  if (ex.clusterRequestOps.length > 0) applyHeaderOps(out, ex.clusterRequestOps);
  if (route.requestOps.length > 0) applyHeaderOps(out, route.requestOps);
  return out;
}

export function rewritePath(path: string, a: ForwardAction, headers: Headers): string {
  if (a.regexRewrite) {
    const q = path.indexOf('?');
    const p = q < 0 ? path : path.slice(0, q);
    headers['x-envoy-original-path'] = path;
    return p.replace(a.regexRewrite.re, a.regexRewrite.substitution) + (q < 0 ? '' : path.slice(q));
  }
  if (!a.prefixRewrite || a.matchedPrefix === undefined || !path.startsWith(a.matchedPrefix)) return path;
  headers['x-envoy-original-path'] = path;
  return a.prefixRewrite + path.slice(a.matchedPrefix.length);
}
