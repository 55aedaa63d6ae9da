/**
 * A proxy's /config_dump read back into typed Envoy messages. Each resource
 * is decoded on its own, from either JSON spelling (Trellis prints
 * camelCase, Envoy snake_case), so one resource of a type this build does not
 * know (an Envoy extension) costs that resource, named in `problems`, never
 * the whole dump.
 */
import { createRegistry, fromJson, toJson, type DescMessage, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
import { BootstrapSchema, file_envoy_config_bootstrap_v3_bootstrap, type Bootstrap } from '../../gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { ClusterSchema, type Cluster } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema, type Listener } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../gen/envoy/config/route/v3/route_pb.js';
import { SecretSchema, type Secret } from '../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { xdsRegistry } from '../../xds/registry.js';

export const dumpRegistry = createRegistry(xdsRegistry, file_envoy_config_bootstrap_v3_bootstrap);

export interface DumpedSecret {
  name: string;
  versionInfo: string;
  /** ACTIVE, WARMING, or UNINITIALIZED (active, never filled: Envoy's version "uninitialized"). */
  state: 'ACTIVE' | 'WARMING' | 'UNINITIALIZED';
  secret: Secret | undefined;
}

export interface ProxyDump {
  bootstrap: Bootstrap | undefined;
  clusters: Cluster[];
  listeners: Listener[];
  routes: RouteConfiguration[];
  secrets: DumpedSecret[];
  /** EDS, present when the dump was asked for with include_eds. */
  endpoints: ClusterLoadAssignment[];
  /** Resources that could not be decoded, with why. */
  problems: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A field by its camelCase name, or its snake_case spelling (Envoy's /config_dump). */
function field(o: Json, camel: string): unknown {
  return o[camel] ?? o[camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
}

function list(o: Json, camel: string): Json[] {
  const v = field(o, camel);
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** A message from its JSON, an Any's (with "@type") or a plain one. */
function decode<D extends DescMessage>(schema: D, any: unknown, problems: string[], what: string): MessageShape<D> | undefined {
  if (!isObject(any)) return undefined;
  const { '@type': _type, ...body } = any;
  try {
    return fromJson(schema, body as JsonValue, { registry: dumpRegistry, ignoreUnknownFields: true });
  } catch (err) {
    problems.push(`${what} ${typeof body['name'] === 'string' ? body['name'] : ''}: ${(err as Error).message}`.replace('  ', ' '));
    return undefined;
  }
}

const shortType = (t: unknown) => (typeof t === 'string' ? t.slice(t.lastIndexOf('.') + 1) : '');

/** Which resources to decode, by kind and name (undecoded ones cost a name lookup only): `trellis why` reads a few of a large dump. */
export type DumpFilter = (kind: 'bootstrap' | 'cluster' | 'listener' | 'route' | 'secret' | 'endpoints', name: string) => boolean;

const everything: DumpFilter = () => true;
/** A resource's name; a ClusterLoadAssignment's is its clusterName. */
const nameOf = (o: unknown): string => (!isObject(o) ? '' : typeof o['name'] === 'string' ? o['name'] : typeof o['clusterName'] === 'string' ? o['clusterName'] : '');

export function parseConfigDump(json: unknown, keep: DumpFilter = everything): ProxyDump {
  const out: ProxyDump = { bootstrap: undefined, clusters: [], listeners: [], routes: [], secrets: [], endpoints: [], problems: [] };
  const decodeIf = <D extends DescMessage>(kind: Parameters<DumpFilter>[0], schema: D, any: unknown, what: string): MessageShape<D> | undefined =>
    keep(kind, nameOf(any)) ? decode(schema, any, out.problems, what) : undefined;
  const configs = isObject(json) ? list(json, 'configs') : [];
  for (const c of configs) {
    switch (shortType(c['@type'])) {
      case 'BootstrapConfigDump':
        out.bootstrap = keep('bootstrap', '') ? decode(BootstrapSchema, field(c, 'bootstrap'), out.problems, 'bootstrap') : undefined;
        break;
      case 'ClustersConfigDump':
        for (const k of ['staticClusters', 'dynamicActiveClusters']) {
          for (const e of list(c, k)) push(out.clusters, decodeIf('cluster', ClusterSchema, field(e, 'cluster'), 'cluster'));
        }
        break;
      case 'ListenersConfigDump':
        for (const e of list(c, 'staticListeners')) push(out.listeners, decodeIf('listener', ListenerSchema, field(e, 'listener'), 'listener'));
        for (const e of list(c, 'dynamicListeners')) {
          const active = field(e, 'activeState');
          if (isObject(active)) push(out.listeners, decodeIf('listener', ListenerSchema, field(active, 'listener'), 'listener'));
        }
        break;
      case 'RoutesConfigDump':
        for (const k of ['staticRouteConfigs', 'dynamicRouteConfigs']) {
          for (const e of list(c, k)) push(out.routes, decodeIf('route', RouteConfigurationSchema, field(e, 'routeConfig'), 'route'));
        }
        break;
      case 'EndpointsConfigDump':
        for (const k of ['staticEndpointConfigs', 'dynamicEndpointConfigs']) {
          for (const e of list(c, k)) push(out.endpoints, decodeIf('endpoints', ClusterLoadAssignmentSchema, field(e, 'endpointConfig'), 'endpoints'));
        }
        break;
      case 'SecretsConfigDump':
        for (const [k, state] of [['dynamicWarmingSecrets', 'WARMING'], ['dynamicActiveSecrets', 'ACTIVE']] as const) {
          for (const e of list(c, k)) if (keep('secret', String(field(e, 'name') ?? ''))) out.secrets.push(dumpedSecret(e, state, out.problems));
        }
        break;
    }
  }
  return out;
}

function dumpedSecret(e: Json, state: 'ACTIVE' | 'WARMING', problems: string[]): DumpedSecret {
  const versionInfo = String(field(e, 'versionInfo') ?? '');
  return {
    name: String(field(e, 'name') ?? ''),
    versionInfo,
    state: state === 'ACTIVE' && versionInfo === 'uninitialized' ? 'UNINITIALIZED' : state,
    secret: decode(SecretSchema, field(e, 'secret'), problems, 'secret'),
  };
}

function push<T>(to: T[], v: T | undefined): void {
  if (v !== undefined) to.push(v);
}

/** A message as Envoy's JSON (camelCase, as istioctl prints it), for -o json and -o yaml. */
export function messageJson<D extends DescMessage>(schema: D, m: MessageShape<D>): JsonValue {
  return toJson(schema, m, { registry: dumpRegistry });
}
