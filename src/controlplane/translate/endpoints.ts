import { create } from '@bufbuild/protobuf';
import {
  ClusterLoadAssignmentSchema,
  type ClusterLoadAssignment,
} from '../../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { EndpointSchema, LbEndpointSchema, LocalityLbEndpointsSchema, type LbEndpoint, type LocalityLbEndpoints } from '../../gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { LocalitySchema, MetadataSchema } from '../../gen/envoy/config/core/v3/base_pb.js';
import { HealthStatus } from '../../gen/envoy/config/core/v3/health_check_pb.js';
import type { MeshEndpoint } from '../registry/model.js';
import { selectorMatches } from '../registry/labels.js';
import { socketAddress } from './common.js';
import { TransportSocketMatchKey } from './auto-mtls.js';
import { splitLocality } from '../../xds/locality.js';

/** Envoy picks an auto-mTLS transport socket by this metadata; istiod writes it for every mode but "disabled". */
function tlsMetadata(tlsMode: string | undefined) {
  if (!tlsMode || tlsMode === 'disabled') return undefined;
  return create(MetadataSchema, { filterMetadata: { [TransportSocketMatchKey]: { tlsMode } } });
}

function localityOf(text: string) {
  return create(LocalitySchema, splitLocality(text));
}

function lbEndpoint(ep: MeshEndpoint): LbEndpoint {
  return create(LbEndpointSchema, {
    hostIdentifier: { case: 'endpoint', value: create(EndpointSchema, { address: socketAddress(ep.address, ep.port) }) },
    healthStatus: HealthStatus.HEALTHY,
    metadata: tlsMetadata(ep.tlsMode),
    loadBalancingWeight: ep.weight && ep.weight > 0 ? ep.weight : 1,
  });
}

function cachedLbEndpoint(ep: MeshEndpoint, cache: Map<string, LbEndpoint>): LbEndpoint {
  const key = `${ep.address}|${ep.port}|${ep.weight ?? ''}|${ep.tlsMode ?? ''}`;
  let hit = cache.get(key);
  if (!hit) cache.set(key, (hit = lbEndpoint(ep)));
  return hit;
}

/** The endpoints of one locality ("" when unknown), as grouped for a ClusterLoadAssignment. */
export interface LocalityGroup {
  readonly locality: string;
  readonly endpoints: readonly MeshEndpoint[];
}

/** Ready endpoints carrying the subset's labels, grouped by locality, localities sorted (istiod's order). */
export function groupByLocality(endpoints: readonly MeshEndpoint[], subsetLabels?: Readonly<Record<string, string>>): LocalityGroup[] {
  const groups = new Map<string, MeshEndpoint[]>();
  for (const ep of endpoints) {
    if (!ep.ready || !selectorMatches(subsetLabels, ep.labels)) continue;
    const key = ep.locality ?? '';
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(ep);
  }
  return [...groups.keys()].sort().map((locality) => ({ locality, endpoints: groups.get(locality)! }));
}

/** Builds LbEndpoints, sharing the messages of equal endpoints when given a cache. */
export function lbEndpointMaker(cache?: Map<string, LbEndpoint>): (ep: MeshEndpoint) => LbEndpoint {
  return cache ? (ep) => cachedLbEndpoint(ep, cache) : lbEndpoint;
}

/** One locality's LocalityLbEndpoints: its weight is the sum of its endpoints' weights, as in Istio. */
export function localityLbEndpoints(g: LocalityGroup, toLb: (ep: MeshEndpoint) => LbEndpoint): LocalityLbEndpoints {
  const lbEndpoints = g.endpoints.map(toLb);
  const weight = lbEndpoints.reduce((sum, e) => sum + (e.loadBalancingWeight ?? 1), 0);
  return create(LocalityLbEndpointsSchema, { locality: localityOf(g.locality), lbEndpoints, loadBalancingWeight: weight });
}

/**
 * One cluster's endpoints: only ready ones, only those carrying the subset's
 * labels, grouped by locality (sorted). Every locality and every endpoint
 * gets a load-balancing weight: gRPC ignores localities without one.
 */
export function buildLoadAssignment(
  clusterName: string,
  endpoints: readonly MeshEndpoint[],
  subsetLabels?: Readonly<Record<string, string>>,
  /** Shares LbEndpoint messages between clusters (a subset cluster repeats its service's endpoints). */
  cache?: Map<string, LbEndpoint>,
): ClusterLoadAssignment {
  const toLb = lbEndpointMaker(cache);
  const localities = groupByLocality(endpoints, subsetLabels).map((g) => localityLbEndpoints(g, toLb));
  return create(ClusterLoadAssignmentSchema, { clusterName, endpoints: localities });
}
