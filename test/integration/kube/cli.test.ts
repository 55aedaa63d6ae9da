/**
 * `trellis controlplane`'s choice of source, with the real binary: a
 * directory needs --config-dir, --kubeconfig means the Kubernetes source,
 * no cluster configuration is a clear error, a bad Istio object in the
 * cluster shows at /debug/config_problems with its locator, and /ready goes
 * 503 while the API server is away.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKubeApiServer } from '../../helpers/fake-kube-apiserver/server.js';
import { namespace, service, virtualService } from '../../helpers/kube-objects.js';
import { jsonLine, trellisBin, TrellisProcess } from '../../helpers/trellis-process.js';

describe('trellis controlplane: directory or Kubernetes', () => {
  let api: FakeKubeApiServer;
  let home: string;
  before(async () => {
    api = await FakeKubeApiServer.start();
    api.apply(namespace('shop'));
    api.apply(service('shop', 'reviews', 9080));
    home = mkdtempSync(join(tmpdir(), 'trellis-home-'));
  });
  after(async () => {
    await api.close();
    rmSync(home, { recursive: true, force: true });
  });

  const runCli = (args: string[]) => {
    const env = { ...process.env, HOME: home, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' };
    return spawnSync(process.execPath, [trellisBin, ...args], { encoding: 'utf8', timeout: 20_000, env });
  };

  test('usage: a directory source needs --config-dir; --config-dir and --kubeconfig do not mix; an unknown source is named', () => {
    const none = runCli(['controlplane', '--xds-port', '0', '--debug-port', '0']);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /needs --config-dir DIR \(or use --source kubernetes\)/);
    const both = runCli(['controlplane', '--config-dir', home, '--kubeconfig', 'x']);
    assert.match(both.stderr, /--config-dir is for the directory source/);
    assert.match(runCli(['controlplane', '--source', 'etcd']).stderr, /--source must be directory or kubernetes, not etcd/);
  });

  test('--source kubernetes with no configuration anywhere: KUBE_CONFIG naming the ways', () => {
    const r = runCli(['controlplane', '--source', 'kubernetes', '--xds-port', '0', '--debug-port', '0']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no Kubernetes configuration: pass --kubeconfig FILE, set KUBECONFIG, or run in a pod/);
  });

  test('--kubeconfig: a bad VirtualService is a config problem with its locator; /ready is 503 while the API server refuses', async () => {
    api.apply(virtualService('shop', 'reviews', 'reviews.shop.svc.cluster.local', { http: [{ route: [{ destination: { host: 'reviews' } }], timeout: 'soon' }] }));
    const cp = new TrellisProcess(['controlplane', '--kubeconfig', api.writeKubeconfig(), '--no-ca', '--xds-port', '0', '--debug-port', '0'], { POD_NAMESPACE: 'shop' });
    try {
      const line = jsonLine<{ debug: string }>(await cp.waitForLine((l) => jsonLine(l)?.debug !== undefined, 30_000))!;
      const debug = `http://${line.debug}`;
      const problems = (await (await fetch(`${debug}/debug/config_problems`)).json()) as { file: string; reason: string }[];
      const p = problems.find((x) => x.file === 'kubernetes:VirtualService/shop/reviews');
      assert.ok(p, JSON.stringify(problems));
      assert.match(p.reason, /spec\.http\[0\]\.timeout/);
      assert.equal((await fetch(`${debug}/ready`)).status, 200);
      api.fault = (r) => (r.path === '/api/v1/services' ? { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', message: 'RBAC says no', code: 403 } : undefined);
      api.dropWatches();
      // Reported after the source has failed for 10 s (brief hiccups do not count).
      let ready = 200;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && ready === 200) {
        await new Promise((r) => setTimeout(r, 500));
        ready = (await fetch(`${debug}/ready`)).status;
      }
      assert.equal(ready, 503);
      assert.match(await (await fetch(`${debug}/ready`)).text(), /config source unavailable: .*\/api\/v1\/services/);
      api.fault = undefined;
      const back = Date.now() + 20_000;
      while (Date.now() < back && ready !== 200) {
        await new Promise((r) => setTimeout(r, 300));
        ready = (await fetch(`${debug}/ready`)).status;
      }
      assert.equal(ready, 200, 'ready again once the API server answers');
    } finally {
      api.fault = undefined;
      await cp.stop();
    }
  });
});
