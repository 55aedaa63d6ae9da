/**
 * The order the Gateway API requires among HTTP routes of one host (istiod's
 * sortHTTPRoutes, a stable sort over routes of one match each): Exact before
 * PathPrefix before RegularExpression, then the longer path, then a method
 * match, then more header matches, then more query parameter matches; ties
 * keep their order (oldest route first, then rule order). Routes without a
 * match go last.
 */
import type { HTTPMatchRequest, HTTPRoute } from '../../../config/objects.js';

function uriRank(m: HTTPMatchRequest): number {
  if (m.uri?.exact !== undefined) return 3;
  if (m.uri?.prefix !== undefined) return 2;
  if (m.uri?.regex !== undefined) return 1;
  return -1;
}

const uriLength = (m: HTTPMatchRequest): number => (m.uri?.exact ?? m.uri?.prefix ?? m.uri?.regex ?? '').length;
const count = (o: object | undefined): number => (o === undefined ? 0 : Object.keys(o).length);

/** Negative when `a` goes first. */
export function compareRoutes(a: HTTPRoute, b: HTTPRoute): number {
  const ma = a.match?.[0];
  const mb = b.match?.[0];
  if (ma === undefined || mb === undefined) return (ma === undefined ? 1 : 0) - (mb === undefined ? 1 : 0);
  return (
    uriRank(mb) - uriRank(ma) ||
    uriLength(mb) - uriLength(ma) ||
    (mb.method !== undefined ? 1 : 0) - (ma.method !== undefined ? 1 : 0) ||
    count(mb.headers) - count(ma.headers) ||
    count(mb.queryParams) - count(ma.queryParams)
  );
}

/** A sorted copy (Array.prototype.sort is stable). */
export const sortHttpRoutes = (routes: readonly HTTPRoute[]): HTTPRoute[] => [...routes].sort(compareRoutes);
