/** Which jwksUris the accepted config needs fetched, with istiod's fetch timeout for each. */
import type { AnyObject } from '../../config/objects.js';
import { parseDuration } from '../../config/duration.js';

/** istiod's default for JWTRule.timeout. */
export const DefaultJwksTimeoutMs = 5000;

/** Every jwksUri of a rule without inline keys (those are never fetched); the longest timeout asked for wins. */
export function jwksUrisOf(objects: Iterable<AnyObject>): Map<string, number> {
  const out = new Map<string, number>();
  for (const o of objects) {
    if (o.kind !== 'RequestAuthentication') continue;
    for (const r of o.spec?.jwtRules ?? []) {
      if (!r.jwksUri || r.jwks) continue;
      const t = (r.timeout === undefined ? undefined : parseDuration(r.timeout)) ?? DefaultJwksTimeoutMs;
      out.set(r.jwksUri, Math.max(out.get(r.jwksUri) ?? 0, t));
    }
  }
  return out;
}
