import type { Sidecar } from '../../config/objects.js';
import type { MeshService } from './model.js';

/**
 * Istio's visibility rules: exportTo on services and config, and the hosts
 * of a Sidecar's egress listeners ("ns/host").
 */

/** exportTo: "*" everyone, "." the owner's namespace, "~" nobody, else namespace names. Empty means "*". */
export function isExportedTo(exportTo: readonly string[] | undefined, ownerNamespace: string, fromNamespace: string): boolean {
  if (!exportTo || exportTo.length === 0) return true;
  for (const e of exportTo) {
    if (e === '*') return true;
    if (e === '.' ? ownerNamespace === fromNamespace : e === fromNamespace) return true;
  }
  return false;
}

/** A hostname pattern: "*" any, "*.example.com" any name ending in ".example.com", else exact. */
export function hostMatches(pattern: string, hostname: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return hostname.endsWith(pattern.slice(1));
  return pattern === hostname;
}

/** One parsed egress host: "./*" → { namespace: ".", host: "*" }. */
export interface EgressHost {
  namespace: string;
  host: string;
}

export function parseEgressHost(text: string): EgressHost | undefined {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) return undefined;
  return { namespace: text.slice(0, slash), host: text.slice(slash + 1) };
}

/** Does one "ns/host" admit a service, for a Sidecar in `sidecarNamespace`? */
export function egressHostAdmits(h: EgressHost, sidecarNamespace: string, svc: MeshService): boolean {
  // "~/..." names no namespace at all: it admits nothing.
  if (h.namespace === '~') return false;
  if (h.namespace !== '*') {
    const ns = h.namespace === '.' ? sidecarNamespace : h.namespace;
    if (ns !== svc.namespace) return false;
  }
  return hostMatches(h.host, svc.hostname);
}

/**
 * Compiles a Sidecar's egress hosts (the union over its egress listeners)
 * into a predicate. No Sidecar, or one without egress, admits everything
 * (Istio's default "*\/*").
 */
export function egressFilter(sidecar: Sidecar | undefined): (svc: MeshService) => boolean {
  const listeners = sidecar?.spec.egress;
  if (!sidecar || !listeners || listeners.length === 0) return () => true;
  const ns = sidecar.metadata.namespace ?? 'default';
  const hosts: EgressHost[] = [];
  for (const l of listeners) for (const t of l.hosts ?? []) {
    const h = parseEgressHost(t);
    if (h) hosts.push(h);
  }
  return (svc) => hosts.some((h) => egressHostAdmits(h, ns, svc));
}

/** The services a proxy in `namespace` may see: exportTo first, then its Sidecar's egress hosts. */
export function visibleServices(services: readonly MeshService[], namespace: string, sidecar: Sidecar | undefined): MeshService[] {
  const admit = egressFilter(sidecar);
  return services.filter((s) => isExportedTo(s.exportTo, s.namespace, namespace) && admit(s));
}
