/** Ages as kubectl and istioctl print them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration } from '../../../src/debug/format/human-duration.js';

test('seconds, minutes, hours, days and years at each boundary', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: [number, string][] = [
    [-5 * s, '<invalid>'], [-1 * s, '0s'], [0, '0s'], [119 * s, '119s'], [2 * m, '2m'], [2 * m + 5 * s, '2m5s'], [9 * m + 59 * s, '9m59s'],
    [10 * m + 30 * s, '10m'], [179 * m, '179m'], [3 * h, '3h'], [7 * h + 59 * m, '7h59m'], [8 * h + 5 * m, '8h'], [47 * h, '47h'],
    [2 * d, '2d'], [7 * d + 23 * h, '7d23h'], [8 * d + 5 * h, '8d'], [729 * d, '729d'], [730 * d, '2y'], [(365 * 7 + 364) * d, '7y364d'], [365 * 8 * d + d, '8y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
});
