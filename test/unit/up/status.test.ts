import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheus } from '../../../src/local/up/status/prometheus.js';
import { RateWindow, quantile, serviceTotals } from '../../../src/local/up/status/service-stats.js';
import { syncStates } from '../../../src/local/up/status/sync.js';
import { workloadCertExpiry } from '../../../src/local/up/status/poller.js';
import { dataPlaneLine, renderStatus } from '../../../src/local/up/status/render.js';

function scrape(reporter: string, svc: string, code: number, count: number, buckets: [string, number][]): string {
  const l = `reporter="${reporter}",destination_service="${svc}",response_code="${code}"`;
  return [
    '# TYPE istio_requests_total counter',
    `istio_requests_total{${l}} ${count}`,
    ...buckets.map(([le, c]) => `istio_request_duration_milliseconds_bucket{${l},le="${le}"} ${c}`),
    `istio_request_duration_milliseconds_sum{${l}} 12`,
  ].join('\n');
}

test('Prometheus text: names, labels (escaped quotes), values, +Inf; comments skipped', () => {
  const s = parsePrometheus('# HELP x\nfoo{a="b\\"c",le="+Inf"} 3\nbar 1.5\nbroken{\n');
  assert.deepEqual(s, [{ name: 'foo', labels: { a: 'b"c', le: '+Inf' }, value: 3 }, { name: 'bar', labels: {}, value: 1.5 }]);
});

test('p99 from cumulative buckets, interpolated as histogram_quantile', () => {
  assert.equal(quantile(0.99, new Map([[1, 0], [5, 100], [Infinity, 100]])), 1 + 4 * 0.99);
  assert.equal(quantile(0.5, new Map([[10, 50], [20, 100], [Infinity, 100]])), 10);
  assert.equal(quantile(0.99, new Map([[Infinity, 0]])), undefined);
});

test('per service: the server side\'s metrics when it has a sidecar, the clients\' otherwise; 5xx are errors; rates over the window', () => {
  const t0 = serviceTotals([
    parsePrometheus(scrape('destination', 'a.ns.svc.cluster.local', 200, 10, [['5', 10], ['+Inf', 10]])),
    parsePrometheus(scrape('source', 'a.ns.svc.cluster.local', 200, 99, [['5', 99], ['+Inf', 99]])),
    parsePrometheus(scrape('source', 'b.ns.svc.cluster.local', 503, 4, [['5', 4], ['+Inf', 4]])),
  ]);
  assert.equal(t0.get('a.ns.svc.cluster.local')?.requests, 10);
  assert.equal(t0.get('b.ns.svc.cluster.local')?.errors, 4);
  const w = new RateWindow(10_000);
  w.add(0, t0);
  w.add(2000, serviceTotals([
    parsePrometheus(scrape('destination', 'a.ns.svc.cluster.local', 200, 30, [['5', 29], ['+Inf', 30]])),
    parsePrometheus(scrape('source', 'b.ns.svc.cluster.local', 503, 4, [['5', 4], ['+Inf', 4]])),
  ]));
  const [a, b] = w.rates();
  assert.equal(a!.key, 'a.ns.svc.cluster.local');
  assert.equal(a!.rps, 10);
  assert.equal(a!.requests, 30);
  assert.equal(a!.errorPct, 0);
  assert.equal(a!.p99Ms, 5);
  assert.equal(b!.rps, 0);
  // A restarted proxy's counters start again from zero: no negative rate.
  w.add(3000, serviceTotals([parsePrometheus(scrape('destination', 'a.ns.svc.cluster.local', 200, 2, [['5', 2], ['+Inf', 2]]))]));
  assert.equal(w.rates()[0]!.rps, 0);
});

test('a call counted by the cluster IP it was made to (a local reply before routing) counts for that IP\'s Service', () => {
  const t = serviceTotals([
    parsePrometheus(scrape('destination', '10.96.3.7:9080', 403, 2, [['5', 2], ['+Inf', 2]])),
    parsePrometheus(scrape('destination', 'r.ns.svc.cluster.local', 200, 5, [['5', 5], ['+Inf', 5]])),
    parsePrometheus(scrape('destination', '10.96.9.9', 403, 1, [['5', 1], ['+Inf', 1]])),
  ], (ip) => (ip === '10.96.3.7' ? 'r.ns.svc.cluster.local' : undefined));
  assert.equal(t.get('r.ns.svc.cluster.local')?.requests, 7);
  assert.equal(t.get('10.96.3.7:9080'), undefined);
  assert.equal(t.get('10.96.9.9')?.requests, 1, 'an address no Service has stays as it is');
});

test('the clients\' counters replaced by the server side\'s (its sidecar scraped later) are not compared: never a negative error rate', () => {
  const w = new RateWindow(10_000);
  w.add(0, serviceTotals([parsePrometheus(scrape('source', 'p.ns.svc.cluster.local', 503, 20, [['5', 20], ['+Inf', 20]]))]));
  w.add(1000, serviceTotals([
    parsePrometheus(scrape('destination', 'p.ns.svc.cluster.local', 200, 50, [['5', 50], ['+Inf', 50]])),
    parsePrometheus(scrape('source', 'p.ns.svc.cluster.local', 503, 20, [['5', 20], ['+Inf', 20]])),
  ]));
  const [p] = w.rates();
  assert.equal(p!.errorPct, 0);
  assert.equal(p!.rps, 0, 'no base to compare with yet');
  assert.equal(p!.requests, 50);
});

test('proxy sync as proxy-status words: SYNCED, STALE, NACK', () => {
  const s = syncStates([
    { proxy: 'a.ns', types: { CDS: { status: 'SYNCED' }, LDS: { status: 'SYNCED' }, RDS: { status: 'NOT SENT' } } },
    { proxy: 'b.ns', types: { CDS: { status: 'SYNCED' }, LDS: { status: 'STALE' } } },
    { proxy: 'c.ns', types: { CDS: { status: 'STALE', nack: { error: 'x' } } } },
    { proxy: 'd.ns', types: { CDS: { status: 'NOT SENT' } } },
  ]);
  assert.deepEqual(Object.fromEntries(s), { 'a.ns': 'SYNCED', 'b.ns': 'STALE', 'c.ns': 'NACK', 'd.ns': 'STALE' });
  assert.equal(syncStates({}).size, 0);
});

test('certificate expiry from /certs: the workload certificate, not the roots', () => {
  const body = JSON.stringify({ certificates: [
    { ca_cert: [{ expiration_time: '2036-01-01T00:00:00.000Z' }], cert_chain: [] },
    { ca_cert: [], cert_chain: [{ expiration_time: '2026-01-02T00:00:00.000Z' }, { expiration_time: '2030-01-01T00:00:00.000Z' }] },
  ] });
  assert.equal(workloadCertExpiry(body), Date.parse('2026-01-02T00:00:00.000Z'));
  assert.equal(workloadCertExpiry('{}'), undefined);
  assert.equal(workloadCertExpiry('nope'), undefined);
});

test('the status block names the mode, start-up numbers, pods and traffic', () => {
  const now = Date.parse('2026-01-01T00:01:00Z');
  const lines = renderStatus({
    now, dir: '/d', modeLine: 'netns mode (kernel capture)', startedAt: now - 60_000, controlPlane: '10.244.0.1:15010 running',
    pods: [{ namespace: 'shop', name: 'web-x', ready: '2/2', status: 'Running', restarts: 0, ip: '10.244.0.10', sidecar: true, sync: 'SYNCED', certExpiresAt: now + 23 * 3600_000 }],
    services: [{ key: 'web.shop.svc.cluster.local', rps: 2.5, errorPct: 0, p50Ms: 2, p99Ms: 4.2, requests: 40, mtlsPct: 100, principals: {}, flags: {} }],
    allSyncedMs: 3200, sidecarReadyMs: [210, 260], rss: { total: 512 * 1024 * 1024, parts: [['proxies', 256 * 1024 * 1024]] }, events: ['12:00:00 shop/web-x: started'],
  });
  assert.equal(lines[0], 'trellis up /d · netns mode (kernel capture) · up 60s');
  assert.equal(lines[1], 'control plane 10.244.0.1:15010 running · 1 pods (1 with sidecars) · all proxies SYNCED 3.2 s after start · sidecars ready 210–260 ms after start · RSS 512 MiB (proxies 256)');
  assert.ok(lines.includes('shop        web-x   2/2     Running   0          10.244.0.10   SYNCED   in 23h'), lines.join('\n'));
  assert.ok(lines.includes('web.shop   2.5   0.0%     4.2 ms   40'), lines.join('\n'));
  assert.ok(lines.includes('  12:00:00 shop/web-x: started'));
  assert.equal(lines[2], '', 'no data plane line without ambient pods or a node proxy');
});

test('with ambient pods: the sidecars\' and the node proxy\'s memory side by side', () => {
  const MiB = 1024 * 1024;
  assert.equal(dataPlaneLine({ sidecars: 3, sidecarBytes: 150 * MiB, nodeProxyBytes: 52.4 * MiB, ambientPods: 4 }), 'data plane memory: 3 sidecars 150 MiB · node proxy 52 MiB for 4 ambient pods');
  assert.equal(dataPlaneLine({ sidecars: 0, sidecarBytes: 0, ambientPods: 2 }), 'data plane memory: 0 sidecars 0 MiB · node proxy not running for 2 ambient pods');
  assert.equal(dataPlaneLine({ sidecars: 2, sidecarBytes: 90 * MiB, ambientPods: 0 }), undefined);
  const lines = renderStatus({
    now: 0, dir: '/d', modeLine: 'netns mode', startedAt: 0, controlPlane: 'cp', pods: [], services: [], sidecarReadyMs: [], events: [],
    rss: { total: 100 * MiB, parts: [['0 sidecars', 0], ['node proxy', 50 * MiB]], dataPlane: { sidecars: 0, sidecarBytes: 0, nodeProxyBytes: 50 * MiB, ambientPods: 2 } },
  });
  assert.match(lines[1]!, /RSS 100 MiB \(0 sidecars 0, node proxy 50\)$/);
  assert.equal(lines[2], 'data plane memory: 0 sidecars 0 MiB · node proxy 50 MiB for 2 ambient pods');
});

test('an ambient pod\'s PROXY is the node proxy and its sync; it does not count as a synced sidecar', () => {
  const pod = { namespace: 'shop', ready: '1/1', status: 'Running', restarts: 0, ip: '10.244.0.12' };
  const lines = renderStatus({
    now: 0, dir: '/d', modeLine: 'netns mode', startedAt: 0, controlPlane: 'cp', services: [], sidecarReadyMs: [], events: [],
    pods: [{ ...pod, name: 'web', sidecar: false, ambient: true, sync: 'SYNCED' }, { ...pod, name: 'api', sidecar: true, sync: 'STALE' }, { ...pod, name: 'plain', sidecar: false }],
  });
  assert.match(lines[1]!, / · 3 pods \(1 with sidecars\) · 0\/1 proxies SYNCED$/);
  assert.match(lines.find((l) => l.includes(' web '))!, / node proxy SYNCED *$/);
  assert.match(lines.find((l) => l.includes(' api '))!, / STALE +-$/);
  assert.match(lines.find((l) => l.includes(' plain '))!, / no sidecar *$/);
});
