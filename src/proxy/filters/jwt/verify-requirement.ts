/**
 * A request against a rule's requirement tree, as Envoy's verifiers and
 * authenticator decide it — synchronously, since every key is local. A token
 * that passes (issuer allowed at its location, exp/nbf with the provider's
 * clock skew, audiences, signature) immediately leaves its traces on the
 * request: its payload for the dynamic metadata, the payload and claim
 * headers, and the token header removed unless the provider forwards it.
 */
import type { RequestView } from '../../router/route-match.js';
import { extractTokens, type FoundToken } from './extract.js';
import { checkTime, parseJwt, verifySignature, type Claims, type Jwt } from './jws.js';
import { JwtStatus } from './jwt-status.js';
import type { JwtPlan, ProviderPlan, Requirement } from './jwt-plan.js';

/** What verification leaves: payloads by metadata key (the filter's dynamic metadata). */
export interface VerifyContext {
  view: RequestView;
  plan: JwtPlan;
  nowSeconds: number;
  payloads: Record<string, Claims> | undefined;
}

/** CheckAudience's normalisation: no scheme, no trailing slash. */
const normAud = (a: string) => a.replace(/^https?:\/\//, '').replace(/\/$/, '');

function audiencesAllowed(allowed: readonly string[], jwt: Jwt): boolean {
  if (allowed.length === 0) return true;
  const want = new Set(allowed.map(normAud));
  return jwt.audiences.some((a) => want.has(normAud(a)));
}

/** Envoy's claim → header text: strings as they are, integers without a fraction, booleans; anything else nothing. */
function claimText(v: unknown): string | undefined {
  if (typeof v === 'string') return v || undefined;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' && Number.isFinite(v)) return Number.isInteger(v) && v >= 0 ? String(v) : v.toFixed(6);
  return undefined;
}

/** normalize_payload_in_metadata: the listed claims, when strings, become lists of their space-separated parts. */
function normalised(payload: Claims, spaceDelimited: ReadonlySet<string>): Claims {
  if (spaceDelimited.size === 0) return payload;
  const out: Claims = { ...payload };
  for (const c of spaceDelimited) {
    const v = out[c];
    if (typeof v === 'string') out[c] = v.split(' ').filter((s) => s !== '');
  }
  return out;
}

function passed(ctx: VerifyContext, t: FoundToken, jwt: Jwt, p: ProviderPlan): void {
  const h = ctx.view.headers;
  if (p.payloadHeader) h[p.payloadHeader] = jwt.payloadB64;
  for (const c of p.claimHeaders) {
    const v = claimText(jwt.payload[c.claim]);
    if (v !== undefined) h[c.header] = v;
  }
  if (!p.forward && t.header) delete h[t.header];
  if (p.payloadInMetadata) (ctx.payloads ??= {})[p.payloadInMetadata] = normalised(jwt.payload, p.spaceDelimited);
}

/** The provider a token without a named provider belongs to: the first of its issuer, else the first without one. */
function byIssuer(plan: JwtPlan, iss: string): ProviderPlan | undefined {
  return plan.providers.find((p) => p.issuer === iss) ?? plan.providers.find((p) => p.issuer === '');
}

function verifyToken(ctx: VerifyContext, t: FoundToken, named: ProviderPlan | undefined, audiences: readonly string[] | undefined): JwtStatus {
  const jwt = parseJwt(t.token);
  if (typeof jwt === 'string') return jwt;
  if (t.issuers && !t.issuers.has(jwt.iss)) return JwtStatus.UnknownIssuer;
  const p = named ?? byIssuer(ctx.plan, jwt.iss);
  if (!p) return JwtStatus.UnknownIssuer;
  const time = checkTime(jwt, ctx.nowSeconds, p.clockSkew);
  if (time !== JwtStatus.Ok) return time;
  if (!audiencesAllowed(audiences ?? p.audiences, jwt)) return JwtStatus.AudienceNotAllowed;
  const sig = verifySignature(jwt, p.keys);
  if (sig !== JwtStatus.Ok) return sig;
  passed(ctx, t, jwt, p);
  return JwtStatus.Ok;
}

/** Every token must pass: a good token beside a bad one could let the app read the bad one as verified. */
function verifyAll(ctx: VerifyContext, tokens: readonly FoundToken[], named: ProviderPlan | undefined, audiences?: readonly string[]): JwtStatus {
  for (const t of tokens) {
    const s = verifyToken(ctx, t, named, audiences);
    if (s !== JwtStatus.Ok) return s;
  }
  return JwtStatus.Ok;
}

export function verifyRequirement(ctx: VerifyContext, r: Requirement): JwtStatus {
  switch (r.kind) {
    case 'none': return JwtStatus.Ok;
    case 'provider': {
      const tokens = extractTokens(ctx.view, [r.provider]);
      return tokens.length === 0 ? JwtStatus.Missed : verifyAll(ctx, tokens, r.provider, r.audiences);
    }
    case 'allowMissing': {
      const s = verifyAll(ctx, extractTokens(ctx.view, r.providers), undefined);
      return r.orFailed || s === JwtStatus.Missed ? JwtStatus.Ok : s;
    }
    case 'all': {
      for (const x of r.of) {
        const s = verifyRequirement(ctx, x);
        if (s !== JwtStatus.Ok) return s;
      }
      return JwtStatus.Ok;
    }
    case 'any': {
      // Envoy's AnyVerifier: the first success wins; when all fail, the last one's status is the answer.
      let last: JwtStatus = JwtStatus.Ok;
      for (const x of r.of) {
        last = verifyRequirement(ctx, x);
        if (last === JwtStatus.Ok) return last;
      }
      return last;
    }
  }
}
