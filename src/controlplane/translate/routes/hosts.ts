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
  return model.virtualServices(namespace).find(
    (vs) => appliesToMesh(vs.spec.gateways) && has(vs) && vsSelects(vs, hostname, model.domainSuffix),
  );
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
