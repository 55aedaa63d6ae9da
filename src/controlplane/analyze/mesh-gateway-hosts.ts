/**
 * Istio's ConflictingMeshGatewayHostsAnalyzer (IST0109): two VirtualServices
 * bound to sidecars ("mesh") that claim the same host where both are visible
 * — only one of them is used, which one depends on their age, so the other
 * silently shadows or is shadowed. Hosts are compared per export scope: a
 * VirtualService exported everywhere conflicts with any other whose host it
 * matches (wildcards included); others only within the same namespace scope.
 */
import type { VirtualService } from '../../config/objects.js';
import type { Finding } from './finding.js';
import { ConflictingMeshGatewayVirtualServiceHosts } from './messages.js';

const ALL = '*';

/** Istio's host.Name.Matches: exact, or either side a "*." wildcard covering the other. */
function hostsMatch(a: string, b: string): boolean {
  const wa = a.startsWith('*');
  const wb = b.startsWith('*');
  if (wa && wb) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (wa) return b.endsWith(a.slice(1));
  if (wb) return a.endsWith(b.slice(1));
  return a === b;
}

const fullName = (vs: VirtualService) => `${vs.metadata.namespace ?? 'default'}/${vs.metadata.name}`;

function toFqdn(host: string, namespace: string, domainSuffix: string): string {
  return host.startsWith('*') || host.includes('.') ? host : `${host}.${namespace}.svc.${domainSuffix}`;
}

/** "scope/fqdn" → the mesh VirtualServices claiming that host in that scope. */
function scopedHosts(virtualServices: readonly VirtualService[], domainSuffix: string): Map<string, VirtualService[]> {
  const out = new Map<string, VirtualService[]>();
  for (const vs of virtualServices) {
    const gateways = vs.spec.gateways ?? [];
    if (gateways.length > 0 && !gateways.includes('mesh')) continue;
    const ns = vs.metadata.namespace ?? 'default';
    const exportTo = vs.spec.exportTo ?? [];
    const scopes = exportTo.length === 0 || exportTo.includes(ALL) ? [ALL] : [...new Set(exportTo.map((e) => (e === '.' ? ns : e)))];
    for (const scope of scopes) {
      for (const h of vs.spec.hosts ?? []) {
        const key = `${scope}/${toFqdn(h, ns, domainSuffix)}`;
        out.set(key, [...(out.get(key) ?? []), vs]);
      }
    }
  }
  return out;
}

/** One finding per VirtualService in a conflict (the first conflict found for it, by scope and host). */
export function meshGatewayHostFindings(virtualServices: readonly VirtualService[], domainSuffix: string): { vs: VirtualService; finding: Finding }[] {
  const hosts = scopedHosts(virtualServices, domainSuffix);
  const reported = new Set<VirtualService>();
  const out: { vs: VirtualService; finding: Finding }[] = [];
  for (const key of [...hosts.keys()].sort()) {
    const [scope, fqdn] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    let list = hosts.get(key)!;
    if (scope !== ALL) {
      for (const [other, vss] of hosts) if (other.startsWith(`${ALL}/`) && hostsMatch(fqdn, other.slice(2))) list = [...list, ...vss];
    }
    if (list.length < 2) continue;
    const names = list.map(fullName).sort().join(',');
    for (const vs of list) {
      if (reported.has(vs)) continue;
      reported.add(vs);
      const message = `The VirtualServices ${names} associated with mesh gateway define the same host ${key} which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.`;
      out.push({ vs, finding: { type: ConflictingMeshGatewayVirtualServiceHosts, path: ['metadata', 'name'], message } });
    }
  }
  return out;
}
