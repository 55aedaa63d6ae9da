/**
 * Envoy's priority load and locality weighting (upstream/priority-set.ts):
 * the numbers of Envoy's load_balancing/priority docs and
 * load_balancer_impl.cc, and the cluster choosing by them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { Host } from '../../../src/proxy/upstream/host.js';
import { PrioritySet } from '../../../src/proxy/upstream/priority-set.js';
import { createLoadBalancer } from '../../../src/proxy/upstream/load-balancer.js';
import { compileCluster, compileEndpoints } from '../../../src/proxy/upstream/cluster-plan.js';
import { UpstreamCluster } from '../../../src/proxy/upstream/cluster.js';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ClusterSchema, Cluster_DiscoveryType } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';

const settings = { connections: 1, connectTimeoutMs: 100 };
let port = 20_000;

/** `healthy` of `total` hosts at `priority` (locality `locality`, weight `weight`). */
function level(priority: number, healthy: number, total: number, locality = 0, weight?: number): Host[] {
  return Array.from({ length: total }, (_, i) => {
    const h = new Host('127.0.0.1', port++, 1, i < healthy, settings);
    h.priority = priority;
    h.locality = locality;
    h.localityWeight = weight;
    return h;
  });
}

const opts = { panicThresholdPercent: 50, overprovisioningFactor: 140, localityWeighted: false };
const loads = (hosts: Host[], o = opts) => new PrioritySet(hosts, o).loads;

describe('priority load', () => {
  test('all healthy at P0: everything there; 80 % healthy is still 100 % health (×1.4)', () => {
    assert.deepEqual(loads([...level(0, 5, 5), ...level(1, 5, 5)]), [100, 0]);
    assert.deepEqual(loads([...level(0, 4, 5), ...level(1, 5, 5)]), [100, 0]);
  });

  test('spill: P0 half healthy takes 70 %, the rest goes to P1; P0 20 % healthy takes 28 %', () => {
    assert.deepEqual(loads([...level(0, 1, 2), ...level(1, 2, 2)]), [70, 30]);
    assert.deepEqual(loads([...level(0, 1, 5), ...level(1, 5, 5)]), [28, 72]);
    assert.deepEqual(loads([...level(0, 0, 2), ...level(1, 2, 2)]), [0, 100]);
  });

  test('the overprovisioning factor of the assignment is the one used', () => {
    assert.deepEqual(loads([...level(0, 1, 2), ...level(1, 2, 2)], { ...opts, overprovisioningFactor: 100 }), [50, 50]);
  });

  test('short of 100 in total: loads normalised by the total health', () => {
    // 28 % and 28 %: each gets half.
    assert.deepEqual(loads([...level(0, 1, 5), ...level(1, 1, 5)], { ...opts, panicThresholdPercent: 0 }), [50, 50]);
  });

  test('total panic: load by host count, regardless of health; panic threshold 0 keeps P0 and no host', () => {
    assert.deepEqual(loads([...level(0, 0, 3), ...level(1, 0, 1)]), [75, 25]);
    const set = new PrioritySet([...level(0, 0, 3), ...level(1, 0, 1)], { ...opts, panicThresholdPercent: 0 });
    assert.deepEqual(set.loads, [100, 0]);
    assert.equal(set.pick(createLoadBalancer('round_robin'), undefined, 50), undefined);
  });

  test('a gap in priorities is an empty level with no load', () => {
    assert.deepEqual(loads([...level(0, 0, 1), ...level(2, 1, 1)], { ...opts, panicThresholdPercent: 0 }), [0, 0, 100]);
  });
});

describe('choosing', () => {
  test('the level follows the load; a level in panic uses all its hosts', () => {
    const p0 = level(0, 1, 2);
    const p1 = level(1, 2, 2);
    const set = new PrioritySet([...p0, ...p1], opts);
    const lb = createLoadBalancer('round_robin');
    for (let r = 0; r < 70; r++) assert.equal(set.pick(lb, undefined, r), p0[0], `rnd ${r}`);
    for (let r = 70; r < 100; r++) assert.ok(p1.includes(set.pick(lb, undefined, r)!), `rnd ${r}`);
  });

  test('locality weighted: localities by weight × health, then hosts within', () => {
    const a = level(0, 2, 2, 0, 3);
    const b = level(0, 2, 2, 1, 1);
    const set = new PrioritySet([...a, ...b], { ...opts, localityWeighted: true });
    const lb = createLoadBalancer('round_robin');
    const picks = Array.from({ length: 400 }, () => set.pick(lb, undefined, 0)!);
    assert.equal(picks.filter((h) => a.includes(h)).length, 300);
    // Half of b unhealthy: its effective weight is 1 × min(1, 1.4 × 0.5) = 0.7.
    const b2 = level(0, 1, 2, 1, 1);
    const half = new PrioritySet([...a, ...b2], { ...opts, localityWeighted: true });
    const picks2 = Array.from({ length: 370 }, () => half.pick(lb, undefined, 0)!);
    const toB = picks2.filter((h) => b2.includes(h)).length;
    assert.ok(toB >= 69 && toB <= 71, `b gets 0.7 of 3.7: ${toB} of 370`);
    assert.ok(picks2.every((h) => h !== b2[1]), 'never the unhealthy host');
    // A locality without a weight gets nothing.
    const c = level(0, 2, 2, 2, undefined);
    const noWeight = new PrioritySet([...a, ...c], { ...opts, localityWeighted: true });
    assert.ok(Array.from({ length: 50 }, () => noWeight.pick(lb, undefined, 0)!).every((h) => a.includes(h)));
  });
});

describe('the cluster', () => {
  test('EDS priorities and locality weights reach the hosts; outlier ejection moves traffic to P1', () => {
    const plan = compileCluster(create(ClusterSchema, {
      name: 'c',
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
      outlierDetection: { consecutive5xx: 1, maxEjectionPercent: 100 },
      commonLbConfig: { healthyPanicThreshold: { value: 0 } },
    }));
    assert.ok(plan.ok);
    assert.equal(plan.value.localityWeighted, false);
    const addr = (p: number) => ({ address: { case: 'socketAddress' as const, value: { address: '127.0.0.1', portSpecifier: { case: 'portValue' as const, value: p } } } });
    const eds = compileEndpoints(create(ClusterLoadAssignmentSchema, {
      clusterName: 'c',
      endpoints: [
        { priority: 0, loadBalancingWeight: 1, lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: addr(1) } } }] },
        { priority: 1, loadBalancingWeight: 1, lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: addr(2) } } }] },
      ],
    }));
    assert.ok(eds.ok);
    assert.equal(eds.value.overprovisioningFactor, 140);
    const c = new UpstreamCluster(plan.value);
    c.setEndpoints(eds.value.endpoints, eds.value.overprovisioningFactor);
    const local = c.hosts.find((h) => h.port === 1)!;
    assert.equal(local.priority, 0);
    assert.equal(c.hosts.find((h) => h.port === 2)!.priority, 1);
    for (let i = 0; i < 20; i++) assert.equal(c.pick(undefined)?.port, 1);
    c.report(local, 500);
    assert.ok(local.outlier.ejected);
    for (let i = 0; i < 20; i++) assert.equal(c.pick(undefined)?.port, 2);
    clearTimeout(local.outlier.timer);
  });

  test('overprovisioning_factor 0 is refused with its path', () => {
    const r = compileEndpoints(create(ClusterLoadAssignmentSchema, { clusterName: 'c', policy: { overprovisioningFactor: 0 } }));
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.errors.join() : '', /policy\.overprovisioningFactor/);
  });
});
