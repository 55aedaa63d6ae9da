/** proxy-status rows from /debug/syncz entries: istioctl's words per type, the age of the last response, the reasons. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outOfSync, outOfSyncReasons, proxyStatusHeader, statusRows, typeWord } from '../../../src/debug/proxy-status/status-rows.js';
import type { SynczEntry } from '../../../src/debug/syncz.js';

const now = Date.parse('2026-06-01T12:00:00Z');
const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000).toISOString();

function entry(proxy: string, types: SynczEntry['types'], extra: Partial<SynczEntry> = {}): SynczEntry {
  return { proxy, nodeId: `sidecar~10.0.0.1~${proxy}~default.svc.cluster.local`, namespace: 'default', stream: 'delta', connectedAt: at(600), clusterId: 'Kubernetes', types, ...extra };
}

const synced = (ago: number) => ({ status: 'SYNCED' as const, sent: { version: 'v1', nonce: 'n1' }, sentAt: at(ago), acked: { version: 'v1', nonce: 'n1' } });

test('SYNCED and STALE with their age, ERROR for a NACK of the last response, NOT SENT, IGNORED when not subscribed', () => {
  const e = entry('a.default', {
    CDS: synced(300),
    LDS: { status: 'STALE', sent: { version: 'v2', nonce: 'n2' }, sentAt: at(3), nack: { nonce: 'n2', error: 'bad listener', at: at(2) } },
    EDS: { status: 'STALE', sent: { version: 'v3', nonce: 'n3' }, sentAt: at(1), acked: { version: 'v2', nonce: 'n2' } },
    RDS: { status: 'NOT SENT' },
  }, { controlPlane: 'istiod-1', userAgent: 'trellis/0.1.0' });
  assert.deepEqual(statusRows([e], now)[0], ['a.default', 'Kubernetes', 'SYNCED (5m)', 'ERROR (3s)', 'STALE (1s)', 'NOT SENT', 'IGNORED', 'istiod-1', 'trellis/0.1.0']);
  assert.equal(typeWord(undefined), 'IGNORED');
  assert.ok(outOfSync(e));
  assert.deepEqual(outOfSyncReasons(e, now), [
    'LDS ERROR: the proxy rejected (NACKed) version v2 2s ago: bad listener',
    'EDS STALE: version v3 sent 1s ago is not acknowledged yet; it runs version v2',
  ]);
});

test('an older NACK does not make a newer response ERROR: that one is STALE until answered', () => {
  const t = { status: 'STALE' as const, sent: { version: 'v3', nonce: 'n3' }, sentAt: at(1), nack: { nonce: 'n2', error: 'old', at: at(5) } };
  assert.equal(typeWord(t), 'STALE');
});

test('rows sorted by name; ISTIO_VERSION wins over the user agent; an in-sync proxy is not out of sync', () => {
  const rows = statusRows([entry('b.default', { CDS: synced(1) }, { istioVersion: '1.24.0', userAgent: 'envoy/1.32' }), entry('a.default', { CDS: synced(1) })], now);
  assert.deepEqual(rows.map((r) => [r[0], r[8]]), [['a.default', ''], ['b.default', '1.24.0']]);
  assert.equal(outOfSync(entry('c', { CDS: synced(1), LDS: { status: 'NOT SENT' } })), false);
});

test('a node proxy (workload API only): WADS and WDS columns after ECDS, SYNCED from the control plane\'s view; sidecars IGNORED there; a STALE WDS is out of sync', () => {
  const ztunnel = entry('ztunnel-node-1.istio-system', { CDS: { status: 'NOT SENT' }, WDS: synced(60), WADS: synced(60) }, { namespace: 'istio-system', userAgent: 'trellis/0.1.0' });
  const sidecar = entry('a.default', { CDS: synced(1) });
  assert.deepEqual(proxyStatusHeader([sidecar]), ['NAME', 'CLUSTER', 'CDS', 'LDS', 'EDS', 'RDS', 'ECDS', 'CONTROL PLANE', 'VERSION']);
  assert.deepEqual(proxyStatusHeader([sidecar, ztunnel]), ['NAME', 'CLUSTER', 'CDS', 'LDS', 'EDS', 'RDS', 'ECDS', 'WADS', 'WDS', 'CONTROL PLANE', 'VERSION']);
  assert.deepEqual(statusRows([ztunnel, sidecar], now), [
    ['a.default', 'Kubernetes', 'SYNCED (1s)', 'IGNORED', 'IGNORED', 'IGNORED', 'IGNORED', 'IGNORED', 'IGNORED', '', ''],
    ['ztunnel-node-1.istio-system', 'Kubernetes', 'NOT SENT', 'IGNORED', 'IGNORED', 'IGNORED', 'IGNORED', 'SYNCED (60s)', 'SYNCED (60s)', '', 'trellis/0.1.0'],
  ]);
  assert.equal(outOfSync(ztunnel), false);
  assert.ok(outOfSync({ ...ztunnel, types: { ...ztunnel.types, WDS: { status: 'STALE', sent: { version: 'v2', nonce: 'n2' }, sentAt: at(1) } } }));
});
