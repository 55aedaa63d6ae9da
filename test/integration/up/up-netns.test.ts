/**
 * `trellis up` on a fixture directory, as root: network namespaces, real
 * iptables capture, sidecars as uid 1337, the control plane with its CA.
 * The fixture (test/fixtures/up-mesh) has a namespace with injection
 * (front → backend v1/v2 by a VirtualService, a tester pod), a pod that opts
 * out (sidecar.istio.io/inject "false") and a namespace without injection.
 * Checked through the CLI a user has: get, exec, logs, the status output;
 * then Ctrl-C must leave nothing behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigText } from '../../../src/config/load-config.js';
import { allocateClusterIps, parseServiceCidr } from '../../../src/config/cluster-ip.js';
import { objectKey, type AnyObject, type Service } from '../../../src/config/objects.js';
import { runProcesses } from '../../../src/local/up/process-sweep.js';
import { skipReason } from '../e2e/two-pod-mesh.js';
import { UpRun, exists, fixtureCopy, rootLinks, rootTrellisRules, runNamespaces } from './up-run.js';

const skip = skipReason();
const NAME = /[bcdfghjklmnpqrstvwxz2456789]/.source;

/** The cluster IPs the control plane allocates for the fixture, by the same function and loader. */
function expectedClusterIps(dir: string): Map<string, string> {
  const objects = new Map<string, AnyObject>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
    for (const d of loadConfigText(f, readFileSync(join(dir, f), 'utf8')).documents) if (d.object) objects.set(objectKey(d.object), d.object);
  }
  const out = new Map<string, string>();
  for (const o of allocateClusterIps(objects, parseServiceCidr('10.96.0.0/16')).objects.values()) {
    if (o.kind === 'Service') out.set(`${o.metadata.namespace}/${o.metadata.name}`, (o as Service).spec.clusterIP!);
  }
  return out;
}

describe('trellis up (network namespaces, real capture)', { skip, timeout: 240_000 }, () => {
  let dir: string;
  let up: UpRun;
  let runId: string;
  const linksBefore = skip ? new Set<string>() : rootLinks();
  const rulesBefore = skip ? [] : rootTrellisRules();

  before(async () => {
    dir = fixtureCopy('up-mesh');
    up = new UpRun(dir);
    runId = (await up.waitFor(/^✓ run ([0-9a-f]{6}) /, 30_000))[1]!;
    await up.waitFor(/^✓ all proxies SYNCED ([\d.]+) s after start/, 60_000);
    await up.allReady();
  });

  after(async () => {
    await up?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const pod = (prefix: string) => {
    const state = JSON.parse(readFileSync(up.stateFile, 'utf8')) as { pods: { name: string; namespace: string; ip: string; netns?: string; admin?: string }[] };
    const p = state.pods.find((x) => x.name.startsWith(prefix));
    assert.ok(p, `no pod ${prefix} in ${JSON.stringify(state.pods.map((x) => x.name))}`);
    return p;
  };

  test('the state file names the control plane and every pod, each sidecar\'s admin in its namespace; proxy-config reaches it there', () => {
    const state = JSON.parse(readFileSync(up.stateFile, 'utf8')) as { version: number; pid: number; controlPlane: { debug: string; xds: string; ca: string }; pods: unknown[] };
    assert.equal(state.version, 1);
    assert.equal(state.pid, up.child.pid);
    assert.match(state.controlPlane.debug, /^127\.0\.0\.1:\d+$/);
    assert.match(state.controlPlane.ca, /^127\.0\.0\.1:\d+$/);
    assert.equal(state.pods.length, 6);
    const front = pod('front-');
    assert.equal(front.netns, `trellis-${runId}-${front.name}.shop`);
    // Envoy's place, 127.0.0.1 inside the pod: not relayed to the machine, where any local user could reach it.
    assert.equal(front.admin, '127.0.0.1:15000');
    const bootstrap = up.cli(['proxy-config', 'bootstrap', `${front.name}.shop`, '-o', 'json']);
    assert.equal(bootstrap.code, 0, bootstrap.stderr);
    assert.match(bootstrap.stdout, new RegExp(`"sidecar~${front.ip.replace(/\./g, '\\.')}~${front.name}\\.shop~shop\\.svc\\.cluster\\.local"`));
    assert.equal(pod('plain-').admin, undefined, 'no sidecar, no admin');
  });

  test('get pods -A -o wide: kubectl\'s columns, cluster-style names, sidecars as a second container', () => {
    const r = up.cli(['get', 'pods', '-A', '-o', 'wide']);
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = r.stdout.trimEnd().split('\n').map((l) => l.split(/\s{3,}/));
    assert.deepEqual(header, ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    assert.equal(rows.length, 6);
    const byName = (re: RegExp) => rows.find((row) => re.test(row[1]!))!;
    for (const [re, ready, ns] of [
      [new RegExp(`^front-${NAME}{10}-${NAME}{5}$`), '2/2', 'shop'],
      [new RegExp(`^backend-v1-${NAME}{10}-${NAME}{5}$`), '2/2', 'shop'],
      [new RegExp(`^tester-${NAME}{10}-${NAME}{5}$`), '2/2', 'shop'],
      [/^plain-/, '1/1', 'shop'],
      [/^legacy$/, '1/1', 'legacy'],
    ] as const) {
      const row = byName(re);
      assert.ok(row, `no pod matching ${re} in\n${r.stdout}`);
      assert.equal(row[0], ns);
      assert.equal(row[2], ready, row.join(' '));
      assert.equal(row[3], 'Running');
      assert.match(row[6]!, /^10\.244\.0\.\d+$/);
      assert.equal(row[7], `trellis-${runId}-node`);
    }
    const json = JSON.parse(up.cli(['get', 'pods', '-n', 'shop', '-o', 'json']).stdout) as { kind: string; items: { metadata: { name: string; labels: Record<string, string> }; spec: { containers: { name: string }[] } }[] };
    assert.equal(json.kind, 'List');
    const front = json.items.find((i) => i.metadata.name.startsWith('front-'))!;
    assert.equal(front.metadata.labels['pod-template-hash'], front.metadata.name.split('-')[1]);
    assert.equal(front.metadata.labels['security.istio.io/tlsMode'], 'istio');
    assert.deepEqual(front.spec.containers.map((c) => c.name), ['front', 'istio-proxy']);
    assert.deepEqual(json.items.find((i) => i.metadata.name.startsWith('plain-'))!.spec.containers.map((c) => c.name), ['plain']);
  });

  test('Services get the cluster IPs the control plane allocates; kubelet\'s variables carry them', () => {
    const expected = expectedClusterIps(dir);
    const r = up.cli(['get', 'svc', '-A']);
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = r.stdout.trimEnd().split('\n').map((l) => l.split(/\s{3,}/));
    assert.deepEqual(header, ['NAMESPACE', 'NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    assert.deepEqual(rows.map((x) => [`${x[0]}/${x[1]}`, x[2], x[3], x[4], x[5]]).sort(), [
      ['legacy/legacy', 'ClusterIP', expected.get('legacy/legacy'), '<none>', '8080/TCP'],
      ['shop/backend', 'ClusterIP', expected.get('shop/backend'), '<none>', '9080/TCP'],
      ['shop/front', 'ClusterIP', expected.get('shop/front'), '<none>', '80/TCP'],
    ]);
    const ip = expected.get('shop/front')!;
    const env = up.cli(['exec', '-n', 'shop', 'deploy/tester', '--', 'sh', '-c', 'echo $FRONT_SERVICE_HOST $FRONT_SERVICE_PORT $FRONT_SERVICE_PORT_HTTP $FRONT_PORT $FRONT_PORT_80_TCP_ADDR $LEGACY_SERVICE_HOST.']);
    assert.equal(env.code, 0, env.stderr);
    // Only the pod's own namespace's Services, as kubelet does.
    assert.equal(env.stdout.trim(), `${ip} 80 80 tcp://${ip}:80 ${ip} .`);
  });

  test('the front service answers through both sidecars from another pod; exec runs as the app\'s user with its exit code', () => {
    const r = up.cli(['exec', '-n', 'shop', 'deploy/tester', '--', 'curl', '-sS', '--max-time', '5', 'http://front.shop/']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^front\(front-\S+\) -> backend-v1\(backend-v1-\S+ in shop, sa backend\)$/);
    assert.equal(up.cli(['exec', '-n', 'shop', 'deploy/tester', '--', 'id', '-u']).stdout.trim(), '1000');
    assert.equal(up.cli(['exec', '-n', 'shop', 'deploy/tester', '--', 'sh', '-c', 'exit 7']).code, 7);
    const tester = up.cli(['logs', '-n', 'shop', 'deploy/tester', '-c', 'proxy']);
    assert.match(tester.stdout, /"GET \/ HTTP\/1\.1" 200 .* outbound\|80\|\|front\.shop\.svc\.cluster\.local /);
    const front = up.cli(['logs', '-n', 'shop', 'deploy/front', '-c', 'proxy', '--tail', '50']);
    assert.match(front.stdout, new RegExp(`"GET / HTTP/1\\.1" 200 .* "${pod('front-').ip.replace(/\./g, '\\.')}:8080" inbound\\|8080\\|\\| `));
    // The pod that opted out reaches the service without a sidecar: kube-proxy's DNAT in the node namespace.
    const plain = up.cli(['exec', 'deploy/plain', '--', 'curl', '-sS', '--max-time', '5', 'http://front.shop/']);
    assert.match(plain.stdout, /^front\(front-/);
    // A bare Pod of the user's directory gets its endpoint from the running copy (the later --config-dir wins).
    const legacy = up.cli(['exec', '-n', 'shop', 'deploy/tester', '--', 'curl', '-sS', '--max-time', '5', 'http://legacy.legacy:8080/']);
    assert.match(legacy.stdout, /^legacy\(legacy in legacy, sa undefined\)$/, legacy.stderr);
    const unknown = up.cli(['exec', 'nope', '--', 'true']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /pod nope not found; pods: legacy\/legacy, shop\/backend-v1-/);
  });

  test('traffic shows in the status, from the proxies\' Istio metrics', async () => {
    const count = (svc: string) => Number([...up.lines].reverse().map((l) => new RegExp(`^${svc}\\s+[\\d.]+\\s+[\\d.]+%\\s+(?:[\\d.]+ ms|-)\\s+(\\d+)$`).exec(l)).find((m) => m)?.[1] ?? 0);
    const before = count('backend\\.shop');
    for (let i = 0; i < 10; i++) up.cli(['exec', '-n', 'shop', 'deploy/tester', '--', 'curl', '-s', '--max-time', '5', 'http://front.shop/']);
    // Requests per second over the last ten seconds, errors, p99 and the total, per service.
    const m = await up.waitFor(/^backend\.shop\s+([\d.]+)\s+([\d.]+)%\s+([\d.]+) ms\s+(\d+)$/, 15_000, (x) => Number(x[4]) >= before + 10);
    assert.ok(Number(m[1]) > 0, m[0]);
    assert.equal(m[2], '0.0');
    await up.waitFor(/^front\.shop\s+[\d.]+\s+0\.0%\s+[\d.]+ ms\s+(\d+)$/, 15_000, (x) => Number(x[1]) >= 10);
    await up.waitFor(/^shop\s+front-\S+\s+2\/2\s+Running\s+0\s+10\.244\.0\.\d+\s+SYNCED\s+in \d+h$/, 15_000);
    await up.waitFor(/^shop\s+plain-\S+\s+1\/1\s+Running\s+0\s+\S+\s+no sidecar/, 15_000);
  });

  test('a crashed sidecar is reported, its pod shown not ready, and it is restarted', async () => {
    const tester = pod('tester-');
    const proxyPid = runProcesses(runId).find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(`sidecar~${tester.ip}~${tester.name}.shop~shop.svc.cluster.local`);
      } catch {
        return false;
      }
    });
    assert.ok(proxyPid, 'the tester\'s proxy process');
    process.kill(proxyPid, 'SIGKILL');
    // Reported in the status's events, and the pod is not ready while the sidecar is down (back-off: 1 s).
    await up.waitFor(new RegExp(`^event \\S+ shop/${tester.name}: istio-proxy SIGKILL$`), 10_000);
    let seen = '';
    for (let i = 0; i < 50 && !/^\S+\s+1\/2\s+CrashLoopBackOff/.test(seen); i++) {
      seen = up.cli(['get', 'pods', '-n', 'shop']).stdout.split('\n').find((l) => l.startsWith(tester.name)) ?? '';
    }
    assert.match(seen, /^\S+\s+1\/2\s+CrashLoopBackOff\s+0\s/);
    await up.waitFor(new RegExp(`^event \\S+ shop/${tester.name}: istio-proxy restarted$`), 20_000);
    await up.allReady();
    const row = up.cli(['get', 'pods', '-n', 'shop']).stdout.split('\n').find((l) => l.startsWith(tester.name))!.split(/\s{3,}/);
    assert.deepEqual(row.slice(1, 4), ['2/2', 'Running', '1']);
  });

  test('an edit of the VirtualService weights moves the traffic; a replica count change adds a pod', async () => {
    const routing = join(dir, 'routing.yaml');
    writeFileSync(routing, readFileSync(routing, 'utf8').replace('weight: 100', 'weight: 0').replace(/subset: v2}\n(\s+)weight: 0/, 'subset: v2}\n$1weight: 100'));
    let streak = 0;
    for (let i = 0; i < 60 && streak < 5; i++) {
      const r = up.cli(['exec', '-n', 'shop', 'deploy/tester', '--', 'curl', '-s', '--max-time', '5', 'http://front.shop/']);
      streak = / -> backend-v2\(/.test(r.stdout) ? streak + 1 : 0;
      if (streak === 0) await new Promise((res) => setTimeout(res, 250));
    }
    assert.equal(streak, 5, 'five answers in a row from backend-v2 after the weights moved to it');
    const backend = join(dir, 'backend.yaml');
    writeFileSync(backend, readFileSync(backend, 'utf8').replace('replicas: 1', 'replicas: 2'));
    let count = 0;
    for (let i = 0; i < 60 && count < 2; i++) {
      count = up.cli(['get', 'pods', '-n', 'shop']).stdout.split('\n').filter((l) => /^backend-v1-\S+\s+2\/2\s+Running/.test(l)).length;
      if (count < 2) await new Promise((res) => setTimeout(res, 250));
    }
    assert.equal(count, 2, 'two backend-v1 pods running');
    // Without a sidecar, the node's kube-proxy rules balance over every ready backend pod, per connection.
    const seen = new Set<string>();
    for (let i = 0; i < 60 && seen.size < 2; i++) {
      const r = up.cli(['exec', 'deploy/plain', '--', 'curl', '-s', '--max-time', '5', 'http://backend.shop:9080/']);
      const who = /^backend-v\d\((\S+) in shop/.exec(r.stdout)?.[1];
      if (who) seen.add(who);
    }
    assert.ok(seen.size >= 2, `several backends answered through the service rules: ${[...seen].join(', ')}`);
  });

  test('Ctrl-C tears everything down: no namespace, veth, rule, process, or file is left', async () => {
    const before = runNamespaces(runId);
    assert.ok(before.length >= 7, `the run's namespaces exist while it runs: ${before.join(', ')}`);
    assert.ok(runProcesses(runId).length >= 10);
    const { code } = await up.stop('SIGINT');
    assert.equal(code, 130);
    assert.match(up.lines.at(-1)!, new RegExp(`^✓ torn down in [\\d.]+ s.*: no namespace, rule, process or file of run ${runId} is left$`));
    assert.deepEqual(runNamespaces(runId), []);
    assert.deepEqual(runProcesses(runId), []);
    assert.deepEqual([...rootLinks()].filter((l) => !linksBefore.has(l)), []);
    assert.deepEqual(rootTrellisRules(), rulesBefore);
    assert.ok(!exists(up.stateFile), 'state file removed');
    assert.ok(!exists(`/run/trellis/up-${runId}`), 'run directory removed');
    assert.deepEqual(readdirSync('/etc/netns').filter((n) => n.startsWith(`trellis-${runId}-`)), []);
    assert.ok(!exists(`/run/trellis-netns/${runId}.pid`));
    const none = up.cli(['get', 'pods']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no mesh is running \(no state file at /);
  });
});

describe('trellis up after a crash', { skip, timeout: 120_000 }, () => {
  let dir: string;
  let first: UpRun | undefined;
  let second: UpRun | undefined;

  before(() => {
    dir = fixtureCopy('up-small');
  });

  after(async () => {
    await first?.dispose();
    await second?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a killed up (SIGKILL) leaves namespaces, the next up removes them and says so', async () => {
    first = new UpRun(dir);
    const runId = (await first.waitFor(/^✓ run ([0-9a-f]{6}) /, 30_000))[1]!;
    await first.waitFor(/^✓ all proxies SYNCED/, 60_000);
    await first.stop('SIGKILL');
    assert.ok(runNamespaces(runId).length >= 3, 'SIGKILL gives no chance to clean up');
    // Its children die with it (the parent-death signal); the namespaces stay until someone removes them.
    for (let i = 0; i < 40 && runProcesses(runId).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(runProcesses(runId), []);
    const stale = first.cli(['get', 'pods', '-A']);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /left by a trellis up that is gone/);

    second = new UpRun(dir, {});
    // The same state file as the crashed run, which the sweep must remove, not mistake for a live mesh.
    const m = await second.waitFor(new RegExp(`^✓ removed leftovers of a crashed run: stale run: run ${runId} \\(pid \\d+, netns, `), 30_000);
    assert.ok(m);
    await second.waitFor(new RegExp(`^✓ removed leftovers of a crashed run: stale network namespaces removed: .*trellis-${runId}-node`), 30_000);
    assert.deepEqual(runNamespaces(runId), []);
    assert.ok(!exists(`/run/trellis/up-${runId}`));
    await second.waitFor(/^✓ all proxies SYNCED/, 60_000);
    const { code } = await second.stop('SIGTERM');
    assert.equal(code, 143);
  });
});
