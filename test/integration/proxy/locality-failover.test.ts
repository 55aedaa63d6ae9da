/**
 * Priorities and locality weighting in the real proxy, with real backends
 * (issue 13, locality load balancing): traffic stays in priority 0, moves
 * to priority 1 when the local endpoint is ejected by outlier detection
 * (it answers 5xx), comes back once the ejection time is over; a partly
 * ejected priority spills only what the 1.4 overprovisioning factor leaves;
 * locality_weighted_lb_config splits by locality weight.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { Cluster_DiscoveryType } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, sleep, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { httpListener, ms, prefixRoute, priorityEndpoints, rawCluster, routeConfig } from './xds-builders.js';

const eds = { edsConfig: { configSourceSpecifier: { case: 'ads' as const, value: {} } } };

describe('proxy: priorities and locality weighting', () => {
  const ads = new FakeAdsServer();
  const backends: Backend[] = [];
  /** Backends that answer 500 while their name is in here. */
  const failing = new Set<string>();
  let proxy: RunningProxy;
  let port = 0;
  const agent = new Agent({ connections: 8 });

  const named = (name: string) => startBackend((req, res) => {
    req.resume();
    if (failing.has(name)) res.writeHead(500).end(name);
    else res.end(name);
  });
  const get = async (path: string) => {
    const r = await request(`http://127.0.0.1:${port}${path}`, { dispatcher: agent });
    return { status: r.statusCode, text: await r.body.text() };
  };
  const tally = async (path: string, n: number) => {
    const out = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const r = await get(path);
      const key = r.status === 200 ? r.text : `${r.status}`;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
    return out;
  };

  before(async () => {
    const [local, remote, a1, a2, b1, w1, w2] = await Promise.all(['local', 'remote', 'a1', 'a2', 'b1', 'w1', 'w2'].map(named));
    backends.push(local!, remote!, a1!, a2!, b1!, w1!, w2!);
    // Istio's shape: outlier detection, panic threshold 0 (minHealthPercent unset), every host may be ejected.
    const outlier = (name: string, ejectMs: number) => rawCluster({
      name,
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
      edsClusterConfig: eds,
      connectTimeout: ms(1000),
      outlierDetection: { consecutive5xx: 2, baseEjectionTime: ms(ejectMs), maxEjectionPercent: 100 },
      commonLbConfig: { healthyPanicThreshold: { value: 0 } },
    });
    ads.setAll(TypeUrl.Cluster, [
      ['failover', outlier('failover', 1500)],
      ['spill', outlier('spill', 60_000)],
      ['weighted', rawCluster({
        name: 'weighted',
        clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
        edsClusterConfig: eds,
        commonLbConfig: { localityConfigSpecifier: { case: 'localityWeightedLbConfig', value: {} } },
      })],
    ]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [
      ['failover', priorityEndpoints('failover', [{ priority: 0, ports: [local!.port] }, { priority: 1, ports: [remote!.port] }])],
      ['spill', priorityEndpoints('spill', [{ priority: 0, ports: [a1!.port, a2!.port] }, { priority: 1, ports: [b1!.port] }])],
      ['weighted', priorityEndpoints('weighted', [{ priority: 0, weight: 3, zone: 'a', ports: [w1!.port] }, { priority: 0, weight: 1, zone: 'b', ports: [w2!.port] }])],
    ]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes')]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{
      name: 'all',
      domains: ['*'],
      routes: [prefixRoute('/failover', 'failover'), prefixRoute('/spill', 'spill'), prefixRoute('/weighted', 'weighted')],
    }])]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await eventually(async () => (await proxy.admin('/ready')).status === 200, 5000, 'proxy ready');
    port = await proxy.listenerPort('http');
  });

  after(async () => {
    await agent.close();
    await proxy?.stop();
    ads.stop();
    await Promise.all(backends.map((b) => b.close()));
  });

  test('traffic stays in priority 0, fails over when it is ejected, and comes back after the ejection time', async () => {
    assert.deepEqual([...await tally('/failover', 20)], [['local', 20]]);
    const clusters = (await proxy.admin('/clusters')).body;
    assert.match(clusters, /^failover::127\.0\.0\.1:\d+::priority::1$/m, 'the EDS priority is on the host');
    failing.add('local');
    // Two 500s eject it (consecutive5xx: 2); from then on priority 0 has no healthy host and all load is on priority 1.
    assert.deepEqual([...await tally('/failover', 2)], [['500', 2]]);
    assert.deepEqual([...await tally('/failover', 20)], [['remote', 20]]);
    assert.match((await proxy.admin('/stats')).body, /^cluster\.failover\.outlier_detection_ejections_enforced_total: 1$/m);
    failing.delete('local');
    await sleep(1600);
    await eventually(async () => (await get('/failover')).text === 'local', 3000, 'back to priority 0');
    assert.deepEqual([...await tally('/failover', 20)], [['local', 20]]);
  });

  test('half of priority 0 ejected: it keeps 70 % (1.4 × 50 %), priority 1 takes the rest', async () => {
    failing.add('a2');
    // Round robin over a1, a2 in priority 0: a2 fails twice within a few requests and is ejected.
    await eventually(async () => {
      await tally('/spill', 2);
      return /^spill::127\.0\.0\.1:\d+::health_flags::\/failed_outlier_check$/m.test((await proxy.admin('/clusters')).body);
    }, 5000, 'a2 ejected');
    failing.delete('a2');
    const t = await tally('/spill', 200);
    const toP1 = t.get('b1') ?? 0;
    assert.equal(t.get('a2'), undefined, 'the ejected host gets nothing');
    // Expected 60 of 200 (sd 6.5); without the factor it would be 100.
    assert.ok(toP1 >= 35 && toP1 <= 85, `priority 1 got ${toP1} of 200: ${JSON.stringify([...t])}`);
    assert.equal((t.get('a1') ?? 0) + toP1, 200);
  });

  test('locality weighted: localities share by weight (3:1), each locality by the cluster balancer', async () => {
    const t = await tally('/weighted', 40);
    assert.deepEqual([...t].sort(), [['w1', 30], ['w2', 10]]);
  });
});
