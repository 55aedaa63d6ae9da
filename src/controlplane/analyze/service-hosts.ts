/**
 * Which registry service a destination host names, for a VirtualService, the
 * way istioctl analyze decides it (ReferencedResourceNotFound): the host,
 * short names resolved in the VirtualService's namespace, must be a service
 * (Kubernetes Service or ServiceEntry host) visible where the VirtualService
 * applies, or fall under a visible wildcard ServiceEntry host.
 */
import type { VirtualService } from '../../config/objects.js';
import type { MeshService } from '../registry/model.js';
import { hostMatches, isExportedTo } from '../registry/visibility.js';
import { resolveHost } from '../translate/routes/hosts.js';

/**
 * The namespaces whose proxies use a VirtualService. Without exportTo,
 * istioctl analyze looks from the VirtualService's own namespace only; "*"
 * means any namespace.
 */
export interface VsScope {
  readonly anyNamespace: boolean;
  readonly namespaces: readonly string[];
}

export function vsScope(vs: VirtualService): VsScope {
  const own = vs.metadata.namespace ?? 'default';
  const exportTo = vs.spec.exportTo ?? [];
  if (exportTo.length === 0) return { anyNamespace: false, namespaces: [own] };
  return { anyNamespace: exportTo.includes('*'), namespaces: exportTo.map((e) => (e === '.' ? own : e)) };
}

function visibleIn(svc: MeshService, scope: VsScope): boolean {
  if (scope.anyNamespace && svc.exportTo.some((e) => e !== '~')) return true;
  return scope.namespaces.some((ns) => isExportedTo(svc.exportTo, svc.namespace, ns));
}

export class ServiceHosts {
  readonly #byHost = new Map<string, MeshService>();
  readonly #wildcards: MeshService[] = [];

  constructor(
    services: readonly MeshService[],
    readonly domainSuffix: string,
  ) {
    for (const s of services) {
      if (s.hostname.startsWith('*')) this.#wildcards.push(s);
      else this.#byHost.set(s.hostname, s);
    }
  }

  /** The FQDN a destination host of `vs` stands for (what its cluster name carries). */
  resolve(host: string, vs: VirtualService): string {
    return resolveHost(host, vs.metadata.namespace ?? 'default', this.domainSuffix);
  }

  /** The service `host` (as written in `vs`) names, or undefined when there is none its proxies can see. */
  find(host: string, vs: VirtualService, scope: VsScope = vsScope(vs)): MeshService | undefined {
    const fqdn = this.resolve(host, vs);
    const exact = this.#byHost.get(fqdn);
    if (exact !== undefined && visibleIn(exact, scope)) return exact;
    // A wildcard ServiceEntry covers its names, and narrower wildcards ("*.a.example.com" under "*.example.com").
    return this.#wildcards.find((s) => hostMatches(s.hostname, fqdn) && visibleIn(s, scope));
  }
}
