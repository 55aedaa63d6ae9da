/**
 * Locality failover end to end (issue 13): pods in network namespaces this
 * test creates carry Kubernetes topology labels — the client and "server"
 * in zone r1/z1, "server2" in r1/z2 — and the real control plane reads a
 * DestinationRule with outlier detection for service web. The client's
 * sidecar then gets its own EDS (server at priority 0, server2 at 1): a
 * plain curl always reaches the server of its zone; when that server's app
 * is gone (its sidecar answers 503), the endpoint is ejected and traffic
 * fails over to the other zone; after the ejection time it comes back.
 * Real `trellis controlplane`, iptables and proxies. Needs root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NAMESPACE, SERVICE } from './mesh-config.js';
import { CONFIG_DIR, curlFrom, curlUntil, skipReason, startServerApp, startTwoPodMesh, stopTwoPodMesh, type CurlReply, type TwoPodMesh } from './two-pod-mesh.js';

const URL_ = `http://${SERVICE.clusterIp}:${SERVICE.port}/where`;
const CLUSTER = `outbound|${SERVICE.port}||${SERVICE.name}.${NAMESPACE}.svc.cluster.local`;
const zone = (z: string) => ({ 'topology.kubernetes.io/region': 'r1', 'topology.kubernetes.io/zone': z });
const EJECT_MS = 3000;

const RULE = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ${SERVICE.name}
  namespace: ${NAMESPACE}
spec:
  host: ${SERVICE.name}.${NAMESPACE}.svc.cluster.local
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: ${EJECT_MS / 1000}s
      maxEjectionPercent: 100
`;

const name = (r: CurlReply) => (r.status === 200 ? (JSON.parse(r.body) as { name: string }).name : `HTTP ${r.status}`);

async function names(mesh: TwoPodMesh, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(name(await curlFrom(mesh.client!.pod, URL_)));
  return out;
}

describe('locality failover through the real control plane and sidecars', { skip: skipReason(), timeout: 90_000 }, () => {
  const mesh: TwoPodMesh = { controlPlaneStderr: [] };

  before(async () => {
    await startTwoPodMesh(mesh, { secondServer: true, labels: { client: zone('z1'), server: zone('z1'), server2: zone('z2') } });
    await writeFile(join(mesh.dir!, CONFIG_DIR, 'locality.yaml'), RULE);
  }, { timeout: 45_000 });
  after(() => stopTwoPodMesh(mesh));

  test('the client sidecar gets its own priorities: its zone first', async () => {
    const client = mesh.client!;
    let clusters = '';
    for (let i = 0, deadline = Date.now() + 8000; i < 80 && Date.now() < deadline; i++) {
      clusters = (await client.admin('/clusters')).body;
      if (clusters.includes(`${CLUSTER}::${mesh.server2!.pod.ip}:${SERVICE.targetPort}::priority::1`)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(clusters, new RegExp(`^${CLUSTER.replace(/[|.]/g, '\\$&')}::${mesh.server!.pod.ip.replace(/\./g, '\\.')}:${SERVICE.targetPort}::priority::0$`, 'm'));
    assert.match(clusters, new RegExp(`::${mesh.server2!.pod.ip.replace(/\./g, '\\.')}:${SERVICE.targetPort}::priority::1$`, 'm'));
    assert.deepEqual(new Set(await names(mesh, 10)), new Set(['server']));
  });

  test('the local server fails: it is ejected and traffic moves to the other zone; it comes back after the ejection time', async () => {
    const app = mesh.serverApp!;
    await new Promise<void>((r) => { app.once('exit', () => r()); app.kill('SIGKILL'); });
    // The first 503 (its sidecar cannot reach the app) ejects it; Istio's default retry takes the request to server2.
    const moved = await curlUntil(mesh.client!.pod, URL_, (r) => name(r) === 'server2');
    assert.equal(name(moved), 'server2');
    assert.deepEqual(new Set(await names(mesh, 10)), new Set(['server2']));
    assert.match((await mesh.client!.admin('/stats')).body, new RegExp(`^cluster\\.${CLUSTER.replace(/[|.]/g, '\\$&')}\\.outlier_detection_ejections_enforced_total: [1-9]`, 'm'));
    await startServerApp(mesh);
    const back = await curlUntil(mesh.client!.pod, URL_, (r) => name(r) === 'server', {}, EJECT_MS * 3);
    assert.equal(name(back), 'server');
    assert.deepEqual(new Set(await names(mesh, 10)), new Set(['server']));
  });
});
