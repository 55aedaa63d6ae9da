/**
 * An external HTTPS service declared by a ServiceEntry without addresses —
 * how Istio's egress tasks write them — is reached through the client's
 * sidecar by its SNI (issue 13, item 4): the app connects to any address on
 * port 443, capture hands the connection to 0.0.0.0_443, the TLS inspector
 * reads the name, and the host's own cluster (outbound|443||HOST, its
 * endpoint on another port) carries it. Another name takes the
 * passthrough, as before. TLS stays end to end between app and server;
 * the "external" server is a pod of the test's own cluster. Needs root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInPod } from '../../../src/local/netns/index.js';
import { NAMESPACE } from './mesh-config.js';
import { CONFIG_DIR, skipReason, startTwoPodMesh, stopTwoPodMesh, waitForOutput, type TwoPodMesh } from './two-pod-mesh.js';

const ECHO_SERVER = fileURLToPath(new URL('./echo-server.js', import.meta.url));
const HOST = 'secure.example.test';
const TLS_PORT = 8443;

describe('egress by SNI: an HTTPS ServiceEntry without addresses', { skip: skipReason(), timeout: 120_000 }, () => {
  const mesh: TwoPodMesh = { controlPlaneStderr: [] };

  before(async () => {
    await startTwoPodMesh(mesh);
    const dir = mesh.dir!;
    const [cert, key] = [join(dir, 'tls.crt'), join(dir, 'tls.key')];
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST}`, '-keyout', key, '-out', cert], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // The server app runs as uid 1000: a test key, readable.
    await chmod(key, 0o644);
    await waitForOutput(mesh.server!.startApp(process.execPath, [ECHO_SERVER, 'tls-server', String(TLS_PORT), cert, key]), 'ready', 10_000, 'TLS echo server');
    await writeFile(join(dir, CONFIG_DIR, 'egress.yaml'), `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: secure
  namespace: ${NAMESPACE}
spec:
  hosts: [${HOST}]
  location: MESH_EXTERNAL
  ports: [{number: 443, name: https, protocol: HTTPS}]
  resolution: STATIC
  endpoints: [{address: ${mesh.server!.pod.ip}, ports: {https: ${TLS_PORT}}}]
`);
  });

  after(() => stopTwoPodMesh(mesh));

  const curl = (name: string, via: string) => runInPod(mesh.client!.pod, 'curl', ['-sS', '-k', '--max-time', '5', '--resolve', `${name}:443:${via}`, `https://${name}/hello`], { timeoutMs: 8000 });
  /** Connections the client's sidecar opened to HOST's service (Istio's metric, reporter=source). */
  const opened = async () => {
    const text = (await mesh.client!.admin('/stats/prometheus')).body;
    const line = text.split('\n').find((l) => l.startsWith('istio_tcp_connections_opened_total{') && l.includes('reporter="source"') && l.includes(`destination_service="${HOST}"`));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };

  test('the app\'s TLS to HOST:443 reaches the entry\'s endpoint on 8443, through the host\'s cluster', async () => {
    // Any address will do: the name decides. This one has nothing on 443.
    const via = mesh.server!.pod.ip;
    let r = await curl(HOST, via);
    for (let i = 0; i < 50 && r.code !== 0; i++) {
      await new Promise((res) => setTimeout(res, 200));
      r = await curl(HOST, via);
    }
    assert.equal(r.code, 0, `curl: ${r.stderr}`);
    assert.equal((JSON.parse(r.stdout) as { name: string; url: string }).name, 'tls-server');
    assert.ok((await opened()) >= 1, 'counted against the ServiceEntry host');
  });

  test('another name on 443 is not this host\'s: it passes through to the address asked, where nothing listens', async () => {
    const before = await opened();
    const r = await curl('other.example.test', mesh.server!.pod.ip);
    assert.notEqual(r.code, 0, r.stdout);
    assert.equal(await opened(), before);
  });
});
