/**
 * envoy.filters.http.jwt_authn as an HTTP filter: the first rule whose
 * match fits the request decides which tokens are required; a request that
 * fails gets Envoy's local reply — 401 (403 for a disallowed audience) with
 * the reason as body, `www-authenticate: Bearer realm="URI"` (plus
 * `error="invalid_token"` unless the token was missing) and the details
 * jwt_authn_access_denied{Reason_with_underscores}. A request that passes
 * carries the verified payloads as this filter's dynamic metadata, where
 * RBAC's metadata matchers (requestPrincipals, request.auth.claims) read them.
 */
import { logger } from '../../../log.js';
import { CONTINUE, STOP, type FilterStatus, type HttpFilter } from '../filter.js';
import { localReply } from '../local-reply.js';
import type { HttpStream } from '../stream.js';
import { JWT_FILTER, type JwtPlan } from './jwt-plan.js';
import { JwtStatus } from './jwt-status.js';
import { verifyRequirement, type VerifyContext } from './verify-requirement.js';

const log = logger('jwt');
const noted = new WeakSet<JwtPlan>();
/** Envoy cuts the realm's URI at 256 characters. */
const MAX_URI = 256;

function isCorsPreflight(ex: HttpStream): boolean {
  const h = ex.req.headers;
  return ex.req.method === 'OPTIONS' && !!h['origin'] && !!h['access-control-request-method'];
}

function realm(ex: HttpStream): string {
  const scheme = ex.conn.tls ? 'https' : 'http';
  return `${scheme}://${ex.info.authority}${ex.view.path}`.slice(0, MAX_URI);
}

export class JwtAuthnFilter implements HttpFilter {
  readonly name: string;
  readonly #plan: JwtPlan;

  constructor(name: string, plan: JwtPlan) {
    this.name = name;
    this.#plan = plan;
  }

  decodeHeaders(ex: HttpStream): FilterStatus {
    const plan = this.#plan;
    if (plan.notes.length > 0 && !noted.has(plan)) {
      noted.add(plan);
      for (const n of plan.notes) log.warn('JWKS key left out', { note: n });
    }
    // Clients must not pose as the filter: headers it writes are its alone.
    for (const h of plan.sanitize) delete ex.req.headers[h];
    if (plan.bypassCorsPreflight && isCorsPreflight(ex)) return CONTINUE;
    const rule = plan.rules.find((r) => r.match(ex.view));
    if (!rule) return CONTINUE;
    const ctx: VerifyContext = { view: ex.view, plan, nowSeconds: Math.floor(Date.now() / 1000), payloads: undefined };
    const status = verifyRequirement(ctx, rule.requires);
    if (status === JwtStatus.Ok) {
      if (ctx.payloads) (ex.metadata ??= {})[JWT_FILTER] = ctx.payloads;
      return CONTINUE;
    }
    const code = status === JwtStatus.AudienceNotAllowed ? 403 : 401;
    const challenge = `Bearer realm="${realm(ex)}"${status === JwtStatus.Missed ? '' : ', error="invalid_token"'}`;
    localReply(ex, code, undefined, `jwt_authn_access_denied{${status.replace(/\s/g, '_')}}`, status, { 'www-authenticate': challenge });
    return STOP;
  }
}
