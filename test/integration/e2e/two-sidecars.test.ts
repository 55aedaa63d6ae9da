/**
 * The sidecar pattern end to end, on the real kernel (issues 3 and 4): in
 * network namespaces this test creates, a plain `curl http://CLUSTER_IP/`
 * from an app in pod "client" goes client → its sidecar (iptables REDIRECT,
 * SO_ORIGINAL_DST, route from the VirtualService) → the server pod, where
 * the server's sidecar captures it inbound and hands it to a plain Node
 * server from 127.0.0.6. Real `trellis controlplane`, `trellis iptables`
 * and `trellis proxy` processes; no application change. Needs root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROXY_UID, type MeshPod } from '../../../src/local/mesh-pod.js';
import { listOurNamespaces } from '../../../src/local/netns/index.js';
import { ROUTE_HEADERS, SERVICE } from './mesh-config.js';
import { CONFIG_DIR, curlFrom, debugGet, skipReason, startTwoPodMesh, stopTwoPodMesh, type TwoPodMesh } from './two-pod-mesh.js';

interface Echo {
  name: string;
  peer: string;
  url: string;
  headers: Record<string, string>;
}

const URL_ = `http://${SERVICE.clusterIp}:${SERVICE.port}/hello`;
const WEB_FQDN = `${SERVICE.name}.default.svc.cluster.local`;

/** Sum of istio_requests_total series whose labels include every `want` pair. */
function requestsTotal(prometheus: string, want: Record<string, string>): number {
  let sum = 0;
  for (const line of prometheus.split('\n')) {
    const m = /^istio_requests_total\{(.*)\} (\d+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(want).every(([k, v]) => labels[k] === v)) sum += Number(m[2]);
  }
  return sum;
}

async function prometheus(pod: MeshPod): Promise<string> {
  const r = await pod.admin('/stats/prometheus');
  assert.equal(r.status, 200);
  return r.body;
}

/** The client's sidecar reports the call to web as the source workload "client" (from its node metadata). */
const OUTBOUND_200 = {
  reporter: 'source', source_workload: 'client', source_app: 'client', source_workload_namespace: 'default',
  destination_service: WEB_FQDN, destination_service_name: 'web', destination_service_namespace: 'default', response_code: '200',
};
/** The server's sidecar reports it as the destination workload "server", for service web (its inbound cluster's Istio metadata). */
const INBOUND_200 = {
  reporter: 'destination', destination_workload: 'server', destination_workload_namespace: 'default',
  destination_service: WEB_FQDN, destination_service_name: 'web', destination_service_namespace: 'default', response_code: '200',
};

describe('two pods, two sidecars, real iptables and control plane', { skip: skipReason(), timeout: 60_000 }, () => {
  const mesh: TwoPodMesh = { controlPlaneStderr: [] };

  before(async () => {
    await startTwoPodMesh(mesh);
  }, { timeout: 45_000 });
  after(async () => {
    if (process.env.TRELLIS_TEST_VERBOSE) {
      for (const p of [mesh.client, mesh.server]) if (p) process.stderr.write(`[${p.pod.name} proxy]\n${p.proxyStderr.join('\n')}\n`);
      process.stderr.write(`[control plane]\n${mesh.controlPlaneStderr.join('\n')}\n`);
    }
    await stopTwoPodMesh(mesh);
    // Nothing of the run may outlive it.
    const runId = mesh.cluster?.runId;
    if (runId) assert.deepEqual((await listOurNamespaces()).filter((n) => n.includes(`-${runId}-`)), []);
    if (mesh.dir) assert.equal(existsSync(mesh.dir), false);
  });

  test('curl to the cluster IP goes through both sidecars to the server', async () => {
    const client = mesh.client!;
    const server = mesh.server!;
    const r = await curlFrom(client.pod, URL_);
    assert.equal(r.status, 200, r.body);
    const echo = JSON.parse(r.body) as Echo;
    assert.equal(echo.name, 'server');
    assert.equal(echo.url, '/hello');
    // The server's sidecar opened the connection to the app, from Istio's inbound passthrough address.
    assert.equal(echo.peer, '127.0.0.6');
    // The VirtualService's header rules, applied by the client's sidecar, prove the route came from the mesh config.
    assert.equal(echo.headers[ROUTE_HEADERS.request], ROUTE_HEADERS.value);
    assert.equal(r.headers[ROUTE_HEADERS.response], ROUTE_HEADERS.value);
    assert.ok(echo.headers['x-request-id'], 'the sidecar adds x-request-id');
    // curl leaves the default port out of Host; the sidecars pass the authority through unchanged.
    assert.equal(echo.headers.host, SERVICE.port === 80 ? SERVICE.clusterIp : `${SERVICE.clusterIp}:${SERVICE.port}`);

    const out = await prometheus(client);
    const inb = await prometheus(server);
    assert.ok(requestsTotal(out, OUTBOUND_200) >= 1, `client proxy metrics:\n${out}`);
    assert.ok(requestsTotal(inb, INBOUND_200) >= 1, `server proxy metrics:\n${inb}`);
    // Envoy's log: the client's sidecar chose the mesh cluster and the server pod; the server's went to the app on the
    // pod's own IP (the original destination, as Istio 1.10+ does), from 127.0.0.6.
    const outLine = await logged(client, 'GET /hello');
    assert.ok(outLine.includes(` "${server.pod.ip}:${SERVICE.targetPort}" outbound|${SERVICE.port}||${WEB_FQDN} `), outLine);
    const inLine = await logged(server, 'GET /hello');
    assert.ok(inLine.includes(` "${server.pod.ip}:${SERVICE.targetPort}" inbound|${SERVICE.targetPort}|| `), inLine);
  });

  test('the proxy uid is not captured: its request goes direct, only the server side sees it', async () => {
    const client = mesh.client!;
    const server = mesh.server!;
    const outBefore = requestsTotal(await prometheus(client), { reporter: 'source' });
    const inBefore = requestsTotal(await prometheus(server), INBOUND_200);
    const r = await curlFrom(client.pod, `http://${SERVICE.clusterIp}:${SERVICE.port}/as-proxy`, PROXY_UID);
    assert.equal(r.status, 200, r.body);
    const echo = JSON.parse(r.body) as Echo;
    assert.equal(echo.url, '/as-proxy');
    // No client sidecar: no route headers; the server's sidecar still captured it inbound.
    assert.equal(echo.headers[ROUTE_HEADERS.request], undefined);
    assert.equal(r.headers[ROUTE_HEADERS.response], undefined);
    assert.equal(echo.peer, '127.0.0.6');
    assert.equal(requestsTotal(await prometheus(client), { reporter: 'source' }), outBefore, 'the client proxy saw the uid-1337 request');
    assert.equal(requestsTotal(await prometheus(server), INBOUND_200), inBefore + 1);
  });

  test('an edit of the VirtualService reaches the client sidecar: the next requests carry the new header', async () => {
    const file = join(mesh.dir!, CONFIG_DIR, 'routing.yaml');
    const text = await readFile(file, 'utf8');
    const edited = text.replaceAll(`: ${ROUTE_HEADERS.value}`, ': web-vs-edited');
    assert.notEqual(edited, text);
    await writeFile(file, edited);
    let last: string | undefined;
    const deadline = Date.now() + 5000;
    for (let i = 0; i < 100 && Date.now() < deadline && last !== 'web-vs-edited'; i++) {
      last = (await curlFrom(mesh.client!.pod, URL_)).headers[ROUTE_HEADERS.response];
      if (last !== 'web-vs-edited') await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(last, 'web-vs-edited');
  });

  test('/debug/syncz shows both proxies SYNCED', async () => {
    type Syncz = { proxy: string; nodeId: string; types: Record<string, { status: string }> }[];
    const TYPES = ['LDS', 'RDS', 'CDS', 'EDS'];
    const pods = [mesh.client!, mesh.server!];
    const find = (syncz: Syncz, pod: MeshPod) => syncz.find((p) => p.nodeId === pod.nodeId);
    const allSynced = (syncz: Syncz) => pods.every((pod) => TYPES.every((t) => find(syncz, pod)?.types[t]?.status === 'SYNCED'));
    // The previous test's push may still be awaiting its ACK: allow it a moment.
    let syncz = (await debugGet(mesh, '/debug/syncz')) as Syncz;
    for (let i = 0, deadline = Date.now() + 3000; i < 30 && Date.now() < deadline && !allSynced(syncz); i++) {
      await new Promise((r) => setTimeout(r, 100));
      syncz = (await debugGet(mesh, '/debug/syncz')) as Syncz;
    }
    for (const pod of pods) {
      const entry = find(syncz, pod);
      assert.ok(entry, `${pod.nodeId} not in syncz: ${JSON.stringify(syncz)}`);
      for (const t of TYPES) assert.equal(entry.types[t]?.status, 'SYNCED', `${pod.pod.name} ${t}: ${JSON.stringify(entry.types[t])}`);
    }
  });
});

/**
 * The access log line (stdout) of the request, with status 200. Lines are
 * written when the request ends and reach us through a pipe, so allow a moment.
 */
async function logged(pod: MeshPod, requestLine: string): Promise<string> {
  const find = () => pod.proxyStdout.find((l) => l.includes(`"${requestLine} HTTP/1.1" 200 `));
  const deadline = Date.now() + 2000;
  while (!find() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const line = find();
  assert.ok(line, `${pod.pod.name} access log has no "${requestLine}" 200:\n${pod.proxyStdout.join('\n')}`);
  return line;
}
