/**
 * `trellis ztunnel` in in-pod mode on a real kernel: a cluster of the
 * test's own (node namespace with a bridge, two pod namespaces with Istio's
 * in-pod rules written by `trellis iptables ambient`), the control plane and
 * the node proxy in the node namespace, the pods handed over by a ZDS client
 * with their namespace fds. An unmodified app in the client pod reaches the
 * server pod: redirected to 15001 inside its pod, HBONE across the bridge to
 * the server's 15008, the app dialled from inside the server pod with the
 * client's address kept; plain text from the node to the server's app port
 * lands on its 15006 and STRICT refuses it; a removed pod's ports close.
 * Everything is deleted in after(), also on failure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsCluster, httpIn, runInPod, spawnInPod, type Pod } from '../../../src/local/netns/index.js';
import { ZdsClient } from '../../../src/ztunnel/zds/index.js';
import { tokenCreate } from '../../helpers/ca-client.js';
import { jsonLine, TrellisProcess, trellisBin } from '../../helpers/trellis-process.js';
import { APP_UID, OTHER_UID, SCRIPTS, skipReason } from '../interception/fixture.js';
import { eventually } from '../proxy/harness.js';
import { netnsPath } from './netns-client.js';

const pod = (name: string, ip: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: shop, uid: uid-${name}, labels: {app: ${name}}}
spec: {serviceAccountName: ${name}, nodeName: node-1, containers: [{name: app, image: app}]}
status: {podIP: ${ip}, phase: Running, conditions: [{type: Ready, status: "True"}]}
`;

// Short enough for two renewals of every certificate (at ~80 % of it) within one test's load.
const CERT_TTL = '4s';
const here = fileURLToPath(new URL('.', import.meta.url));
const LOAD = join(here, 'tcp-load.js');
const HELD = join(here, 'held-connection.js');
const ECHO = join(here, '..', 'e2e', 'echo-server.js');

/** Resolves at the child's first output ("ready"). */
const firstOutput = (c: ChildProcess) => new Promise<void>((resolve, reject) => {
  c.stdout!.once('data', () => resolve());
  c.once('exit', (code) => reject(new Error(`${c.spawnargs.join(' ')} exited ${code}`)));
});

const run = (cmd: string, args: string[]) => promisify(execFile)(cmd, args, { timeout: 20_000 });

describe('trellis ztunnel: in-pod mode with ZDS', { skip: skipReason() }, () => {
  let cluster: NetnsCluster | undefined;
  let client: Pod;
  let server: Pod;
  let work: string;
  let cp: TrellisProcess | undefined;
  let zt: TrellisProcess | undefined;
  let zds: ZdsClient | undefined;
  let app: ChildProcess | undefined;
  /** An HTTP server in the server pod (8081), for a connection held across renewals. */
  let echo: ChildProcess | undefined;
  let held: ChildProcess | undefined;
  let admin: string;

  before(async () => {
    cluster = await NetnsCluster.create();
    client = await cluster.addPod('client');
    server = await cluster.addPod('server');
    // Written while the control plane starts (below): start-up time is most of this file's.
    const rules = Promise.all([client, server].map((p) => run(process.execPath, [trellisBin, 'iptables', 'ambient', '--netns', p.netns])));
    work = await mkdtemp(join(tmpdir(), 'trellis-zt-inpod-'));
    const caDir = join(work, 'ca');
    const configDir = join(work, 'config');
    await mkdir(configDir);
    await writeFile(join(configDir, 'mesh.yaml'), [
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}\n',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: ztunnel-node-1, namespace: istio-system, uid: uid-zt}\nspec: {serviceAccountName: ztunnel, nodeName: node-1, containers: [{name: z, image: z}]}\n',
      pod('client', client.ip), pod('server', server.ip),
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: strict, namespace: shop}\nspec: {mtls: {mode: STRICT}}\n',
    ].join('---\n'));
    const inNode = ['ip', 'netns', 'exec', cluster.nodeNetns];
    cp = new TrellisProcess(['controlplane', '--config-dir', configDir, '--xds-port', '0', '--debug-port', '0', '--ca-port', '0', '--ca-dir', caDir, '--debounce-ms', '10'], {}, inNode);
    const ready = jsonLine<{ ca: string }>(await cp.waitForLine((l) => jsonLine(l)?.ca !== undefined, 20_000))!;
    await rules;
    const tokenFile = join(work, 'ztunnel-token');
    await writeFile(tokenFile, tokenCreate(caDir, 'istio-system', 'ztunnel', ['--pod', 'ztunnel-node-1', '--pod-uid', 'uid-zt']));
    app = spawnInPod(server, process.execPath, [SCRIPTS.server, 'server', '8080'], { uid: OTHER_UID });
    echo = spawnInPod(server, process.execPath, [ECHO, 'server', '8081'], { uid: OTHER_UID });
    await Promise.all([app, echo].map(firstOutput));
    const socket = join(work, 'zds', 'ztunnel.sock');
    zt = new TrellisProcess(['ztunnel', '--node-name', 'node-1', '--xds-address', ready.ca, '--ca-address', ready.ca, '--root-cert', join(caDir, 'root-cert.pem'),
      '--token-file', tokenFile, '--zds-socket', socket, '--admin-port', '0', '--readiness-port', '0', '--cert-ttl', CERT_TTL], {}, inNode);
    admin = /on (\S+)$/.exec(await zt.waitForLine((l) => /admin listening on/.test(l), 20_000))![1]!;
    zds = await ZdsClient.connect(socket, { timeoutMs: 10_000 });
    // Each add is acknowledged once the pod's certificate is in force and its ports listen in its namespace.
    for (const p of [client, server]) await zds.add({ uid: `uid-${p.name}`, name: p.name, namespace: 'shop', serviceAccount: p.name }, netnsPath(p.netns));
  });

  after(async () => {
    zds?.close();
    await zt?.stop();
    await cp?.stop();
    for (const c of [app, echo, held]) if (c && c.exitCode === null) c.kill('SIGKILL');
    await cluster?.teardown();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** The client pod's established connections to any 15008, as its kernel lists them (kept for messages). */
  let ssLines: string[] = [];
  const hboneConnections = async () => {
    const r = await runInPod(client, 'ss', ['-Htn', 'state', 'established', '( dport = :15008 )'], { timeoutMs: 5000 });
    return (ssLines = r.stdout.trim().split('\n').filter(Boolean));
  };

  const fromPod = async (p: Pod | string, host: string, port: number, uid?: number) => {
    const r = await runInPod(p, process.execPath, [SCRIPTS.client, host, String(port)], { ...(uid === undefined ? {} : { uid }), timeoutMs: 10_000 });
    return jsonLine<{ peer?: string; local?: string; error?: string }>(r.stdout.trim()) ?? { error: `no answer: ${JSON.stringify(r.stdout.trim())}` };
  };

  test('an unmodified app in one pod reaches another over HBONE; the server app sees the client pod\'s address', async () => {
    const r = await fromPod(client, server.ip, 8080, APP_UID);
    assert.equal(r.local, `${server.ip}:8080`, JSON.stringify(r));
    assert.equal(r.peer?.split(':')[0], client.ip, 'the caller\'s address, kept by the transparent dial inside the server pod');
    const m = (await httpIn(cluster!.nodeNetns, admin, '/stats/prometheus')).body;
    assert.match(m, /istio_tcp_connections_opened_total\{reporter="destination",source_workload="client",[^}]*source_principal="spiffe:\/\/cluster\.local\/ns\/shop\/sa\/client",destination_workload="server",[^}]*connection_security_policy="mutual_tls"[^}]*\} 1/);
  });

  test('outbound HBONE leaves from the client pod itself: the server pod\'s 15008 sees the client pod\'s address as the peer', async () => {
    // A tunnel's connection stays pooled after it (idle connections live for minutes): the kernel's view of it, inside the server pod.
    assert.equal((await fromPod(client, server.ip, 8080, APP_UID)).local, `${server.ip}:8080`);
    const r = await runInPod(server, 'ss', ['-Htn', 'state', 'established', '( sport = :15008 )'], { timeoutMs: 5000 });
    const peers = r.stdout.trim().split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/).pop()!.replace(/:\d+$/, '').replace(/^\[::ffff:(.+)\]$/, '$1'));
    assert.ok(peers.length > 0, `no HBONE connection in the server pod: ${r.stdout}${r.stderr}`);
    assert.deepEqual([...new Set(peers)], [client.ip], 'dialled from the client pod\'s namespace, not the node\'s');
  });

  test('certificate rotation with a short TTL under load: no connection fails, a connection held through the renewals keeps working while the old HBONE connections drain, and 15008 serves the renewed certificate', async () => {
    const served = async () => {
      const hs = await runInPod(cluster!.nodeNetns, 'openssl', ['s_client', '-connect', `${server.ip}:15008`, '-tls1_3', '-alpn', 'h2'], { timeoutMs: 5000, input: '' });
      const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(hs.stdout)?.[0];
      assert.ok(pem, `no certificate from ${server.ip}:15008: ${hs.stdout}${hs.stderr}`);
      return new X509Certificate(pem);
    };
    const first = await served();
    // Opened before the renewals below, on the HBONE client of the certificate in force now.
    held = spawnInPod(client, process.execPath, [HELD, server.ip, '8081', '200'], { uid: APP_UID, stdio: ['pipe', 'pipe', 'pipe'] });
    await firstOutput(held);
    const r = await runInPod(client, process.execPath, [LOAD, server.ip, '8080', '8', '4'], { uid: APP_UID, timeoutMs: 30_000 });
    const load = jsonLine<{ ok: number; failed: number; errors: Record<string, number> }>(r.stdout.trim());
    assert.ok(load, `no result: ${r.stdout}${r.stderr}`);
    assert.equal(load.failed, 0, JSON.stringify(load));
    assert.ok(load.ok >= 100, `only ${load.ok} connections`);
    // Every renewal drained the pod's previous HBONE client: its idle connection closed at once (they piled up
    // for 5 minutes before), the one under the held tunnel stays while that tunnel is open, plus the current one.
    await eventually(async () => (await hboneConnections()).length <= 2, 5000, () => `at most 2 HBONE connections from the client pod: ${ssLines.join(' | ')}`);
    const result = new Promise<string>((resolve) => {
      let out = '';
      held!.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d)).on('end', () => resolve(out.trim()));
    });
    held.stdin!.end();
    const h = jsonLine<{ ok: number; failed: number; sockets: number }>(await result);
    assert.deepEqual({ failed: h?.failed, sockets: h?.sockets }, { failed: 0, sockets: 1 }, `held connection: ${JSON.stringify(h)}`);
    assert.ok(h!.ok >= 20, `only ${h!.ok} requests on the held connection`);
    // Its tunnel was the drained connection's last: that connection closes with it.
    await eventually(async () => (await hboneConnections()).length <= 1, 5000, () => `at most 1 HBONE connection after the held one ended: ${ssLines.join(' | ')}`);
    // 8 s with a 4 s lifetime: the certificate that 15008 presented at first has been replaced, and has expired.
    const last = await served();
    assert.notEqual(last.serialNumber, first.serialNumber, 'a new handshake gets the renewed certificate');
    assert.ok(Date.parse(last.validTo) > Date.now(), `served certificate valid until ${last.validTo}`);
    assert.match(last.subjectAltName ?? '', /spiffe:\/\/cluster\.local\/ns\/shop\/sa\/server/);
  });

  test('plain text from the node to the server\'s app port is redirected to its 15006 and refused by STRICT', async () => {
    const r = await fromPod(cluster!.nodeNetns, server.ip, 8080);
    assert.equal(r.local, undefined, JSON.stringify(r));
    await eventually(async () => zt!.stderr.some((l) => /connection denied/.test(l) && /identity="none"/.test(l) && /istio_converted_static_strict/.test(l)), 5000);
  });

  test('a pod removed over ZDS: its ports close inside its namespace and its certificate is dropped', async () => {
    await zds!.remove('uid-client');
    const d = JSON.parse((await httpIn(cluster!.nodeNetns, admin, '/config_dump')).body) as { workloadState: Record<string, { info: { name: string } }>; certificates: { identity: string }[] };
    assert.deepEqual(Object.values(d.workloadState).map((s) => s.info.name), ['server']);
    assert.deepEqual(d.certificates.map((c) => c.identity), ['spiffe://cluster.local/ns/shop/sa/server']);
    const r = await fromPod(client, '127.0.0.1', 15001);
    assert.equal(r.error, 'ECONNREFUSED', JSON.stringify(r));
  });
});
