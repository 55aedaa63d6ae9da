/**
 * A sidecar that speaks HBONE (istiod's EnableHBONEListen / HBONE sending,
 * asked for with node metadata ENABLE_HBONE=true): it reaches ambient pods
 * over HBONE and node proxies reach it over HBONE.
 *
 * - Endpoints of ambient pods become connect_originate internal addresses with
 *   the tunnel metadata (`envoy.transport_socket_match.tunnel: http`, the
 *   destination as original_dst.local), as istiod's endpoint builder writes them;
 * - its EDS clusters choose per endpoint: the "hbone" transport socket match
 *   first (internal_upstream passing the destination on), then what they had
 *   (istiod's applyHBONETransportSocketMatches);
 * - listeners connect_terminate (15008: istio-iptables never captures it) and
 *   main_internal (the virtualInbound chains in plain text, for the pod's own
 *   addresses only), connect_originate, and their clusters.
 */
import { clone, create } from '@bufbuild/protobuf';
import { ClusterSchema, Cluster_DiscoveryType, Cluster_TransportSocketMatchSchema, type Cluster, type Cluster_TransportSocketMatch } from '../../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { CidrRangeSchema } from '../../../gen/envoy/config/core/v3/address_pb.js';
import { TrafficDirection, type TransportSocket } from '../../../gen/envoy/config/core/v3/base_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { type Listener } from '../../../gen/envoy/config/listener/v3/listener_pb.js';
import { FilterChainMatchSchema, FilterChainSchema } from '../../../gen/envoy/config/listener/v3/listener_components_pb.js';
import { toResource, type ResourceSet, type XdsResource } from '../../wire/resource.js';
import type { ProxyNode } from '../../../xds/proxy-node.js';
import { rawBuffer, TransportSocketMatchKey } from '../auto-mtls.js';
import { InboundChainName } from '../inbound.js';
import { connectOriginateCluster, mainInternalCluster } from './clusters.js';
import { internalUpstream, tunnelEndpoint } from './internal.js';
import { connectOriginateListener, connectTerminateListener, internalListener } from './listeners.js';
import { MainInternal, OriginalDstMetadataKey, TunnelHttp, TunnelMatchKey } from './names.js';

export function hboneSidecar(node: ProxyNode): boolean {
  return node.type === 'sidecar' && node.generator === 'envoy' && node.metadata.ENABLE_HBONE === 'true';
}

/** What istiod passes through for a sidecar's HBONE endpoints (FullMetadataPassthroughInternalUpstreamTransportSocket, host kinds). */
const sidecarPassthrough = [OriginalDstMetadataKey, 'istio'];

function hboneMatch(): Cluster_TransportSocketMatch {
  return create(Cluster_TransportSocketMatchSchema, { name: 'hbone', match: { [TunnelMatchKey]: TunnelHttp }, transportSocket: internalUpstream(sidecarPassthrough) });
}

/** istiod's applyHBONETransportSocketMatches on an EDS cluster: HBONE for tunnel endpoints, the rest as before. */
function withHboneMatch(c: Cluster): Cluster {
  const eds = c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS;
  if (!eds) return c;
  const x = clone(ClusterSchema, c);
  if (x.transportSocketMatches.length > 0) {
    x.transportSocketMatches = [hboneMatch(), ...x.transportSocketMatches];
  } else {
    const ts: TransportSocket | undefined = x.transportSocket;
    x.transportSocket = undefined;
    // Without TLS: HBONE or plain (raw_buffer, as istiod's default match); with a DestinationRule's TLS: HBONE
    // instead of it, or that TLS alone.
    x.transportSocketMatches = [hboneMatch(), create(Cluster_TransportSocketMatchSchema, { name: ts ? 'user' : 'tlsMode-disabled', match: {}, transportSocket: ts ?? rawBuffer })];
  }
  return x;
}

const clusterMemo = new WeakMap<XdsResource, XdsResource>();

export function hboneClusters(clusters: ReadonlyMap<string, XdsResource>, trustDomain: string): Map<string, XdsResource> {
  const out = new Map<string, XdsResource>();
  for (const [name, r] of clusters) {
    let hit = clusterMemo.get(r);
    if (!hit) {
      const c = withHboneMatch(r.message as Cluster);
      clusterMemo.set(r, (hit = c === r.message ? r : toResource(ClusterSchema, name, c)));
    }
    out.set(name, hit);
  }
  for (const c of [mainInternalCluster(), connectOriginateCluster(trustDomain)]) out.set(c.name, toResource(ClusterSchema, c.name, c));
  return out;
}

function socketIp(ep: ClusterLoadAssignment['endpoints'][number]['lbEndpoints'][number]): { ip: string; port: number } | undefined {
  const a = ep.hostIdentifier.case === 'endpoint' ? ep.hostIdentifier.value.address?.address : undefined;
  if (a?.case !== 'socketAddress' || a.value.portSpecifier.case !== 'portValue') return undefined;
  return { ip: a.value.address, port: a.value.portSpecifier.value };
}

const claMemo = new WeakMap<ReadonlySet<string>, WeakMap<XdsResource, XdsResource>>();

/** The assignments with every endpoint at an ambient pod's address sent through connect_originate. */
export function hboneEndpoints(set: ResourceSet, ambientIps: ReadonlySet<string>): ResourceSet {
  if (ambientIps.size === 0) return set;
  let memo = claMemo.get(ambientIps);
  if (!memo) claMemo.set(ambientIps, (memo = new WeakMap()));
  const out = new Map<string, XdsResource>();
  for (const [name, r] of set) {
    let hit = memo.get(r);
    if (!hit) memo.set(r, (hit = rewriteAssignment(name, r, ambientIps)));
    out.set(name, hit);
  }
  return out;
}

function rewriteAssignment(name: string, r: XdsResource, ambientIps: ReadonlySet<string>): XdsResource {
  const cla = r.message as ClusterLoadAssignment;
  if (!cla.endpoints.some((l) => l.lbEndpoints.some((e) => ambientIps.has(socketIp(e)?.ip ?? '')))) return r;
  const x = clone(ClusterLoadAssignmentSchema, cla);
  for (const l of x.endpoints) {
    for (const e of l.lbEndpoints) {
      const at = socketIp(e);
      if (!at || !ambientIps.has(at.ip) || e.hostIdentifier.case !== 'endpoint') continue;
      const t = tunnelEndpoint(at.ip, at.port, true);
      e.hostIdentifier.value.address = t.address;
      const md = e.metadata ?? t.metadata;
      md.filterMetadata[OriginalDstMetadataKey] = t.metadata.filterMetadata[OriginalDstMetadataKey]!;
      md.filterMetadata[TransportSocketMatchKey] = { ...(md.filterMetadata[TransportSocketMatchKey] ?? {}), [TunnelMatchKey]: TunnelHttp };
      e.metadata = md;
    }
  }
  return toResource(ClusterLoadAssignmentSchema, name, x);
}

/**
 * main_internal for a sidecar (istiod's buildInboundHBONEListeners): the
 * chains of its virtualInbound built without mTLS (the tunnel was the mTLS),
 * for its own addresses only, without the 15006 blackhole.
 */
export function sidecarMainInternal(plainVirtualInbound: Listener, podIps: readonly string[]): Listener {
  const chains = plainVirtualInbound.filterChains.filter((c) => c.name !== InboundChainName.blackhole).map((c) => {
    const x = clone(FilterChainSchema, c);
    x.filterChainMatch ??= create(FilterChainMatchSchema, {});
    // Filter to the pod's own addresses: HBONE to any other destination has no business here (istiod's sanitizeFilterChainForHBONE).
    x.filterChainMatch.prefixRanges = podIps.map((ip) => create(CidrRangeSchema, { addressPrefix: ip, prefixLen: ip.includes(':') ? 128 : 32 }));
    x.filterChainMatch.transportProtocol = '';
    return x;
  });
  const l = internalListener(MainInternal, chains, TrafficDirection.INBOUND);
  l.listenerFilters = plainVirtualInbound.listenerFilters;
  l.continueOnListenerFiltersTimeout = true;
  return l;
}

export function hboneListeners(trustDomain: string, mainInternal: Listener): Listener[] {
  return [connectTerminateListener(trustDomain), mainInternal, connectOriginateListener()];
}
