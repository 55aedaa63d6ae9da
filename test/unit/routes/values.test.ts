/** Value conversions: Go durations, percentages, retryOn parsing. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fractionFromPercent, parseDuration } from '../../../src/controlplane/translate/routes/values.js';
import { parseRetryOn } from '../../../src/controlplane/translate/routes/retry.js';

describe('parseDuration', () => {
  const cases: [string, bigint, number][] = [
    ['1h30m', 5400n, 0],
    ['100ms', 0n, 100_000_000],
    ['1.5s', 1n, 500_000_000],
    ['2m', 120n, 0],
    ['0s', 0n, 0],
    ['1s250ms', 1n, 250_000_000],
    ['0.001s', 0n, 1_000_000],
  ];
  for (const [text, seconds, nanos] of cases) {
    test(text, () => {
      const d = parseDuration(text, 't')!;
      assert.deepEqual([d.seconds, d.nanos], [seconds, nanos]);
    });
  }
  test('malformed text → undefined', () => {
    for (const bad of ['', '5', 'abc', '1s x', '-1s', '1d']) assert.equal(parseDuration(bad, 't'), undefined, bad);
  });
});

describe('percentages and retryOn', () => {
  test('fractions keep three decimals of a percent and clamp to 100', () => {
    assert.equal(fractionFromPercent(0.001).numerator, 10);
    assert.equal(fractionFromPercent(250).numerator, 1_000_000);
  });
  test('numeric retryOn entries become status codes under retriable-status-codes', () => {
    assert.deepEqual(parseRetryOn(' 503 , reset,retriable-status-codes,429'), { retryOn: 'reset,retriable-status-codes', codes: [503, 429] });
    assert.deepEqual(parseRetryOn('5xx'), { retryOn: '5xx', codes: [] });
  });
});
