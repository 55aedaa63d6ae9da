/**
 * Host names in VirtualServices and virtual host domains, with Istio's rules:
 * short names resolve relative to the VirtualService's namespace, "*.x"
 * wildcards match by suffix, and a proxy may address a service in its own
 * namespace by its short forms.
 */
import type { VirtualService } from '../../../config/objects.js';
import type { MeshModel, MeshService } from '../../registry/model.js';

/**
 * Istio's ResolveShortnameToFQDN: a name without dots is a Kubernetes short
 * name in the VirtualService's namespace; anything with a dot (or a wildcard)
 * is taken as written.
 */
export function resolveHost(host: string, namespace: string, domainSuffix: string): string {
  if (host === '*' || host.includes('.')) return host;
  return `${host}.${namespace}.svc.${domainSuffix}`;
}

/**
 * Does a VirtualService host (already resolved) select this service host?
 * A wildcard selects every host it covers, including narrower wildcards
 * ("*.example.com" covers "a.example.com" and "*.b.example.com").
 */
export function hostMatches(vsHost: string, serviceHost: string): boolean {
  if (vsHost === '*' || vsHost === serviceHost) return true;
  if (!vsHost.startsWith('*.')) return false;
  const suffix = vsHost.slice(1); // ".example.com"
  return serviceHost.endsWith(suffix) && serviceHost.length > suffix.length;
}

/** A VirtualService applies to sidecars when it names no gateways or names "mesh". */
export function appliesToMesh(gateways: readonly string[] | undefined): boolean {
  return gateways === undefined || gateways.length === 0 || gateways.includes('mesh');
}

export function vsNamespace(vs: VirtualService): string {
  return vs.metadata.namespace ?? 'default';
}

/** Model objects are immutable, so each VirtualService's resolved hosts are computed once per object. */
const resolvedCache = new WeakMap<VirtualService, { suffix: string; hosts: string[] }>();

export function resolvedHosts(vs: VirtualService, domainSuffix: string): string[] {
  const hit = resolvedCache.get(vs);
  if (hit !== undefined && hit.suffix === domainSuffix) return hit.hosts;
  const ns = vsNamespace(vs);
  const hosts = (vs.spec.hosts ?? []).map((h) => resolveHost(h, ns, domainSuffix));
  resolvedCache.set(vs, { suffix: domainSuffix, hosts });
  return hosts;
}

/** True when one of the VirtualService's hosts selects `hostname`. */
export function vsSelects(vs: VirtualService, hostname: string, domainSuffix: string): boolean {
  return resolvedHosts(vs, domainSuffix).some((h) => hostMatches(h, hostname));
}

/**
 * VirtualServices visible from one namespace, indexed by resolved host so
 * that finding the one for a service is a map lookup, not a scan of every
 * VirtualService (1,000 services × 500 VirtualServices per scope otherwise).
 * Wildcard hosts are rare and stay in a list.
 */
interface VsIndex {
  exact: Map<string, { vs: VirtualService; order: number }[]>;
  wildcard: { vs: VirtualService; order: number; host: string }[];
}
const vsIndexes = new WeakMap<MeshModel, Map<string, VsIndex>>();

function vsIndex(model: MeshModel, namespace: string): VsIndex {
  let byNs = vsIndexes.get(model);
  if (byNs === undefined) vsIndexes.set(model, (byNs = new Map()));
  let idx = byNs.get(namespace);
  if (idx !== undefined) return idx;
  idx = { exact: new Map(), wildcard: [] };
  model.virtualServices(namespace).forEach((vs, order) => {
    if (!appliesToMesh(vs.spec.gateways)) return;
    for (const host of new Set(resolvedHosts(vs, model.domainSuffix))) {
      if (host === '*' || host.startsWith('*.')) idx!.wildcard.push({ vs, order, host });
      else {
        const list = idx!.exact.get(host) ?? [];
        list.push({ vs, order });
        idx!.exact.set(host, list);
      }
    }
  });
  byNs.set(namespace, idx);
  return idx;
}

/**
 * The first VirtualService (in the model's precedence order) that applies to
 * sidecars, selects `hostname`, and satisfies `has` (e.g. "has http routes").
 * Istio merges VirtualServices only through delegates, so the first one wins.
 */
export function selectVirtualService(
  model: MeshModel,
  namespace: string,
  hostname: string,
  has: (vs: VirtualService) => boolean,
): VirtualService | undefined {
  const idx = vsIndex(model, namespace);
  let best: { vs: VirtualService; order: number } | undefined;
  for (const c of idx.exact.get(hostname) ?? []) {
    if (has(c.vs)) {
      best = c;
      break;
    }
  }
  for (const c of idx.wildcard) {
    if (best !== undefined && c.order >= best.order) break;
    if (hostMatches(c.host, hostname) && has(c.vs)) best = c;
  }
  return best?.vs;
}

/** Services of a scope by hostname, built once per scope's service list. */
const byHostname = new WeakMap<readonly MeshService[], Map<string, MeshService>>();

/** The services among `services` that a (resolved) VirtualService host selects. */
export function servicesSelectedBy(services: readonly MeshService[], vsHost: string): MeshService[] {
  if (vsHost === '*' || vsHost.startsWith('*.')) return services.filter((s) => hostMatches(vsHost, s.hostname));
  let map = byHostname.get(services);
  if (map === undefined) byHostname.set(services, (map = new Map(services.map((s) => [s.hostname, s]))));
  const hit = map.get(vsHost);
  return hit === undefined ? [] : [hit];
}

/**
 * Istio's virtual host domains for a service port: the FQDN, the short forms
 * a client may use (name, name.ns, name.ns.svc — "name" alone only from the
 * same namespace, since a bare name resolves in the client's namespace), and
 * the VIP, each also with ":PORT".
 */
export function serviceDomains(svc: MeshService, port: number, proxyNamespace: string, domainSuffix: string): string[] {
  const names = [svc.hostname];
  const kubeSuffix = `.${svc.namespace}.svc.${domainSuffix}`;
  if (svc.origin === 'Service' && svc.hostname.endsWith(kubeSuffix)) {
    const name = svc.hostname.slice(0, -kubeSuffix.length);
    if (svc.namespace === proxyNamespace) names.push(name);
    names.push(`${name}.${svc.namespace}`, `${name}.${svc.namespace}.svc`);
  }
  if (svc.vip !== undefined) names.push(svc.vip.includes(':') ? `[${svc.vip}]` : svc.vip);
  return names.flatMap((n) => [n, `${n}:${port}`]);
}
