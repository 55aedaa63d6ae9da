/**
 * On-demand clusters end to end (issue 16, automatic scoping): the real
 * `trellis controlplane` on a mesh of several HTTP services, and the real
 * `trellis proxy` as a sidecar without capture (loopback: its outbound
 * listeners bound at its own view of the Services' addresses, as `trellis up`
 * runs them) announcing ENABLE_ON_DEMAND_CDS over Delta. The proxy starts
 * without the services' clusters; curl's first request to a service is held
 * while its cluster and endpoints come over the ADS stream, then answered by
 * that service's app; a service whose route names a cluster that does not
 * exist gets 503 NC as soon as the control plane says so; and after the
 * control plane restarts the discovered cluster is subscribed again (it
 * stays, and serves without a new discovery).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimOctet, releaseOctet } from '../../../src/local/up/loopback/claims.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';
import { eventually, startProxy, type RunningProxy } from './harness.js';

const run = promisify(execFile);
const SERVICES = ['reviews', 'ratings', 'details'] as const;
const PORT = 9080;
const fqdn = (s: string) => `${s}.default.svc.cluster.local`;
const cluster = (s: string) => `outbound|${PORT}||${fqdn(s)}`;

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'needs Linux (127.0.0.0/8 routed to lo)';
  return spawnSync('sh', ['-c', 'command -v curl'], { stdio: 'ignore' }).status === 0 ? false : 'needs curl';
}

/** The mesh: a Service per app (and "legacy", routed by a VirtualService to a host that does not exist), their pods. */
function meshYaml(apps: ReadonlyMap<string, AddressInfo>, clientIp: string): string {
  const docs: string[] = [];
  SERVICES.forEach((name, i) => {
    const a = apps.get(name)!;
    docs.push(`apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  clusterIP: 10.96.0.${11 + i}
  selector: {app: ${name}}
  ports: [{name: http, port: ${PORT}, targetPort: ${a.port}}]`, `apiVersion: v1
kind: Pod
metadata: {name: ${name}-v1, namespace: default, labels: {app: ${name}}}
spec:
  containers: [{name: app, image: demo, ports: [{name: http, containerPort: ${a.port}}]}]
status:
  phase: Running
  podIP: ${a.address}
  conditions: [{type: Ready, status: "True"}]`);
  });
  docs.push(`apiVersion: v1
kind: Service
metadata: {name: legacy, namespace: default}
spec:
  clusterIP: 10.96.0.20
  selector: {app: legacy}
  ports: [{name: http, port: ${PORT}, targetPort: ${PORT}}]`, `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: legacy, namespace: default}
spec:
  hosts: [legacy]
  http: [{route: [{destination: {host: ghost.default.svc.cluster.local, port: {number: ${PORT}}}}]}]`, `apiVersion: v1
kind: Pod
metadata: {name: sleep, namespace: default, labels: {app: sleep}}
spec:
  containers: [{name: sleep, image: demo}]
status:
  phase: Running
  podIP: ${clientIp}
  conditions: [{type: Ready, status: "True"}]`);
  return docs.join('\n---\n') + '\n';
}

interface Curl {
  status: number;
  body: string;
  ms: number;
}

/** One request as the app makes it: to the Service's address in its proxy's view (never blocking: the apps run here). */
async function curl(url: string): Promise<Curl> {
  const started = performance.now();
  const r = await run('curl', ['-sS', '--max-time', '8', '-o', '-', '-w', '\n%{http_code}', url], { encoding: 'utf8', timeout: 10_000 });
  const ms = performance.now() - started;
  const cut = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut), ms };
}

const pick = (r: Curl) => [r.status, r.body];

async function clusterNames(proxy: RunningProxy): Promise<string[]> {
  const j = JSON.parse((await proxy.admin('/clusters?format=json')).body) as { cluster_statuses: { name: string }[] };
  return j.cluster_statuses.map((c) => c.name);
}

async function stat(proxy: RunningProxy, name: string): Promise<number> {
  const j = JSON.parse((await proxy.admin('/stats?format=json')).body) as { stats: { name: string; value: number }[] };
  return j.stats.find((s) => s.name === name)?.value ?? 0;
}

describe('on-demand clusters: real control plane and proxy (Delta ODCDS)', { skip: skipReason(), timeout: 60_000 }, () => {
  let octet: number | undefined;
  let dir: string | undefined;
  let cp: TrellisProcess | undefined;
  let xdsPort = 0;
  let proxy: RunningProxy | undefined;
  const apps: http.Server[] = [];
  /** Where the app reaches service i: its address in the proxy's view 127.OCTET.0.0/16. */
  const viewUrl = (vip: number, path = '/') => `http://127.${octet}.0.${vip}:${PORT}${path}`;

  const startControlPlane = async (port: number) => {
    cp = new TrellisProcess(['controlplane', '--config-dir', dir!, '--xds-port', String(port), '--debug-port', '0', '--debounce-ms', '20'], { TRELLIS_LOG: 'warn' });
    const ready = jsonLine<{ xds: string }>(await cp.waitForLine((l) => jsonLine(l)?.xds !== undefined, 20_000))!;
    return Number(ready.xds.slice(ready.xds.lastIndexOf(':') + 1));
  };

  before(async () => {
    octet = claimOctet(`odcds-${process.pid}`, 150);
    const addresses = new Map<string, AddressInfo>();
    for (const [i, name] of SERVICES.entries()) {
      const server = http.createServer((req, res) => {
        req.resume();
        res.end(`${name} ${req.url}`);
      });
      apps.push(server);
      await new Promise<void>((r) => server.listen(0, `127.${octet}.1.${10 + i}`, r));
      addresses.set(name, server.address() as AddressInfo);
    }
    dir = await mkdtemp(join(tmpdir(), 'trellis-odcds-'));
    const clientIp = `127.${octet}.2.10`;
    await writeFile(join(dir, 'mesh.yaml'), meshYaml(addresses, clientIp));
    xdsPort = await startControlPlane(0);
    proxy = await startProxy(xdsPort, ['--node-id', `sidecar~${clientIp}~sleep.default~default.svc.cluster.local`], {
      ISTIO_META_ENABLE_ON_DEMAND_CDS: 'true',
      ISTIO_META_INTERCEPTION_MODE: 'NONE',
      ISTIO_META_WORKLOAD_NAME: 'sleep',
      TRELLIS_META_LOOPBACK_APP_IP: `127.${octet}.2.11`,
      TRELLIS_META_LOOPBACK_SERVICE_VIEW: `127.${octet}.0.0/16`,
      // Capture listeners (15001/15006) are refused rather than bound on ports other tests may hold.
      TRELLIS_NATIVE_DISABLE: '1',
      ...(process.env.TRELLIS_TEST_VERBOSE ? { TRELLIS_LOG: 'debug' } : {}),
    });
    await proxy.ready();
    await eventually(async () => (await proxy!.admin('/listeners')).body.includes(`10.96.0.11_${PORT}`), 5000, 'the view listeners');
  });

  after(async () => {
    if (process.env.TRELLIS_TEST_VERBOSE) console.error(proxy?.stderr(), proxy?.stdout());
    await proxy?.stop();
    await cp?.stop();
    for (const s of apps) {
      s.closeAllConnections();
      s.close();
    }
    if (dir) await rm(dir, { recursive: true, force: true });
    if (octet !== undefined) releaseOctet(octet);
  });

  test('the proxy starts without the services\' clusters', async () => {
    const names = await clusterNames(proxy!);
    assert.ok(names.includes('PassthroughCluster') && names.includes('BlackHoleCluster'), names.join(' '));
    assert.deepEqual(names.filter((n) => n.startsWith('outbound|')), [], 'no outbound service cluster before any request');
  });

  test('the first request is held until its cluster is discovered, then answered by that service; only that cluster came', async (t) => {
    const first = await curl(viewUrl(11, '/first'));
    assert.deepEqual(pick(first), [200, 'reviews /first']);
    const second = await curl(viewUrl(11, '/second'));
    assert.deepEqual(pick(second), [200, 'reviews /second']);
    // The proxy's own view (access log %DURATION%): the first request's includes the discovery.
    const durations = [...proxy!.stdout().matchAll(/"GET \/(first|second) HTTP\/1\.1" 200 \S+ \S+ \S+ "-" \d+ \d+ (\d+) /g)].map((m) => `${m[1]} ${m[2]} ms`);
    t.diagnostic(`in the proxy: ${durations.join(', ')}; curl: ${Math.round(first.ms)} ms, ${Math.round(second.ms)} ms`);
    const names = await clusterNames(proxy!);
    assert.ok(names.includes(cluster('reviews')), names.join(' '));
    assert.ok(!names.includes(cluster('ratings')) && !names.includes(cluster('details')), 'the services not called stay out');
    assert.equal(await stat(proxy!, 'cluster_manager.odcds.update_attempt'), 1);
    assert.equal(await stat(proxy!, 'cluster_manager.odcds.update_success'), 1);
    const dump = (await proxy!.admin('/config_dump')).body;
    assert.ok(dump.includes(`"name": "${cluster('reviews')}"`), 'in /config_dump as a dynamic cluster');
    // Another service on the same listener: its own discovery; a second call finds its cluster there.
    for (let i = 0; i < 2; i++) assert.deepEqual(pick(await curl(viewUrl(13))), [200, 'details /']);
    assert.equal(await stat(proxy!, 'cluster_manager.odcds.update_attempt'), 2);
  });

  test('concurrent first requests for one service share one discovery', async () => {
    const before = await stat(proxy!, 'cluster_manager.odcds.update_attempt');
    const replies = await Promise.all([1, 2, 3].map((i) => curl(viewUrl(12, `/c${i}`))));
    assert.deepEqual(replies.map(pick), [[200, 'ratings /c1'], [200, 'ratings /c2'], [200, 'ratings /c3']]);
    assert.equal(await stat(proxy!, 'cluster_manager.odcds.update_attempt'), before + 1, 'asked for once');
  });

  test('a route to a cluster that does not exist: 503 NC as soon as the control plane reports it absent', async () => {
    const r = await curl(viewUrl(20));
    assert.equal(r.status, 503);
    assert.ok(r.ms < 4000, `answered in ${Math.round(r.ms)} ms, before the 5 s timeout`);
    await eventually(() => /" 503 NC cluster_not_found .*outbound\|9080\|\|ghost\.default\.svc\.cluster\.local/.test(proxy!.stdout()), 2000, () => `an access log line with NC: ${proxy!.stdout().slice(-600)}`);
    assert.equal(await stat(proxy!, 'cluster_manager.odcds.init_fetch_timeout'), 0);
  });

  test('after the control plane restarts, the discovered cluster is subscribed again and serves without a new discovery', async () => {
    const accepted = await stat(proxy!, 'cluster_manager.cds.update_success');
    await cp!.stop();
    await eventually(async () => (await stat(proxy!, 'control_plane.connected_state')) === 0, 5000, 'the proxy disconnected');
    await startControlPlane(xdsPort);
    // The new stream's first CDS answer: without the names subscribed again it would remove them (the proxy said it had them).
    await eventually(async () => (await stat(proxy!, 'cluster_manager.cds.update_success')) > accepted, 10_000, 'CDS from the new control plane');
    const names = await clusterNames(proxy!);
    assert.ok(names.includes(cluster('reviews')) && names.includes(cluster('details')), names.join(' '));
    const attempts = await stat(proxy!, 'cluster_manager.odcds.update_attempt');
    assert.deepEqual(pick(await curl(viewUrl(11))), [200, 'reviews /']);
    assert.equal(await stat(proxy!, 'cluster_manager.odcds.update_attempt'), attempts, 'no discovery needed');
  });
});
