/**
 * Interop: a real xDS client (@grpc/grpc-js-xds, SotW) resolves xds:///greeter
 * through our AdsServer — LDS (API listener) → RDS → CDS → EDS — makes RPCs,
 * ACKs everything, and follows a push that moves the endpoint.
 * Own file: grpc-js-xds caches its bootstrap per process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { Server, ServerCredentials, credentials, makeGenericClientConstructor, type Client, type ServiceDefinition } from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
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
import { AdsServer } from '../../../src/controlplane/server/ads-server.js';
import { toResource } from '../../../src/controlplane/cache/resource.js';
import { Metrics } from '../../../src/controlplane/metrics/metrics.js';
import { logger } from '../../../src/log.js';
import { CDS, EDS, FakeGenerator, LDS, RDS, type FakeMesh } from './fake-generator.js';
import { parseNode } from '../../../src/xds/parse-node.js';
import { waitFor } from '../../helpers/ads-client.js';

const ident = (b: Buffer) => b;
const greeterService = {
  Hello: { path: '/test.Greeter/Hello', requestStream: false, responseStream: false, requestSerialize: ident, requestDeserialize: ident, responseSerialize: ident, responseDeserialize: ident },
} satisfies ServiceDefinition;
type Greeter = Client & { Hello(req: Buffer, cb: (err: Error | null, res?: Buffer) => void): void };

const ads = () => create(ConfigSourceSchema, { configSourceSpecifier: { case: 'ads', value: create(AggregatedConfigSourceSchema) }, resourceApiVersion: ApiVersion.V3 });

function mesh(backendPort: number): FakeMesh {
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: 'greeter',
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

async function backend(name: string): Promise<{ server: Server; port: number }> {
  const server = new Server();
  server.addService(greeterService, { Hello: (_call: unknown, cb: (e: null, r: Buffer) => void) => cb(null, Buffer.from(name)) });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { server, port };
}

function hello(client: Greeter): Promise<string> {
  return new Promise((resolve, reject) => {
    client.Hello(Buffer.from('hi'), (err, res) => (err ? reject(err) : resolve(res!.toString())));
  });
}

describe('interop with @grpc/grpc-js-xds (SotW)', () => {
  const nodeId = 'sidecar~127.0.0.1~greeter-client.default~default.svc.cluster.local';
  let server: AdsServer;
  let b1: { server: Server; port: number };
  let b2: { server: Server; port: number };
  let client: Greeter | undefined;

  before(async () => {
    b1 = await backend('b1');
    b2 = await backend('b2');
    server = new AdsServer({ generator: new FakeGenerator(mesh(b1.port)), parseNode, metrics: new Metrics(), log: logger('test-ads') });
    const port = await server.listen('127.0.0.1', 0);
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
      xds_servers: [{ server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: nodeId, locality: {} },
    });
    grpcXds.register();
  });

  after(async () => {
    client?.close();
    await server.close();
    b1.server.forceShutdown();
    b2.server.forceShutdown();
  });

  test('RPC through xds:///greeter; all four types ACKed; a push moves traffic', async () => {
    const Ctor = makeGenericClientConstructor(greeterService, 'Greeter');
    client = new Ctor('xds:///greeter', credentials.createInsecure()) as unknown as Greeter;
    assert.equal(await hello(client), 'b1');
    const synced = () => {
      const p = server.syncStatus().find((e) => e.nodeId === nodeId);
      return p !== undefined && ['LDS', 'RDS', 'CDS', 'EDS'].every((t) => p.types[t].status === 'SYNCED');
    };
    await waitFor(synced, 5000);

    server.setGenerator(new FakeGenerator(mesh(b2.port)));
    const stats = server.push();
    assert.equal(stats.responses, 1, 'only EDS changed');
    let last = '';
    const deadline = Date.now() + 5000;
    while (last !== 'b2' && Date.now() < deadline) {
      last = await hello(client);
      if (last !== 'b2') await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(last, 'b2');
    await waitFor(synced, 5000);
  });
});
