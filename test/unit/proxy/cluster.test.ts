import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { ClusterSchema, Cluster_DiscoveryType, Cluster_LbPolicy } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { compileCluster, type ClusterPlan } from '../../../src/proxy/upstream/cluster-plan.js';
import { UpstreamCluster } from '../../../src/proxy/upstream/cluster.js';
import { createLoadBalancer } from '../../../src/proxy/upstream/load-balancer.js';
import { Host, hostKey } from '../../../src/proxy/upstream/host.js';

function plan(init: Record<string, unknown>): ClusterPlan {
  const r = compileCluster(create(ClusterSchema, { name: 'c', clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS }, ...init } as never));
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.value;
}

const eps = (n: number) => Array.from({ length: n }, (_, i) => ({ address: '127.0.0.1', port: 10000 + i, weight: 1, healthy: true }));

describe('clusters', () => {
  test('circuit breaker: max_connections + max_pending_requests, then max_requests', () => {
    const c = new UpstreamCluster(plan({ circuitBreakers: { thresholds: [{ maxConnections: 1, maxPendingRequests: 1, maxRequests: 100 }] } }));
    assert.equal(c.admit(), true);
    assert.equal(c.admit(), true); // pending behind the one connection
    assert.equal(c.admit(), false); // pending queue full → 503 UO
    c.release();
    assert.equal(c.admit(), true);
    const r = new UpstreamCluster(plan({ circuitBreakers: { thresholds: [{ maxRequests: 2 }] } }));
    assert.deepEqual([r.admit(), r.admit(), r.admit()], [true, true, false]);
  });

  test('outlier detection: consecutive 5xx eject, max_ejection_percent caps, success resets the count', () => {
    const c = new UpstreamCluster(plan({ outlierDetection: { consecutive5xx: 2, maxEjectionPercent: 50 }, commonLbConfig: { healthyPanicThreshold: { value: 0 } } }));
    c.setEndpoints(eps(4));
    const [h0, h1, h2] = c.hosts;
    c.report(h0, 500);
    c.report(h0, 200);
    c.report(h0, 503);
    assert.equal(h0.outlier.ejected, false, 'a success in between resets the streak');
    c.report(h0, 'local-failure');
    assert.equal(h0.outlier.ejected, true);
    c.report(h1, 500);
    c.report(h1, 500);
    assert.equal(h1.outlier.ejected, true);
    c.report(h2, 500);
    c.report(h2, 500);
    assert.equal(h2.outlier.ejected, false, 'already 50 % ejected');
    for (let i = 0; i < 10; i++) assert.ok(![h0.port, h1.port].includes(c.pick(undefined)!.port));
  });

  test('panic threshold: below it, every endpoint is used again', () => {
    const c = new UpstreamCluster(plan({ outlierDetection: { consecutive5xx: 1, maxEjectionPercent: 100 } }));
    c.setEndpoints(eps(2));
    c.report(c.hosts[0], 500);
    c.report(c.hosts[1], 500);
    assert.ok(c.hosts.every((h) => h.outlier.ejected));
    assert.ok(c.pick(undefined), 'default 50 % panic threshold: all hosts ejected → balance over all');
  });

  test('round robin visits every healthy host in turn; unhealthy hosts are skipped', () => {
    const c = new UpstreamCluster(plan({}));
    c.setEndpoints([...eps(3), { address: '127.0.0.2', port: 1, weight: 1, healthy: false }]);
    const seen = Array.from({ length: 6 }, () => c.pick(undefined)!.port);
    assert.deepEqual(new Set(seen), new Set([10000, 10001, 10002]));
    assert.equal(seen[0], seen[3]);
  });

  test('least request prefers the host with fewer active requests', () => {
    const lb = createLoadBalancer('least_request');
    const hosts = eps(2).map((e) => new Host(e.address, e.port, 1, true, { connections: 1, connectTimeoutMs: 100 }));
    hosts[0].active = 5;
    // The idle host is among the two random choices 3/4 of the time: ~300 of 400 (sd ~9); 240 is beyond 6 sd.
    const picks = Array.from({ length: 400 }, () => lb.pick(hosts).port);
    assert.ok(picks.every((p) => p === 10001 || p === 10000));
    assert.ok(picks.filter((p) => p === 10001).length > 240, 'the idle host wins whenever it is among the two choices');
  });

  test('consistent hash: removing an endpoint only moves the keys it owned', () => {
    const lb = createLoadBalancer('ring_hash');
    const hosts = eps(4).map((e) => new Host(e.address, e.port, 1, true, { connections: 1, connectTimeoutMs: 100 }));
    const before = Array.from({ length: 1000 }, (_, k) => lb.pick(hosts, k * 2654435761 >>> 0).port);
    const counts = new Map<number, number>();
    for (const p of before) counts.set(p, (counts.get(p) ?? 0) + 1);
    assert.equal(counts.size, 4);
    for (const n of counts.values()) assert.ok(n > 150 && n < 350, `share ${n} of 1000`);
    const after = Array.from({ length: 1000 }, (_, k) => lb.pick(hosts.slice(1), k * 2654435761 >>> 0).port);
    for (let k = 0; k < 1000; k++) if (before[k] !== 10000) assert.equal(after[k], before[k], `key ${k} moved`);
  });

  test('endpoint updates keep unchanged hosts (and their pools)', () => {
    const c = new UpstreamCluster(plan({}));
    c.setEndpoints(eps(2));
    const before = c.hosts[0];
    const dropped = c.setEndpoints(eps(1));
    assert.equal(c.hosts[0], before);
    assert.deepEqual(dropped.map((h) => h.port), [10001]);
  });

  test('ORIGINAL_DST picks the connection\'s original destination', () => {
    const c = new UpstreamCluster(plan({ clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST }, lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED }));
    assert.equal(c.pick({ address: '10.1.2.3', port: 8080 })?.key, '10.1.2.3:8080');
    assert.equal(c.pick(undefined), undefined);
  });

  test('validation: unknown cluster types with field paths; STATIC without endpoints is valid', () => {
    const bad = compileCluster(create(ClusterSchema, { name: 'x', clusterDiscoveryType: { case: 'type', value: 9 as Cluster_DiscoveryType } }));
    assert.deepEqual(bad.ok ? [] : bad.errors, ['type: unknown cluster type 9 (supported: STATIC, STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST)']);
    const custom = compileCluster(create(ClusterSchema, { name: 'y', clusterDiscoveryType: { case: 'clusterType', value: { name: 'envoy.clusters.aggregate' } } }));
    assert.deepEqual(custom.ok ? [] : custom.errors, ['clusterDiscoveryType.clusterType: unknown cluster type "envoy.clusters.aggregate"']);
    // Istio's BlackHoleCluster: STATIC with no load assignment is valid and has no hosts.
    const st = compileCluster(create(ClusterSchema, { name: 'BlackHoleCluster', clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC } }));
    assert.ok(st.ok);
    assert.equal(new UpstreamCluster(st.value).pick(undefined), undefined);
  });
});

test('host keys: IPv6 addresses bracketed, IPv4 and names as they are', () => {
  assert.equal(hostKey('fd00::12', 9080), '[fd00::12]:9080');
  assert.equal(hostKey('::ffff:10.0.0.1', 80), '[::ffff:10.0.0.1]:80');
  assert.equal(hostKey('10.244.0.12', 9080), '10.244.0.12:9080');
  assert.equal(hostKey('reviews.demo.svc.cluster.local', 9080), 'reviews.demo.svc.cluster.local:9080');
});
