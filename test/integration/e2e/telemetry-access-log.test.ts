/**
 * Telemetry access logging end to end (issue 13): real control plane, two
 * real sidecars in network namespaces this test creates. A Telemetry in the
 * pods' namespace that keeps the envoy provider for the SERVER side only
 * silences the client's sidecar while the server's keeps logging; removing
 * the file brings the client's log back. Needs root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MeshPod } from '../../../src/local/mesh-pod.js';
import { SERVICE } from './mesh-config.js';
import { CONFIG_DIR, curlFrom, debugGet, skipReason, startTwoPodMesh, stopTwoPodMesh, type TwoPodMesh } from './two-pod-mesh.js';

const url = (path: string) => `http://${SERVICE.clusterIp}:${SERVICE.port}${path}`;
const TELEMETRY = `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: server-side-only, namespace: default}
spec:
  accessLogging:
  - providers: [{name: envoy}]
    match: {mode: SERVER}
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hasLine = (pod: MeshPod, path: string) => pod.proxyStdout.some((l) => l.includes(`"GET ${path} HTTP/1.1" 200 `));

/** Waits (bounded) for the server's line of `path`; then allows the client's a moment more, as lines come through pipes. */
async function linesOf(mesh: TwoPodMesh, path: string): Promise<{ client: boolean; server: boolean }> {
  for (let i = 0, deadline = Date.now() + 2000; i < 100 && Date.now() < deadline && !hasLine(mesh.server!, path); i++) await sleep(20);
  await sleep(300);
  return { client: hasLine(mesh.client!, path), server: hasLine(mesh.server!, path) };
}

/** Requests /NAME-i until both sidecars' logs are as wanted (a push takes a moment). Bounded in count and time. */
async function requestUntil(mesh: TwoPodMesh, name: string, want: { client: boolean; server: boolean }): Promise<{ client: boolean; server: boolean }> {
  let got = { client: !want.client, server: !want.server };
  for (let i = 0, deadline = Date.now() + 10_000; i < 15 && Date.now() < deadline; i++) {
    const r = await curlFrom(mesh.client!.pod, url(`/${name}-${i}`));
    assert.equal(r.status, 200, r.body);
    got = await linesOf(mesh, `/${name}-${i}`);
    if (got.client === want.client && got.server === want.server) break;
  }
  return got;
}

describe('Telemetry access logging through the real control plane and sidecars', { skip: skipReason(), timeout: 90_000 }, () => {
  const mesh: TwoPodMesh = { controlPlaneStderr: [] };
  before(async () => {
    await startTwoPodMesh(mesh);
  }, { timeout: 45_000 });
  after(async () => {
    if (process.env.TRELLIS_TEST_VERBOSE) process.stderr.write(`[control plane]\n${mesh.controlPlaneStderr.join('\n')}\n`);
    await stopTwoPodMesh(mesh);
  });

  test('without Telemetry both sidecars log the request (the mesh default)', async () => {
    assert.deepEqual(await requestUntil(mesh, 'default', { client: true, server: true }), { client: true, server: true });
  });

  test('a Telemetry with match SERVER: the client\'s sidecar stops logging, the server\'s goes on; the config has no problem', async () => {
    await writeFile(join(mesh.dir!, CONFIG_DIR, 'telemetry.yaml'), TELEMETRY);
    assert.deepEqual(await requestUntil(mesh, 'server-only', { client: false, server: true }), { client: false, server: true });
    const problems = (await debugGet(mesh, '/debug/config_problems')) as { file: string; reason: string }[];
    assert.deepEqual(problems.filter((p) => p.file.endsWith('telemetry.yaml')), []);
  });

  test('the Telemetry removed: the client\'s sidecar logs again', async () => {
    await rm(join(mesh.dir!, CONFIG_DIR, 'telemetry.yaml'));
    assert.deepEqual(await requestUntil(mesh, 'back', { client: true, server: true }), { client: true, server: true });
  });
});
