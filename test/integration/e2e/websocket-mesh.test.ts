/**
 * Websockets end to end through two sidecars (issue 13 item 5): an app in pod
 * "client" opens a websocket to the Service's cluster IP; its sidecar
 * (outbound HCM with istiod's upgrade_configs) and the server's sidecar
 * (inbound HCM, reached over mutual TLS with identities from the mesh CA)
 * both relay the upgrade to a plain Node websocket server. Real control
 * plane, iptables, proxies and kernel; the client speaks RFC 6455 on a raw
 * socket (test/helpers/websocket.ts). Needs root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runInPod } from '../../../src/local/netns/index.js';
import { SERVICE } from './mesh-config.js';
import { curlUntil, skipReason, startTwoPodMesh, stopTwoPodMesh, type TwoPodMesh } from './two-pod-mesh.js';

const WS_CLIENT = fileURLToPath(new URL('./ws-client.js', import.meta.url));

interface WsResult {
  status: number;
  server: string;
  text: string;
  binaryEchoed: boolean;
  serverClose: number | string;
  serverCloseClosed: boolean;
  second: string;
  clientCloseAnswered: boolean;
  clientCloseClosed: boolean;
  refused: number;
}

describe('websockets through two sidecars (mutual TLS between them)', { skip: skipReason(), timeout: 60_000 }, () => {
  const mesh: TwoPodMesh = { controlPlaneStderr: [] };
  let result: WsResult;

  before(async () => {
    await startTwoPodMesh(mesh, { identity: {} });
    // The mesh is serving once an ordinary call goes through both sidecars.
    const r = await curlUntil(mesh.client!.pod, `http://${SERVICE.clusterIp}:${SERVICE.port}/warm`, (x) => x.status === 200, {}, 15_000);
    assert.equal(r.status, 200);
    const run = await runInPod(mesh.client!.pod, process.execPath, [WS_CLIENT, SERVICE.clusterIp, String(SERVICE.port)], { timeoutMs: 20_000 });
    assert.equal(run.code, 0, run.stderr);
    result = JSON.parse(run.stdout) as WsResult;
  }, { timeout: 50_000 });

  after(async () => {
    if (process.env.TRELLIS_TEST_VERBOSE) {
      for (const p of [mesh.client, mesh.server]) if (p) process.stderr.write(`[${p.pod.name} proxy]\n${p.proxyStdout.join('\n')}\n${p.proxyStderr.join('\n')}\n`);
    }
    await stopTwoPodMesh(mesh);
  });

  test('the handshake reaches the server app and its 101 (Sec-WebSocket-Accept checked) comes back', () => {
    assert.equal(result.status, 101);
    assert.equal(result.server, 'server');
  });

  test('messages both ways: text and a 256 KiB binary frame echoed', () => {
    assert.equal(result.text, 'echo:hello');
    assert.equal(result.binaryEchoed, true);
  });

  test('server-initiated close: close frame 1000 and the connection ends; client-initiated close is answered', () => {
    assert.equal(result.serverClose, 1000);
    assert.equal(result.serverCloseClosed, true);
    assert.equal(result.second, 'echo:again');
    assert.equal(result.clientCloseAnswered, true);
    assert.equal(result.clientCloseClosed, true);
  });

  test('an upgrade type istiod does not enable (h2c) gets 403 from the client\'s sidecar', () => {
    assert.equal(result.refused, 403);
  });

  test('both sidecars logged each websocket once, as 101, with the bytes of both directions; the refusal as upgrade_failed', async () => {
    const wsLines = (lines: string[], path: string) => lines.filter((l) => l.includes(`"GET ${path} HTTP/1.1"`));
    // Istio's default access log format: the status follows the request line.
    for (const pod of [mesh.client!, mesh.server!]) {
      for (const path of ['/ws-one', '/ws-two']) {
        const lines = wsLines(pod.proxyStdout, path);
        assert.equal(lines.length, 1, `${pod.pod.name} ${path}: ${lines.join('\n')}`);
        assert.match(lines[0]!, /" 101 - via_upstream - "-" \d+ \d+ /);
      }
    }
    // The hop between the sidecars was TLS: the server's sidecar saw istiod's SNI for the service.
    assert.match(wsLines(mesh.server!.proxyStdout, '/ws-one')[0]!, / outbound_\.80_\._\.web\.default\.svc\.cluster\.local /);
    const refusal = wsLines(mesh.client!.proxyStdout, '/h2c');
    assert.equal(refusal.length, 1);
    assert.match(refusal[0]!, /" 403 - upgrade_failed /);
    assert.equal(wsLines(mesh.server!.proxyStdout, '/h2c').length, 0, 'refused before leaving the client pod');
  });
});
