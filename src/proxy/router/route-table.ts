/**
 * A RouteConfiguration compiled for lookup: virtual hosts by authority with
 * Envoy's domain order (exact, longest "*suffix", longest "prefix*", "*"),
 * then the first matching route.
 */
import type { RouteConfiguration } from '../../gen/envoy/config/route/v3/route_pb.js';
import { VirtualHost_TlsRequirementType, type VirtualHost } from '../../gen/envoy/config/route/v3/route_components_pb.js';
import { levelOps, type HeaderOp } from './header-ops.js';
import { compileRouteMatch, type RequestView, type RoutePredicate } from './route-match.js';
import { compileAction, type ActionPlan } from './route-action.js';
import { compileFault, FAULT_FILTER, type FaultPlan } from '../filters/fault/fault-plan.js';
import { compileCors, CORS_FILTER, type CorsPlan } from '../filters/cors/cors-plan.js';

export interface CompiledRoute {
  name: string;
  vhost: string;
  match: RoutePredicate;
  action: ActionPlan;
  /** Route, then virtual host, then route configuration level. */
  requestOps: HeaderOp[];
  responseOps: HeaderOp[];
  /** Per-route fault injection (route, else virtual host typed_per_filter_config). */
  fault: FaultPlan | undefined;
  /** The CORS policy: the route's fields over the virtual host's. */
  cors: CorsPlan | undefined;
}

export interface CompiledVirtualHost {
  name: string;
  routes: CompiledRoute[];
  /** require_tls ALL or EXTERNAL_ONLY: a request that did not arrive over TLS gets the redirect route instead. */
  tlsRedirect: CompiledRoute | undefined;
}

export class RouteTable {
  readonly name: string;
  readonly #exact = new Map<string, CompiledVirtualHost>();
  /** Sorted by suffix length, longest first. */
  readonly #suffix: Array<[string, CompiledVirtualHost]> = [];
  readonly #prefix: Array<[string, CompiledVirtualHost]> = [];
  #any: CompiledVirtualHost | undefined;
  readonly #ignorePort: boolean;

  constructor(name: string, vhosts: Array<{ domains: string[]; vh: CompiledVirtualHost }>, ignorePort: boolean) {
    this.name = name;
    this.#ignorePort = ignorePort;
    for (const { domains, vh } of vhosts) {
      for (const raw of domains) {
        const d = raw.toLowerCase();
        if (d === '*') this.#any ??= vh;
        else if (d.startsWith('*')) this.#suffix.push([d.slice(1), vh]);
        else if (d.endsWith('*')) this.#prefix.push([d.slice(0, -1), vh]);
        else if (!this.#exact.has(d)) this.#exact.set(d, vh);
      }
    }
    this.#suffix.sort((a, b) => b[0].length - a[0].length);
    this.#prefix.sort((a, b) => b[0].length - a[0].length);
  }

  virtualHost(authority: string): CompiledVirtualHost | undefined {
    let host = authority.toLowerCase();
    if (this.#ignorePort) host = stripPort(host);
    const exact = this.#exact.get(host);
    if (exact) return exact;
    for (const [s, vh] of this.#suffix) if (host.endsWith(s) && host.length > s.length) return vh;
    for (const [p, vh] of this.#prefix) if (host.startsWith(p) && host.length > p.length) return vh;
    return this.#any;
  }

  /** `secure`: the request came over TLS (the connection's own, as Envoy's x-forwarded-proto on an edge proxy says). */
  route(authority: string, req: RequestView, secure = false): CompiledRoute | undefined {
    const vh = this.virtualHost(authority);
    if (!vh) return undefined;
    if (vh.tlsRedirect && !secure) return vh.tlsRedirect;
    for (const r of vh.routes) if (r.match(req)) return r;
    return undefined;
  }
}

function stripPort(host: string): string {
  const i = host.lastIndexOf(':');
  return i > 0 && host.indexOf(']') < i ? host.slice(0, i) : host;
}

export type CompileResult = { ok: true; table: RouteTable } | { ok: false; errors: string[] };

export function compileRouteConfig(rc: RouteConfiguration): CompileResult {
  const errors: string[] = [];
  const cfgReq = levelOps(rc.requestHeadersToAdd, rc.requestHeadersToRemove, 'request', errors);
  const cfgResp = levelOps(rc.responseHeadersToAdd, rc.responseHeadersToRemove, 'response', errors);
  const vhosts = rc.virtualHosts.map((vh, i) => ({ domains: vh.domains, vh: compileVirtualHost(vh, `virtualHosts[${i}]`, cfgReq, cfgResp, errors) }));
  rc.virtualHosts.forEach((vh, i) => {
    if (vh.domains.length === 0) errors.push(`virtualHosts[${i}].domains: empty`);
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, table: new RouteTable(rc.name, vhosts, rc.ignorePortInHostMatching) };
}

function compileVirtualHost(vh: VirtualHost, path: string, cfgReq: HeaderOp[], cfgResp: HeaderOp[], errors: string[]): CompiledVirtualHost {
  const vhReq = levelOps(vh.requestHeadersToAdd, vh.requestHeadersToRemove, `${path}.request`, errors);
  const vhResp = levelOps(vh.responseHeadersToAdd, vh.responseHeadersToRemove, `${path}.response`, errors);
  const routes = vh.routes.map((r, i): CompiledRoute => {
    const p = `${path}.routes[${i}]`;
    return {
      name: r.name,
      vhost: vh.name,
      match: compileRouteMatch(r.match, `${p}.match`, errors),
      action: compileAction(r, vh, p, errors),
      requestOps: [...levelOps(r.requestHeadersToAdd, r.requestHeadersToRemove, `${p}.request`, errors), ...vhReq, ...cfgReq],
      responseOps: [...levelOps(r.responseHeadersToAdd, r.responseHeadersToRemove, `${p}.response`, errors), ...vhResp, ...cfgResp],
      fault: r.typedPerFilterConfig[FAULT_FILTER]
        ? compileFault(r.typedPerFilterConfig[FAULT_FILTER], `${p}.typedPerFilterConfig["${FAULT_FILTER}"]`, errors)
        : compileFault(vh.typedPerFilterConfig[FAULT_FILTER], `${path}.typedPerFilterConfig["${FAULT_FILTER}"]`, errors),
      cors: compileCors(r.typedPerFilterConfig[CORS_FILTER], vh.typedPerFilterConfig[CORS_FILTER], `${p}.typedPerFilterConfig["${CORS_FILTER}"]`, `${path}.typedPerFilterConfig["${CORS_FILTER}"]`, errors),
    };
  });
  return { name: vh.name, routes, tlsRedirect: tlsRedirect(vh) };
}

/**
 * Envoy's SslRedirectRoute: 301 to "https://" + the request's Host + path.
 * EXTERNAL_ONLY is treated as ALL: Trellis has no notion of internal
 * requests (Envoy's x-envoy-internal) at the edge.
 */
function tlsRedirect(vh: VirtualHost): CompiledRoute | undefined {
  if (vh.requireTls === VirtualHost_TlsRequirementType.NONE) return undefined;
  return {
    name: '',
    vhost: vh.name,
    match: () => true,
    action: { kind: 'redirect', status: 301, host: '', path: '', scheme: 'https', port: 0 },
    requestOps: [],
    responseOps: [],
    fault: undefined,
    cors: undefined,
  };
}
