import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, durationMs } from '../../../src/config/duration.js';

test('parseDuration accepts Go/Istio durations', () => {
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('100ms'), 100);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1m30.5s'), 90_500);
  assert.equal(parseDuration('250us'), 0.25);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('0s'), 0);
  assert.equal(parseDuration('.5s'), 500);
});

test('parseDuration rejects what is not a duration', () => {
  for (const bad of ['', '1', '1.5', 's', '-1s', '1 s', '1sec', '10 seconds', '1d', 'ms1', '1s ']) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
  assert.throws(() => durationMs('nope'), RangeError);
});
