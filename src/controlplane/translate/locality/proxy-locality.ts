/**
 * Where a proxy is, for locality load balancing: istiod's setTopologyLabels.
 * The locality comes from the registry (the proxy's pod or WorkloadEntry),
 * else from its labels (istio-locality, topology labels), else from the
 * xDS Node.locality it sent; its labels get the topology labels istiod adds
 * (AugmentLabels), which is what failoverPriority compares with the
 * endpoints' labels.
 */
import type { ProxyNode } from '../../../xds/proxy-node.js';
import { localityFromLabels, RegionLabel, splitLocality, SubzoneLabel, ZoneLabel, type LocalityParts } from '../../../xds/locality.js';
import type { MeshEndpoint, Workload } from '../../registry/model.js';

export const ClusterLabel = 'topology.istio.io/cluster';
export const NetworkLabel = 'topology.istio.io/network';
/** istiod's cluster id when none is configured; Trellis's registry is one cluster of that name. */
export const DefaultClusterId = 'Kubernetes';

export interface ProxyLocality extends LocalityParts {
  /** "region/zone/subzone": part of the EDS cache key. */
  readonly text: string;
  /** The proxy's labels with the topology labels added. */
  readonly labels: Readonly<Record<string, string>>;
}

export function proxyLocality(node: ProxyNode, labels: Readonly<Record<string, string>>, workload: Workload | undefined): ProxyLocality {
  const text = workload?.locality ?? localityFromLabels(labels);
  const parts = text !== undefined ? splitLocality(text) : node.locality ?? { region: '', zone: '', subZone: '' };
  const out: Record<string, string> = { ...labels };
  if (parts.region) out[RegionLabel] = parts.region;
  if (parts.zone) out[ZoneLabel] = parts.zone;
  if (parts.subZone) out[SubzoneLabel] = parts.subZone;
  out[ClusterLabel] = node.metadata['CLUSTER_ID'] || DefaultClusterId;
  const network = node.metadata['NETWORK'];
  if (network && !out[NetworkLabel]) out[NetworkLabel] = network;
  return { ...parts, text: `${parts.region}/${parts.zone}/${parts.subZone}`, labels: out };
}

/** An endpoint's label as istiod sees it: its pod's labels with the registry's topology labels over them. */
export function endpointLabel(ep: MeshEndpoint, name: string): string | undefined {
  if (name === RegionLabel || name === ZoneLabel || name === SubzoneLabel) {
    const l = splitLocality(ep.locality);
    const v = name === RegionLabel ? l.region : name === ZoneLabel ? l.zone : l.subZone;
    if (v) return v;
  }
  if (name === ClusterLabel) return DefaultClusterId;
  return ep.labels[name];
}
