/**
 * Issue 8, end to end: a pod that can reach a meshed pod sends malformed
 * HTTP/1.1 straight to the server's sidecar — as uid 1337 from the client
 * pod, so its own sidecar does not touch the bytes, and the server pod's
 * inbound capture hands them to the server's sidecar. After every case the
 * server's sidecar must answer /ready and a normal call through both
 * sidecars must still succeed. Real kernel, iptables, control plane and
 * proxies; needs root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { PROXY_UID } from '../../../src/local/mesh-pod.js';
import { runInPod } from '../../../src/local/netns/index.js';
import { malformedRequests, statusOf, type RawReply } from '../../helpers/malformed-requests.js';
import { SERVICE } from './mesh-config.js';
import { curlFrom, skipReason, startTwoPodMesh, stopTwoPodMesh, type TwoPodMesh } from './two-pod-mesh.js';

const RAW_SEND = fileURLToPath(new URL('./raw-send.js', import.meta.url));

describe('a hostile peer against a server-side sidecar', { skip: skipReason(), timeout: 120_000 }, () => {
  const mesh: TwoPodMesh = { controlPlaneStderr: [] };

  before(async () => {
    await startTwoPodMesh(mesh);
  });

  after(async () => {
    await stopTwoPodMesh(mesh);
  });

  /** Sends the bytes from the client pod as the proxy's uid: not captured on the way out, captured inbound at the server. */
  async function sendAsProxyUid(pieces: Buffer[]): Promise<RawReply> {
    const server = mesh.server!.pod;
    const r = await runInPod(mesh.client!.pod, process.execPath, [RAW_SEND, server.ip, String(SERVICE.targetPort), ...pieces.map((p) => p.toString('base64'))], { uid: PROXY_UID, timeoutMs: 10_000 });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as RawReply;
  }

  async function meshStillServes(): Promise<void> {
    assert.equal(mesh.server!.proxyExit, undefined, `server sidecar ended: ${mesh.server!.proxyStderr.slice(-5).join('\n')}`);
    assert.equal((await mesh.server!.admin('/ready')).status, 200);
    const r = await curlFrom(mesh.client!.pod, `http://${SERVICE.clusterIp}:${SERVICE.port}/after`);
    assert.equal(r.status, 200);
  }

  test('the bytes really reach the server sidecar: a valid request sent this way is answered by the app through it', async () => {
    const reply = await sendAsProxyUid([Buffer.from(`GET /direct HTTP/1.1\r\nhost: web\r\nconnection: close\r\n\r\n`)]);
    assert.equal(statusOf(reply), 200, reply.data);
    assert.match(reply.data, /\r\nserver: istio-envoy\r\n|x-envoy-upstream-service-time/i, 'answered through the sidecar');
  });

  for (const c of malformedRequests('web', '/hostile')) {
    test(`${c.name}: ${c.status}, and the sidecar and the mesh live on`, async () => {
      const reply = await sendAsProxyUid(Array.isArray(c.send) ? c.send : [c.send]);
      const allowed = c.appMayAnswerFirst ? [c.status, 200] : [c.status];
      assert.ok(allowed.includes(statusOf(reply)), JSON.stringify(reply.data.slice(0, 200)));
      assert.ok(reply.closed);
      await meshStillServes();
    });
  }
});
