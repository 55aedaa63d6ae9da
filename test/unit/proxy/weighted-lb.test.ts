import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { Host } from '../../../src/proxy/upstream/host.js';
import { createLoadBalancer } from '../../../src/proxy/upstream/load-balancer.js';
import { compileEndpoints } from '../../../src/proxy/upstream/cluster-plan.js';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';

const settings = { connections: 1, connectTimeoutMs: 100 };
const hosts = (...weights: number[]) => weights.map((w, i) => new Host('127.0.0.1', 10_000 + i, w, true, settings));

function tally(picks: Host[]): number[] {
  const ports = [...new Set(picks.map((h) => h.port))].sort();
  return ports.map((p) => picks.filter((h) => h.port === p).length);
}

describe('endpoint weights (load_balancing_weight)', () => {
  test('round robin gives each host exactly its share, interleaved', () => {
    const hs = hosts(3, 1);
    const lb = createLoadBalancer('round_robin');
    const picks = Array.from({ length: 400 }, () => lb.pick(hs));
    assert.deepEqual(tally(picks), [300, 100]);
    // Smooth: the light host never waits more than its period (4 picks).
    const gaps = picks.map((h, i) => (h === hs[1] ? i : -1)).filter((i) => i >= 0);
    for (let i = 1; i < gaps.length; i++) assert.equal(gaps[i]! - gaps[i - 1]!, 4);
  });

  test('equal weights keep plain round robin', () => {
    const hs = hosts(5, 5, 5);
    const lb = createLoadBalancer('round_robin');
    assert.deepEqual(tally(Array.from({ length: 300 }, () => lb.pick(hs))), [100, 100, 100]);
  });

  test('random and consistent hash follow the weights', () => {
    const hs = hosts(4, 1);
    for (const kind of ['random', 'ring_hash'] as const) {
      const lb = createLoadBalancer(kind);
      const picks = Array.from({ length: 5000 }, (_, i) => lb.pick(hs, kind === 'ring_hash' ? Math.imul(i + 1, 2654435761) >>> 0 : undefined));
      const [heavy] = tally(picks);
      // Expected 4,000 of 5,000 (sd ~28): 3,800..4,200 is beyond 7 sd.
      assert.ok(heavy! > 3800 && heavy! < 4200, `${kind}: heavy host got ${heavy}`);
    }
  });

  test('consistent hash with weights is still sticky', () => {
    const hs = hosts(2, 1, 1);
    const lb = createLoadBalancer('ring_hash');
    for (let k = 0; k < 100; k++) assert.equal(lb.pick(hs, k * 7919), lb.pick(hs, k * 7919));
  });

  test('least request compares load per unit of weight', () => {
    const [a, b] = hosts(4, 1);
    a!.active = 3; // 0.75 per unit of weight
    b!.active = 1; // 1 per unit
    const lb = createLoadBalancer('least_request');
    for (let i = 0; i < 50; i++) {
      const p = lb.pick([a!, b!]);
      assert.ok(p === a || p === b);
    }
    // When both candidates are drawn, the lighter per weight (a) wins.
    let sawB = 0;
    for (let i = 0; i < 400; i++) if (lb.pick([a!, b!]) === b) sawB++;
    assert.ok(sawB < 150, `b picked ${sawB}/400 (only when drawn twice: ~100)`);
  });

  test('a weight of 0 is rejected with its field path', () => {
    const cla = create(ClusterLoadAssignmentSchema, {
      clusterName: 'c',
      endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: 1 } } } } } }, loadBalancingWeight: 0 }] }],
    });
    const r = compileEndpoints(cla);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.errors.join() : '', /endpoints\[0\]\.lbEndpoints\[0\]\.loadBalancingWeight: must be at least 1/);
  });
});
