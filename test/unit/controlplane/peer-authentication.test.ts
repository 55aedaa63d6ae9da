/** The mTLS mode a workload enforces, with Istio's PeerAuthentication precedence. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MutualTLSMode, PeerAuthentication } from '../../../src/config/objects.js';
import { composePeerAuthentication, mtlsModeForPort } from '../../../src/controlplane/registry/peer-authentication.js';

function pa(name: string, namespace: string, mode?: MutualTLSMode, opts: { selector?: Record<string, string>; ports?: Record<string, MutualTLSMode | undefined>; created?: string } = {}): PeerAuthentication {
  const spec: PeerAuthentication['spec'] = {};
  if (mode) spec.mtls = { mode };
  if (opts.selector) spec.selector = { matchLabels: opts.selector };
  if (opts.ports) spec.portLevelMtls = Object.fromEntries(Object.entries(opts.ports).map(([p, m]) => [p, m ? { mode: m } : {}]));
  return { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name, namespace, ...(opts.created ? { creationTimestamp: opts.created } : {}) }, spec };
}

const reviews = { namespace: 'shop', labels: { app: 'reviews' } };
const compose = (...ps: PeerAuthentication[]) => composePeerAuthentication('istio-system', ps, reviews);

test('nothing applies: PERMISSIVE', () => {
  const e = compose(pa('other-ns', 'bank', 'STRICT'), pa('other-app', 'shop', 'DISABLE', { selector: { app: 'ratings' } }));
  assert.equal(e.mode, 'PERMISSIVE');
  assert.equal(e.namespace, undefined);
});

test('workload beats namespace beats mesh', () => {
  const mesh = pa('mesh', 'istio-system', 'STRICT');
  const ns = pa('ns', 'shop', 'PERMISSIVE');
  const wl = pa('wl', 'shop', 'DISABLE', { selector: { app: 'reviews' } });
  assert.equal(compose(mesh).mode, 'STRICT');
  assert.equal(compose(mesh, ns).mode, 'PERMISSIVE');
  const e = compose(mesh, ns, wl);
  assert.equal(e.mode, 'DISABLE');
  assert.deepEqual([e.mesh?.metadata.name, e.namespace?.metadata.name, e.workload?.metadata.name], ['mesh', 'ns', 'wl']);
});

test('UNSET inherits from the level above; an UNSET port inherits the workload\'s mode', () => {
  const e = compose(pa('mesh', 'istio-system', 'STRICT'), pa('ns', 'shop', 'UNSET'), pa('wl', 'shop', undefined, { selector: { app: 'reviews' }, ports: { '9080': 'PERMISSIVE', '9090': undefined } }));
  assert.equal(e.mode, 'STRICT');
  assert.equal(mtlsModeForPort(e, 9080), 'PERMISSIVE');
  assert.equal(mtlsModeForPort(e, 9090), 'STRICT');
  assert.equal(mtlsModeForPort(e, 7070), 'STRICT');
});

test('at one level the oldest wins; the others are shadowed', () => {
  const e = compose(pa('young', 'shop', 'DISABLE', { created: '2026-02-01T00:00:00Z' }), pa('old', 'shop', 'STRICT', { created: '2026-01-01T00:00:00Z' }));
  assert.equal(e.mode, 'STRICT');
  assert.equal(e.namespace?.metadata.name, 'old');
  assert.deepEqual(e.shadowed.map((p) => p.metadata.name), ['young']);
});

test('a selector in the root namespace applies to nothing; a root namespace workload gets the mesh policy', () => {
  assert.equal(compose(pa('rooted', 'istio-system', 'DISABLE', { selector: { app: 'reviews' } })).mode, 'PERMISSIVE');
  const inRoot = composePeerAuthentication('istio-system', [pa('mesh', 'istio-system', 'STRICT')], { namespace: 'istio-system', labels: {} });
  assert.equal(inRoot.mode, 'STRICT');
  assert.equal(inRoot.mesh?.metadata.name, 'mesh');
});
