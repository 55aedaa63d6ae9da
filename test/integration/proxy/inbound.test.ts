/**
 * The inbound side: a STATIC cluster whose upstream_bind_config makes the
 * proxy connect to the app from 127.0.0.6 (as Istio's sidecar does), and an
 * INBOUND listener reporting metrics as reporter="destination".
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { request } from 'undici';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { TrafficDirection } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import { Cluster_DiscoveryType } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { httpListener, ms, prefixRoute, rawCluster, routeConfig } from './xds-builders.js';

describe('proxy: inbound', () => {
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let app: Backend;
  const cluster = 'inbound|8080||';

  before(async () => {
    app = await startBackend((req, res) => res.end(JSON.stringify({ from: req.socket.remoteAddress })));
    const sock = (port: number, address = '127.0.0.1') => ({ address, portSpecifier: { case: 'portValue' as const, value: port } });
    ads.setAll(TypeUrl.Cluster, [[cluster, rawCluster({
      name: cluster,
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
      connectTimeout: ms(1000),
      upstreamBindConfig: { sourceAddress: sock(0, '127.0.0.6') },
      loadAssignment: { clusterName: cluster, endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: { address: { case: 'socketAddress', value: sock(app.port) } } } } }] }] },
    })]]);
    const l = fromBinary(ListenerSchema, httpListener('virtualInbound', 'inbound-routes').value);
    l.trafficDirection = TrafficDirection.INBOUND;
    ads.setAll(TypeUrl.Listener, [['virtualInbound', anyPack(ListenerSchema, create(ListenerSchema, l))]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['inbound-routes', routeConfig('inbound-routes', [{ name: 'inbound', domains: ['*'], routes: [prefixRoute('/', cluster)] }])]]);
    await ads.start();
    proxy = await startProxy(ads.port, [], { ISTIO_META_WORKLOAD_NAME: 'app-v1' });
    await proxy.ready();
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await app?.close();
  });

  test('the app sees connections from 127.0.0.6; metrics are reported by the destination', async () => {
    const port = await proxy.listenerPort('virtualInbound');
    const r = await request(`http://127.0.0.1:${port}/`, { headers: { host: 'app.default.svc.cluster.local:8080' } });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(await r.body.json(), { from: '127.0.0.6' });
    const prom = (await proxy.admin('/stats/prometheus')).body;
    assert.match(prom, /istio_requests_total\{reporter="destination",[^}]*destination_workload="app-v1",[^}]*destination_service="app\.default\.svc\.cluster\.local"[^}]*response_code="200"[^}]*\} 1/);
  });
});
