import * as grpc from '@grpc/grpc-js';
import { create, fromBinary } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { adsServiceDefinition } from '../../src/xds/ads-service.js';
import { TypeUrl } from '../../src/xds/type-urls.js';
import {
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
  type DeltaDiscoveryRequest,
  type DiscoveryRequest,
} from '../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { readDeltaResponse, readSotwResponse, type LightResponse } from './light-response.js';
import { readLoadAssignment } from './light-endpoints.js';
import { ListenerSchema } from '../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { Cluster_DiscoveryType } from '../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HttpConnectionManagerSchema } from '../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { NodeSchema } from '../../src/gen/envoy/config/core/v3/base_pb.js';

const { StreamAggregatedResources: sotwMethod, DeltaAggregatedResources: deltaMethod } = adsServiceDefinition;
const AdsClient = grpc.makeGenericClientConstructor(
  {
    StreamAggregatedResources: { ...sotwMethod, responseDeserialize: readSotwResponse },
    DeltaAggregatedResources: { ...deltaMethod, responseDeserialize: readDeltaResponse },
  },
  'AggregatedDiscoveryService',
);
type AdsCall = grpc.ClientDuplexStream<DiscoveryRequest | DeltaDiscoveryRequest, LightResponse>;

/**
 * A simulated Envoy sidecar for load tests: one gRPC connection of its own,
 * one ADS stream, and Envoy's dependency walk (LDS → the RDS names in its
 * HTTP connection managers, CDS → the EDS names of its EDS clusters). It ACKs
 * every response at once and remembers when each type last changed.
 */
export class SimProxy {
  readonly id: string;
  /** Last version_info (SotW) or system version (Delta) received per type. */
  readonly versions = new Map<string, string>();
  /** When each type last received a response. */
  readonly receivedAt = new Map<string, number>();
  /** Responses received per type (the benchmark resets it to see which types a change sent). */
  readonly responses = new Map<string, number>();
  /** For the clusters `holds` names: the endpoints held (heldEndpoints' form) and since when (epoch ms). */
  readonly held = new Map<string, { endpoints: string; since: number }>();
  onResponse: (typeUrl: string) => void = () => undefined;
  #client: grpc.Client;
  #call: AdsCall | undefined;
  #routes = new Set<string>();
  #edsNames = new Set<string>();
  #first = true;

  constructor(
    address: string,
    id: string,
    private readonly mode: 'sotw' | 'delta',
    /** Which clusters' endpoints to read and keep in `held` (none by default: reading costs). */
    private readonly holds: (cluster: string) => boolean = () => false,
    /**
     * Delta only: on-demand clusters (ENABLE_ON_DEMAND_CDS) — the wildcard CDS
     * and these clusters by name, as a sidecar whose app called their services.
     */
    private readonly onDemand?: readonly string[],
  ) {
    this.id = id;
    this.#client = new AdsClient(address, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      // A big mesh's CDS is larger than grpc-js' 4 MB default; Envoy has no such limit on ADS.
      'grpc.max_receive_message_length': -1,
    });
  }

  start(): void {
    const method = this.mode === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources';
    this.#call = (this.#client as unknown as Record<string, () => AdsCall>)[method]!.call(this.#client);
    this.#call!.on('data', (r: LightResponse) => this.#onData(r));
    this.#call!.on('error', () => undefined);
    this.#subscribe(TypeUrl.Cluster, this.onDemand && this.mode === 'delta' ? ['*', ...this.onDemand] : []);
    this.#subscribe(TypeUrl.Listener, []);
  }

  close(): void {
    this.#call?.cancel();
    this.#client.close();
  }

  #node() {
    if (!this.#first) return undefined;
    this.#first = false;
    return create(NodeSchema, { id: this.id, ...(this.onDemand ? { metadata: { ENABLE_ON_DEMAND_CDS: 'true' } } : {}) });
  }

  #subscribe(typeUrl: string, names: string[]): void {
    if (this.mode === 'sotw') {
      this.#call!.write(create(DiscoveryRequestSchema, { node: this.#node(), typeUrl, resourceNames: names }));
    } else {
      this.#call!.write(create(DeltaDiscoveryRequestSchema, { node: this.#node(), typeUrl, resourceNamesSubscribe: names }));
    }
  }

  #onData(r: LightResponse): void {
    const typeUrl = r.typeUrl;
    if (typeUrl === TypeUrl.Listener) this.#follow(r.resources.flatMap(routeNames), this.#routes, TypeUrl.RouteConfiguration);
    if (typeUrl === TypeUrl.Cluster) this.#follow(r.resources.flatMap(edsNames), this.#edsNames, TypeUrl.ClusterLoadAssignment);
    if (typeUrl === TypeUrl.ClusterLoadAssignment) this.#hold(r.resources);
    // ACK: same type, the response's nonce, no error.
    if (this.mode === 'sotw') {
      this.versions.set(typeUrl, r.version);
      const names = typeUrl === TypeUrl.RouteConfiguration ? [...this.#routes] : typeUrl === TypeUrl.ClusterLoadAssignment ? [...this.#edsNames] : [];
      this.#call!.write(create(DiscoveryRequestSchema, { typeUrl, versionInfo: r.version, responseNonce: r.nonce, resourceNames: names }));
    } else {
      this.versions.set(typeUrl, r.version + '/' + r.nonce);
      this.#call!.write(create(DeltaDiscoveryRequestSchema, { typeUrl, responseNonce: r.nonce }));
    }
    this.receivedAt.set(typeUrl, performance.now());
    this.responses.set(typeUrl, (this.responses.get(typeUrl) ?? 0) + 1);
    this.onResponse(typeUrl);
  }

  /** Keeps the endpoints of the load assignments asked about, with the time they last changed. */
  #hold(resources: readonly Uint8Array[]): void {
    const now = performance.timeOrigin + performance.now();
    for (const cla of resources) {
      const { name, endpoints } = readLoadAssignment(cla, this.holds);
      if (endpoints !== undefined && this.held.get(name)?.endpoints !== endpoints) this.held.set(name, { endpoints, since: now });
    }
  }

  /** Subscribes to names newly referenced (SotW: the whole set; Delta: only the additions). */
  #follow(names: string[], known: Set<string>, typeUrl: string): void {
    const added = names.filter((n) => !known.has(n));
    if (added.length === 0) return;
    for (const n of added) known.add(n);
    this.#subscribe(typeUrl, this.mode === 'sotw' ? [...known] : added);
  }
}

function routeNames(value: Uint8Array): string[] {
  const l = fromBinary(ListenerSchema, value);
  const out: string[] = [];
  const hcms = [...l.filterChains.flatMap((c) => c.filters), ...(l.defaultFilterChain?.filters ?? [])];
  for (const f of hcms) {
    if (f.configType.case !== 'typedConfig') continue;
    const hcm = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
    if (hcm?.routeSpecifier.case === 'rds') out.push(hcm.routeSpecifier.value.routeConfigName);
  }
  if (l.apiListener?.apiListener) {
    const hcm = anyUnpack(l.apiListener.apiListener, HttpConnectionManagerSchema);
    if (hcm?.routeSpecifier.case === 'rds') out.push(hcm.routeSpecifier.value.routeConfigName);
  }
  return out;
}

/**
 * The EDS name of an EDS cluster, read from the wire without decoding the
 * Cluster (a big mesh sends thousands per proxy to a thousand proxies):
 * name (1), type (2), eds_cluster_config (3) → service_name (2).
 */
function edsNames(value: Uint8Array): string[] {
  const r = new BinaryReader(value);
  let name = '';
  let serviceName = '';
  let eds = false;
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) name = r.string();
    else if (field === 2 && wire === WireType.Varint) eds = r.int32() === Cluster_DiscoveryType.EDS;
    else if (field === 3 && wire === WireType.LengthDelimited) serviceName = edsServiceName(r.bytes());
    else r.skip(wire, field);
  }
  return eds ? [serviceName || name] : [];
}

function edsServiceName(bytes: Uint8Array): string {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 2 && wire === WireType.LengthDelimited) return r.string();
    r.skip(wire, field);
  }
  return '';
}
