/**
 * A waypoint's inbound-vip clusters (istiod's buildWaypointInboundVIP): per
 * port of each service it serves, http and/or tcp, and per DestinationRule
 * subset — the sidecar's outbound cluster for that port and subset (load
 * balancing, connection pool, outlier detection: the rule applies here as it
 * does for a sidecar), renamed, its endpoints reached through
 * connect_originate (every one over HBONE: the destinations are ambient or
 * HBONE sidecars), and internal_upstream carrying each endpoint's
 * destination there.
 */
import { create } from '@bufbuild/protobuf';
import type { Cluster } from '../../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { EndpointSchema, LbEndpointSchema, type LbEndpoint } from '../../../gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { HealthStatus } from '../../../gen/envoy/config/core/v3/health_check_pb.js';
import type { MeshEndpoint, MeshModel, MeshService } from '../../registry/model.js';
import { clusterContext, outboundCluster } from '../clusters.js';
import { groupByLocality, localityLbEndpoints } from '../endpoints.js';
import { inboundVipClusterName } from '../hbone/names.js';
import { internalUpstream, tunnelEndpoint, tunnelPassthrough } from '../hbone/internal.js';
import { vipKinds } from './chains.js';

export interface VipTarget {
  name: string;
  hostname: string;
  port: number;
  subsetLabels?: Readonly<Record<string, string>>;
}

export function vipClusters(model: MeshModel, services: readonly MeshService[], namespace: string): { clusters: Cluster[]; targets: VipTarget[] } {
  const clusters: Cluster[] = [];
  const targets: VipTarget[] = [];
  for (const svc of services) {
    const dr = model.destinationRule(svc.hostname, namespace);
    const ctx = clusterContext(model, svc);
    for (const p of svc.ports) {
      for (const kind of vipKinds(p)) {
        for (const subset of [undefined, ...(dr?.spec.subsets ?? [])]) {
          const c = outboundCluster(svc, p, dr, subset, 'envoy', ctx);
          c.name = inboundVipClusterName(p.port, kind, subset?.name, svc.hostname);
          if (c.clusterDiscoveryType.case === 'type' && c.edsClusterConfig) c.edsClusterConfig.serviceName = c.name;
          c.transportSocketMatches = [];
          c.transportSocket = internalUpstream(tunnelPassthrough);
          clusters.push(c);
          targets.push({ name: c.name, hostname: svc.hostname, port: p.port, ...(subset ? { subsetLabels: subset.labels ?? {} } : {}) });
        }
      }
    }
  }
  return { clusters, targets };
}

function tunnelLbEndpoint(ep: MeshEndpoint): LbEndpoint {
  const { address, metadata } = tunnelEndpoint(ep.address, ep.port, false);
  return create(LbEndpointSchema, {
    hostIdentifier: { case: 'endpoint', value: create(EndpointSchema, { address }) },
    healthStatus: HealthStatus.HEALTHY,
    metadata,
    loadBalancingWeight: ep.weight && ep.weight > 0 ? ep.weight : 1,
  });
}

export function vipLoadAssignment(model: MeshModel, t: VipTarget): ClusterLoadAssignment {
  const groups = groupByLocality(model.endpoints(t.hostname, t.port), t.subsetLabels);
  return create(ClusterLoadAssignmentSchema, { clusterName: t.name, endpoints: groups.map((g) => localityLbEndpoints(g, tunnelLbEndpoint)) });
}
