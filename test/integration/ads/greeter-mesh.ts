/**
 * A one-route gRPC mesh for tests that drive the real @grpc/grpc-js-xds
 * client: listener "greeter" → route "greeter-route" → cluster
 * "greeter-cluster" → one endpoint; a greeter backend that answers with its
 * name; and the call.
 */
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { Server, ServerCredentials, type CallOptions, type Client, type ServiceDefinition } from '@grpc/grpc-js';
import { Cluster_DiscoveryType, Cluster_LbPolicy, ClusterSchema } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { AddressSchema, SocketAddressSchema } from '../../../src/gen/envoy/config/core/v3/address_pb.js';
import { LocalitySchema } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import { AggregatedConfigSourceSchema, ApiVersion, ConfigSourceSchema } from '../../../src/gen/envoy/config/core/v3/config_source_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { EndpointSchema, LbEndpointSchema, LocalityLbEndpointsSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { ApiListenerSchema } from '../../../src/gen/envoy/config/listener/v3/api_listener_pb.js';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { RouteActionSchema, RouteMatchSchema, RouteSchema, VirtualHostSchema } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { RouterSchema } from '../../../src/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import {
  HttpConnectionManagerSchema,
  HttpFilterSchema,
  RdsSchema,
} from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { toResource } from '../../../src/controlplane/wire/resource.js';
import { CDS, EDS, LDS, RDS, type FakeMesh } from './fake-generator.js';

const ident = (b: Buffer) => b;
export const greeterService = {
  Hello: { path: '/test.Greeter/Hello', requestStream: false, responseStream: false, requestSerialize: ident, requestDeserialize: ident, responseSerialize: ident, responseDeserialize: ident },
} satisfies ServiceDefinition;
export type Greeter = Client & { Hello(req: Buffer, options: CallOptions, cb: (err: Error | null, res?: Buffer) => void): void };

const ads = () => create(ConfigSourceSchema, { configSourceSpecifier: { case: 'ads', value: create(AggregatedConfigSourceSchema) }, resourceApiVersion: ApiVersion.V3 });

/** `statPrefix` changes the listener's bytes without changing what it does. */
export function mesh(backendPort: number, statPrefix = 'greeter'): FakeMesh {
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix,
    routeSpecifier: { case: 'rds', value: create(RdsSchema, { routeConfigName: 'greeter-route', configSource: ads() }) },
    httpFilters: [create(HttpFilterSchema, { name: 'router', configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema)) } })],
  });
  const listener = create(ListenerSchema, { name: 'greeter', apiListener: create(ApiListenerSchema, { apiListener: anyPack(HttpConnectionManagerSchema, hcm) }) });
  const route = create(RouteConfigurationSchema, {
    name: 'greeter-route',
    virtualHosts: [
      create(VirtualHostSchema, {
        name: 'greeter',
        domains: ['*'],
        routes: [
          create(RouteSchema, {
            match: create(RouteMatchSchema, { pathSpecifier: { case: 'prefix', value: '' } }),
            action: { case: 'route', value: create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: 'greeter-cluster' } }) },
          }),
        ],
      }),
    ],
  });
  const cluster = create(ClusterSchema, {
    name: 'greeter-cluster',
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: ads() },
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
  });
  const address = create(AddressSchema, {
    address: { case: 'socketAddress', value: create(SocketAddressSchema, { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: backendPort } }) },
  });
  const cla = create(ClusterLoadAssignmentSchema, {
    clusterName: 'greeter-cluster',
    endpoints: [
      create(LocalityLbEndpointsSchema, {
        locality: create(LocalitySchema, { region: 'r1', zone: 'z1' }),
        loadBalancingWeight: 1,
        lbEndpoints: [create(LbEndpointSchema, { hostIdentifier: { case: 'endpoint', value: create(EndpointSchema, { address }) }, loadBalancingWeight: 1 })],
      }),
    ],
  });
  return {
    default: {
      [LDS]: [toResource(ListenerSchema, 'greeter', listener)],
      [RDS]: [toResource(RouteConfigurationSchema, 'greeter-route', route)],
      [CDS]: [toResource(ClusterSchema, 'greeter-cluster', cluster)],
      [EDS]: [toResource(ClusterLoadAssignmentSchema, 'greeter-cluster', cla)],
    },
  };
}

export async function backend(name: string): Promise<{ server: Server; port: number }> {
  const server = new Server();
  server.addService(greeterService, { Hello: (_call: unknown, cb: (e: null, r: Buffer) => void) => cb(null, Buffer.from(name)) });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { server, port };
}

/** One call; the deadline bounds it even while the channel has no configuration. */
export function hello(client: Greeter, deadlineMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    client.Hello(Buffer.from('hi'), { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res!.toString())));
  });
}
