import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeSync, proxyId, proxySyncStatus, typeStatus } from '../../../src/controlplane/server/sync-status.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';

const node: ProxyNode = {
  id: 'sidecar~10.1.0.5~reviews-v1-xyz.bookinfo~bookinfo.svc.cluster.local',
  type: 'sidecar',
  ipAddresses: ['10.1.0.5'],
  podName: 'reviews-v1-xyz',
  namespace: 'bookinfo',
  dnsDomain: 'bookinfo.svc.cluster.local',
  metadata: { ISTIO_VERSION: '1.24.0' },
  labels: {},
  generator: 'envoy',
};

describe('TypeSync', () => {
  test('NOT SENT → STALE (sent) → SYNCED (acked)', () => {
    const t = new TypeSync(TypeUrl.Cluster);
    assert.equal(t.status(), 'NOT SENT');
    t.recordSent('v1', 'n1', new Map());
    assert.equal(t.status(), 'STALE');
    t.recordAck('n1');
    assert.equal(t.status(), 'SYNCED');
    assert.deepEqual(t.acked, { version: 'v1', nonce: 'n1' });
  });

  test('an ACK of another nonce does not count', () => {
    const t = new TypeSync(TypeUrl.Cluster);
    t.recordSent('v1', 'n1', new Map());
    t.recordAck('n0');
    assert.equal(t.status(), 'STALE');
    assert.equal(t.acked, undefined);
  });

  test('a NACK of the latest response is STALE and keeps the previous ACK', () => {
    const t = new TypeSync(TypeUrl.Listener);
    t.recordSent('v1', 'n1', new Map());
    t.recordAck('n1');
    t.recordSent('v2', 'n2', new Map());
    t.recordNack('n2', 'bad listener', new Date('2026-01-02T03:04:05Z'));
    assert.equal(t.status(), 'STALE');
    assert.deepEqual(t.acked, { version: 'v1', nonce: 'n1' });
    assert.deepEqual(typeStatus(t).nack, { nonce: 'n2', error: 'bad listener', at: '2026-01-02T03:04:05.000Z' });
    t.recordSent('v3', 'n3', new Map());
    t.recordAck('n3');
    assert.equal(t.status(), 'SYNCED');
    assert.equal(t.nack, undefined, 'an ACK of a later response clears the NACK');
  });
});

describe('proxySyncStatus', () => {
  test('lists the four types, the stream kind, cluster id, istio version and ids', () => {
    const cds = new TypeSync(TypeUrl.Cluster);
    cds.recordSent('v1', 'n1', new Map());
    cds.recordAck('n1');
    const at = new Date('2026-05-01T00:00:00Z');
    const s = proxySyncStatus({ node, kind: 'delta', connectedAt: at, types: new Map([[TypeUrl.Cluster, cds]]) });
    assert.deepEqual(s, {
      proxy: 'reviews-v1-xyz.bookinfo',
      nodeId: node.id,
      namespace: 'bookinfo',
      stream: 'delta',
      connectedAt: '2026-05-01T00:00:00.000Z',
      clusterId: 'Kubernetes',
      istioVersion: '1.24.0',
      types: {
        CDS: { status: 'SYNCED', sent: { version: 'v1', nonce: 'n1' }, sentAt: cds.sentAt!.toISOString(), acked: { version: 'v1', nonce: 'n1' } },
        LDS: { status: 'NOT SENT' },
        RDS: { status: 'NOT SENT' },
        EDS: { status: 'NOT SENT' },
      },
    });
  });

  test('proxyId is pod.namespace, or the node id when not Istio-shaped', () => {
    assert.equal(proxyId(node), 'reviews-v1-xyz.bookinfo');
    assert.equal(proxyId({ ...node, id: 'plain', podName: 'plain', namespace: '' }), 'plain');
  });
});
