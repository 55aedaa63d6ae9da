import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { anyPack, DurationSchema, type Any, type Duration } from '@bufbuild/protobuf/wkt';
import { ApiVersion, AggregatedConfigSourceSchema, ConfigSourceSchema, type ConfigSource } from '../../gen/envoy/config/core/v3/config_source_pb.js';
import { AddressSchema, SocketAddressSchema, type Address } from '../../gen/envoy/config/core/v3/address_pb.js';
import { MetadataSchema, type Metadata } from '../../gen/envoy/config/core/v3/base_pb.js';
import { parseDuration } from '../../config/duration.js';

/** Helpers shared by the translators. */

const ads: ConfigSource = create(ConfigSourceSchema, {
  configSourceSpecifier: { case: 'ads', value: create(AggregatedConfigSourceSchema, {}) },
  resourceApiVersion: ApiVersion.V3,
});

/**
 * "Fetch it over the same ADS stream", API v3: the only config source we emit.
 * One shared instance: translated messages are never mutated once built, and
 * sharing sub-messages saves thousands of allocations per push.
 */
export function adsConfigSource(): ConfigSource {
  return ads;
}

export function durationMs(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  return create(DurationSchema, { seconds: BigInt(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) });
}

/** An Istio duration string as a protobuf Duration; undefined when absent or unparsable (validation reports those). */
export function istioDuration(text: string | undefined): Duration | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  return ms === undefined ? undefined : durationMs(ms);
}

export function socketAddress(address: string, port: number): Address {
  return create(AddressSchema, {
    address: { case: 'socketAddress', value: create(SocketAddressSchema, { address, portSpecifier: { case: 'portValue', value: port } }) },
  });
}

/** Any-packed typed_config. */
export function typed<D extends DescMessage>(schema: D, init: Parameters<typeof create<D>>[1]): Any {
  return anyPack(schema, create(schema, init) as MessageShape<D>);
}

/**
 * istiod's `filter_metadata.istio.config` (util.AddConfigInfoMetadata): the
 * Istio object a route or cluster was generated from, as an API path
 * ("/apis/networking.istio.io/v1/namespaces/NS/virtual-service/NAME").
 * Trellis also puts it on inbound filter chains, naming the
 * PeerAuthentication that decided their mTLS mode (security.istio.io).
 * istioctl proxy-config reads it for its VIRTUAL SERVICE and DESTINATION RULE
 * columns, and `istioctl x describe` to find the objects behind a proxy.
 */
export function istioConfigMetadata(kind: 'virtual-service' | 'destination-rule' | 'peer-authentication', namespace: string, name: string, source?: SourceField): Metadata {
  const group = kind === 'peer-authentication' ? 'security.istio.io' : 'networking.istio.io';
  const config = `/apis/${group}/v1/namespaces/${namespace}/${kind}/${name}`;
  const md = create(MetadataSchema, { filterMetadata: { istio: { config } } });
  if (source !== undefined) md.filterMetadata[SourceFieldKey] = { ...source };
  return md;
}

/**
 * Where in its source object a resource came from ("http[1].match[0]"), beside
 * istio.config, which names only the object: Istio has no field for this, so
 * Trellis keeps it under its own filter_metadata key. `trellis explain` cites it.
 */
export const SourceFieldKey = 'trellis.source';

/**
 * `field`: the object's field; `routes`: for a route, the VirtualService
 * destination (route[k]) behind each cluster of its action, in order (a
 * destination of weight 0 has no cluster, so Envoy's index is not Istio's).
 */
export interface SourceField {
  field: string;
  routes?: number[];
}
