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
 * Compiles a Sidecar's egress listeners into what a proxy may see of a
 * service: all its ports, some (an egress listener with a `port` admits its
 * hosts on that port only — Istio's per-port egress), or nothing. No
 * Sidecar, or one without egress, admits everything (Istio's default "*\/*").
 */
export function egressFilter(sidecar: Sidecar | undefined): (svc: MeshService) => 'all' | ReadonlySet<number> {
  const listeners = sidecar?.spec.egress;
  if (!sidecar || !listeners || listeners.length === 0) return () => 'all';
  const ns = sidecar.metadata.namespace ?? 'default';
  const compiled = listeners.map((l) => ({
    port: l.port?.number,
    hosts: (l.hosts ?? []).map(parseEgressHost).filter((h): h is EgressHost => h !== undefined),
  }));
  return (svc) => {
    const ports = new Set<number>();
    for (const l of compiled) {
      if (!l.hosts.some((h) => egressHostAdmits(h, ns, svc))) continue;
      if (l.port === undefined) return 'all';
      ports.add(l.port);
    }
    return ports;
  };
}

/** Port-narrowed copies, one per Sidecar and service, so translation's per-service memos stay warm. */
const narrowed = new WeakMap<Sidecar, WeakMap<MeshService, MeshService>>();

function narrowTo(sidecar: Sidecar, svc: MeshService, ports: ReadonlySet<number>): MeshService | undefined {
  let bySvc = narrowed.get(sidecar);
  if (!bySvc) narrowed.set(sidecar, (bySvc = new WeakMap()));
  let hit = bySvc.get(svc);
  if (!hit) {
    const kept = svc.ports.filter((p) => ports.has(p.port));
    if (kept.length === 0) return undefined;
    hit = kept.length === svc.ports.length ? svc : { ...svc, ports: kept };
    bySvc.set(svc, hit);
  }
  return hit;
}

/** The services a proxy in `namespace` may see, on the ports it may see them: exportTo first, then its Sidecar's egress listeners. */
export function visibleServices(services: readonly MeshService[], namespace: string, sidecar: Sidecar | undefined): MeshService[] {
  const admit = egressFilter(sidecar);
  const out: MeshService[] = [];
  for (const s of services) {
    if (!isExportedTo(s.exportTo, s.namespace, namespace)) continue;
    const ports = admit(s);
    if (ports === 'all') out.push(s);
    else if (ports.size > 0) {
      const n = narrowTo(sidecar!, s, ports);
      if (n) out.push(n);
    }
  }
  return out;
}
