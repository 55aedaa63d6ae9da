/**
 * Equivalent spellings of a Listener or a Cluster: the same configuration in
 * different bytes. Used for resources that reappear on a SotW stream after
 * the client was told they were gone (see reappearance.ts for why).
 *
 * - Listener: filter_metadata["trellis"].reappeared = generation. Listener
 *   metadata is read by no gRPC client and by nothing Trellis generates for
 *   Envoy; a new generation is new bytes every time.
 * - Cluster (EDS): eds_cluster_config.service_name spelled as the cluster's
 *   name or left empty, which Envoy and gRPC both read as "the cluster's name".
 *   Only two spellings exist, so odd generations use the other one. Clusters
 *   of other discovery types (STATIC, LOGICAL_DNS, ...) have no spare
 *   spelling and are sent as generated.
 */
import { create, fromBinary } from '@bufbuild/protobuf';
import { ClusterSchema, Cluster_DiscoveryType, Cluster_EdsClusterConfigSchema } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { MetadataSchema } from '../../gen/envoy/config/core/v3/base_pb.js';
import { ListenerSchema } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import { TypeUrl } from '../../xds/type-urls.js';
import { toResource, type XdsResource } from '../wire/resource.js';

/** The filter_metadata key of a respelled Listener. */
export const reappearedKey = 'trellis';

/** By resource object and generation: a reappeared resource is resent on every push of its set, to every proxy of its scope. */
const memo = new WeakMap<XdsResource, Map<number, XdsResource>>();

/** `r` in spelling `generation` (0 = as generated); r itself when its type has no spare spelling. */
export function respell(r: XdsResource, generation: number): XdsResource {
  if (generation === 0) return r;
  let spellings = memo.get(r);
  if (spellings === undefined) memo.set(r, (spellings = new Map()));
  let resource = spellings.get(generation);
  if (resource === undefined) {
    resource = r.typeUrl === TypeUrl.Listener ? listener(r, generation) : r.typeUrl === TypeUrl.Cluster ? cluster(r, generation) : r;
    spellings.set(generation, resource);
  }
  return resource;
}

function listener(r: XdsResource, generation: number): XdsResource {
  // A fresh decode: r.message is shared with config_dump and must not change.
  const l = fromBinary(ListenerSchema, r.any.value);
  l.metadata ??= create(MetadataSchema);
  l.metadata.filterMetadata[reappearedKey] = { reappeared: generation };
  return toResource(ListenerSchema, r.name, l);
}

function cluster(r: XdsResource, generation: number): XdsResource {
  if (generation % 2 === 0) return r;
  const c = fromBinary(ClusterSchema, r.any.value);
  const isEds = c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS;
  if (!isEds) return r;
  const eds = c.edsClusterConfig ?? create(Cluster_EdsClusterConfigSchema);
  // Any other service_name names another resource: no equivalent spelling.
  if (eds.serviceName !== '' && eds.serviceName !== c.name) return r;
  eds.serviceName = eds.serviceName === '' ? c.name : '';
  c.edsClusterConfig = eds;
  return toResource(ClusterSchema, r.name, c);
}
