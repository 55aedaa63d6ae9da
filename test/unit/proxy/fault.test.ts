import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { HTTPFaultSchema } from '../../../src/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { FractionalPercent_DenominatorType as D } from '../../../src/gen/envoy/type/v3/percent_pb.js';
import { ClusterSchema } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { compileFault, hit } from '../../../src/proxy/filters/fault/fault-plan.js';

test('fault config: percentages in parts per million, fixed delay, abort status', () => {
  const errors: string[] = [];
  const f = compileFault(anyPack(HTTPFaultSchema, create(HTTPFaultSchema, {
    delay: { faultDelaySecifier: { case: 'fixedDelay', value: { seconds: 1n, nanos: 500_000_000 } }, percentage: { numerator: 25, denominator: D.TEN_THOUSAND } },
    abort: { errorType: { case: 'httpStatus', value: 503 }, percentage: { numerator: 50 } },
  })), 'f', errors);
  assert.deepEqual(errors, []);
  assert.equal(f?.delayMs, 1500);
  assert.equal(f?.delayPpm, 2500);
  assert.equal(f?.abortStatus, 503);
  assert.equal(f?.abortPpm, 500_000);
});

test('fault config errors carry their path; hit() honours 0 % and 100 %', () => {
  const errors: string[] = [];
  compileFault(anyPack(HTTPFaultSchema, create(HTTPFaultSchema, { abort: { errorType: { case: 'httpStatus', value: 99 } } })), 'routes[0].fault', errors);
  compileFault(anyPack(ClusterSchema, create(ClusterSchema, { name: 'x' })), 'routes[1].fault', errors);
  assert.equal(errors[0], 'routes[0].fault.abort.httpStatus: 99 is not in [200, 600)');
  assert.match(errors[1], /^routes\[1\]\.fault: expected .*HTTPFault, got type\.googleapis\.com\/envoy\.config\.cluster\.v3\.Cluster$/);
  for (let i = 0; i < 100; i++) {
    assert.equal(hit(0), false);
    assert.equal(hit(1_000_000), true);
  }
});
