/**
 * PeerAuthentication as istiod composes it (ComposePeerAuthentication and
 * AuthenticationPolicies): scopes, precedence, the oldest policy winning,
 * UNSET inheriting, portLevelMtls, the root namespace as an option.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../../../src/controlplane/registry/build-model.js';
import { composePeerAuthentication, mtlsModeForPort } from '../../../src/controlplane/registry/peer-authentication.js';
import { stateOf } from './helpers.js';

const pa = (ns: string, name: string, spec: string, created = '') => `
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ${name}, namespace: ${ns}${created ? `, creationTimestamp: "${created}"` : ''}}
spec: ${spec}`;

const web = { app: 'web', version: 'v1' };

function merged(yaml: string, labels: Record<string, string> = web, namespace = 'shop', rootNamespace?: string) {
  const model = buildModel(stateOf(yaml), { rootNamespace });
  const m = composePeerAuthentication(model.rootNamespace, model.peerAuthenticationsFor(namespace, labels), { namespace, labels });
  return { mode: m.mode, perPort: Object.fromEntries(m.perPort), namespaceMode: model.namespaceMtlsMode(namespace) };
}

describe('PeerAuthentication precedence', () => {
  test('nothing: PERMISSIVE, and no namespace mode for auto mTLS', () => {
    assert.deepEqual(merged(''), { mode: 'PERMISSIVE', perPort: {}, namespaceMode: undefined });
  });

  test('mesh-wide (root namespace, no selector) < namespace-wide < workload selector', () => {
    const mesh = pa('istio-system', 'mesh', '{mtls: {mode: STRICT}}');
    const ns = pa('shop', 'ns', '{mtls: {mode: PERMISSIVE}}');
    const wl = pa('shop', 'wl', '{selector: {matchLabels: {app: web}}, mtls: {mode: DISABLE}}');
    assert.deepEqual(merged(mesh), { mode: 'STRICT', perPort: {}, namespaceMode: 'STRICT' });
    assert.deepEqual(merged(mesh + ns), { mode: 'PERMISSIVE', perPort: {}, namespaceMode: 'PERMISSIVE' });
    assert.deepEqual(merged(mesh + ns + wl), { mode: 'DISABLE', perPort: {}, namespaceMode: 'PERMISSIVE' }, 'auto mTLS reads the namespace, not the workload');
    assert.equal(merged(mesh + ns + wl, { app: 'db' }).mode, 'PERMISSIVE', 'a selector that does not match is ignored');
    assert.equal(merged(mesh + ns + wl, web, 'other').mode, 'STRICT', 'another namespace sees only the mesh policy');
  });

  test('UNSET inherits: a mesh policy UNSET is PERMISSIVE, a namespace one takes the mesh\'s, a workload one the namespace\'s', () => {
    assert.equal(merged(pa('istio-system', 'mesh', '{}')).namespaceMode, 'PERMISSIVE');
    const strictMesh = pa('istio-system', 'mesh', '{mtls: {mode: STRICT}}');
    assert.deepEqual(merged(strictMesh + pa('shop', 'ns', '{mtls: {mode: UNSET}}')), { mode: 'STRICT', perPort: {}, namespaceMode: 'STRICT' });
    assert.equal(merged(strictMesh + pa('shop', 'wl', '{selector: {matchLabels: {app: web}}}')).mode, 'STRICT');
  });

  test('portLevelMtls: per workload port, UNSET taking the workload\'s mode', () => {
    const y = pa('shop', 'ns', '{mtls: {mode: STRICT}}') + pa('shop', 'wl', '{selector: {matchLabels: {app: web}}, portLevelMtls: {"8080": {mode: DISABLE}, "9999": {mode: UNSET}}}');
    const m = merged(y);
    assert.deepEqual(m, { mode: 'STRICT', perPort: { 8080: 'DISABLE', 9999: 'STRICT' }, namespaceMode: 'STRICT' });
  });

  test('within a scope the oldest policy wins, then the name; later namespace-wide ones are ignored', () => {
    const y = pa('shop', 'b-new', '{mtls: {mode: DISABLE}}', '2024-05-01T00:00:00Z') + pa('shop', 'z-old', '{mtls: {mode: STRICT}}', '2024-01-01T00:00:00Z');
    assert.equal(merged(y).mode, 'STRICT');
    assert.equal(merged(y).namespaceMode, 'STRICT');
    const tie = pa('shop', 'b', '{selector: {matchLabels: {app: web}}, mtls: {mode: DISABLE}}', '2024-01-01T00:00:00Z')
      + pa('shop', 'a', '{selector: {matchLabels: {version: v1}}, mtls: {mode: STRICT}}', '2024-01-01T00:00:00Z');
    assert.equal(merged(tie).mode, 'STRICT', 'same age: the first name wins');
  });

  test('a selector in the root namespace is not a mesh policy, nor a workload one', () => {
    assert.equal(merged(pa('istio-system', 'sel', '{selector: {matchLabels: {app: web}}, mtls: {mode: STRICT}}')).mode, 'PERMISSIVE');
  });

  test('the root namespace is an option of the model (Istio\'s meshConfig.rootNamespace)', () => {
    const y = pa('istio-system', 'a', '{mtls: {mode: STRICT}}') + pa('mesh-root', 'b', '{mtls: {mode: DISABLE}}');
    assert.equal(merged(y, web, 'shop', 'mesh-root').mode, 'DISABLE');
    assert.equal(merged(y, web, 'shop', 'mesh-root').namespaceMode, 'DISABLE');
    assert.equal(merged(y, web, 'istio-system', 'mesh-root').mode, 'STRICT', 'istio-system is an ordinary namespace then');
    assert.equal(merged(y).mode, 'STRICT');
  });

  test('mtlsModeForPort: the port\'s own mode, else the workload\'s', () => {
    const m = composePeerAuthentication('istio-system', [], { namespace: 'shop', labels: web });
    assert.equal(mtlsModeForPort(m, 80), 'PERMISSIVE');
    assert.equal(mtlsModeForPort({ mode: 'STRICT', perPort: new Map([[80, 'DISABLE']]), shadowed: [] }, 80), 'DISABLE');
  });
});
