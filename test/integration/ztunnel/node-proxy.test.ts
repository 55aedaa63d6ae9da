/**
 * `trellis ztunnel` end to end, with the real control plane (its CA, its
 * workload API over Delta xDS on the TLS port) and real HBONE, in a network
 * namespace of the test's own where the pods are addresses on the loopback
 * (the shared-namespace pod network). The apps run as uid 1000; a DNAT rule
 * per client pod sends their connections to its outbound port (15001), as
 * the in-pod rules would; the node proxy (root) is not redirected.
 * Pods: client, server and denied on node-1 (served here), other on node-2.
 * Everything is removed in after(), also on failure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { httpIn, namespaceName, newRunId, removeStale, runInPod, spawnInPod } from '../../../src/local/netns/index.js';
import { removeRunMarker, writeRunMarker } from '../../../src/local/netns/stale.js';
import { tokenCreate } from '../../helpers/ca-client.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';
import { APP_UID, OTHER_UID, SCRIPTS, skipReason } from '../interception/fixture.js';
import { eventually } from '../proxy/harness.js';

const IP = { client: '10.250.0.11', server: '10.250.0.12', denied: '10.250.0.14', other: '10.250.0.13', outside: '10.250.0.100' };
const VIP = '10.96.50.1';
const pod = (name: string, sa: string, node: string, ip: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: shop, uid: uid-${name}, labels: {app: ${sa}}}
spec: {serviceAccountName: ${sa}, nodeName: ${node}, containers: [{name: app, image: app}]}
status: {podIP: ${ip}, phase: Running, conditions: [{type: Ready, status: "True"}]}
`;
const CONFIG = [
  'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}\n',
  'apiVersion: v1\nkind: Pod\nmetadata: {name: ztunnel-node-1, namespace: istio-system, uid: uid-zt}\nspec: {serviceAccountName: ztunnel, nodeName: node-1, containers: [{name: z, image: z}]}\n',
  pod('client', 'client', 'node-1', IP.client),
  pod('server', 'server', 'node-1', IP.server),
  pod('denied', 'denied', 'node-1', IP.denied),
  pod('other', 'other', 'node-2', IP.other),
  `apiVersion: v1\nkind: Service\nmetadata: {name: server, namespace: shop}\nspec: {clusterIP: ${VIP}, selector: {app: server}, ports: [{name: tcp, port: 80, targetPort: 8080}]}\n`,
  'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: strict, namespace: shop}\nspec: {mtls: {mode: STRICT}}\n',
  'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: no-denied, namespace: shop}\nspec:\n  selector: {matchLabels: {app: server}}\n  action: DENY\n  rules: [{from: [{source: {principals: [cluster.local/ns/shop/sa/denied]}}]}]\n',
].join('---\n');

const skip = skipReason();
const PLAIN_UID = 2001;

describe('trellis ztunnel: the node proxy', { skip }, () => {
  // Named and marked as the local cluster's namespaces are: a run that crashed is cleaned up by the next one.
  const runId = newRunId();
  const ns = namespaceName(runId, 'ztunnel-node');
  let work: string;
  let configDir: string;
  let readiness: string;
  let cp: TrellisProcess | undefined;
  let zt: TrellisProcess | undefined;
  let app: ChildProcess | undefined;
  let admin: string;
  let debug: string;
  const sh = (...args: string[]) => {
    const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  };

  before(async () => {
    await removeStale();
    writeRunMarker(runId);
    work = await mkdtemp(join(tmpdir(), 'trellis-zt-'));
    const caDir = join(work, 'ca');
    configDir = join(work, 'config');
    await mkdir(configDir);
    await writeFile(join(configDir, 'mesh.yaml'), CONFIG);
    sh('ip', 'netns', 'add', ns);
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    for (const ip of Object.values(IP)) sh('ip', '-n', ns, 'addr', 'add', `${ip}/32`, 'dev', 'lo');
    // Service VIPs are routed (nowhere but here) so that a connect() to one reaches the OUTPUT rules.
    sh('ip', '-n', ns, 'route', 'add', '10.96.0.0/16', 'dev', 'lo');
    // The apps' connections from the client pods go to that pod's 15001, as the in-pod rules send them.
    for (const src of [IP.client, IP.denied]) {
      sh('ip', 'netns', 'exec', ns, 'iptables', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-s', src, '-m', 'owner', '--uid-owner', String(APP_UID), '-j', 'DNAT', '--to-destination', `${src}:15001`);
    }
    // A plain-text caller (uid 2000) to the server's app port lands on its 15006, as the in-pod PREROUTING rule sends it.
    sh('ip', 'netns', 'exec', ns, 'iptables', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', IP.server, '--dport', '8080', '-m', 'owner', '--uid-owner', String(PLAIN_UID), '-j', 'DNAT', '--to-destination', `${IP.server}:15006`);
    const inNs = ['ip', 'netns', 'exec', ns];
    cp = new TrellisProcess(['controlplane', '--config-dir', configDir, '--xds-port', '0', '--debug-port', '0', '--ca-port', '0', '--ca-dir', caDir, '--debounce-ms', '10'], {}, inNs);
    const ready = jsonLine<{ debug: string; ca: string }>(await cp.waitForLine((l) => jsonLine(l)?.ca !== undefined, 20_000))!;
    debug = `${ready.debug}`;
    const tokenFile = join(work, 'ztunnel-token');
    await writeFile(tokenFile, tokenCreate(caDir, 'istio-system', 'ztunnel', ['--pod', 'ztunnel-node-1', '--pod-uid', 'uid-zt']));
    app = spawnInPod(ns, process.execPath, [SCRIPTS.server, 'app', '8080'], { uid: OTHER_UID });
    await new Promise<void>((resolve, reject) => {
      app!.stdout!.once('data', () => resolve());
      app!.once('exit', (code) => reject(new Error(`app exited ${code}`)));
    });
    await chmod(work, 0o755);
    zt = new TrellisProcess(['ztunnel', '--node-name', 'node-1', '--xds-address', ready.ca, '--ca-address', ready.ca, '--root-cert', join(caDir, 'root-cert.pem'), '--token-file', tokenFile,
      '--admin-port', '0', '--readiness-port', '15021', '--shared-namespace'], {}, inNs);
    const line = await zt.waitForLine((l) => /admin listening on/.test(l), 20_000);
    admin = /on (\S+)$/.exec(line)![1]!;
    readiness = `127.0.0.1:${/:(\d+)$/.exec(await zt.waitForLine((l) => /readiness listening on/.test(l)))![1]}`;
    await eventually(async () => (await httpIn(ns, admin, '/ready')).status === 200, 20_000);
  });

  after(async () => {
    await zt?.stop();
    await cp?.stop();
    if (app && app.exitCode === null) app.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', ns]);
    removeRunMarker(runId);
    if (work) await rm(work, { recursive: true, force: true });
  });

  const dump = async () => JSON.parse((await httpIn(ns, admin, '/config_dump')).body) as {
    workloads: { name: string; workloadIps: string[]; protocol: string; node: string }[];
    services: { hostname: string; vips: string[]; ports: Record<string, number> }[];
    policies: { name: string; namespace: string; action: string; rules: unknown }[];
    certificates: { identity: string; state: string; certChain: { pem: string; serialNumber: string; expirationTime: string }[] }[];
    workloadState: Record<string, { state: string; info: { name: string } }>;
  };
  /** The pods the node proxy serves (ztunnel's workloadState). */
  const served = (d: Awaited<ReturnType<typeof dump>>) => Object.values(d.workloadState).map((s) => s.info.name).sort();
  /** Connects as the app (uid 1000) from `from` to host:port: the app server's JSON line, or what went wrong. */
  const connect = async (from: string, host: string, port: number) => {
    const r = await runInPod(ns, process.execPath, [SCRIPTS.client, host, String(port), '--from', from], { uid: APP_UID, timeoutMs: 10_000 });
    const out = r.stdout.trim();
    return (jsonLine<{ peer?: string; local?: string; error?: string }>(out) ?? { error: `no answer: ${JSON.stringify(out)} ${r.stderr.trim()}` });
  };
  const metrics = async () => (await httpIn(ns, admin, '/stats/prometheus')).body;

  test('reports what the control plane gave it, serves the pods of its node, and holds a certificate per service account with a pod here', async () => {
    await eventually(async () => served(await dump()).length === 3 && (await dump()).certificates.every((c) => c.state === 'Available'), 20_000);
    const d = await dump();
    assert.deepEqual(d.workloads.map((w) => `${w.name} ${w.workloadIps.join()} ${w.protocol} ${w.node}`), [
      `client ${IP.client} HBONE node-1`, `denied ${IP.denied} HBONE node-1`, `other ${IP.other} HBONE node-2`, `server ${IP.server} HBONE node-1`,
    ]);
    assert.deepEqual(d.services.map((s) => [s.hostname, s.vips, s.ports]), [['server.shop.svc.cluster.local', [`/${VIP}`], { 80: 8080 }]]);
    assert.deepEqual(d.policies.map((p) => `${p.namespace}/${p.name} ${p.action}`).sort(), ['istio-system/istio_converted_static_strict Deny', 'shop/no-denied Deny']);
    assert.deepEqual(d.policies.find((p) => p.name === 'no-denied')?.rules, [[[{ principals: [{ Exact: 'cluster.local/ns/shop/sa/denied' }] }]]]);
    assert.deepEqual(served(d), ['client', 'denied', 'server'], 'other runs on node-2');
    // istioctl ztunnel-config's reading: each certificate of the chain, PEM base64-encoded, decimal serial.
    const leaf = new X509Certificate(Buffer.from(d.certificates[0]!.certChain[0]!.pem, 'base64').toString());
    assert.equal(leaf.subjectAltName, `URI:${d.certificates[0]!.identity}`);
    assert.equal(d.certificates[0]!.certChain[0]!.serialNumber, BigInt(`0x${leaf.serialNumber}`).toString());
    // shop/other has no pod on node-1: never asked for (the CA would refuse it anyway).
    assert.deepEqual(d.certificates.map((c) => c.identity), ['shop/client', 'shop/denied', 'shop/server'].map((k) => `spiffe://cluster.local/ns/${k.replace('/', '/sa/')}`));
    // Both types ACKed, as the control plane sees it.
    const syncz = JSON.parse((await httpIn(ns, debug, '/debug/syncz')).body) as { nodeId: string; stream: string; types: Record<string, { status: string }> }[];
    const me = syncz.find((p) => p.nodeId.startsWith('ztunnel~'));
    assert.deepEqual([me?.stream, me?.types.WDS?.status, me?.types.WADS?.status], ['delta', 'SYNCED', 'SYNCED'], JSON.stringify(me));
    const ca = (await httpIn(ns, debug, '/metrics')).body;
    assert.equal(Number(/^citadel_server_success_cert_issuance_count (\d+)$/m.exec(ca)?.[1]), 4, 'three impersonated + its own');
    assert.doesNotMatch(ca, /^citadel_server_authentication_failure_count [1-9]/m, 'no refused request');
  });

  test('an app reaches another pod over HBONE, by service VIP and by pod IP; the app sees the caller\'s IP; both sides count the peers\' identities', async () => {
    const viaVip = await connect(IP.client, VIP, 80);
    assert.equal(viaVip.local, `${IP.server}:8080`, JSON.stringify(viaVip));
    assert.equal(viaVip.peer?.split(':')[0], IP.client, 'the caller\'s address, kept');
    const direct = await connect(IP.client, IP.server, 8080);
    assert.equal(direct.local, `${IP.server}:8080`, JSON.stringify(direct));
    const m = await metrics();
    assert.match(m, /istio_tcp_connections_opened_total\{reporter="destination",source_workload="client",source_workload_namespace="shop",source_principal="spiffe:\/\/cluster\.local\/ns\/shop\/sa\/client",destination_workload="server",[^}]*connection_security_policy="mutual_tls"[^}]*\} 2/);
    assert.match(m, /istio_tcp_connections_opened_total\{reporter="source",source_workload="client",[^}]*destination_principal="spiffe:\/\/cluster\.local\/ns\/shop\/sa\/server",destination_service="server\.shop\.svc\.cluster\.local",[^}]*\} 1/);
  });

  test('an L4 DENY by principal: the tunnel is refused with 401 and the app never sees the connection', async () => {
    const r = await connect(IP.denied, IP.server, 8080);
    assert.ok(r.error !== undefined, JSON.stringify(r));
    await eventually(async () => zt!.stderr.some((l) => /outbound connection failed/.test(l) && /the server answered 401/.test(l) && /shop\/denied/.test(l)), 5000);
    assert.ok(zt!.stderr.some((l) => /connection denied/.test(l) && /denied by DENY policy shop\/no-denied/.test(l)));
    assert.match(await metrics(), /trellis_ztunnel_connections_refused_total\{reason="policy"\} [1-9]/);
  });

  test('STRICT: plain text to a pod\'s 15006 is refused (no identity)', async () => {
    // From outside the mesh to the server's app port: redirected to its 15006 with the original destination kept.
    const r = await runInPod(ns, process.execPath, [SCRIPTS.client, IP.server, '8080', '--from', IP.outside], { uid: PLAIN_UID, timeoutMs: 10_000 });
    assert.equal(jsonLine<{ local?: string }>(r.stdout.trim())?.local, undefined, r.stdout);
    await eventually(async () => zt!.stderr.some((l) => /connection denied/.test(l) && /identity="none"/.test(l) && /istio_converted_static_strict/.test(l)), 5000);
  });

  test('an address outside the mesh is passed through as it is', async () => {
    const r = await connect(IP.client, IP.outside, 8080);
    assert.equal(r.local, `${IP.outside}:8080`, JSON.stringify(r));
    assert.match(await metrics(), /istio_tcp_connections_opened_total\{reporter="source",source_workload="client",[^}]*destination_workload="unknown",[^}]*connection_security_policy="unknown"[^}]*\} 1/);
  });

  test('the admin API: readiness on its own port, the rest only on the admin port; what it cannot serve is an HTTP error', async () => {
    assert.equal((await httpIn(ns, readiness, '/healthz/ready')).status, 200);
    assert.equal((await httpIn(ns, readiness, '/config_dump')).status, 404, 'config is not served on the readiness port');
    assert.equal((await httpIn(ns, admin, '/quitquitquit')).status, 405, 'GET does not stop it');
    assert.equal((await httpIn(ns, admin, '/nothing')).status, 404);
    assert.equal((await httpIn(ns, admin, '/ready')).status, 200, 'still running');
  });

  test('the last pod of a service account leaving the node drops its listeners and its certificate', async () => {
    await writeFile(join(configDir, 'mesh.yaml'), CONFIG.replace(pod('denied', 'denied', 'node-1', IP.denied), pod('denied', 'denied', 'node-2', IP.denied)));
    await eventually(async () => {
      const d = await dump();
      return !served(d).includes('denied') && !d.certificates.some((c) => c.identity.endsWith('/sa/denied'));
    }, 10_000);
    assert.deepEqual((await dump()).certificates.map((c) => c.identity), ['client', 'server'].map((sa) => `spiffe://cluster.local/ns/shop/sa/${sa}`));
    const r = await runInPod(ns, process.execPath, [SCRIPTS.client, IP.denied, '15008'], { timeoutMs: 10_000 });
    assert.match(r.stdout, /ECONNREFUSED/, 'its HBONE port is closed');
  });

  test('POST /quitquitquit stops it (last: the node proxy is gone afterwards)', async () => {
    const exited = new Promise<number | null>((resolve) => zt!.child.once('exit', (code) => resolve(code)));
    assert.equal((await httpIn(ns, admin, '/quitquitquit', { method: 'POST' })).status, 200);
    assert.equal(await exited, 0);
  });
});
