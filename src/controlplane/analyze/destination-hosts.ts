/**
 * Istio's DestinationHostAnalyzer: every route and mirror destination must
 * name a service the VirtualService's proxies can see, and a port that
 * service has — otherwise the route points at a cluster that is not in CDS
 * (Envoy answers 503 NC). The route is kept as istiod keeps it; this only
 * reports.
 */
import type { VirtualService } from '../../config/objects.js';
import { destinationsOf } from './destinations.js';
import { referencedResourceNotFound } from './messages.js';
import { vsScope, type ServiceHosts } from './service-hosts.js';
import type { Finding } from './finding.js';

export function destinationHostFindings(vs: VirtualService, hosts: ServiceHosts): Finding[] {
  const scope = vsScope(vs);
  const out: Finding[] = [];
  for (const { destination, path, mirror } of destinationsOf(vs)) {
    const svc = hosts.find(destination.host, vs, scope);
    if (svc === undefined) {
      out.push({ path: [...path, 'host'], ...referencedResourceNotFound(mirror ? 'mirror host' : 'host', destination.host) });
      continue;
    }
    const port = destination.port?.number;
    if (port !== undefined && !svc.ports.some((p) => p.port === port)) {
      out.push({ path: [...path, 'port', 'number'], ...referencedResourceNotFound('host:port', `${destination.host}:${port}`) });
    }
  }
  return out;
}
