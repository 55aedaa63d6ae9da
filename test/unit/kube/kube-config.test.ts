/** Finding the cluster: --kubeconfig, $KUBECONFIG, in cluster (service-account mount), and a clear error when there is none. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../../src/kube/kube-client.js';
import { loadKubeConfig, SERVICE_ACCOUNT_DIR } from '../../../src/kube/kube-config.js';
import { FakeKubeApiServer } from '../../helpers/fake-kube-apiserver/server.js';
import { namespace } from '../../helpers/kube-objects.js';

describe('loadKubeConfig', () => {
  let api: FakeKubeApiServer;
  let tmp: string;
  before(async () => {
    api = await FakeKubeApiServer.start();
    api.apply(namespace('shop'));
    tmp = mkdtempSync(join(tmpdir(), 'trellis-kubeconfig-'));
  });
  after(async () => {
    await api.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('--kubeconfig: token and CA from the file; the context\'s namespace', async () => {
    const conn = await loadKubeConfig({ kubeconfig: api.writeKubeconfig('k1', 'shop') });
    assert.equal(conn.how, 'kubeconfig');
    assert.equal(conn.namespace, 'shop');
    const ns = await new KubeClient(conn.kc).get<{ metadata: { name: string } }>('/api/v1/namespaces/shop');
    assert.equal(ns.metadata.name, 'shop');
  });

  test('$KUBECONFIG with several files: the first file\'s context wins', async () => {
    const first = api.writeKubeconfig('k2', 'first');
    const second = join(tmp, 'other');
    writeFileSync(second, JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'x', cluster: { server: 'https://192.0.2.1' } }], users: [{ name: 'u', user: {} }], contexts: [{ name: 'x', context: { cluster: 'x', user: 'u' } }], 'current-context': 'x' }));
    const conn = await loadKubeConfig({ kubeconfigEnv: `${first}:${second}`, home: tmp });
    assert.equal(conn.server, api.url);
    assert.equal(conn.namespace, 'first');
  });

  test('in cluster: KUBERNETES_SERVICE_HOST and the mounted token, CA and namespace', async () => {
    const sa = join(tmp, SERVICE_ACCOUNT_DIR);
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), api.adminToken);
    writeFileSync(join(sa, 'ca.crt'), api.caPem);
    writeFileSync(join(sa, 'namespace'), 'istio-system');
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1';
    process.env.KUBERNETES_SERVICE_PORT = new URL(api.url).port;
    try {
      const conn = await loadKubeConfig({ kubeconfigEnv: '', serviceHost: '127.0.0.1', serviceAccountRoot: tmp, home: tmp });
      assert.equal(conn.how, 'in-cluster');
      assert.equal(conn.namespace, 'istio-system');
      const list = await new KubeClient(conn.kc).get<{ items: unknown[] }>('/api/v1/namespaces');
      assert.ok(list.items.length >= 1);
    } finally {
      for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test('nothing to go on: KUBE_CONFIG naming every way, never an unauthenticated localhost:8080', async () => {
    await assert.rejects(loadKubeConfig({ kubeconfigEnv: '', serviceHost: '', home: join(tmp, 'nowhere') }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'KUBE_CONFIG');
      assert.match(e.message, /--kubeconfig.*KUBECONFIG.*KUBERNETES_SERVICE_HOST/);
      return true;
    });
  });

  test('a wrong token is a KubeApiError with status 401', async () => {
    const path = api.writeKubeconfig('k3');
    const conn = await loadKubeConfig({ kubeconfig: path });
    (conn.kc.users[0] as { token?: string }).token = 'wrong';
    await assert.rejects(new KubeClient(conn.kc).get('/api/v1/namespaces'), (e: Error & { status?: number; code?: string }) => e.code === 'KUBE_API' && e.status === 401);
  });
});
