import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../../../src/config/objects.js';
import { envName, serviceEnv } from '../../../src/local/up/service-env.js';
import { containerEnv, expand, type PodFacts } from '../../../src/local/up/container-env.js';

const svc = (name: string, spec: Service['spec']): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec });

test("kubelet's service variables (pkg/kubelet/envvars), including Docker's link variables", () => {
  const env = serviceEnv([
    svc('foo-bar', { clusterIP: '1.2.3.4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
    svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
    svc('external', { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 80 }] }),
  ], (s) => s.spec.clusterIP!);
  assert.deepEqual(env, {
    FOO_BAR_SERVICE_HOST: '1.2.3.4',
    FOO_BAR_SERVICE_PORT: '8080',
    FOO_BAR_SERVICE_PORT_HTTP: '8080',
    FOO_BAR_SERVICE_PORT_DNS: '53',
    FOO_BAR_PORT: 'tcp://1.2.3.4:8080',
    FOO_BAR_PORT_8080_TCP: 'tcp://1.2.3.4:8080',
    FOO_BAR_PORT_8080_TCP_PROTO: 'tcp',
    FOO_BAR_PORT_8080_TCP_PORT: '8080',
    FOO_BAR_PORT_8080_TCP_ADDR: '1.2.3.4',
    FOO_BAR_PORT_53_UDP: 'udp://1.2.3.4:53',
    FOO_BAR_PORT_53_UDP_PROTO: 'udp',
    FOO_BAR_PORT_53_UDP_PORT: '53',
    FOO_BAR_PORT_53_UDP_ADDR: '1.2.3.4',
  });
  assert.equal(envName('my-svc'), 'MY_SVC');
  // Loopback mode: the address and port the pod's view gives.
  const moved = serviceEnv([svc('web', { clusterIP: '10.96.3.7', ports: [{ port: 80 }] })], () => '127.41.3.7', (p) => p + 10000);
  assert.equal(moved.WEB_SERVICE_HOST, '127.41.3.7');
  assert.equal(moved.WEB_SERVICE_PORT, '10080');
  assert.equal(moved.WEB_PORT_80_TCP, 'tcp://127.41.3.7:10080');
});

const facts: PodFacts = {
  name: 'web-abc', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, annotations: { note: 'n' },
  nodeName: 'node-1', serviceAccountName: 'web', podIp: '10.244.0.5', hostIp: '10.244.0.1',
};

test('a container\'s environment: its own variables (fieldRef, $(VAR) references), then the service variables it did not set', () => {
  const r = containerEnv({
    name: 'web',
    command: ['node', 'app.js', '--listen', '$(POD_IP):$(PORT)'],
    args: ['--peer', '$(API_SERVICE_HOST)', '$$(NOT)'],
    env: [
      { name: 'PORT', value: '8080' },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
      { name: 'URL', value: 'http://$(API_SERVICE_HOST):$(PORT)/$(MISSING)' },
      { name: 'API_SERVICE_PORT', value: 'mine' },
      { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
    ],
  }, facts, { API_SERVICE_HOST: '10.96.0.9', API_SERVICE_PORT: '80' });
  assert.deepEqual(r.env, {
    PORT: '8080', POD_IP: '10.244.0.5', APP: 'web', SA: 'web', URL: 'http://10.96.0.9:8080/$(MISSING)', API_SERVICE_PORT: 'mine', API_SERVICE_HOST: '10.96.0.9',
  });
  assert.deepEqual(r.argv, ['node', 'app.js', '--listen', '10.244.0.5:8080', '--peer', '10.96.0.9', '$(NOT)']);
  assert.deepEqual(r.problems, ['SECRET: secretKeyRef is not supported by trellis up (variable left unset)']);
  assert.equal(expand('a$$b', {}), 'a$b');
});
