/**
 * RequestAuthentication → envoy.filters.http.jwt_authn, as istiod's
 * policy_applier.go convertToEnvoyJwtConfig builds it for a sidecar's
 * inbound HCMs. Pure: the keys of a jwksUri come in through `jwks` (the
 * control plane fetches them, jwks/jwks-resolver.ts), as istiod inlines them
 * by default (PILOT_JWT_ENABLE_REMOTE_JWKS=false).
 *
 * Providers are origins-0..N over the rules of every selected policy sorted
 * by issuer; each provider is required "or allow missing": a request without
 * a token passes (authorization decides), one with a token that fails any
 * provider it is offered to gets 401. With several providers, any one of
 * them alone also passes (for providers that share a token location).
 */
import { create } from '@bufbuild/protobuf';
import type { JWTRule, RequestAuthentication } from '../../../config/objects.js';
import { DataSourceSchema } from '../../../gen/envoy/config/core/v3/base_pb.js';
import { RouteMatchSchema } from '../../../gen/envoy/config/route/v3/route_components_pb.js';
import {
  JwtAuthenticationSchema,
  JwtClaimToHeaderSchema,
  JwtHeaderSchema,
  JwtProvider_NormalizePayloadSchema,
  JwtProviderSchema,
  JwtRequirementSchema,
  RequirementRuleSchema,
  type JwtAuthentication,
  type JwtProvider,
  type JwtRequirement,
} from '../../../gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { HttpFilterSchema, type HttpFilter } from '../../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { typed } from '../common.js';

export const JwtAuthnFilterName = 'envoy.filters.http.jwt_authn';
/** Where the verified payload goes in the filter's dynamic metadata (istiod's filters.EnvoyJwtFilterPayload): RBAC reads it there. */
export const JwtPayloadKey = 'payload';
/** Claims Envoy splits at spaces in the metadata (istiod always adds these two). */
const DefaultSpaceDelimited = ['permission', 'scope'];

/** The keys of a jwksUri as last fetched; undefined when there are none (not yet, or the fetch failed). */
export type JwksLookup = (uri: string) => string | undefined;

/**
 * istiod's stand-in when a jwksUri could not be fetched (CreateFakeJwks): one
 * RSA key nobody holds, so every token is rejected rather than every request
 * let through.
 */
export function fakeJwks(uri: string): string {
  return JSON.stringify({ keys: [{ e: 'AQAB', kid: 'abc', kty: 'RSA', n: Buffer.from(uri).toString('base64url') }] });
}

/** istiod's buildSpaceDelimitedClaims: the rule's claims plus the defaults, deduplicated and sorted. */
function spaceDelimited(claims: readonly string[] | undefined): string[] {
  return [...new Set([...(claims ?? []), ...DefaultSpaceDelimited])].sort();
}

/** The inline key set: a rule's own jwks wins, then the fetched jwksUri, then the key set that rejects everything. */
export function inlineJwks(rule: JWTRule, jwks: JwksLookup): string {
  if (rule.jwks) return rule.jwks;
  if (!rule.jwksUri) return '';
  return jwks(rule.jwksUri) ?? fakeJwks(rule.jwksUri);
}

function provider(rule: JWTRule, jwks: JwksLookup): JwtProvider {
  return create(JwtProviderSchema, {
    issuer: rule.issuer,
    audiences: rule.audiences ?? [],
    forward: rule.forwardOriginalToken ?? false,
    forwardPayloadHeader: rule.outputPayloadToHeader ?? '',
    payloadInMetadata: JwtPayloadKey,
    normalizePayloadInMetadata: create(JwtProvider_NormalizePayloadSchema, { spaceDelimitedClaims: spaceDelimited(rule.spaceDelimitedClaims) }),
    claimToHeaders: (rule.outputClaimToHeaders ?? []).map((c) => create(JwtClaimToHeaderSchema, { headerName: c.header, claimName: c.claim })),
    fromHeaders: (rule.fromHeaders ?? []).map((h) => create(JwtHeaderSchema, { name: h.name, valuePrefix: h.prefix ?? '' })),
    fromParams: rule.fromParams ?? [],
    fromCookies: rule.fromCookies ?? [],
    jwksSourceSpecifier: { case: 'localJwks', value: create(DataSourceSchema, { specifier: { case: 'inlineString', value: inlineJwks(rule, jwks) } }) },
  });
}

const byName = (providerName: string): JwtRequirement => create(JwtRequirementSchema, { requiresType: { case: 'providerName', value: providerName } });
const anyOf = (requirements: JwtRequirement[]): JwtRequirement => create(JwtRequirementSchema, { requiresType: { case: 'requiresAny', value: { requirements } } });
const allOf = (requirements: JwtRequirement[]): JwtRequirement => create(JwtRequirementSchema, { requiresType: { case: 'requiresAll', value: { requirements } } });
const allowMissing = (): JwtRequirement => create(JwtRequirementSchema, { requiresType: { case: 'allowMissing', value: {} } });

/** The rules of every policy, sorted by issuer (stable: equal issuers keep the policies' order). */
export function jwtRulesOf(policies: readonly RequestAuthentication[]): JWTRule[] {
  return policies.flatMap((p) => p.spec?.jwtRules ?? []).sort((a, b) => (a.issuer < b.issuer ? -1 : a.issuer > b.issuer ? 1 : 0));
}

/** The filter's config; undefined when no policy has a rule. */
export function jwtAuthentication(rules: readonly JWTRule[], jwks: JwksLookup): JwtAuthentication | undefined {
  if (rules.length === 0) return undefined;
  const providers: Record<string, JwtProvider> = {};
  const inner: JwtRequirement[] = [];
  const outer: JwtRequirement[] = [];
  rules.forEach((rule, i) => {
    const name = `origins-${i}`;
    providers[name] = provider(rule, jwks);
    inner.push(anyOf([byName(name), allowMissing()]));
    outer.push(byName(name));
  });
  const requires = inner.length === 1 ? inner[0]! : anyOf([...outer, allOf(inner)]);
  return create(JwtAuthenticationSchema, {
    providers,
    rules: [create(RequirementRuleSchema, {
      match: create(RouteMatchSchema, { pathSpecifier: { case: 'prefix', value: '/' } }),
      requirementType: { case: 'requires', value: requires },
    })],
    bypassCorsPreflight: true,
  });
}

/** The HTTP filter for a workload's inbound HCMs (before RBAC), or none. */
export function jwtAuthnFilters(policies: readonly RequestAuthentication[], jwks: JwksLookup): HttpFilter[] {
  const cfg = jwtAuthentication(jwtRulesOf(policies), jwks);
  if (!cfg) return [];
  return [create(HttpFilterSchema, { name: JwtAuthnFilterName, configType: { case: 'typedConfig', value: typed(JwtAuthenticationSchema, cfg) } })];
}
