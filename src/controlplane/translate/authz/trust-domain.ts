/**
 * istiod's trust-domain bundle for principals in AuthorizationPolicy: a
 * principal written for "cluster.local" (Istio's default, and what most
 * published policies say) or for a trust domain of the bundle is rewritten
 * for every trust domain of the bundle. Trellis has one trust domain and no
 * aliases, so the bundle is [trustDomain].
 */

function prefixMatch(a: string, pattern: string): boolean {
  return pattern.endsWith('*') && a.startsWith(pattern.slice(0, -1));
}

function suffixMatch(a: string, pattern: string): boolean {
  return pattern.startsWith('*') && a.endsWith(pattern.slice(1));
}

/** Either side may carry the wildcard. */
function stringMatch(a: string, list: readonly string[]): boolean {
  return list.some((s) => a === s || s === '*' || prefixMatch(a, s) || prefixMatch(s, a) || suffixMatch(a, s) || suffixMatch(s, a));
}

/** "TD/ns/NS/sa/SA": the trust domain is enforced unless the principal is not in that shape or its first part is "*". */
function trustDomainOf(principal: string): string | undefined {
  const parts = principal.split('/');
  return parts.length === 5 && parts[0] !== '*' ? parts[0] : undefined;
}

function forEachTrustDomain(principal: string, td: string, bundle: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of bundle) {
    // "*-td/ns/..." already covers every trust domain it matches: kept as written.
    const p = suffixMatch(t, td) ? principal : [t, ...principal.split('/').slice(1)].join('/');
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

export function replaceTrustDomainAliases(principals: readonly string[], bundle: readonly string[]): string[] {
  return principals.flatMap((p) => {
    const td = trustDomainOf(p);
    if (td === undefined) return [p];
    return stringMatch(td, bundle) || td === 'cluster.local' ? forEachTrustDomain(p, td, bundle) : [p];
  });
}

/** source.trustDomain / trustDomains: a trust domain of the bundle stands for all of them. */
export function expandTrustDomainAliases(values: readonly string[], bundle: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) for (const x of bundle.includes(v) ? bundle : [v]) if (!out.includes(x)) out.push(x);
  return out;
}
