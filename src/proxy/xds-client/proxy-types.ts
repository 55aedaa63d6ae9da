/**
 * The proxy's resource-type table: LDS, RDS, CDS, EDS, SDS, each decoded from its
 * Any and compiled (listeners, route tables, cluster and endpoint plans) once,
 * when config arrives. Compilation errors are the validation errors, with
 * field paths, that become a NACK's error_detail.
 */
import { fromBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../../gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { TypeUrl } from '../../xds/type-urls.js';
import { compileListener, type ChainPlan, type ListenerPlan } from '../listener/listener-plan.js';
import { SecretSchema } from '../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { compileSecret, type SecretPlan } from '../tls/secret.js';
import { compileRouteConfig, type RouteTable } from '../http/route-table.js';
import { compileCluster, compileEndpoints, type ClusterPlan, type EndpointsPlan } from '../cluster/cluster-plan.js';
import type { Decoded, ResourceType } from './resource-type.js';

function decodeWith<S extends DescMessage, T>(
  schema: S, any: Any, nameOf: (m: MessageShape<S>) => string,
  compile: (m: MessageShape<S>) => { ok: true; value: T } | { ok: false; errors: string[] },
): Decoded<T> {
  let msg: MessageShape<S>;
  try {
    msg = fromBinary(schema, any.value);
  } catch (err) {
    return { ok: false, name: '', errors: [`cannot decode ${schema.typeName}: ${(err as Error).message}`] };
  }
  const name = nameOf(msg);
  const r = compile(msg);
  return r.ok ? { ok: true, name, value: r.value } : { ok: false, name, errors: r.errors };
}

export const listenerType: ResourceType<ListenerPlan> = {
  typeUrl: TypeUrl.Listener,
  short: 'LDS',
  wildcard: true,
  decode: (any) => decodeWith(ListenerSchema, any, (m) => m.name, compileListener),
  dependencies: [
    {
      typeUrl: TypeUrl.RouteConfiguration,
      names(plans) {
        const out = new Set<string>();
        for (const c of allChains(plans)) if (c.network.kind === 'http' && c.network.hcm.rdsName) out.add(c.network.hcm.rdsName);
        return out;
      },
    },
    {
      typeUrl: TypeUrl.Secret,
      names(plans) {
        const out = new Set<string>();
        for (const c of allChains(plans)) for (const n of c.tls?.sdsNames ?? []) out.add(n);
        return out;
      },
    },
  ],
};

export const routeType: ResourceType<RouteTable> = {
  typeUrl: TypeUrl.RouteConfiguration,
  short: 'RDS',
  wildcard: false,
  decode: (any) => decodeWith(RouteConfigurationSchema, any, (m) => m.name, (m) => {
    const r = compileRouteConfig(m);
    return r.ok ? { ok: true, value: r.table } : r;
  }),
};

export const clusterType: ResourceType<ClusterPlan> = {
  typeUrl: TypeUrl.Cluster,
  short: 'CDS',
  wildcard: true,
  decode: (any) => decodeWith(ClusterSchema, any, (m) => m.name, compileCluster),
  dependencies: [
    {
      typeUrl: TypeUrl.ClusterLoadAssignment,
      names(plans) {
        const out = new Set<string>();
        for (const p of plans) if (p.edsName) out.add(p.edsName);
        return out;
      },
    },
    {
      typeUrl: TypeUrl.Secret,
      names(plans) {
        const out = new Set<string>();
        for (const p of plans) for (const n of p.tls?.sdsNames ?? []) out.add(n);
        return out;
      },
    },
  ],
};

export const endpointType: ResourceType<EndpointsPlan> = {
  typeUrl: TypeUrl.ClusterLoadAssignment,
  short: 'EDS',
  wildcard: false,
  decode: (any) => decodeWith(ClusterLoadAssignmentSchema, any, (m) => m.clusterName, compileEndpoints),
};

export const secretType: ResourceType<SecretPlan> = {
  typeUrl: TypeUrl.Secret,
  short: 'SDS',
  wildcard: false,
  decode: (any) => decodeWith(SecretSchema, any, (m) => m.name, compileSecret),
};

function* allChains(plans: Iterable<ListenerPlan>): Iterable<ChainPlan> {
  for (const p of plans) {
    yield* p.chains;
    if (p.defaultChain) yield p.defaultChain;
  }
}

/** Subscription order: clusters, endpoints and secrets before listeners and routes (make before break). */
export const proxyTypes: ResourceType[] = [clusterType, endpointType, secretType, listenerType, routeType] as ResourceType[];
