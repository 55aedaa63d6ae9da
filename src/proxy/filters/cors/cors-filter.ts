/**
 * The CORS filter (envoy.filters.http.cors) with Envoy's semantics, driven by
 * the route's policy (cors-plan.ts): a preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) from an allowed origin is answered here
 * with 200 and the allow headers; other requests from an allowed origin go
 * on and their response gets Access-Control-Allow-Origin (and -Credentials,
 * -Expose-Headers). An origin not allowed adds nothing; its preflight goes
 * to the upstream unless forward_not_matching_preflights is false. Counts
 * `http.<stat_prefix>.cors.origin_valid|origin_invalid` as Envoy does.
 */
import type { Headers } from '../../router/header-ops.js';
import { hit } from '../fault/fault-plan.js';
import { CONTINUE, STOP, type FilterStatus, type HttpFilter } from '../filter.js';
import { headersReply } from '../local-reply.js';
import type { Counters } from '../rbac/rbac-filter.js';
import type { HttpStream } from '../stream.js';
import { CORS_FILTER, originAllowed, type CorsPlan } from './cors-plan.js';

export interface CorsStatNames {
  readonly valid: string;
  readonly invalid: string;
}

export function corsStatNames(hcmStatPrefix: string): CorsStatNames {
  return { valid: `http.${hcmStatPrefix}.cors.origin_valid`, invalid: `http.${hcmStatPrefix}.cors.origin_invalid` };
}

export class CorsFilter implements HttpFilter {
  readonly name = CORS_FILTER;
  readonly #stats: CorsStatNames;
  readonly #counters: Counters;

  constructor(stats: CorsStatNames, counters: Counters) {
    this.#stats = stats;
    this.#counters = counters;
  }

  decodeHeaders(ex: HttpStream): FilterStatus {
    const c = policyOf(ex);
    if (!c) return CONTINUE;
    const enabled = hit(c.enabledPpm);
    if (!enabled && !hit(c.shadowPpm)) return CONTINUE;
    const origin = one(ex.req.headers.origin);
    if (!origin) return CONTINUE;
    const allowed = originAllowed(c, origin);
    this.#counters.inc(allowed ? this.#stats.valid : this.#stats.invalid);
    // Shadow mode: counted only.
    if (!enabled) return CONTINUE;
    if (allowed) ex.corsOrigin = origin;
    if (ex.req.method !== 'OPTIONS') return CONTINUE;
    const requestMethod = one(ex.req.headers['access-control-request-method']);
    if (!requestMethod) return CONTINUE;
    if (!allowed && c.forwardNotMatchingPreflights) return CONTINUE;
    headersReply(ex, 200, preflightHeaders(c, ex, allowed ? origin : undefined, requestMethod), 'cors_response');
    return STOP;
  }

  encodeHeaders(ex: HttpStream, _status: number, headers: Headers): void {
    const origin = ex.corsOrigin;
    const c = origin ? policyOf(ex) : undefined;
    if (!origin || !c) return;
    headers['access-control-allow-origin'] = origin;
    if (c.allowCredentials) headers['access-control-allow-credentials'] = 'true';
    if (c.exposeHeaders) headers['access-control-expose-headers'] = c.exposeHeaders;
  }
}

/** Envoy skips routes without a route entry: direct responses and redirects. */
function policyOf(ex: HttpStream): CorsPlan | undefined {
  const r = ex.route;
  return r?.action.kind === 'forward' ? r.cors : undefined;
}

/** The preflight answer; "*" in allow_methods / allow_headers echoes what the browser asked for. */
function preflightHeaders(c: CorsPlan, ex: HttpStream, origin: string | undefined, requestMethod: string): Headers {
  const h: Headers = {};
  if (origin) h['access-control-allow-origin'] = origin;
  if (c.allowCredentials) h['access-control-allow-credentials'] = 'true';
  if (c.allowMethods) h['access-control-allow-methods'] = c.allowMethods === '*' ? requestMethod : c.allowMethods;
  if (c.allowHeaders) {
    const asked = one(ex.req.headers['access-control-request-headers']);
    if (c.allowHeaders !== '*') h['access-control-allow-headers'] = c.allowHeaders;
    else if (asked) h['access-control-allow-headers'] = asked;
  }
  if (c.maxAge) h['access-control-max-age'] = c.maxAge;
  if (c.allowPrivateNetworkAccess && one(ex.req.headers['access-control-request-private-network']) === 'true') {
    h['access-control-allow-private-network'] = 'true';
  }
  return h;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
