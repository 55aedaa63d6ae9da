/**
 * bench:churn judges convergence by what each simulated proxy holds, read
 * from the load assignments' bytes without decoding them, against what the
 * churn plan says it should hold: the reading must agree with the real
 * translation's output, and the plan must keep its promises (the final
 * state unlike any earlier one, bounds, determinism).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, toBinary } from '@bufbuild/protobuf';
import { buildLoadAssignment } from '../../../src/controlplane/translate/endpoints.js';
import { ClusterLoadAssignmentSchema } from '../../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { HealthStatus } from '../../../src/gen/envoy/config/core/v3/health_check_pb.js';
import type { MeshEndpoint } from '../../../src/controlplane/registry/model.js';
import { readLoadAssignment } from '../../../bench/lib/light-endpoints.js';
import { ChurnPlan } from '../../../bench/lib/churn-plan.js';
import { Convergence } from '../../../bench/lib/convergence.js';
import { SimProxy } from '../../../bench/lib/sim-proxy.js';

const ep = (address: string, ready: boolean, locality?: string): MeshEndpoint => ({ address, port: 9080, servicePort: 9080, labels: {}, namespace: 'ns', ready, ...(locality ? { locality } : {}) });
const all = () => true;

test('held endpoints: the ready ones of every locality, as "address:port" sorted; the name always', () => {
  const cla = buildLoadAssignment('outbound|9080||a.ns.svc.cluster.local', [ep('10.0.0.9', true, 'r/z1'), ep('10.0.0.10', false), ep('10.0.0.2', true, 'r/z2'), ep('10.0.0.1', true)]);
  const read = readLoadAssignment(toBinary(ClusterLoadAssignmentSchema, cla), all);
  assert.equal(read.name, 'outbound|9080||a.ns.svc.cluster.local');
  assert.equal(read.endpoints, '10.0.0.1:9080,10.0.0.2:9080,10.0.0.9:9080');
  const none = readLoadAssignment(toBinary(ClusterLoadAssignmentSchema, buildLoadAssignment('outbound|9080||b.ns.svc.cluster.local', [ep('10.0.0.3', false)])), all);
  assert.equal(none.endpoints, '');
  const unwanted = readLoadAssignment(toBinary(ClusterLoadAssignmentSchema, buildLoadAssignment('outbound|9080||c.ns.svc.cluster.local', [ep('10.0.0.4', true)])), () => false);
  assert.equal(unwanted.name, 'outbound|9080||c.ns.svc.cluster.local');
  assert.equal(unwanted.endpoints, undefined);
});

test('held endpoints: an endpoint Envoy would not route to (UNHEALTHY, DRAINING) is not held', () => {
  const cla = buildLoadAssignment('outbound|9080||d.ns.svc.cluster.local', [ep('10.0.0.5', true), ep('10.0.0.6', true), ep('10.0.0.7', true)]);
  const lbs = cla.endpoints[0]!.lbEndpoints;
  lbs[0] = { ...lbs[0]!, healthStatus: HealthStatus.UNHEALTHY };
  lbs[1] = { ...lbs[1]!, healthStatus: HealthStatus.DRAINING };
  const read = readLoadAssignment(toBinary(ClusterLoadAssignmentSchema, create(ClusterLoadAssignmentSchema, cla)), all);
  assert.equal(read.endpoints, '10.0.0.7:9080');
});

test('churn plan: bounded, deterministic, addresses never reused, the final state unlike any earlier one', () => {
  const run = () => {
    const plan = new ChurnPlan(5, 3, 7);
    const states: string[] = [];
    const seen = new Set<string>();
    const snapshot = () => Array.from({ length: 5 }, (_, s) => plan.held(s, 9080)).join('|');
    states.push(snapshot());
    for (let s = 0; s < 5; s++) for (const e of plan.endpoints(s)) seen.add(e.address);
    const ops: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const c = plan.next(i === 1999);
      ops.push(c.op);
      assert.ok(c.endpoints.length >= 1 && c.endpoints.length <= 6, `bounds: ${c.endpoints.length}`);
      if (c.op === 'add') {
        const added = c.endpoints[c.endpoints.length - 1]!.address;
        assert.ok(!seen.has(added), `address ${added} reused`);
        seen.add(added);
      }
      states.push(snapshot());
    }
    return { ops, states };
  };
  const a = run();
  assert.deepEqual(a, run());
  assert.equal(a.ops.at(-1), 'add');
  for (const op of ['add', 'remove', 'flip']) assert.ok(a.ops.includes(op), op);
  const final = a.states.at(-1)!;
  assert.equal(a.states.indexOf(final), a.states.length - 1);
});

test('convergence: a proxy counts once every expected cluster holds exactly the expected endpoints, timed by the last to arrive', () => {
  // Never started: no connection is made, only `held` is read.
  const [a, b] = [new SimProxy('127.0.0.1:1', 'a', 'sotw'), new SimProxy('127.0.0.1:1', 'b', 'delta')];
  try {
    const expected = { x: '10.0.0.1:80', y: '' };
    a.held.set('x', { endpoints: '10.0.0.1:80', since: 1_010 });
    b.held.set('x', { endpoints: '10.0.0.1:80,10.0.0.2:80', since: 1_005 });
    b.held.set('y', { endpoints: '', since: 1_001 });
    const c = new Convergence([a, b], expected, 1_000);
    assert.equal(c.done, false, 'a lacks y, b holds a stale x');
    a.held.set('y', { endpoints: '', since: 1_020 });
    assert.equal(c.check(a), false);
    b.held.set('x', { endpoints: '10.0.0.1:80', since: 1_300 });
    assert.equal(c.check(b), true);
    assert.equal(c.check(b), true, 'a converged proxy is counted once');
    assert.deepEqual(c.result(), { times: [20, 300], pending: 0 });
  } finally {
    a.close();
    b.close();
  }
});
