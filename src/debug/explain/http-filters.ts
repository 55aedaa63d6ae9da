/**
 * The HTTP filters before the router, run on the request as explain knows it:
 * RBAC with the proxy's engine (enforcedVerdict), fault injection with the
 * route's compiled fault plan. A filter that stops the request gives the
 * outcome (403 with rbac_access_denied_matched_policy[...], FI with its
 * status); JWT cannot be judged without a token's verification and is noted.
 */
import type { DownstreamRequest } from '../../proxy/codec/downstream.js';
import type { HttpFilterConfig } from '../../proxy/filters/http-filters.js';
import { enforcedVerdict } from '../../proxy/filters/rbac/rbac-filter.js';
import { httpInput } from '../../proxy/filters/rbac/rbac-input.js';
import type { ConnContext } from '../../proxy/listener/conn-context.js';
import type { RequestView } from '../../proxy/router/route-match.js';
import type { CompiledRoute } from '../../proxy/router/route-table.js';
import { routeClusterName } from '../../proxy/router/router-filter.js';
import { citeRbacPolicy } from './cite.js';
import type { ParsedRequest } from './request.js';
import { outcome, type Trail } from './trail.js';
import type { Outcome } from './types.js';

export interface FilterResult {
  /** Set when a filter answered instead of the router. */
  stopped?: Outcome;
  /** Flags a filter added to a request that goes on (DI). */
  flags: string[];
}

/** Envoy's default response for an HTTP fault abort without a status. */
const FAULT_DEFAULT_STATUS = 503;

export function runFilters(t: Trail, filters: readonly HttpFilterConfig[], route: CompiledRoute | undefined, r: ParsedRequest, view: RequestView, conn: ConnContext): FilterResult {
  const flags: string[] = [];
  for (const f of filters) {
    if (f.kind === 'rbac') {
      const req = { headers: r.headers, httpVersionMajor: 1, method: r.method, url: r.query ? `${r.path}?${r.query}` : r.path } as unknown as DownstreamRequest;
      const v = enforcedVerdict(f.rbac, httpInput(req, conn, view, undefined));
      const policies = f.rbac.engine?.policies.map((p) => p.name) ?? [];
      const why = [`${f.name}: action ${v.action}, ${policies.length} polic${policies.length === 1 ? 'y' : 'ies'}${policies.length ? ` (${policies.map(citeRbacPolicy).join('; ')})` : ''}`];
      if (v.policy) why.push(`matched ${v.policy}`);
      if (v.allowed) {
        t.add('authorization', `${f.name} allows the request`, why, v.policy ? citeRbacPolicy(v.policy) : undefined);
        continue;
      }
      t.add('authorization', `${f.name} denies the request: 403 "RBAC: access denied"`, why, v.policy ? citeRbacPolicy(v.policy) : undefined);
      return { stopped: outcome(403, [], v.detail, ''), flags };
    }
    if (f.kind === 'jwt') {
      t.notes.push(`${f.name} (RequestAuthentication) is not judged: explain sends no token; a request with a valid one may be treated differently`);
      continue;
    }
    if (f.kind !== 'fault' || !route?.fault) continue;
    const fault = route.fault;
    if (!fault.headers.every((m) => m(view))) {
      t.add('filter', 'fault injection: the route\'s fault applies only to requests with other headers', [], undefined);
      continue;
    }
    if (fault.delayPpm > 0 && fault.delayMs > 0) {
      const sure = fault.delayPpm >= 1_000_000;
      t.add('filter', `fault injection: delay ${fault.delayMs} ms for ${fault.delayPpm / 10_000}% of requests`, sure ? ['every request: flag DI'] : ['a random draw per request decides']);
      if (sure) flags.push('DI');
      else t.notes.push(`the delay is drawn per request (${fault.delayPpm / 10_000}%): predicted without it`);
    }
    if (fault.abortPpm > 0) {
      // An HTTP/1.1 client gets the HTTP status: a gRPC status is for gRPC requests over HTTP/2.
      const status = fault.abortStatus ?? FAULT_DEFAULT_STATUS;
      const sure = fault.abortPpm >= 1_000_000;
      t.add('filter', `fault injection: abort with ${status} for ${fault.abortPpm / 10_000}% of requests`, sure ? ['every request: flag FI, fault_filter_abort'] : ['a random draw per request decides']);
      // The proxy names the route's cluster on an abort (as Envoy resolves it with the route), picked as the router would.
      const cluster = routeClusterName(route, { ...r.headers, 'x-request-id': r.requestId });
      if (sure) return { stopped: outcome(status, [...flags, 'FI'], 'fault_filter_abort', cluster ?? ''), flags };
      t.notes.push(`the abort is drawn per request (${fault.abortPpm / 10_000}%): predicted without it`);
    }
  }
  return { flags };
}
