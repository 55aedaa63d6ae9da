import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SynczEntry } from '../../../src/debug/syncz.js';
import { configChanges, proxyRows } from '../../../src/dashboard/sync.js';
import { certRow } from '../../../src/dashboard/certs.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

function entry(proxy: string, types: SynczEntry['types']): SynczEntry {
  return { proxy, nodeId: `sidecar~10.0.0.1~${proxy}~shop.svc.cluster.local`, namespace: 'shop', stream: 'delta', connectedAt: iso(0), clusterId: 'Kubernetes', types };
}
const acked = (v: string, at: number) => ({ status: 'SYNCED' as const, sent: { version: v, nonce: v }, acked: { version: v, nonce: v }, sentAt: iso(at) });

test('proxies: SYNCED, STALE, and NACK with the proxy\'s own words and the versions it runs', () => {
  const rows = proxyRows([
    entry('a.shop', { CDS: acked('c1', 0), RDS: acked('r1', 0) }),
    entry('b.shop', { CDS: acked('c1', 0), RDS: { status: 'STALE', sent: { version: 'r2', nonce: 'n2' }, acked: { version: 'r1', nonce: 'n1' }, sentAt: iso(5000), nack: { nonce: 'n2', error: 'RDS 80: bad retryOn', at: iso(5100) } } }),
    entry('c.shop', { CDS: { status: 'STALE', sent: { version: 'c2', nonce: 'n3' }, sentAt: iso(5000) } }),
  ]);
  assert.deepEqual(rows.map((r) => [r.proxy, r.state, r.error]), [['a.shop', 'SYNCED', null], ['b.shop', 'NACK', 'RDS: RDS 80: bad retryOn'], ['c.shop', 'STALE', null]]);
  assert.equal(rows[1]!.version, 'CDS c1 · RDS r1');
});

test('config changes: one per burst of responses, newest first, with the proxies that acknowledged it', () => {
  const changes = configChanges([
    entry('a.shop', { LDS: acked('l1', 0), RDS: { status: 'STALE', sent: { version: 'r2', nonce: 'n2' }, sentAt: iso(10_000), nack: { nonce: 'n2', error: 'x', at: iso(10_100) } } }),
    entry('b.shop', { LDS: acked('l1', 300), RDS: acked('r2', 10_400) }),
    entry('c.shop', { LDS: acked('l1', 200) }),
  ]);
  assert.deepEqual(changes, [
    { at: iso(10_000), types: ['RDS'], reached: 2, total: 3, nacked: 1 },
    { at: iso(0), types: ['LDS'], reached: 3, total: 3, nacked: 0 },
  ]);
});

test('certificates: SPIFFE id, NOT AFTER, and rotation at the agent\'s share of the lifetime; anything else is no row', () => {
  const body = JSON.stringify({ certificates: [
    { ca_cert: [{ valid_from: iso(0), expiration_time: iso(100 * 86_400_000) }], cert_chain: [] },
    { ca_cert: [], cert_chain: [{ subject_alt_names: [{ uri: 'spiffe://cluster.local/ns/shop/sa/web' }], valid_from: iso(0), expiration_time: iso(24 * 3600_000) }] },
  ] });
  const row = certRow('web-1.shop', body)!;
  assert.equal(row.spiffeId, 'spiffe://cluster.local/ns/shop/sa/web');
  assert.equal(row.notAfter, iso(24 * 3600_000));
  assert.equal(row.rotationDue, iso(0.75 * 24 * 3600_000));
  assert.equal(certRow('x', 'not json'), undefined);
  assert.equal(certRow('x', '{"certificates":[]}'), undefined);
});
