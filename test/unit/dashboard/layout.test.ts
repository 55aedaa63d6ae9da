import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COLUMN_WIDTH, layout } from '../../../src/dashboard/layout.js';

test('layout: columns by depth from the callers, rows by name; a cycle ends', () => {
  const nodes = ['workload:a/client', 'service:web', 'workload:a/web', 'service:db', 'workload:a/db'].map((id) => ({ id }));
  const edges = [['workload:a/client', 'service:web'], ['service:web', 'workload:a/web'], ['workload:a/web', 'service:db'], ['service:db', 'workload:a/db'], ['workload:a/db', 'service:web']].map(([from, to]) => ({ from: from!, to: to! }));
  const { at, width } = layout({ nodes, edges });
  assert.equal(at.get('workload:a/client')!.column, 0);
  assert.equal(at.get('service:web')!.column, 1);
  assert.ok(at.get('workload:a/db')!.column > at.get('service:db')!.column);
  assert.equal(at.get('service:web')!.x - at.get('workload:a/client')!.x, COLUMN_WIDTH);
  assert.ok(width > 0 && Number.isFinite(width));
});
