/**
 * The names one xDS resource makes Envoy resolve elsewhere: a listener's
 * route configurations (HttpConnectionManager rds) and clusters (tcp_proxy,
 * inline route configs), a route configuration's clusters (route actions,
 * weighted clusters, mirrors), an EDS cluster's load assignment. Read from
 * the resource's bytes and memoised per XdsResource: resources are shared by
 * every proxy (and scope) that receives them, so each is read once per push.
 *
 * Read by scanning the wire format for the few fields that name something
 * (numbers from Envoy's v3 protos), skipping the rest: a 1,000-service
 * route configuration decoded whole costs more than translating it. Not
 * through XdsResource.message either, whose decoded message would then live
 * as long as the resource (what wire/resource.ts avoids on purpose).
 */
import { fromBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { Any } from '@bufbuild/protobuf/wkt';
import { Cluster_DiscoveryType } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChain } from '../../gen/envoy/config/listener/v3/listener_components_pb.js';
import { HttpConnectionManagerSchema } from '../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import type { XdsResource } from '../wire/resource.js';
import type { PartsEncoding } from '../wire/parts-encoding.js';
import { routeConfigParts } from '../wire/route-resource.js';

/**
 * A cluster named by a route or a TCP proxy. `tolerated`: Envoy accepts the
 * config while the cluster is missing and fails only the requests that reach
 * it — an RDS route configuration (validate_clusters false, the default over
 * RDS) or a tcp_proxy; an inline route configuration validates its clusters
 * by default, and Envoy rejects the whole listener.
 */
export interface ClusterRef {
  readonly cluster: string;
  readonly tolerated: boolean;
}

export interface ListenerRefs {
  /** Route configuration names the listener's connection managers ask RDS for. */
  readonly routes: readonly string[];
  readonly clusters: readonly ClusterRef[];
}

export interface RouteConfigRefs {
  readonly clusters: readonly ClusterRef[];
  /** Its virtual hosts' names ("HOST:PORT" for a service's), the destinations it knows. */
  readonly hosts: readonly string[];
}

const hcmType = `type.googleapis.com/${HttpConnectionManagerSchema.typeName}`;
const tcpProxyType = `type.googleapis.com/${TcpProxySchema.typeName}`;

const listenerMemo = new WeakMap<XdsResource, ListenerRefs>();
const routeMemo = new WeakMap<XdsResource, RouteConfigRefs>();
const edsMemo = new WeakMap<XdsResource, string | null>();

export function listenerRefs(r: XdsResource): ListenerRefs {
  let hit = listenerMemo.get(r);
  if (hit === undefined) listenerMemo.set(r, (hit = readListener(r.any.value)));
  return hit;
}

export function routeConfigRefs(r: XdsResource): RouteConfigRefs {
  let hit = routeMemo.get(r);
  if (hit === undefined) routeMemo.set(r, (hit = readRouteConfig(r.any.value, true, routeConfigParts(r))));
  return hit;
}

/** The load assignment name an EDS cluster asks for (eds_cluster_config.service_name, else its own name); undefined for other clusters. */
export function edsServiceName(r: XdsResource): string | undefined {
  let hit = edsMemo.get(r);
  if (hit === undefined) {
    // Cluster: name 1, type 2, eds_cluster_config 3 { service_name 2 }.
    let name = '';
    let eds = false;
    let service = '';
    fields(r.any.value, {
      1: (rd) => (name = rd.string()),
      2: (rd) => (eds = rd.int32() === Cluster_DiscoveryType.EDS),
      3: (rd) => fields(rd.bytes(), { 2: (e) => (service = e.string()) }),
    });
    edsMemo.set(r, (hit = eds ? service || name : null));
  }
  return hit ?? undefined;
}

/** Calls the reader of each listed field number (it reads the field's value), skipping every other field. */
function fields(bytes: Uint8Array, read: Readonly<Record<number, (rd: BinaryReader) => unknown>>): void {
  const rd = new BinaryReader(bytes);
  while (rd.pos < rd.len) {
    const [no, wt] = rd.tag();
    const f = read[no];
    if (f !== undefined && (wt === WireType.LengthDelimited || wt === WireType.Varint)) f(rd);
    else rd.skip(wt, no);
  }
}

function readListener(bytes: Uint8Array): ListenerRefs {
  const l = fromBinary(ListenerSchema, bytes);
  const routes: string[] = [];
  const clusters: ClusterRef[] = [];
  const chains: FilterChain[] = l.defaultFilterChain ? [...l.filterChains, l.defaultFilterChain] : l.filterChains;
  const configs: Any[] = [];
  for (const fc of chains) for (const f of fc.filters) if (f.configType.case === 'typedConfig') configs.push(f.configType.value);
  // Proxyless gRPC: the connection manager is the API listener itself.
  if (l.apiListener?.apiListener) configs.push(l.apiListener.apiListener);
  for (const any of configs) {
    // TcpProxy: cluster 2, weighted_clusters 10 { clusters 1 { name 1 } }; Envoy tolerates a missing one.
    if (any.typeUrl === tcpProxyType) {
      fields(any.value, {
        2: (rd) => clusters.push({ cluster: rd.string(), tolerated: true }),
        10: (rd) => fields(rd.bytes(), { 1: (w) => fields(w.bytes(), { 1: (c) => clusters.push({ cluster: c.string(), tolerated: true }) }) }),
      });
    }
    // HttpConnectionManager: rds 3 { route_config_name 2 }, route_config 4.
    if (any.typeUrl === hcmType) {
      fields(any.value, {
        3: (rd) => fields(rd.bytes(), { 2: (n) => routes.push(n.string()) }),
        4: (rd) => clusters.push(...readRouteConfig(rd.bytes(), false).clusters),
      });
    }
  }
  return { routes, clusters };
}

/**
 * RouteConfiguration: virtual_hosts 2, validate_clusters 7 (BoolValue { value 1 }).
 * `viaRds`: validate_clusters defaults to false for RDS, to true for a route
 * configuration inside a listener. Encoded by parts, its virtual hosts are
 * read from the shared parts (once each, whichever namespaces share them).
 */
function readRouteConfig(bytes: Uint8Array, viaRds: boolean, parts?: PartsEncoding): RouteConfigRefs {
  let validate: boolean | undefined;
  const vhosts: VirtualHostRefs[] = [];
  const top = { 7: (rd: BinaryReader) => fields(rd.bytes(), { 1: (b) => (validate = b.bool()) }) };
  if (parts) {
    fields(parts.head, top);
    fields(parts.tail, top);
    for (const p of parts.parts) vhosts.push(sharedVirtualHost(p));
  } else {
    fields(bytes, { ...top, 2: (rd) => vhosts.push(virtualHostRefs(rd.bytes())) });
  }
  const tolerated = !(validate ?? !viaRds);
  const names = new Set<string>();
  for (const vh of vhosts) for (const c of vh.clusters) names.add(c);
  return { clusters: [...names].map((cluster) => ({ cluster, tolerated })), hosts: vhosts.map((vh) => vh.name) };
}

interface VirtualHostRefs {
  name: string;
  clusters: string[];
}

const vhostMemo = new WeakMap<Uint8Array, VirtualHostRefs>();

function sharedVirtualHost(bytes: Uint8Array): VirtualHostRefs {
  let hit = vhostMemo.get(bytes);
  if (hit === undefined) vhostMemo.set(bytes, (hit = virtualHostRefs(bytes)));
  return hit;
}

/** VirtualHost: name 1, routes 3 { route 2 (RouteAction) }. */
function virtualHostRefs(bytes: Uint8Array): VirtualHostRefs {
  const out: VirtualHostRefs = { name: '', clusters: [] };
  const into = new Set<string>();
  fields(bytes, { 1: (v) => (out.name = v.string()), 3: (v) => fields(v.bytes(), { 2: (a) => actionClusters(a.bytes(), into) }) });
  out.clusters = [...into];
  return out;
}
/** RouteAction: cluster 1, weighted_clusters 3 { clusters 1 { name 1 } }, request_mirror_policies 30 { cluster 1 }. */
function actionClusters(bytes: Uint8Array, into: Set<string>): void {
  fields(bytes, {
    1: (rd) => into.add(rd.string()),
    3: (rd) => fields(rd.bytes(), { 1: (w) => fields(w.bytes(), { 1: (c) => into.add(c.string()) }) }),
    30: (rd) => fields(rd.bytes(), { 1: (m) => into.add(m.string()) }),
  });
}
