/**
 * `trellis up` with an ambient namespace and the REAL node proxy (`trellis
 * ztunnel`), end to end, as root with network namespaces. The fixture
 * (test/fixtures/up-ambient-e2e) has, in the ambient namespace `amb`, a
 * client A (sa client), another client (sa other) and a server B behind the
 * Service `server`; in `outside` a pod outside the mesh. Checked, over real
 * sockets and with Debian's curl, tcpdump and openssl: A's unmodified curl
 * reaches B by Service name and by pod IP and B's app sees A's IP; only TLS
 * to B's 15008 crosses B's veth (a plain-text request from outside, captured
 * alongside, proves the capture sees clear text); openssl s_client to
 * B_IP:15008 gets TLS 1.3, h2 and B's SPIFFE leaf, and is refused without a
 * client certificate; an L4 AuthorizationPolicy (DENY A's principal) added to
 * the mesh's YAML stops A but not the other client, and its removal lets A
 * through again; PeerAuthentication STRICT refuses the outside pod,
 * PERMISSIVE lets it in again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { podCommand, runInPod } from '../../../src/local/netns/index.js';
import { skipReason } from '../e2e/two-pod-mesh.js';
import { UpRun, fixtureCopy } from './up-run.js';

const skip = skipReason() || (spawnSync('sh', ['-c', 'command -v tcpdump && command -v openssl']).status !== 0 ? 'needs tcpdump and openssl' : false);
const APP_UID = 1000;

interface StatePod { name: string; namespace: string; ip: string; netns: string }

describe('trellis up: ambient pods through the real node proxy', { skip, timeout: 120_000 }, () => {
  let dir: string;
  let up: UpRun;
  let A: StatePod;
  let other: StatePod;
  let B: StatePod;
  let outsider: StatePod;

  /**
   * curl inside the pod as its app's user, as a workload would run it (bounded). Straight into the namespace, not
   * `trellis exec` (the first test's path): no Node start per probe in the polls.
   */
  const curl = (from: StatePod, url: string, extra: string[] = []) =>
    runInPod(from.netns, 'curl', ['-sS', '--max-time', '3', ...extra, url], { uid: APP_UID, timeoutMs: 5_000 });
  const byName = (prefix: string, namespace: string): StatePod => {
    const p = (JSON.parse(readFileSync(up.stateFile, 'utf8')) as { pods: StatePod[] }).pods.find((x) => x.namespace === namespace && x.name.startsWith(prefix));
    assert.ok(p, `no pod ${namespace}/${prefix}`);
    return p;
  };
  /** Polls until `ok` holds for a fresh result of `probe` (bounded in count and time); returns that result. */
  async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: T | undefined;
    for (let i = 0; i < 200 && Date.now() < deadline; i++) {
      last = await probe();
      if (ok(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${what} not within ${timeoutMs} ms; last: ${JSON.stringify(last)?.slice(0, 600)}\nup:\n${up.lines.slice(-20).join('\n')}`);
  }

  before(async () => {
    dir = fixtureCopy('up-ambient-e2e');
    up = new UpRun(dir);
    await up.waitFor(/^✓ pods: 4 started \(0 with sidecars, 3 ambient\)/, 60_000);
    await up.allReady();
    A = byName('client-', 'amb');
    other = byName('other-', 'amb');
    B = byName('server-', 'amb');
    outsider = byName('outsider', 'outside');
    // The server app listening is part of ready only for sidecar pods: wait for it through the mesh once.
    await until('the server answering A', () => curl(A, 'http://server.amb/'), (r) => r.code === 0);
  });

  after(async () => {
    await up?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('an unmodified curl in ambient pod A (trellis exec) reaches B by Service name and by pod IP; B sees A\'s pod IP', async () => {
    const [svc, ip] = await Promise.all([
      up.cliAsync(['exec', '-n', 'amb', 'deploy/client', '--', 'curl', '-sS', '--max-time', '5', 'http://server.amb/by-name']),
      up.cliAsync(['exec', '-n', 'amb', 'deploy/client', '--', 'curl', '-sS', '--max-time', '5', `http://${B.ip}:8080/by-ip`]),
    ]);
    assert.equal(svc.code, 0, svc.stderr);
    assert.equal(svc.stdout.trim(), `${B.name} from=${A.ip} path=/by-name`);
    assert.equal(ip.code, 0, ip.stderr);
    assert.equal(ip.stdout.trim(), `${B.name} from=${A.ip} path=/by-ip`);
  });

  test('only TLS crosses B\'s veth: A\'s request and B\'s answer never in clear, every packet to B is to 15008', async () => {
    const work = mkdtempSync(join(tmpdir(), 'trellis-up-e2e-pcap-'));
    const pcap = join(work, 'b.pcap');
    let tcpdump: ChildProcess | undefined;
    try {
      const [bin, ...args] = podCommand(B.netns, 'tcpdump', ['-i', 'eth0', '-Z', 'root', '--immediate-mode', '-nn', '-U', '-w', pcap, 'tcp', 'and', 'host', B.ip]);
      tcpdump = spawn(bin!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      const t = tcpdump;
      await new Promise<void>((resolve, reject) => {
        let err = '';
        const timer = setTimeout(() => reject(new Error(`tcpdump not listening within 5 s: ${err}`)), 5_000);
        t.stderr!.setEncoding('utf8').on('data', (d: string) => {
          err += d;
          if (/listening on eth0/.test(err)) (clearTimeout(timer), resolve());
        });
        t.once('exit', (code) => (clearTimeout(timer), reject(new Error(`tcpdump exited ${code}: ${err}`))));
      });
      const secret = `ambient-secret-${randomBytes(8).toString('hex')}`;
      const clear = `plain-control-${randomBytes(8).toString('hex')}`;
      const viaMesh = await curl(A, `http://server.amb/${secret}`, ['-H', `x-secret: ${secret}`]);
      assert.equal(viaMesh.stdout.trim(), `${B.name} from=${A.ip} path=/${secret}`, viaMesh.stderr);
      // The control: the outside pod's plain-text request (PERMISSIVE, the default) is in the same capture in clear.
      const plain = await curl(outsider, `http://${B.ip}:8080/${clear}`);
      assert.equal(plain.stdout.trim(), `${B.name} from=${outsider.ip} path=/${clear}`, plain.stderr);
      // The control's answer came after A's: once it is written, A's packets are too.
      const bytes = await until('the plain-text control in the capture', async () => readFileSync(pcap), (b) => b.includes(clear), 3_000);
      tcpdump.kill('SIGINT');
      await new Promise((r) => (t.exitCode !== null ? r(undefined) : t.once('exit', r)));
      assert.ok(!bytes.includes(secret), 'A\'s path, header or B\'s echo of it crossed the veth in clear');
      const toB = spawnSync('tcpdump', ['-r', pcap, '-nn', '-q', 'dst', 'host', B.ip], { encoding: 'utf8' }).stdout.trim().split('\n')
        .map((l) => / IP (\d+\.\d+\.\d+\.\d+)\.\d+ > [\d.]+\.(\d+):/.exec(l)).filter((m) => m !== null)
        .map((m) => ({ src: m[1]!, port: Number(m[2]) }));
      // The node proxy dials HBONE from inside A's namespace: A's packets to B leave by A's veth with A's address.
      const meshed = toB.filter((p) => p.src !== outsider.ip);
      assert.ok(meshed.length > 0, 'A\'s request crossed B\'s veth');
      assert.deepEqual([...new Set(meshed.map((p) => `${p.src}:${p.port}`))], [`${A.ip}:15008`]);
      assert.ok(toB.some((p) => p.src === outsider.ip && p.port === 8080), 'the control went to 8080 in clear');
    } finally {
      if (tcpdump && tcpdump.exitCode === null) tcpdump.kill('SIGKILL');
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('openssl s_client -tls1_3 -alpn h2 to B_IP:15008 from another pod: B\'s SPIFFE leaf, and no client certificate is refused', async () => {
    // -ign_eof keeps s_client reading after the handshake, so it sees the server's refusal (TLS 1.3 verifies the
    // client's certificate after the client's Finished); a server that accepted would keep it open until the timeout.
    const r = await runInPod(outsider.netns, 'timeout', ['5', 'openssl', 's_client', '-tls1_3', '-alpn', 'h2', '-ign_eof', '-connect', `${B.ip}:15008`], { uid: APP_UID, timeoutMs: 8_000 });
    const out = r.stdout + r.stderr;
    assert.match(out, /New, TLSv1\.3, Cipher is/, out);
    assert.match(out, /ALPN protocol: h2/);
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(r.stdout)?.[0];
    assert.ok(pem, 'the server sent a certificate');
    assert.equal(new X509Certificate(pem).subjectAltName, 'URI:spiffe://cluster.local/ns/amb/sa/server');
    assert.notEqual(r.code, 124, 'the server kept a connection without a client certificate open');
    assert.match(out, /tlsv13 alert certificate required/);
  });

  test('an L4 AuthorizationPolicy denying A\'s principal, added to the YAML, stops A but not another client; removed, A passes again', async () => {
    const policy = join(dir, 'deny-client.yaml');
    writeFileSync(policy, [
      'apiVersion: security.istio.io/v1',
      'kind: AuthorizationPolicy',
      'metadata: {name: deny-client, namespace: amb}',
      'spec:',
      '  selector: {matchLabels: {app: server}}',
      '  action: DENY',
      '  rules:',
      '  - from: [{source: {principals: [cluster.local/ns/amb/sa/client]}}]',
      '',
    ].join('\n'));
    try {
      const denied = await until('A denied', () => curl(A, 'http://server.amb/denied'), (r) => r.code !== 0);
      assert.doesNotMatch(denied.stdout, /from=/);
      const o = await curl(other, 'http://server.amb/other');
      assert.equal(o.stdout.trim(), `${B.name} from=${other.ip} path=/other`, o.stderr);
      // Refused again after the other client passed: a policy, not a moment of reconfiguration.
      assert.notEqual((await curl(A, 'http://server.amb/denied-again')).code, 0);
    } finally {
      rmSync(policy, { force: true });
    }
    await until('A allowed again', () => curl(A, 'http://server.amb/again'), (r) => r.code === 0 && r.stdout.includes(`from=${A.ip}`));
  });

  test('PeerAuthentication STRICT: the pod outside the mesh is refused by B (A still passes); PERMISSIVE lets it in again', async () => {
    const pa = join(dir, 'peer-authentication.yaml');
    const write = (mode: string) => writeFileSync(pa, `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: mtls, namespace: amb}\nspec: {mtls: {mode: ${mode}}}\n`);
    write('STRICT');
    try {
      await until('the outside pod refused', () => curl(outsider, `http://${B.ip}:8080/strict`), (r) => r.code !== 0);
      const a = await curl(A, 'http://server.amb/strict');
      assert.equal(a.stdout.trim(), `${B.name} from=${A.ip} path=/strict`, a.stderr);
      assert.notEqual((await curl(outsider, `http://${B.ip}:8080/strict-again`)).code, 0);
      write('PERMISSIVE');
      const back = await until('the outside pod allowed', () => curl(outsider, `http://${B.ip}:8080/permissive`), (r) => r.code === 0);
      assert.equal(back.stdout.trim(), `${B.name} from=${outsider.ip} path=/permissive`);
    } finally {
      rmSync(pa, { force: true });
    }
  });
});
