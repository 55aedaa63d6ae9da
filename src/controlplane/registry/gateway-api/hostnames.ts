/** Gateway API hostnames against each other (istiod's host.Name Matches / SubsetOf / Intersection). */

/** Does every name `a` covers also fall under `b`? ("a.example.com" ⊆ "*.example.com" ⊆ "*") */
export function hostSubsetOf(a: string, b: string): boolean {
  if (b === '*' || a === b) return true;
  if (a === '*' || !b.startsWith('*.')) return false;
  // "*.a.example.com" and "x.example.com" both fall under "*.example.com" (any depth, as Istio).
  return a.endsWith(b.slice(1));
}

/** Do the two names share any host? */
export function hostsOverlap(a: string, b: string): boolean {
  return hostSubsetOf(a, b) || hostSubsetOf(b, a);
}

/** The narrower of each overlapping pair, once each: the hosts a route serves on a listener. */
export function intersectHosts(routeHosts: readonly string[], listenerHost: string | undefined): string[] {
  if (listenerHost === undefined) return [...routeHosts];
  const out: string[] = [];
  for (const h of routeHosts) {
    const hit = hostSubsetOf(h, listenerHost) ? h : hostSubsetOf(listenerHost, h) ? listenerHost : undefined;
    if (hit !== undefined && !out.includes(hit)) out.push(hit);
  }
  return out;
}
