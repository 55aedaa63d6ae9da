/**
 * The done-when of the injection webhook, end to end: the sidecar the
 * webhook's patch adds is run as the kubelet would run it — its args with
 * $(VAR) expanded from its env, the downward API filled in, the token and
 * root mounts as files — against the same control plane. It must get its
 * workload certificate from the CA, its config over mTLS xDS, report ready
 * on the health port its readiness probe names, and answer the app's
 * rewritten readiness probe by asking the app. Two mappings stand in for
 * the cluster: the Service name istiod.istio-system.svc resolves to the
 * control plane's address, and the agent ports are 0 (free ports) so the
 * test shares the machine.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from '../../helpers/ports.js';
import { trellisBin, TrellisProcess } from '../../helpers/trellis-process.js';
import { applyAnswer, WebhookClient } from './webhook-client.js';
import { startWebhookMesh, type WebhookMesh } from './webhook-mesh.js';
import { assertSidecar, container, view, webPod, type Container } from './pods.js';

const POD = { name: 'web-1', namespace: 'mesh-on', serviceAccount: 'web', ip: '127.0.0.1' };

/** What the kubelet does with the container's env: literal values, and the downward API for fieldRefs. */
function kubeletEnv(c: Container): Record<string, string> {
  const fields: Record<string, string> = {
    'metadata.name': POD.name, 'metadata.namespace': POD.namespace, 'status.podIP': POD.ip, 'status.hostIP': POD.ip,
    'spec.serviceAccountName': POD.serviceAccount, 'spec.nodeName': 'node-1',
  };
  const out: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const path = e.valueFrom?.fieldRef?.fieldPath;
    out[e.name] = e.value ?? (path ? fields[path] ?? '' : '');
  }
  return out;
}

/** Kubernetes' $(VAR) expansion in args, from the container's own env. */
const expand = (args: readonly string[], env: Record<string, string>) => args.map((a) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string) => env[v] ?? m));

function setFlag(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  return i >= 0 ? [...args.slice(0, i + 1), value, ...args.slice(i + 2)] : [...args, flag, value];
}

describe('the injected sidecar starts, fetches its identity and config, and is ready', () => {
  let mesh: WebhookMesh;
  let client: WebhookClient;
  let app: http.Server;
  let proxy: TrellisProcess | undefined;

  before(async () => {
    mesh = await startWebhookMesh();
    client = new WebhookClient(mesh.webhook, mesh.rootPem);
  });

  after(async () => {
    await proxy?.stop();
    await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
    await client?.close();
    await mesh?.stop();
  });

  test('the patched pod\'s trellis-proxy, run as the kubelet runs it, becomes ready with a SPIFFE certificate and serves the app\'s probe', async () => {
    const appPort = await freePort();
    app = http.createServer((req, res) => res.writeHead(req.url === '/ready' ? 200 : 500).end(req.url === '/ready' ? 'app ready' : 'no'));
    await new Promise<void>((r) => app.listen(appPort, POD.ip, r));
    const pod = webPod(POD.name);
    const spec = pod.spec as { containers: { ports: { containerPort: number }[] }[] };
    spec.containers[0]!.ports[0]!.containerPort = appPort;
    const out = view(applyAnswer(pod, await client.review(pod, POD.namespace)));
    const sidecar = assertSidecar(out, { podName: POD.name });
    const appContainer = container(out, 'web');
    assert.deepEqual((appContainer.readinessProbe as { httpGet?: unknown }).httpGet, { path: '/app-health/web/readyz', port: 15020 });

    // The mounts, as files: the projected token (from the CA's own token tool) and the istio-ca-root-cert ConfigMap.
    const mounts = join(mesh.work, 'mounts');
    await mkdir(join(mounts, 'tokens'), { recursive: true });
    await mkdir(join(mounts, 'istio'), { recursive: true });
    const token = spawnSync(process.execPath, [trellisBin, 'token', 'create', '--ca-dir', mesh.caDir, '--namespace', POD.namespace, '--service-account', POD.serviceAccount], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(token.status, 0, token.stderr);
    await writeFile(join(mounts, 'tokens', 'istio-token'), token.stdout.trim());
    await writeFile(join(mounts, 'istio', 'root-cert.pem'), mesh.rootPem);

    const env = kubeletEnv(sidecar);
    let args = expand(sidecar.args!, env);
    assert.ok(args.includes(`sidecar~${POD.ip}~${POD.name}.${POD.namespace}~${POD.namespace}.svc.cluster.local`), `node id from the downward API: ${args.join(' ')}`);
    args = setFlag(args, '--xds-address', mesh.ca);
    args = setFlag(args, '--ca-address', mesh.ca);
    args = setFlag(args, '--token-file', join(mounts, 'tokens', 'istio-token'));
    args = setFlag(args, '--root-cert', join(mounts, 'istio', 'root-cert.pem'));
    args = setFlag(args, '--health-port', '0');
    args = setFlag(args, '--status-port', '0');
    args = setFlag(args, '--admin-port', '0');
    proxy = new TrellisProcess(args, { ...env, TRELLIS_LOG: 'warn' });
    const health = Number(/:(\d+)$/.exec(await proxy.waitForLine((l) => l.startsWith('trellis proxy: health listening'), 15_000))![1]);
    const status = Number(/:(\d+)$/.exec(await proxy.waitForLine((l) => l.startsWith('trellis proxy: status listening'), 15_000))![1]);
    const admin = Number(/:(\d+)$/.exec(await proxy.waitForLine((l) => l.startsWith('trellis proxy: admin listening'), 15_000))![1]);

    const deadline = Date.now() + 25_000;
    let ready = 0;
    while (Date.now() < deadline) {
      ready = (await request(`http://127.0.0.1:${health}/healthz/ready`).then(async (r) => (await r.body.text(), r.statusCode), () => 0));
      if (ready === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(ready, 200, `the health port never said ready; proxy stderr:\n${proxy.stderr.slice(-20).join('\n')}`);
    const certs = await (await request(`http://127.0.0.1:${admin}/certs`)).body.text();
    assert.match(certs, /spiffe:\/\/cluster\.local\/ns\/mesh-on\/sa\/web/, 'the workload certificate names the pod\'s service account');
    const clusters = await (await request(`http://127.0.0.1:${admin}/clusters`)).body.text();
    assert.match(clusters, /outbound\|80\|\|web\.mesh-on\.svc\.cluster\.local/, 'config arrived over xDS');
    const probe = await request(`http://127.0.0.1:${status}/app-health/web/readyz`);
    assert.deepEqual([probe.statusCode, await probe.body.text()], [200, 'app ready'], 'the kubelet\'s rewritten probe reaches the app');
  });
});
