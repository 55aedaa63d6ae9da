/**
 * The router's part for a route that forwards: the cluster pick (the
 * router's pickTarget on the same x-request-id), NC for a cluster the proxy
 * lacks, and the route's timeout and retry policy.
 */
import type { Metadata } from '../../gen/envoy/config/core/v3/base_pb.js';
import type { ActionPlan } from '../../proxy/router/route-action.js';
import { pickTarget } from '../../proxy/router/router-filter.js';
import { citeMetadata } from './cite.js';
import type { CompiledProxy } from './compiled-proxy.js';
import type { ProxyPass } from './proxy-walk.js';
import type { ParsedRequest } from './request.js';
import { outcome, type Trail } from './trail.js';

export function routeForward(t: Trail, p: CompiledProxy, r: ParsedRequest, a: Extract<ActionPlan, { kind: 'forward' }>, md: Metadata | undefined, out: ProxyPass): ProxyPass {
  const pick = pickTarget(a.target, r.requestId, a.target.kind === 'header' ? r.headers[a.target.header] as string | undefined : undefined);
  const source = citeMetadata(md);
  const destination = citeMetadata(md, a.target.kind === 'single' ? 0 : pick?.index);
  if (a.target.kind === 'weighted') {
    const shares = a.target.clusters.map((c, i) => `${c.name} ${c.upTo - (a.target.kind === 'weighted' && i > 0 ? a.target.clusters[i - 1]!.upTo : 0)}`);
    t.add('cluster', `weighted pick: ${pick?.name ?? '(none)'}`, [`weights: ${shares.join(', ')} (total ${a.target.total})`,
      `x-request-id ${r.requestId}: FNV-1a modulo ${a.target.total} = ${pick?.draw}${r.seed !== undefined ? ` (from --seed ${r.seed})` : ''}`], destination);
  } else t.add('cluster', `cluster ${pick?.name ?? '(none: the header is missing)'}`, [], destination);
  const name = pick?.name;
  out.names.cluster = name;
  if (!name || !p.clusters.has(name)) {
    t.add('result', `cluster ${name ?? ''} does not exist on this proxy: ${a.clusterNotFoundStatus} NC`.replace('  ', ' '));
    return { ...out, answer: outcome(a.clusterNotFoundStatus, ['NC', ...out.flags], 'cluster_not_found', name ?? '') };
  }
  const policy = [`route timeout ${a.timeoutMs ? `${a.timeoutMs} ms` : 'none'}`, retryText(a)];
  t.add('policy', policy.join('; '), [], source);
  return { ...out, cluster: name, action: a };
}

function retryText(a: Extract<ActionPlan, { kind: 'forward' }>): string {
  const rp = a.retry;
  if (!rp) return 'no retries';
  const on = Object.entries({ '5xx': rp.on5xx, 'gateway-error': rp.gatewayError, 'connect-failure': rp.connectFailure, reset: rp.reset }).filter(([, v]) => v).map(([k]) => k);
  return `${rp.numRetries} retries on ${[...on, ...[...rp.statusCodes].map(String)].join(',') || 'nothing'}${rp.perTryTimeoutMs ? `, per try ${rp.perTryTimeoutMs} ms` : ''}`;
}
