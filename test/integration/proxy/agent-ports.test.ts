/**
 * The ports the injected pod's probes and scrape annotations point at, on
 * the real `trellis proxy`: the health port answers /healthz/ready 503
 * until the proxy has its config and 200 after; the status port serves the
 * same, the proxy's metrics merged with the app's, and the app probes the
 * injector rewrote — run against a real HTTP app, a TCP port and a grpc-js
 * server implementing grpc.health.v1.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { trellisBin } from '../../helpers/trellis-process.js';
import { request } from 'undici';
import { Server, ServerCredentials, status as grpcStatus } from '@grpc/grpc-js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig } from './xds-builders.js';

/** grpc.health.v1 by hand: HealthCheckRequest{service} in, HealthCheckResponse{status} out (1 SERVING, 2 NOT_SERVING). */
async function healthServer(): Promise<{ port: number; close(): void }> {
  const server = new Server();
  server.addService({
    Check: {
      path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, originalName: 'Check',
      // An object, not the bare name: grpc-js takes a falsy request ('' for the empty HealthCheckRequest) for none at all.
      requestSerialize: (v: { service: string }) => Buffer.from(v.service), requestDeserialize: (b: Buffer) => ({ service: b.length > 2 ? b.subarray(2).toString() : '' }),
      responseSerialize: (s: number) => Buffer.from([0x08, s]), responseDeserialize: (b: Buffer) => b[1] ?? 0,
    },
  }, {
    Check: (call: { request: { service: string } }, cb: (err: { code: number; details: string } | null, v?: number) => void) => {
      if (call.request.service === 'missing') cb({ code: grpcStatus.NOT_FOUND, details: 'unknown service' });
      else cb(null, call.request.service === 'down' ? 2 : 1);
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { port, close: () => server.forceShutdown() };
}

describe('proxy: the health and status ports (Istio\'s 15021 and 15020)', () => {
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let app: Backend;
  let grpc: { port: number; close(): void };
  let closedPort: number;
  let health: number;
  let status: number;
  let seenHeaders: Record<string, unknown> = {};
  const cluster = 'outbound|8080||web.default.svc.cluster.local';

  before(async () => {
    app = await startBackend((req, res) => {
      seenHeaders = req.headers;
      if (req.url === '/ready') res.end('app ready');
      else if (req.url === '/moved') res.writeHead(302, { location: '/elsewhere' }).end();
      else if (req.url === '/metrics') res.end('# TYPE app_requests_total counter\napp_requests_total 42\n');
      else if (req.url === '/custom') res.end('# TYPE app_custom gauge\napp_custom 7\n');
      else res.writeHead(500).end('app unhealthy');
    });
    grpc = await healthServer();
    const probe = net.createServer();
    closedPort = await new Promise<number>((r) => probe.listen(0, '127.0.0.1', () => r((probe.address() as net.AddressInfo).port)));
    await new Promise<void>((r) => probe.close(() => r()));
    const probers = {
      '/app-health/web/readyz': { httpGet: { path: '/ready', port: app.port, httpHeaders: [{ name: 'X-Probe', value: 'kubelet' }] } },
      '/app-health/web/livez': { httpGet: { path: 'broken', port: app.port }, timeoutSeconds: 2 },
      '/app-health/web/startupz': { tcpSocket: { port: app.port } },
      '/app-health/tcp-down/readyz': { tcpSocket: { port: closedPort }, timeoutSeconds: 1 },
      '/app-health/redirect/readyz': { httpGet: { path: '/moved', port: app.port } },
      '/app-health/grpc/readyz': { grpc: { port: grpc.port } },
      '/app-health/grpc/livez': { grpc: { port: grpc.port, service: 'down' } },
      '/app-health/grpc/startupz': { grpc: { port: grpc.port, service: 'missing' } },
      '/app-lifecycle/web/prestopz': { httpGet: { path: '/ready', port: app.port } },
      '/not-a-probe-path': { httpGet: { port: app.port } },
    };
    const scrape = { scrape: 'true', port: String(app.port), path: '/metrics', targets: [{ port: String(app.port), path: '/metrics' }, { port: String(app.port), path: '/custom' }] };
    await ads.start();
    proxy = await startProxy(ads.port, ['--health-port', '0', '--status-port', '0', '--agent-bind', '127.0.0.1'], {
      ISTIO_KUBE_APP_PROBERS: JSON.stringify(probers), ISTIO_PROMETHEUS_ANNOTATIONS: JSON.stringify(scrape), TRELLIS_LOG: 'agent=error,warn',
    });
    const ports = await eventually(() => {
      const h = /health listening on [^:]+:(\d+)/.exec(proxy.stdout());
      const s = /status listening on [^:]+:(\d+)/.exec(proxy.stdout());
      return h && s ? [Number(h[1]), Number(s[1])] : undefined;
    }, 5000, 'agent ports');
    [health, status] = ports as [number, number];
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    grpc?.close();
    await app?.close();
  });

  const get = async (port: number, path: string, headers: Record<string, string> = {}) => {
    const r = await request(`http://127.0.0.1:${port}${path}`, { headers });
    return { status: r.statusCode, body: await r.body.text(), type: String(r.headers['content-type'] ?? '') };
  };

  test('/healthz/ready is 503 on both ports until the config is applied, then 200', async () => {
    assert.equal((await get(health, '/healthz/ready')).status, 503);
    assert.equal((await get(status, '/healthz/ready')).status, 503);
    ads.setAll(TypeUrl.Cluster, [[cluster, edsCluster(cluster)]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [[cluster, endpoints(cluster, [app.port])]]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'web')]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['web', routeConfig('web', [{ name: 'web', domains: ['*'], routes: [prefixRoute('/', cluster)] }])]]);
    ads.push();
    await eventually(async () => (await get(health, '/healthz/ready')).status === 200, 5000, 'health port ready');
    assert.equal((await get(status, '/healthz/ready')).status, 200);
    assert.equal((await get(health, '/stats/prometheus')).status, 404, 'the health port serves readiness only');
  });

  test('trellis wait (the classic layout\'s postStart hook) returns 0 on a ready proxy, 1 when nothing answers in time', () => {
    const ok = spawnSync(process.execPath, [trellisBin, 'wait', '--port', String(health), '--timeout', '5s'], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(ok.status, 0, ok.stderr);
    const late = spawnSync(process.execPath, [trellisBin, 'wait', '--port', String(closedPort), '--timeout', '1s', '--period-ms', '100'], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(late.status, 1);
    assert.match(late.stderr, /not ready within 1s/);
  });

  test('/stats/prometheus on the status port: the proxy\'s metrics, then every app target\'s', async () => {
    const m = await get(status, '/stats/prometheus');
    assert.equal(m.status, 200);
    assert.match(m.type, /^text\/plain; version=0\.0\.4/);
    assert.match(m.body, /^envoy_control_plane_connected_state 1$/m);
    assert.match(m.body, /^app_requests_total 42$/m);
    assert.match(m.body, /^app_custom 7$/m);
    assert.match(m.body, /^istio_agent_scrape_failures_total 0$/m);
    assert.ok(m.body.indexOf('envoy_control_plane_connected_state') < m.body.indexOf('app_requests_total'), 'the proxy\'s first');
  });

  test('HTTP probes go to the app with the probe\'s headers; its status comes back, a redirect counts as success', async () => {
    const ready = await get(status, '/app-health/web/readyz', { 'user-agent': 'kube-probe/1.31' });
    assert.deepEqual([ready.status, ready.body], [200, 'app ready']);
    assert.equal(seenHeaders['x-probe'], 'kubelet');
    assert.equal(seenHeaders['user-agent'], 'kube-probe/1.31', 'the kubelet\'s own headers are forwarded');
    const live = await get(status, '/app-health/web/livez');
    assert.deepEqual([live.status, live.body], [500, 'app unhealthy']);
    assert.equal((await get(status, '/app-health/redirect/readyz')).status, 200);
    assert.equal((await get(status, '/app-lifecycle/web/prestopz')).status, 200);
  });

  test('TCP probes: 200 when the port accepts, 500 when it refuses', async () => {
    assert.equal((await get(status, '/app-health/web/startupz')).status, 200);
    assert.equal((await get(status, '/app-health/tcp-down/readyz')).status, 500);
  });

  test('gRPC probes speak grpc.health.v1: SERVING is 200, NOT_SERVING and errors are 500', async () => {
    assert.equal((await get(status, '/app-health/grpc/readyz')).status, 200);
    assert.equal((await get(status, '/app-health/grpc/livez')).status, 500);
    assert.equal((await get(status, '/app-health/grpc/startupz')).status, 500);
  });

  test('a path with no prober is 400 (as Istio\'s agent); an invalid entry of ISTIO_KUBE_APP_PROBERS was dropped alone', async () => {
    const r = await get(status, '/app-health/nope/readyz');
    assert.equal(r.status, 400);
    assert.match(r.body, /does not exist/);
    assert.equal((await get(status, '/not-a-probe-path')).status, 404);
    assert.match(proxy.stderr(), /not-a-probe-path/);
  });
});
