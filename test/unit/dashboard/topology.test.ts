import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sample } from '../../../src/local/up/status/prometheus.js';
import { edgeTotals, RateWindow } from '../../../src/local/up/status/service-stats.js';
import { podOfWorkload, topology } from '../../../src/dashboard/topology.js';

const WEB = 'web.shop.svc.cluster.local';

function requests(reporter: 'source' | 'destination', n: number, extra: Record<string, string> = {}): Sample[] {
  const side = reporter === 'source'
    ? { source_workload: 'client', source_workload_namespace: 'shop', destination_workload: 'unknown', destination_workload_namespace: 'unknown' }
    : { source_workload: 'unknown', source_workload_namespace: 'unknown', destination_workload: 'web', destination_workload_namespace: 'shop' };
  const labels = { reporter, destination_service: WEB, response_code: '200', response_flags: '-', connection_security_policy: 'unknown', source_principal: 'unknown', ...side, ...extra };
  return [
    { name: 'istio_requests_total', labels, value: n },
    { name: 'istio_request_duration_milliseconds_bucket', labels: { ...labels, le: '10' }, value: n },
    { name: 'istio_request_duration_milliseconds_bucket', labels: { ...labels, le: '+Inf' }, value: n },
  ];
}

test('edges: the clients\' samples are workload → service, the servers\' service → workload, with mTLS share, principals and flags of the window', () => {
  const mtls = { connection_security_policy: 'mutual_tls', source_principal: 'spiffe://cluster.local/ns/shop/sa/client' };
  const at = (client: number, aborted: number, inMtls: number, inPlain: number) => edgeTotals([
    [...requests('source', client), ...requests('source', aborted, { response_code: '503', response_flags: 'FI' })],
    [...requests('destination', inMtls, mtls), ...requests('destination', inPlain, { connection_security_policy: 'none' })],
  ]);
  const w = new RateWindow(10_000);
  w.add(0, at(100, 10, 100, 0));
  w.add(2000, at(130, 20, 110, 10));
  const byKey = new Map(w.rates().map((r) => [r.key, r]));
  const out = byKey.get(`workload:shop/client>service:${WEB}`)!;
  assert.equal(out.rps, 20);
  assert.equal(out.errorPct, 25);
  assert.deepEqual(out.flags, { FI: 10 });
  assert.equal(out.mtlsPct, undefined, 'the client side cannot know');
  assert.equal(out.p50Ms, 5);
  const inbound = byKey.get(`service:${WEB}>workload:shop/web`)!;
  assert.equal(inbound.rps, 10);
  assert.equal(inbound.mtlsPct, 50);
  assert.deepEqual(inbound.principals, { 'spiffe://cluster.local/ns/shop/sa/client': 10 });
  assert.equal(byKey.size, 2);
});

test('the graph: nodes of every edge, and the explain command from a pod of the client workload to the service\'s first port', () => {
  const w = new RateWindow(10_000);
  w.add(0, edgeTotals([requests('source', 1)]));
  w.add(1000, edgeTotals([requests('source', 3)]));
  const pods = [{ name: 'client-5d8f7c9b4-x2x9q', namespace: 'shop' }, { name: 'client-other-5d8f7c9b4-aaaaa', namespace: 'shop' }];
  const g = topology(w.rates(), pods, [{ host: WEB, ports: [8000, 9000] }]);
  assert.deepEqual(g.nodes.map((n) => [n.kind, n.namespace, n.name]), [['service', 'shop', 'web'], ['workload', 'shop', 'client']]);
  assert.equal(g.edges[0]!.explain?.command, `trellis explain --from client-5d8f7c9b4-x2x9q.shop http://${WEB}:8000/`);
  assert.equal(podOfWorkload(pods, 'shop', 'client-other')?.name, 'client-other-5d8f7c9b4-aaaaa');
  assert.equal(podOfWorkload(pods, 'other', 'client'), undefined);
});
