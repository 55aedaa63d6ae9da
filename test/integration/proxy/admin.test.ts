/** The admin API's paths and shapes (Envoy's), and /quitquitquit ending the process. */
import { readFileSync } from 'node:fs';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { echoBackend, eventually, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig } from './xds-builders.js';

describe('proxy: admin API', () => {
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let backend: Backend;
  const cluster = 'outbound|8080||web.default.svc.cluster.local';

  before(async () => {
    backend = await echoBackend('web');
    await ads.start();
    // Start with nothing served: the proxy must report not ready.
    // Istio's pilot-agent passes --concurrency 2: accepted, and the effective value is reported.
    proxy = await startProxy(ads.port, ['--concurrency', '2']);
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await backend?.close();
  });

  test('/ready is 503 until the first LDS and CDS are applied, then 200 LIVE', async () => {
    const before = await proxy.admin('/ready');
    assert.equal(before.status, 503);
    ads.setAll(TypeUrl.Cluster, [[cluster, edsCluster(cluster)]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [[cluster, endpoints(cluster, [backend.port])]]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', '8080')]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['8080', routeConfig('8080', [{ name: 'web', domains: ['*'], routes: [prefixRoute('/', cluster)] }])]]);
    ads.push();
    const ready = await eventually(async () => { const r = await proxy.admin('/ready'); return r.status === 200 ? r : undefined; }, 5000, 'ready');
    assert.equal(ready.body, 'LIVE\n');
  });

  test('/config_dump has the applied dynamic resources in ConfigDump JSON', async () => {
    const dump = JSON.parse((await proxy.admin('/config_dump?include_eds')).body) as { configs: Array<Record<string, unknown>> };
    const types = dump.configs.map((c) => c['@type']);
    assert.deepEqual(types, [
      'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
      'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
      'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
      'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
      'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
      'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump',
    ]);
    const bootstrap = dump.configs[0] as { bootstrap: { node: { id: string }; admin: { address: { socketAddress: { portValue: number } } } } };
    assert.equal(bootstrap.bootstrap.node.id, 'sidecar~127.0.0.1~test-pod.default~default.svc.cluster.local');
    assert.equal(bootstrap.bootstrap.admin.address.socketAddress.portValue, proxy.adminPort);
    const listeners = dump.configs[2] as { dynamicListeners: Array<{ name: string; activeState: { listener: { '@type': string; name: string } } }> };
    assert.equal(listeners.dynamicListeners[0].name, 'http');
    assert.equal(listeners.dynamicListeners[0].activeState.listener['@type'], TypeUrl.Listener);
    const clusters = dump.configs[1] as { dynamicActiveClusters: Array<{ cluster: { name: string; type: string } }> };
    assert.equal(clusters.dynamicActiveClusters[0].cluster.name, cluster);
    assert.equal(clusters.dynamicActiveClusters[0].cluster.type, 'EDS');
  });

  test('/listeners and /clusters in text and JSON', async () => {
    const port = await proxy.listenerPort('http');
    assert.equal((await proxy.admin('/listeners')).body, `http::127.0.0.1:${port}\n`);
    const r = await request(`http://127.0.0.1:${port}/`);
    assert.equal(r.statusCode, 200);
    await r.body.text();
    const text = (await proxy.admin('/clusters')).body;
    assert.ok(text.includes(`${cluster}::127.0.0.1:${backend.port}::rq_total::1\n`), text);
    assert.ok(text.includes(`${cluster}::default_priority::max_connections::1024\n`));
    const json = JSON.parse((await proxy.admin('/clusters?format=json')).body) as { cluster_statuses: Array<{ name: string; host_statuses: Array<{ address: { socket_address: { port_value: number } } }> }> };
    assert.equal(json.cluster_statuses[0].name, cluster);
    assert.equal(json.cluster_statuses[0].host_statuses[0].address.socket_address.port_value, backend.port);
  });

  test('/stats/prometheus has Istio request metrics with labels and a duration histogram', async () => {
    const prom = (await proxy.admin('/stats/prometheus')).body;
    assert.match(prom, /istio_requests_total\{reporter="source",source_workload="test-client",source_workload_namespace="default",[^}]*destination_service="web\.default\.svc\.cluster\.local",destination_service_name="web",destination_service_namespace="default",request_protocol="http",response_code="200",response_flags="-"[^}]*\} 1/);
    assert.match(prom, /istio_request_duration_milliseconds_bucket\{[^}]*le="\+Inf"\} 1/);
    assert.match(prom, /istio_request_duration_milliseconds_count\{[^}]*\} 1/);
    assert.match(prom, /envoy_cluster_upstream_rq_2xx\{cluster_name="outbound\|8080\|\|web\.default\.svc\.cluster\.local"\} 1/);
  });

  test('/stats has Envoy-style listener, HTTP and cluster counters', async () => {
    const port = await proxy.listenerPort('http');
    const stats = (await proxy.admin('/stats')).body;
    assert.match(stats, /^http\.http\.downstream_rq_total: 1$/m);
    assert.match(stats, /^http\.http\.downstream_rq_2xx: 1$/m);
    assert.match(stats, new RegExp(`^listener\\.127\\.0\\.0\\.1_0\\.downstream_cx_total: 1$`, 'm'), `bound on ${port}`);
    assert.match(stats, /^listener_manager\.lds\.update_success: [1-9]/m);
    assert.match(stats, /^control_plane\.connected_state: 1$/m);
    const json = JSON.parse((await proxy.admin('/stats?format=json')).body) as { stats: Array<{ name: string; value: number }> };
    assert.ok(json.stats.some((s) => s.name === 'http.http.downstream_rq_total' && s.value === 1));
  });

  test('/server_info reports LIVE, the node id and the concurrency in effect; unknown paths are 404', async () => {
    const info = JSON.parse((await proxy.admin('/server_info')).body) as { state: string; command_line_options: { service_node: string; concurrency: number } };
    assert.equal(info.state, 'LIVE');
    assert.equal(info.command_line_options.service_node, 'sidecar~127.0.0.1~test-pod.default~default.svc.cluster.local');
    assert.equal(info.command_line_options.concurrency, 1);
    assert.match(proxy.stderr(), /--concurrency is not 1: this proxy serves from one event loop.*requested=2/);
    assert.equal((await proxy.admin('/nope')).status, 404);
  });

  test("/memory: Envoy's fields, as strings, consistent with the process's RSS", async () => {
    const m = JSON.parse((await proxy.admin('/memory')).body) as Record<string, string>;
    assert.deepEqual(Object.keys(m).sort(), ['allocated', 'heap_size', 'pageheap_free', 'pageheap_unmapped', 'total_physical_bytes', 'total_thread_cache']);
    assert.ok(Object.values(m).every((v) => /^\d+$/.test(v)), JSON.stringify(m));
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proxy.proc.pid}/status`, 'utf8'))![1]);
    // Read a moment apart: within a quarter of each other.
    assert.ok(Math.abs(Number(m.total_physical_bytes) / 1024 - rssKiB) < rssKiB / 4, `${m.total_physical_bytes} vs ${rssKiB} KiB`);
    assert.ok(Number(m.heap_size) >= Number(m.pageheap_free) && Number(m.allocated) > 0);
  });

  test('POST /quitquitquit ends the process', async () => {
    const exited = new Promise<number | null>((r) => proxy.proc.once('exit', (code) => r(code)));
    const r = await proxy.admin('/quitquitquit', 'POST');
    assert.equal(r.body, 'OK\n');
    assert.equal(await exited, 0);
  });
});
