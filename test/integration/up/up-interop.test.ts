/**
 * Sidecar ↔ ambient in a real `trellis up` (netns mode, the real node proxy):
 * namespace "side" has sidecars (ENABLE_HBONE, tunnel label), namespace
 * "amb" is ambient. Both directions answer 200 through HBONE with each
 * side's SPIFFE identity seen by the other: the node proxy's metrics carry
 * the sidecar's principal with mutual_tls, the sidecar's metrics carry the
 * ambient pod's principal on its connect_terminate, and the access logs show
 * the tunnel (connect_originate upstream, CONNECT on 15008) — plaintext
 * passthrough would show neither. Then STRICT PeerAuthentication on both
 * namespaces: a pod outside the mesh is refused by both, and sidecar ↔
 * ambient still answers 200 both ways.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInPod } from '../../../src/local/netns/index.js';
import { skipReason } from '../e2e/two-pod-mesh.js';
import { UpRun, fixtureCopy } from './up-run.js';

const skip = skipReason();
const SIDE_SA = 'spiffe://cluster.local/ns/side/sa/side-sa';
const AMB_SA = 'spiffe://cluster.local/ns/amb/sa/amb-sa';

interface StatePod { name: string; namespace: string; ip: string; netns?: string }
interface Reply { status: number; body: string; requestId?: string }

describe('trellis up: sidecar ↔ ambient over HBONE', { skip, timeout: 120_000 }, () => {
  let dir: string;
  let up: UpRun;
  let runId: string;

  const pod = (prefix: string): StatePod => {
    const p = (JSON.parse(readFileSync(up.stateFile, 'utf8')) as { pods: StatePod[] }).pods.find((x) => x.name.startsWith(prefix));
    assert.ok(p?.netns, `no pod ${prefix}`);
    return p;
  };
  const sidecarLog = () => readFileSync(`/run/trellis/up-${runId}/pods/side/${pod('side-echo').name}/istio-proxy.log`, 'utf8');
  /** GET of 127.0.0.1:15000 in a namespace (the node proxy's admin in the node's, a sidecar's in its pod's). */
  const admin = async (netns: string, path: string): Promise<string> => {
    const r = await runInPod({ name: netns, netns, ip: '127.0.0.1' }, 'curl', ['-sS', '--fail', '--max-time', '5', `http://127.0.0.1:15000${path}`], { timeoutMs: 8000 });
    assert.equal(r.code, 0, `admin ${path} in ${netns}: ${r.stderr}`);
    return r.stdout;
  };
  /** An unmodified curl in the pod's container (`trellis exec`), as its app would send. */
  const curl = async (namespace: string, target: string, url: string): Promise<Reply> => {
    const r = await up.cliAsync(['exec', '-n', namespace, target, '--', 'curl', '-sS', '--max-time', '5', '-w', '\n%{http_code}', url], 15_000);
    const cut = r.stdout.lastIndexOf('\n');
    const body = r.stdout.slice(0, cut);
    let requestId: string | undefined;
    try {
      requestId = (JSON.parse(body) as { headers: Record<string, string> }).headers['x-request-id'];
    } catch { /* not the echo's JSON: a refusal */ }
    return { status: Number(r.stdout.slice(cut + 1)) || 0, body: body + r.stderr, ...(requestId ? { requestId } : {}) };
  };
  /** curl until `ok` (a config push takes a moment), bounded in count and time; the last reply. */
  const curlUntil = async (namespace: string, target: string, url: string, ok: (r: Reply) => boolean, timeoutMs = 20_000): Promise<Reply> => {
    let r = await curl(namespace, target, url);
    for (let i = 0, deadline = Date.now() + timeoutMs; i < 40 && Date.now() < deadline && !ok(r); i++) {
      await new Promise((res) => setTimeout(res, 250));
      r = await curl(namespace, target, url);
    }
    return r;
  };
  /** The value of a Prometheus series whose labels include all of `labels` (0 when none). */
  const series = (text: string, name: string, labels: Record<string, string>): number =>
    text.split('\n').filter((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

  before(async () => {
    dir = fixtureCopy('up-interop');
    up = new UpRun(dir);
    runId = (await up.waitFor(/^✓ run ([0-9a-f]{6}) /, 30_000))[1]!;
    await up.waitFor(/^✓ pods: 3 started \(1 with sidecars, 1 ambient\)/, 60_000);
    await up.allReady();
  });

  after(async () => {
    await up?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the node proxy knows the sidecar pod as an HBONE workload (tunnel label), with its identity', async () => {
    const dump = JSON.parse(await admin(`trellis-${runId}-node`, '/config_dump')) as { workloads: { name: string; protocol: string; serviceAccount: string; workloadIps: string[] }[] };
    const side = dump.workloads.find((w) => w.name === pod('side-echo').name);
    assert.ok(side, 'the sidecar pod is in the workload API');
    assert.deepEqual([side.protocol, side.serviceAccount, side.workloadIps], ['HBONE', 'side-sa', [pod('side-echo').ip]]);
  });

  test('sidecar → ambient: 200 through the sidecar\'s HBONE tunnel; the node proxy sees the sidecar\'s SPIFFE identity over mTLS', async () => {
    const nodeNs = `trellis-${runId}-node`;
    const match = { reporter: 'destination', source_principal: SIDE_SA, destination_principal: AMB_SA, connection_security_policy: 'mutual_tls' };
    const before = series(await admin(nodeNs, '/metrics'), 'istio_tcp_connections_opened_total', match);
    const r = await curlUntil('side', 'deploy/side-echo', 'http://amb-echo.amb:8080/', (x) => x.status === 200);
    assert.equal(r.status, 200, r.body);
    assert.ok(r.requestId, r.body);
    const line = sidecarLog().split('\n').find((l) => l.includes(r.requestId!));
    assert.match(line ?? '', new RegExp(`"envoy://connect_originate/${pod('amb-echo').ip.replaceAll('.', '\\.')}:8080" outbound\\|8080\\|\\|amb-echo\\.amb\\.svc\\.cluster\\.local`), `the sidecar tunnelled it: ${line}`);
    const opened = series(await admin(nodeNs, '/metrics'), 'istio_tcp_connections_opened_total', match);
    assert.ok(opened > before, `node proxy: a connection from ${SIDE_SA} over mutual_tls (${before} → ${opened})`);
    // The tunnel carries no forwarded for=: the node proxy dials the app from the tunnel's own source, the sidecar pod.
    assert.equal((JSON.parse(r.body) as { remote: string }).remote, pod('side-echo').ip, 'the ambient app sees the sidecar pod as its caller');
  });

  test('ambient → sidecar: 200 through the node proxy\'s HBONE to the sidecar\'s 15008; the sidecar sees the ambient pod\'s SPIFFE identity over mTLS', async () => {
    const sideNs = pod('side-echo').netns!;
    // The app's request itself, inside the tunnel (the tunnel's peer passed on as io.istio.peer_principal), not only the CONNECT.
    const match = { reporter: 'destination', source_principal: AMB_SA, destination_service: 'side-echo.side.svc.cluster.local', connection_security_policy: 'mutual_tls' };
    const before = series(await admin(sideNs, '/stats/prometheus'), 'istio_requests_total', match);
    const r = await curlUntil('amb', 'deploy/amb-echo', 'http://side-echo.side:8080/', (x) => x.status === 200);
    assert.equal(r.status, 200, r.body);
    const sideIp = pod('side-echo').ip.replaceAll('.', '\\.');
    assert.match(sidecarLog(), new RegExp(`"CONNECT - HTTP/2" 200 .*"${sideIp}:8080" "envoy://main_internal/" main_internal - ${sideIp}:15008 `), 'the sidecar terminated a CONNECT for its app port');
    const seen = series(await admin(sideNs, '/stats/prometheus'), 'istio_requests_total', match);
    assert.ok(seen > before, `sidecar: a request from ${AMB_SA} over mutual_tls (${before} → ${seen})`);
    const nodeSeen = series(await admin(`trellis-${runId}-node`, '/metrics'), 'istio_tcp_connections_opened_total', { reporter: 'source', source_principal: AMB_SA, destination_principal: SIDE_SA });
    assert.ok(nodeSeen > 0, 'node proxy: sent as the ambient pod to the sidecar\'s identity');
  });

  test('STRICT on both namespaces: a pod outside the mesh is refused by both, sidecar ↔ ambient still answers 200', async () => {
    // PERMISSIVE first: the refusals below are STRICT's, not a broken client.
    for (const url of ['http://side-echo.side:8080/', 'http://amb-echo.amb:8080/']) assert.equal((await curl('default', 'plain', url)).status, 200, `plain → ${url} before STRICT`);
    writeFileSync(join(dir, 'strict.yaml'), ['side', 'amb'].map((ns) => `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: strict, namespace: ${ns}}\nspec: {mtls: {mode: STRICT}}\n`).join('---\n'), { mode: 0o644 });
    const toSide = await curlUntil('default', 'plain', 'http://side-echo.side:8080/', (x) => x.status !== 200);
    assert.notEqual(toSide.status, 200, 'the sidecar refuses plaintext under STRICT');
    const toAmb = await curlUntil('default', 'plain', 'http://amb-echo.amb:8080/', (x) => x.status !== 200);
    assert.notEqual(toAmb.status, 200, 'the node proxy refuses plaintext under STRICT');
    assert.match(readFileSync(`/run/trellis/up-${runId}/ztunnel.log`, 'utf8'), new RegExp(`connection denied pod="amb/amb-echo-[^"]+" source="${pod('plain').ip.replaceAll('.', '\\.')}" identity="none"`));
    // One attempt each: a pooled tunnel that stalls after the push must show here.
    const sideToAmb = await curl('side', 'deploy/side-echo', 'http://amb-echo.amb:8080/');
    assert.equal(sideToAmb.status, 200, `sidecar → ambient under STRICT: ${sideToAmb.body}`);
    const ambToSide = await curl('amb', 'deploy/amb-echo', 'http://side-echo.side:8080/');
    assert.equal(ambToSide.status, 200, `ambient → sidecar under STRICT: ${ambToSide.body}`);
  });
});
