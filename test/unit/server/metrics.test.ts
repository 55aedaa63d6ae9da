import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics, escapeLabelValue, formatValue } from '../../../src/controlplane/metrics/metrics.js';
import { xdsMetrics } from '../../../src/controlplane/metrics/xds-metrics.js';

describe('Prometheus exposition', () => {
  test('counter and gauge: HELP/TYPE lines, labels, values', () => {
    const m = new Metrics();
    const c = m.counter('pilot_xds_pushes', 'Pushes sent.', ['type']);
    c.inc({ type: 'cds' });
    c.inc({ type: 'cds' }, 2);
    c.inc({ type: 'lds' });
    m.gauge('pilot_xds', 'Connected.').set(7);
    assert.equal(
      m.expose(),
      [
        '# HELP pilot_xds_pushes Pushes sent.',
        '# TYPE pilot_xds_pushes counter',
        'pilot_xds_pushes{type="cds"} 3',
        'pilot_xds_pushes{type="lds"} 1',
        '# HELP pilot_xds Connected.',
        '# TYPE pilot_xds gauge',
        'pilot_xds 7',
        '',
      ].join('\n'),
    );
  });

  test('histogram: cumulative buckets, +Inf, _sum and _count', () => {
    const m = new Metrics();
    const h = m.histogram('push_time', 'Push time.', ['kind'], [0.1, 1]);
    for (const v of [0.05, 0.1, 0.5, 3]) h.observe(v, { kind: 'full' });
    assert.deepEqual(m.expose().trim().split('\n'), [
      '# HELP push_time Push time.',
      '# TYPE push_time histogram',
      'push_time_bucket{kind="full",le="0.1"} 2',
      'push_time_bucket{kind="full",le="1"} 3',
      'push_time_bucket{kind="full",le="+Inf"} 4',
      'push_time_sum{kind="full"} 3.65',
      'push_time_count{kind="full"} 4',
    ]);
  });

  test('label values and help text are escaped', () => {
    assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
    const m = new Metrics();
    m.counter('x_total', 'line one\nline \\two', ['p']).inc({ p: 'say "hi"\n' });
    assert.deepEqual(m.expose().trim().split('\n'), ['# HELP x_total line one\\nline \\\\two', '# TYPE x_total counter', 'x_total{p="say \\"hi\\"\\n"} 1']);
  });

  test('special values', () => {
    assert.equal(formatValue(Infinity), '+Inf');
    assert.equal(formatValue(-Infinity), '-Inf');
    assert.equal(formatValue(NaN), 'NaN');
    assert.equal(formatValue(1.5), '1.5');
  });

  test('registration is idempotent by name, and conflicting re-registration throws', () => {
    const m = new Metrics();
    assert.equal(m.counter('a', 'h', ['x']), m.counter('a', 'h', ['x']));
    assert.throws(() => m.gauge('a', 'h', ['x']), /already registered/);
    assert.throws(() => m.counter('a', 'h', ['y']), /already registered/);
    assert.throws(() => m.counter('bad-name', 'h'), /invalid metric name/);
    assert.throws(() => m.histogram('h', 'h', ['le']), /reserved/);
  });

  test('wrong labels and negative counter increments throw', () => {
    const m = new Metrics();
    const c = m.counter('c', 'h', ['type']);
    assert.throws(() => c.inc({}), /labels/);
    assert.throws(() => c.inc({ type: 'cds', extra: 'x' }), /labels/);
    assert.throws(() => c.inc({ type: 'cds' }, -1), /negative/);
  });

  test('xdsMetrics registers istiod names once per registry', () => {
    const m = new Metrics();
    const a = xdsMetrics(m);
    const b = xdsMetrics(m);
    assert.equal(a.pushes, b.pushes);
    a.rejects.inc({ type: 'rds' });
    const text = m.expose();
    for (const name of ['pilot_xds_pushes', 'pilot_proxy_convergence_time', 'pilot_xds', 'pilot_total_xds_rejects', 'pilot_total_xds_internal_errors', 'pilot_xds_push_time', 'trellis_config_problems', 'pilot_k8s_cfg_events']) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'));
    }
    assert.match(text, /^pilot_total_xds_rejects\{type="rds"\} 1$/m);
  });
});
