/** A pod's own trellis-proxy / istio-proxy container laid over the generated one, as Kubernetes' strategic merge lays it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOverride, takeOverrides } from '../../../src/inject/container-override.js';

test('overlays are taken out of the pod (Istio\'s names too); the apps stay in order', () => {
  const o = takeOverrides({
    initContainers: [{ name: 'istio-init', args: ['x'] }, { name: 'setup' }],
    containers: [{ name: 'app' }, { name: 'istio-proxy', image: 'auto' }, { name: 'side' }],
  });
  assert.deepEqual(o.spec.containers.map((c) => c.name), ['app', 'side']);
  assert.deepEqual(o.spec.initContainers!.map((c) => c.name), ['setup']);
  assert.equal(o.proxy?.name, 'istio-proxy');
  assert.deepEqual(o.init?.args, ['x']);
});

test('objects merge field by field, env and volumeMounts by their keys, lists and scalars replace, image: auto keeps ours', () => {
  const base = {
    name: 'trellis-proxy', image: 'trellis:1', args: ['proxy', '--a'],
    env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2' } },
    securityContext: { runAsUser: 1337, runAsGroup: 1337, capabilities: { drop: ['ALL'] } },
    volumeMounts: [{ name: 'istio-token', mountPath: '/var/run/secrets/tokens' }],
  };
  const out = applyOverride(base, {
    name: 'istio-proxy', image: 'auto', args: ['proxy', '--b'],
    env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }],
    resources: { requests: { cpu: '123m' } },
    securityContext: { runAsUser: 1234 },
    volumeMounts: [{ name: 'certs', mountPath: '/etc/certs' }],
    tty: true,
  });
  assert.deepEqual(out, {
    name: 'trellis-proxy', image: 'trellis:1', args: ['proxy', '--b'],
    env: [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }, { name: 'C', value: '3' }],
    resources: { requests: { cpu: '123m', memory: '128Mi' }, limits: { cpu: '2' } },
    securityContext: { runAsUser: 1234, runAsGroup: 1337, capabilities: { drop: ['ALL'] } },
    volumeMounts: [{ name: 'istio-token', mountPath: '/var/run/secrets/tokens' }, { name: 'certs', mountPath: '/etc/certs' }],
    tty: true,
  });
  assert.equal(base.env[1]!.value, '2', 'the base is not changed');
});
