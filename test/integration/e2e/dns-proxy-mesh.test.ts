/**
 * Istio's DNS proxying end to end (issue 13, items 2 and 3): two pods whose
 * init step captures DNS (--redirect-dns) and whose sidecars run with
 * ISTIO_META_DNS_CAPTURE=true, the real control plane, and a dnsmasq the
 * test starts in the node namespace as the pods' resolver (their
 * resolv.conf names it). The unmodified app (getent, curl as uid 1000):
 * (a) resolves a STATIC ServiceEntry host without addresses — only the
 *     sidecar's agent knows it — to its auto-allocated 240.240.x.y, and its
 *     TCP port reaches the entry's endpoint through the listener on that
 *     address and both sidecars;
 * (b) reaches a resolution: DNS ServiceEntry host, whose STRICT_DNS cluster
 *     the client's sidecar resolves with the test's dnsmasq, through both
 *     sidecars;
 * and other names are forwarded to the pod's resolver. Needs root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInPod } from '../../../src/local/netns/index.js';
import { allocateServiceEntryAddresses, allocationKey } from '../../../src/config/service-entry-address.js';
import type { ServiceEntry } from '../../../src/config/objects.js';
import { startDnsmasq, type Dnsmasq } from '../../helpers/dnsmasq.js';
import { NAMESPACE } from './mesh-config.js';
import { CONFIG_DIR, SEARCH, skipReason, startTwoPodMesh, stopTwoPodMesh, waitForOutput, type TwoPodMesh } from './two-pod-mesh.js';

const ECHO_SERVER = fileURLToPath(new URL('./echo-server.js', import.meta.url));
const STATIC_HOST = 'static-a.example.test';
const DNS_HOST = 'dns-b.example.test';
const PLAIN_HOST = 'plain.example.test';
const [STATIC_PORT, DNS_PORT] = [7001, 7002];
/** The pods' resolver: dnsmasq on the node's bridge address (the only address pods reach). */
const NODE_DNS_PORT = 53;

function skip(): string | false {
  const base = skipReason();
  if (base) return base;
  for (const bin of ['dnsmasq', 'getent']) if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `needs ${bin}`;
  return false;
}

function entries(serverIp: string): ServiceEntry[] {
  const meta = (name: string) => ({ name, namespace: NAMESPACE });
  return [
    { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: meta('static-a'), spec: { hosts: [STATIC_HOST], location: 'MESH_EXTERNAL', ports: [{ number: STATIC_PORT, name: 'tcp', protocol: 'TCP' }], resolution: 'STATIC', endpoints: [{ address: serverIp }] } },
    { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: meta('dns-b'), spec: { hosts: [DNS_HOST], location: 'MESH_EXTERNAL', ports: [{ number: DNS_PORT, name: 'http', protocol: 'HTTP' }], resolution: 'DNS' } },
  ] as ServiceEntry[];
}

describe('DNS proxying: ServiceEntry hosts through the sidecar\'s DNS', { skip: skip(), timeout: 180_000 }, () => {
  const mesh: TwoPodMesh = { controlPlaneStderr: [] };
  let dnsmasq: Dnsmasq | undefined;
  let allocated: ReadonlyMap<string, { v4: string; v6: string }> = new Map();

  before(async () => {
    // The cluster's bridge address is 10.244.0.1 (NetnsCluster's default pod range).
    await startTwoPodMesh(mesh, { dnsCapture: { nameserver: '10.244.0.1' } });
    const cluster = mesh.cluster!;
    assert.equal(cluster.gateway, '10.244.0.1');
    const serverIp = mesh.server!.pod.ip;
    dnsmasq = await startDnsmasq({ [DNS_HOST]: [serverIp], [PLAIN_HOST]: [serverIp] }, 1, {
      netns: cluster.nodeNetns, address: cluster.gateway, port: NODE_DNS_PORT, localDomains: ['cluster.local', 'example.test'],
    });
    // A real pod has a default route; these reach the node only for what they need, the allocated range included.
    const r = await runInPod(mesh.client!.pod, 'ip', ['route', 'add', '240.240.0.0/16', 'via', cluster.gateway, 'dev', 'eth0']);
    assert.equal(r.code, 0, r.stderr);
    for (const [name, port] of [['static-entry', STATIC_PORT], ['dns-entry', DNS_PORT]] as const) {
      await waitForOutput(mesh.server!.startApp(process.execPath, [ECHO_SERVER, name, String(port)]), 'ready', 10_000, `echo ${name}`);
    }
    const ses = entries(serverIp);
    allocated = allocateServiceEntryAddresses(ses);
    const yaml = ses.map((se) => JSON.stringify(se)).join('\n---\n');
    await writeFile(join(mesh.dir!, CONFIG_DIR, 'entries.yaml'), yaml);
  });

  after(async () => {
    await dnsmasq?.stop();
    await stopTwoPodMesh(mesh);
  });

  /** getent ahostsv4 NAME as the app: the C library's resolver, through the captured port 53. */
  const resolve = async (name: string): Promise<string[]> => {
    const r = await runInPod(mesh.client!.pod, 'getent', ['ahostsv4', name], { uid: 1000, timeoutMs: 8000 });
    return r.code === 0 ? [...new Set(r.stdout.split('\n').map((l) => l.split(/\s+/)[0]!).filter(Boolean))] : [];
  };
  const until = async <T>(f: () => Promise<T>, ok: (v: T) => boolean): Promise<T> => {
    let v = await f();
    for (let i = 0, deadline = Date.now() + 15_000; i < 60 && Date.now() < deadline && !ok(v); i++) {
      await new Promise((res) => setTimeout(res, 250));
      v = await f();
    }
    return v;
  };
  const curl = (url: string) => runInPod(mesh.client!.pod, 'curl', ['-sS', '--max-time', '5', url], { uid: 1000, timeoutMs: 8000 });
  // The log line is written when the stream ends, and reaches us through a pipe: after curl has its answer.
  const accessLogged = (cluster: string) => mesh.client!.proxyStdout.some((l) => l.includes(cluster));

  test('(a) a STATIC entry without addresses resolves to its allocated address, and its TCP port is served there', async () => {
    const want = allocated.get(allocationKey(NAMESPACE, STATIC_HOST))!.v4;
    assert.match(want, /^240\.240\.\d+\.\d+$/);
    assert.deepEqual(await until(() => resolve(STATIC_HOST), (a) => a.length > 0), [want], 'answered by the agent only (dnsmasq does not know the name)');
    // The short forms of the search list are the resolver's to try; the agent answers the name it owns.
    const r = await until(() => curl(`http://${STATIC_HOST}:${STATIC_PORT}/hello`), (x) => x.code === 0);
    assert.equal(r.code, 0, `curl: ${r.stderr}`);
    const body = JSON.parse(r.stdout) as { name: string; url: string };
    assert.equal(body.name, 'static-entry');
    assert.equal(body.url, '/hello');
    assert.ok(await until(async () => accessLogged(`outbound|${STATIC_PORT}||${STATIC_HOST}`), (v) => v), 'carried by the entry\'s cluster on the client\'s sidecar');
    // Not bound itself (capture hands it the connection): config_dump shows it, /listeners lists bound ones.
    const dump = (await mesh.client!.admin('/config_dump')).body;
    assert.ok(dump.includes(`"${want}_${STATIC_PORT}"`), 'the listener on the allocated address');
  });

  test('(b) a DNS entry: the app gets the allocated address, the sidecar\'s STRICT_DNS cluster resolves the host with the test\'s resolver', async () => {
    const want = allocated.get(allocationKey(NAMESPACE, DNS_HOST))!.v4;
    assert.deepEqual(await until(() => resolve(DNS_HOST), (a) => a[0] === want), [want]);
    const r = await until(() => curl(`http://${DNS_HOST}:${DNS_PORT}/via-dns`), (x) => x.code === 0 && x.stdout.includes('dns-entry'));
    assert.equal(r.code, 0, `curl: ${r.stderr}`);
    assert.equal((JSON.parse(r.stdout) as { name: string }).name, 'dns-entry');
    assert.ok(await until(async () => accessLogged(`outbound|${DNS_PORT}||${DNS_HOST}`), (v) => v), 'carried by the entry\'s cluster on the client\'s sidecar');
    const clusters = (await mesh.client!.admin('/clusters')).body;
    const hostLine = clusters.split('\n').find((l) => l.startsWith(`outbound|${DNS_PORT}||${DNS_HOST}::${mesh.server!.pod.ip}:${DNS_PORT}::`));
    assert.ok(hostLine, `the cluster's host is dnsmasq's answer: ${clusters.split('\n').filter((l) => l.includes(DNS_HOST)).join('\n')}`);
  });

  test('other names are forwarded to the pod\'s resolver; names it does not know stay unknown', async () => {
    assert.deepEqual(await resolve(PLAIN_HOST), [mesh.server!.pod.ip]);
    assert.deepEqual(await resolve('nowhere.example.test'), []);
  });

  test('Kubernetes Services answer by their short forms from the name table', async () => {
    // "web" is the mesh's Service (mesh-config.ts); only the agent's table knows its cluster IP here.
    for (const name of ['web', `web.${NAMESPACE}`, `web.${NAMESPACE}.svc`, `web.${SEARCH[0]}`]) {
      assert.deepEqual(await resolve(name), ['10.96.0.100'], name);
    }
  });
});
