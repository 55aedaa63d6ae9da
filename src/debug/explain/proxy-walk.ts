/**
 * One proxy's part of a request: listener and chain, network RBAC, the HTTP
 * connection manager's route lookup, the filters, and the router's choice of
 * cluster. The outbound side goes on to an endpoint (upstream-walk.ts); the
 * inbound side ends at its local app.
 */
import type { Detected } from '../../proxy/listener/detect.js';
import type { ConnContext } from '../../proxy/listener/conn-context.js';
import { enforcedVerdict } from '../../proxy/filters/rbac/rbac-filter.js';
import { networkInput } from '../../proxy/filters/rbac/rbac-input.js';
import type { TlsPeer } from '../../proxy/tls/peer-identity.js';
import type { RequestView } from '../../proxy/router/route-match.js';
import type { ActionPlan } from '../../proxy/router/route-action.js';
import { routeForward } from './router-walk.js';
import { citeMetadata, citeRbacPolicy } from './cite.js';
import type { CompiledProxy } from './compiled-proxy.js';
import { runFilters } from './http-filters.js';
import { chooseListener, mtlsMode, rawChainOf } from './listener-walk.js';
import type { ParsedRequest } from './request.js';
import { lookupRoute } from './route-walk.js';
import { outcome, type Trail } from './trail.js';
import type { Outcome } from './types.js';

export interface ProxyArrival {
  dst: { address: string; port: number };
  source: { address: string; port: number };
  detected: Detected;
  /** The client's certificate, when it comes over mutual TLS. */
  peer: TlsPeer | undefined;
}

export interface ProxyPass {
  names: { listener?: string; filterChain?: string; routeConfiguration?: string; virtualHost?: string; route?: string; cluster?: string };
  /** Set when this proxy answers (or closes the connection: `closed`). */
  answer?: Outcome;
  closed?: boolean;
  /** The cluster the router chose, and the route's action, when the request goes on. */
  cluster?: string;
  action?: Extract<ActionPlan, { kind: 'forward' }>;
  /** Flags already added (DI). */
  flags: string[];
  /** The chosen chain terminates TLS. */
  terminatesTls?: boolean;
}

export function passProxy(t: Trail, p: CompiledProxy, r: ParsedRequest, a: ProxyArrival): ProxyPass {
  const out: ProxyPass = { names: {}, flags: [] };
  const choice = chooseListener(t, p, a);
  if (!choice) return { ...out, closed: true };
  out.names.listener = choice.listener.name;
  const chain = choice.chain;
  if (t.side === 'inbound') {
    const mode = mtlsMode(choice.listener, a.dst.port);
    const cited = chain ?? choice.listener.chains.find((c) => c.match.destinationPort === a.dst.port);
    t.add('server-tls', `the destination accepts ${mode === 'STRICT' ? 'only mutual TLS' : mode === 'PERMISSIVE' ? 'mutual TLS and plain text' : 'plain text'} on port ${a.dst.port} (PeerAuthentication mode ${mode})`,
      [`the client sends ${a.detected.transport === 'tls' ? 'TLS' : 'plain text'}; the modes are read from the transport protocols of the listener's chains for the port`],
      cited ? citeMetadata(rawChainOf(choice.listener, cited)?.metadata) : undefined);
  }
  if (!chain || chain.network.kind === 'none') return { ...out, closed: true };
  out.names.filterChain = chain.name;
  out.terminatesTls = chain.tls !== undefined;
  if (chain.tls) {
    t.add('server-tls', `the chain terminates TLS${chain.tls.requireClientCert ? ' and requires a client certificate' : ''}`,
      a.peer ? [`the client presents ${a.peer.uriSans.join(', ') || a.peer.subject || 'a certificate'}`] : []);
  }
  const conn = connection(a, t.side === 'inbound', chain.tls ? a.peer : undefined);
  for (const rb of chain.rbac) {
    const v = enforcedVerdict(rb, networkInput(conn));
    if (v.allowed) continue;
    t.add('authorization', 'the network RBAC filter closes the connection', [v.detail], v.policy ? citeRbacPolicy(v.policy) : undefined);
    return { ...out, closed: true };
  }
  if (chain.network.kind === 'tcp') {
    const tcp = chain.network.tcp;
    const first = tcp.clusters[0]?.name;
    t.add('cluster', `TCP proxy to cluster ${first ?? '(none)'}${tcp.clusters.length > 1 ? ` (one of ${tcp.clusters.length}, by weight)` : ''}`);
    return first ? { ...out, cluster: first, names: { ...out.names, cluster: first } } : { ...out, closed: true };
  }
  return passHttp(t, p, r, chain.network.hcm, conn, out);
}

function connection(a: ProxyArrival, inbound: boolean, peer: TlsPeer | undefined): ConnContext {
  return {
    originalDst: a.dst,
    local: `${a.dst.address}:${a.dst.port}`,
    remote: `${a.source.address}:${a.source.port}`,
    remoteIp: a.source.address,
    inbound,
    serverName: a.detected.serverName,
    draining: false,
    protocol: 'h1',
    tls: peer,
    peerUriSan: peer?.uriSans[0],
  } as ConnContext;
}

type Hcm = Extract<import('../../proxy/listener/listener-plan.js').NetworkPlan, { kind: 'http' }>['hcm'];

function passHttp(t: Trail, p: CompiledProxy, r: ParsedRequest, hcm: Hcm, conn: ConnContext, out: ProxyPass): ProxyPass {
  const rds = hcm.rdsName !== undefined ? p.routes.get(hcm.rdsName) : undefined;
  const table = hcm.inline ?? rds?.table;
  out.names.routeConfiguration = table?.name ?? hcm.rdsName;
  const view: RequestView = { path: r.path, query: r.query, headers: r.headers };
  let lookup: ReturnType<typeof lookupRoute> | undefined;
  if (table) lookup = lookupRoute(t, rds?.raw, table, r.authority, view);
  else t.add('route', `route configuration ${hcm.rdsName ?? '(none)'} has not arrived: nothing matches`);
  if (lookup?.vhost) out.names.virtualHost = lookup.vhost;
  const route = lookup?.route;
  if (route) out.names.route = route.name;
  const f = runFilters(t, hcm.filters, route, r, view, conn);
  out.flags.push(...f.flags);
  if (f.stopped) return { ...out, answer: f.stopped };
  if (!route) return { ...out, answer: outcome(404, ['NR', ...out.flags], 'route_not_found', '') };
  const a = route.action;
  if (a.kind === 'direct') {
    t.add('result', `the route answers itself: ${a.status}`);
    return { ...out, answer: outcome(a.status, out.flags, 'direct_response', '') };
  }
  if (a.kind === 'redirect') {
    t.add('result', `the route redirects: ${a.status}`);
    return { ...out, answer: outcome(a.status, out.flags, '', '') };
  }
  return routeForward(t, p, r, a, lookup?.raw?.metadata, out);
}
