import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignTable, humanDuration, podRow, podStatusReason, serviceRow } from '../../../src/local/up/kube-table.js';
import { podObject, type PodSnapshot } from '../../../src/local/up/pod-objects.js';
import type { ContainerState } from '../../../src/local/up/container.js';

test("AGE as kubectl prints it (apimachinery's HumanDuration)", () => {
  const s = 1000;
  const cases: [number, string][] = [
    [0, '0s'], [59 * s, '59s'], [119 * s, '119s'], [120 * s, '2m'], [121 * s, '2m1s'], [599 * s, '9m59s'], [600 * s, '10m'],
    [179 * 60 * s, '179m'], [3 * 3600 * s, '3h'], [3 * 3600 * s + 60 * s, '3h1m'], [8 * 3600 * s, '8h'], [47 * 3600 * s, '47h'],
    [48 * 3600 * s, '2d'], [49 * 3600 * s, '2d1h'], [8 * 86400 * s, '8d'], [730 * 86400 * s, '2y'], [731 * 86400 * s, '2y1d'], [-500, '0s'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

test('columns are aligned three spaces apart, without trailing spaces', () => {
  assert.equal(alignTable([['NAME', 'READY'], ['a-long-name', '1/1'], ['b', '']]), 'NAME          READY\na-long-name   1/1\nb\n');
});

const running = (ready: boolean, restarts = 0): ContainerState => ({ state: 'running', startedAt: '2026-01-01T00:00:00Z', restarts, ready });
function snapshot(o: Partial<PodSnapshot>): PodSnapshot {
  return {
    namespace: 'shop', name: 'web-x', uid: 'u', createdAt: '2026-01-01T00:00:00.000Z', labels: { app: 'web' }, annotations: {},
    spec: { containers: [{ name: 'web', image: 'i' }] }, owner: { kind: 'Deployment', name: 'web', hash: 'bcdfghjklm' },
    sidecar: true, nodeName: 'node', ip: '10.244.0.10', phase: 'Running', containers: [{ name: 'web', state: running(true) }],
    proxy: running(true), ready: true, ...o,
  };
}

test('get pods rows: READY counts the sidecar, STATUS as kubectl derives it', () => {
  const now = Date.parse('2026-01-01T00:05:00Z');
  assert.deepEqual(podRow(podObject(snapshot({})), now, true), ['web-x', '2/2', 'Running', '0', '5m', '10.244.0.10', 'node', '<none>', '<none>']);
  const crashing = snapshot({ containers: [{ name: 'web', state: { state: 'waiting', reason: 'CrashLoopBackOff', restarts: 3, ready: false } }], ready: false });
  assert.deepEqual(podRow(podObject(crashing), now, false), ['web-x', '1/2', 'CrashLoopBackOff', '3', '5m']);
  const starting = snapshot({ phase: 'Pending', proxy: { state: 'waiting', reason: 'PodInitializing', restarts: 0, ready: false }, containers: [{ name: 'web', state: { state: 'waiting', reason: 'ContainerCreating', restarts: 0, ready: false } }], ready: false });
  assert.equal(podStatusReason(podObject(starting)), 'Init:0/1');
  assert.equal(podStatusReason(podObject(snapshot({ phase: 'Terminating' }))), 'Terminating');
  const noSidecar = podObject(snapshot({ sidecar: false, proxy: undefined }));
  assert.deepEqual((noSidecar.spec['containers'] as { name: string }[]).map((c) => c.name), ['web']);
  const cond = (noSidecar.status['conditions'] as { type: string; status: string }[]).find((c) => c.type === 'Ready');
  assert.equal(cond?.status, 'True');
  assert.deepEqual((podObject(snapshot({})).metadata['ownerReferences'] as { name: string }[])[0]!.name, 'web-bcdfghjklm');
});

test('get services rows', () => {
  const now = Date.parse('2026-01-01T01:00:00Z');
  const meta = { name: 'web', namespace: 'shop', creationTimestamp: '2026-01-01T00:00:00Z' };
  assert.deepEqual(serviceRow({ metadata: meta, spec: { clusterIP: '10.96.0.5', ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }], selector: { app: 'web' } } }, now, true),
    ['web', 'ClusterIP', '10.96.0.5', '<none>', '80/TCP,53/UDP', '60m', 'app=web']);
  assert.deepEqual(serviceRow({ metadata: meta, spec: { type: 'ExternalName', externalName: 'example.com' } }, now, false),
    ['web', 'ExternalName', '<none>', 'example.com', '<none>', '60m']);
  assert.deepEqual(serviceRow({ metadata: meta, spec: { type: 'NodePort', clusterIP: '10.96.0.6', ports: [{ port: 80, nodePort: 30080 }] } }, now, false)[4], '80:30080/TCP');
});
