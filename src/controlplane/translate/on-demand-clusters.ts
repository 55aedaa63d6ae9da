import type { ResourceSet, XdsResource } from '../wire/resource.js';
import type { MeshService } from '../registry/model.js';
import { parseClusterName } from './names.js';
import { portKind } from './listeners.js';

/** The clusters of `all` a proxy with on-demand clusters gets without asking: every one but those of the services' HTTP ports. */
export function wildcardClusters(all: ResourceSet, services: readonly MeshService[]): ResourceSet {
  const http = new Set<string>();
  for (const svc of services) for (const p of svc.ports) if (portKind(p) === 'http') http.add(`${p.port}|${svc.hostname}`);
  const out = new Map<string, XdsResource>();
  for (const [name, r] of all) {
    const c = parseClusterName(name);
    if (c?.direction === 'outbound' && http.has(`${c.port}|${c.hostname}`)) continue;
    out.set(name, r);
  }
  return out;
}
