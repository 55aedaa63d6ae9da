/**
 * envoy.filters.http.jwt_authn's JwtAuthentication compiled once per
 * listener update: providers with their keys parsed (cached for the plan's
 * life, never per request), token locations, and the requirement tree of
 * each rule. Keys come inline (local_jwks), as istiod sends them; a remote
 * JWKS, filter-state rules or a requirement naming no provider are refused
 * with their field paths, as Envoy refuses an unusable config.
 */
import { readFileSync } from 'node:fs';
import type { JwtAuthentication, JwtProvider, JwtRequirement } from '../../../gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { compileRouteMatch, type RoutePredicate } from '../../router/route-match.js';
import { parseJwks, type Jwk } from './jwks.js';

export const JWT_FILTER = 'envoy.filters.http.jwt_authn';

export type TokenLocation =
  | { kind: 'header'; name: string; prefix: string }
  | { kind: 'param'; name: string }
  | { kind: 'cookie'; name: string };

export interface ProviderPlan {
  name: string;
  issuer: string;
  audiences: readonly string[];
  keys: readonly Jwk[];
  forward: boolean;
  payloadHeader: string;
  claimHeaders: readonly { header: string; claim: string }[];
  payloadInMetadata: string;
  spaceDelimited: ReadonlySet<string>;
  clockSkew: number;
  locations: readonly TokenLocation[];
}

export type Requirement =
  | { kind: 'provider'; provider: ProviderPlan; audiences: readonly string[] | undefined }
  | { kind: 'any'; of: readonly Requirement[] }
  | { kind: 'all'; of: readonly Requirement[] }
  /** Tokens from the locations of `providers`: none is fine, a bad one fails (allow_missing_or_failed: never fails). */
  | { kind: 'allowMissing'; providers: readonly ProviderPlan[]; orFailed: boolean }
  | { kind: 'none' };

export interface JwtPlan {
  rules: readonly { match: RoutePredicate; requires: Requirement }[];
  /** Every provider, in config order: a token found by an allow_missing requirement is checked by the one of its issuer. */
  providers: readonly ProviderPlan[];
  bypassCorsPreflight: boolean;
  /** Headers a client must not set itself: the providers' payload and claim headers (Envoy sanitizes them). */
  sanitize: readonly string[];
  /** Keys left out of a key set (logged once when the filter first runs). */
  notes: readonly string[];
}

/** Envoy's defaults when a provider names no location: Authorization "Bearer " and ?access_token=. */
const DEFAULT_LOCATIONS: readonly TokenLocation[] = [{ kind: 'header', name: 'authorization', prefix: 'Bearer ' }, { kind: 'param', name: 'access_token' }];

function keysOf(p: JwtProvider, path: string, errors: string[], notes: string[]): Jwk[] {
  const src = p.jwksSourceSpecifier;
  if (src.case !== 'localJwks') {
    errors.push(`${path}.${src.case ?? 'jwksSourceSpecifier'}: only local_jwks is supported (the control plane inlines the keys)`);
    return [];
  }
  const d = src.value.specifier;
  let text: string;
  if (d.case === 'inlineString') text = d.value;
  else if (d.case === 'inlineBytes') text = Buffer.from(d.value).toString('utf8');
  else if (d.case === 'filename') {
    try {
      text = readFileSync(d.value, 'utf8');
    } catch (err) {
      errors.push(`${path}.localJwks.filename: ${(err as Error).message}`);
      return [];
    }
  } else {
    errors.push(`${path}.localJwks: no data`);
    return [];
  }
  const why: string[] = [];
  const keys = parseJwks(text, why);
  for (const w of why) notes.push(`${path}.localJwks: ${w}`);
  return keys;
}

function compileProvider(name: string, p: JwtProvider, path: string, errors: string[], notes: string[]): ProviderPlan {
  const locations: TokenLocation[] = [
    ...p.fromHeaders.map((h): TokenLocation => ({ kind: 'header', name: h.name.toLowerCase(), prefix: h.valuePrefix })),
    ...p.fromParams.map((n): TokenLocation => ({ kind: 'param', name: n })),
    ...p.fromCookies.map((n): TokenLocation => ({ kind: 'cookie', name: n })),
  ];
  return {
    name, issuer: p.issuer, audiences: p.audiences,
    keys: keysOf(p, path, errors, notes),
    forward: p.forward,
    payloadHeader: p.forwardPayloadHeader.toLowerCase(),
    claimHeaders: p.claimToHeaders.map((c) => ({ header: c.headerName.toLowerCase(), claim: c.claimName })),
    payloadInMetadata: p.payloadInMetadata,
    spaceDelimited: new Set(p.normalizePayloadInMetadata?.spaceDelimitedClaims ?? []),
    clockSkew: p.clockSkewSeconds > 0 ? p.clockSkewSeconds : 60,
    locations: locations.length > 0 ? locations : DEFAULT_LOCATIONS,
  };
}

interface Ctx {
  providers: ReadonlyMap<string, ProviderPlan>;
  errors: string[];
}

const MAX_DEPTH = 32;

function compileRequirement(r: JwtRequirement, path: string, ctx: Ctx, siblings: readonly ProviderPlan[], depth = 0): Requirement {
  if (depth > MAX_DEPTH) {
    ctx.errors.push(`${path}: nested deeper than ${MAX_DEPTH}`);
    return { kind: 'none' };
  }
  const t = r.requiresType;
  const named = (name: string, at: string) => {
    const p = ctx.providers.get(name);
    if (!p) ctx.errors.push(`${at}: Required provider ['${name}'] is not configured.`);
    return p;
  };
  switch (t.case) {
    case 'providerName': {
      const p = named(t.value, `${path}.providerName`);
      return p ? { kind: 'provider', provider: p, audiences: undefined } : { kind: 'none' };
    }
    case 'providerAndAudiences': {
      const p = named(t.value.providerName, `${path}.providerAndAudiences.providerName`);
      return p ? { kind: 'provider', provider: p, audiences: t.value.audiences } : { kind: 'none' };
    }
    case 'requiresAll':
      return { kind: 'all', of: t.value.requirements.map((x, i) => compileRequirement(x, `${path}.requiresAll.requirements[${i}]`, ctx, [], depth + 1)) };
    case 'requiresAny': return compileAny(t.value.requirements, `${path}.requiresAny.requirements`, ctx, depth);
    // Outside requires_any there are no sibling providers: the bypass then covers no location (Envoy's).
    case 'allowMissing': return { kind: 'allowMissing', providers: siblings, orFailed: false };
    case 'allowMissingOrFailed': return { kind: 'allowMissing', providers: siblings, orFailed: true };
    default: return { kind: 'none' };
  }
}

/**
 * Envoy's AnyVerifier: the named providers first, in order, then one bypass
 * (allow_missing_or_failed over allow_missing) over those providers' locations.
 */
function compileAny(list: readonly JwtRequirement[], path: string, ctx: Ctx, depth: number): Requirement {
  const regular: Requirement[] = [];
  const used: ProviderPlan[] = [];
  let bypass: JwtRequirement | undefined;
  list.forEach((x, i) => {
    const c = x.requiresType.case;
    if (c === 'allowMissing' || c === 'allowMissingOrFailed') {
      if (!bypass || bypass.requiresType.case === 'allowMissing') bypass = x;
      return;
    }
    const r = compileRequirement(x, `${path}[${i}]`, ctx, [], depth + 1);
    if (r.kind === 'provider') used.push(r.provider);
    regular.push(r);
  });
  if (bypass) regular.push(compileRequirement(bypass, path, ctx, used, depth + 1));
  if (regular.length === 0) ctx.errors.push(`${path}: empty`);
  return { kind: 'any', of: regular };
}

export function compileJwtAuthn(cfg: JwtAuthentication, path: string, errors: string[]): JwtPlan {
  const notes: string[] = [];
  const providers = new Map<string, ProviderPlan>();
  for (const name of Object.keys(cfg.providers).sort()) {
    providers.set(name, compileProvider(name, cfg.providers[name]!, `${path}.providers[${name}]`, errors, notes));
  }
  if (cfg.filterStateRules) errors.push(`${path}.filterStateRules: not supported`);
  const ctx: Ctx = { providers, errors };
  const rules = cfg.rules.map((r, i) => {
    const at = `${path}.rules[${i}]`;
    const match = compileRouteMatch(r.match, `${at}.match`, errors);
    const t = r.requirementType;
    let requires: Requirement = { kind: 'none' };
    if (t.case === 'requires') requires = compileRequirement(t.value, `${at}.requires`, ctx, []);
    else if (t.case === 'requirementName') {
      const named = cfg.requirementMap[t.value];
      if (named) requires = compileRequirement(named, `${at}.requirementName`, ctx, []);
      else errors.push(`${at}.requirementName: ${t.value} is not in requirement_map`);
    }
    return { match, requires };
  });
  const all = [...providers.values()];
  const sanitize = [...new Set(all.flatMap((p) => [...(p.payloadHeader ? [p.payloadHeader] : []), ...p.claimHeaders.map((c) => c.header)]))];
  return { rules, providers: all, bypassCorsPreflight: cfg.bypassCorsPreflight, sanitize, notes };
}
