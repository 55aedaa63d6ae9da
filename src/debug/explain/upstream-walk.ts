/**
 * Cluster, endpoints and the load balancer's choice, and the transport socket
 * the client uses to the chosen endpoint — by the proxy's UpstreamCluster
 * (health, outlier ejections as the live proxy reports them, panic mode,
 * priorities) and its transport socket matching (auto mTLS).
 */
import type { EndpointSpec } from '../../proxy/upstream/cluster-plan.js';
import { UpstreamCluster } from '../../proxy/upstream/cluster.js';
import { resolveSocket } from '../../proxy/upstream/socket-match.js';
import type { TlsPlan } from '../../proxy/tls/tls-plan.js';
import { citeMetadata } from './cite.js';
import type { CompiledProxy } from './compiled-proxy.js';
import type { Trail } from './trail.js';

export interface UpstreamChoice {
  endpoint: { address: string; port: number } | undefined;
  /** undefined: plain text. */
  tls: TlsPlan | undefined;
  http2: boolean;
}

const LB_NAMES: Record<string, string> = { round_robin: 'ROUND_ROBIN', least_request: 'LEAST_REQUEST', random: 'RANDOM', ring_hash: 'RING_HASH' };

export function chooseEndpoint(t: Trail, p: CompiledProxy, name: string, originalDst: { address: string; port: number }): UpstreamChoice {
  const c = p.clusters.get(name)!;
  const plan = c.plan;
  const specs = endpointSpecs(p, name);
  const cluster = new UpstreamCluster(plan);
  if (plan.type !== 'STATIC' && plan.type !== 'ORIGINAL_DST') cluster.setEndpoints(specs.list, specs.overprovisioning);
  const rows = p.hosts.get(name) ?? [];
  cluster.markEjected(new Set(rows.filter((r) => r.outlierFailed).map((r) => `${r.address}:${r.port}`)));
  const why = cluster.hosts.map((h) => `${h.key} ${h.healthy ? 'HEALTHY' : 'UNHEALTHY'}${h.outlier.ejected ? ', ejected by outlier detection' : ''}${h.weight !== 1 ? `, weight ${h.weight}` : ''}`);
  const host = cluster.pick(originalDst);
  const lb = LB_NAMES[plan.lb] ?? plan.lb;
  const http2 = plan.upstreamHttp === 'http2';
  if (!host) {
    t.add('endpoint', `cluster ${name} (${plan.type}) has no healthy endpoint`, why.length ? why : ['no endpoints'], citeMetadata(c.raw.metadata));
    return { endpoint: undefined, tls: undefined, http2 };
  }
  const many = cluster.hosts.length > 1 && plan.type !== 'ORIGINAL_DST';
  t.add('endpoint', `${lb} picks endpoint ${host.key}${many ? ' (one of the healthy ones; which one depends on the proxy\'s state)' : ''}`, why, citeMetadata(c.raw.metadata));
  if (many) t.notes.push(`cluster ${name} balances over ${cluster.hosts.length} endpoints: the destination shown is one of them`);
  const spec = specs.list.find((s) => s.address === host.address && s.port === host.port);
  const socket = resolveSocket(plan.socketMatches, spec?.socketMatch, spec?.localitySocketMatch);
  const tls = socket < 0 ? plan.tls : plan.socketMatches[socket]!.tls;
  const which = socket < 0 ? 'the cluster\'s transport_socket' : `transport_socket_matches[${socket}] ${plan.socketMatches[socket]!.name} (the endpoint's metadata ${JSON.stringify(spec?.socketMatch ?? {})})`;
  t.add('client-tls', tls ? `the client originates TLS${tls.certSecret || tls.inlineCert ? ' with its certificate (mutual TLS)' : ''}: SNI ${tls.sni || '(none)'}, ALPN ${tls.alpn.join(',') || '(none)'}` : 'the client sends plain text', [which], citeMetadata(c.raw.metadata));
  return { endpoint: { address: host.address, port: host.port }, tls, http2 };
}

function endpointSpecs(p: CompiledProxy, name: string): { list: EndpointSpec[]; overprovisioning: number | undefined } {
  const plan = p.clusters.get(name)!.plan;
  if (plan.type === 'EDS') {
    const eds = p.endpoints.get(plan.edsName ?? name);
    return { list: eds?.endpoints ?? [], overprovisioning: eds?.overprovisioningFactor };
  }
  // DNS clusters resolve at run time: their hosts are what the proxy's /clusters shows.
  const rows = p.hosts.get(name) ?? [];
  return { list: rows.map((r) => ({ address: r.address, port: r.port, weight: 1, healthy: r.status === 'HEALTHY' })), overprovisioning: undefined };
}
