/** gRPC end to end through the proxy: h2c downstream, HTTP/2 upstream, status and trailers preserved. */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { Server, ServerCredentials, credentials, makeGenericClientConstructor, status, type ServiceError, type ServiceDefinition } from '@grpc/grpc-js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { Cluster_DiscoveryType } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HttpProtocolOptionsSchema } from '../../../src/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startProxy, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, ms, prefixRoute, rawCluster, routeConfig } from './xds-builders.js';

const id = (b: Buffer) => b;
const emptyService = {
  Say: { path: '/test.Empty/Say', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id },
} satisfies ServiceDefinition;
const echoService = {
  Say: { path: '/test.Echo/Say', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id },
} satisfies ServiceDefinition;

describe('proxy: gRPC', () => {
  const ads = new FakeAdsServer();
  const grpcServer = new Server();
  let proxy: RunningProxy;
  let client: InstanceType<ReturnType<typeof makeGenericClientConstructor>>;

  before(async () => {
    grpcServer.addService(echoService, {
      Say: (call: { request: Buffer }, cb: (e: Partial<ServiceError> | null, r?: Buffer) => void) => {
        const s = call.request.toString();
        if (s === 'fail') cb({ code: status.NOT_FOUND, details: 'no such greeting' });
        else cb(null, Buffer.from(`hi ${s}`));
      },
    });
    const gport = await new Promise<number>((resolve, reject) => grpcServer.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const h2 = anyPack(HttpProtocolOptionsSchema, create(HttpProtocolOptionsSchema, {
      upstreamProtocolOptions: { case: 'explicitHttpConfig', value: { protocolConfig: { case: 'http2ProtocolOptions', value: {} } } },
    }));
    ads.setAll(TypeUrl.Cluster, [['grpc', rawCluster({
      name: 'grpc',
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
      edsClusterConfig: { edsConfig: { configSourceSpecifier: { case: 'ads', value: {} } } },
      connectTimeout: ms(1000),
      typedExtensionProtocolOptions: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': h2 },
    })]]);
    ads.set(TypeUrl.Cluster, 'empty', edsCluster('empty'));
    ads.setAll(TypeUrl.ClusterLoadAssignment, [['grpc', endpoints('grpc', [gport])], ['empty', endpoints('empty', [])]]);
    ads.setAll(TypeUrl.Listener, [['grpc', httpListener('grpc', 'routes')]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{ name: 'all', domains: ['*'], routes: [prefixRoute('/test.Empty/', 'empty'), prefixRoute('/', 'grpc')] }])]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await proxy.ready();
    const port = await proxy.listenerPort('grpc');
    const Client = makeGenericClientConstructor(echoService, 'Echo');
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    await proxy?.stop();
    ads.stop();
    grpcServer.forceShutdown();
  });

  const say = (s: string) => new Promise<{ err: ServiceError | null; resp?: Buffer }>((resolve) => {
    (client as unknown as { Say(b: Buffer, opts: object, cb: (e: ServiceError | null, r?: Buffer) => void): void })
      .Say(Buffer.from(s), { deadline: Date.now() + 5000 }, (err, resp) => resolve({ err, resp }));
  });

  test('a unary call succeeds through the proxy', async () => {
    const { err, resp } = await say('there');
    assert.equal(err, null);
    assert.equal(resp?.toString(), 'hi there');
  });

  test('a gRPC error status and message come back in the trailers', async () => {
    const { err } = await say('fail');
    assert.equal(err?.code, status.NOT_FOUND);
    assert.equal(err?.details, 'no such greeting');
  });

  test('no healthy upstream becomes UNAVAILABLE with Envoy\'s message, not an HTTP error', async () => {
    const port = await proxy.listenerPort('grpc');
    const Empty = makeGenericClientConstructor(emptyService, 'Empty');
    const c = new Empty(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as { Say(b: Buffer, o: object, cb: (e: ServiceError | null) => void): void; close(): void };
    try {
      const err = await new Promise<ServiceError | null>((resolve) => c.Say(Buffer.from('x'), { deadline: Date.now() + 5000 }, resolve));
      assert.equal(err?.code, status.UNAVAILABLE);
      assert.equal(err?.details, 'no healthy upstream');
    } finally {
      c.close();
    }
  });

  test('gRPC requests are labelled request_protocol="grpc" in metrics', async () => {
    const prom = (await proxy.admin('/stats/prometheus')).body;
    assert.match(prom, /istio_requests_total\{[^}]*request_protocol="grpc",response_code="200"[^}]*\} 2/);
  });
});
