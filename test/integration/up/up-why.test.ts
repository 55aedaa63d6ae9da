/**
 * Why a request failed (issue 14): one `trellis up` mesh in loopback mode
 * (test/fixtures/why-mesh) where each Service fails one way, a request per
 * response flag through the client pod's real sidecar (and the server's):
 * UH, UF, UO, UT, URX, NR, FI, DC, DPE and an RBAC denial. For each, the
 * access-log line's flag and response code details (as Envoy writes them),
 * istio_requests_total's response_flags, and `trellis why <id>`'s
 * explanation and next command, joined with the proxies' live config.
 * `why` runs in this process against the mesh (a CLI process per request
 * would cost more CPU than the mesh), and as the CLI for its text output,
 * --log FILE and stdin. The mesh runs as root with --loopback, so this
 * process finds its run as the CLI would.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MeshState } from '../../../src/local/state-file.js';
import type { PodExecInfo } from '../../../src/local/up/running-mesh.js';
import type { WhyLine } from '../../../src/debug/why/why.js';
import { UpRun, fixtureCopy } from './up-run.js';

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'needs Linux (/proc, setpriv)';
  // As root the run's files are where this process (and the CLI) look for them.
  if (process.getuid?.() !== 0) return 'reads the run of a trellis up started as root';
  return false;
}

interface WhyJson {
  lines: WhyLine[];
}

/** One request through a sidecar listener; `abortAfterMs` hangs up before the answer (DC). */
function send(addr: string, path: string, id: string, host: string, abortAfterMs?: number): Promise<number> {
  const [h, p] = addr.split(':');
  return new Promise((resolve, reject) => {
    const req = http.get({ host: h, port: Number(p), path, headers: { host, 'x-request-id': id }, agent: false, timeout: 8000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy(new Error(`no answer to ${id} in 8 s`)));
    req.once('error', (err) => (abortAfterMs !== undefined ? resolve(0) : reject(err)));
    if (abortAfterMs !== undefined) setTimeout(() => req.destroy(), abortAfterMs);
  });
}

/** Raw bytes to a sidecar listener; resolves with what came back when the proxy closes the connection. */
function raw(addr: string, bytes: string): Promise<string> {
  const [h, p] = addr.split(':');
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(p), h!, () => s.write(bytes));
    let got = '';
    s.setEncoding('latin1').on('data', (d: string) => (got += d));
    s.setTimeout(5000, () => s.destroy(new Error('the proxy kept the connection open')));
    s.once('close', () => resolve(got));
    s.once('error', reject);
  });
}

describe('trellis why: every response flag caused for real and explained', { skip: skipReason(), timeout: 120_000 }, () => {
  let dir: string;
  let up: UpRun;
  let runDir: string;
  let client: MeshState['pods'][number];
  let server: MeshState['pods'][number];
  const svc: Record<string, string> = {};
  const id = (k: string) => `why-${process.pid}-${k}`;
  const why = new Map<string, WhyJson>();
  let uoIds: string[] = [];
  let dpeAnswer = '';
  let tmp: string | undefined;
  let cliText: { code: number; stdout: string; stderr: string };
  let fromFile: { code: number; stdout: string; stderr: string };
  let unknown: { code: number; stdout: string; stderr: string };
  let garbageAnswer = '';

  before(async () => {
    dir = fixtureCopy('why-mesh');
    up = new UpRun(dir, { args: ['--loopback'] });
    // The mesh's state file for why() here, as TRELLIS_STATE_FILE is for the CLI (read once, at import).
    process.env.TRELLIS_STATE_FILE = up.stateFile;
    const { why: whyIn } = await import('../../../src/debug/why/why.js');
    const m = await up.waitFor(/^✓ run [0-9a-f]{6} \(files in (\S+)\): loopback mode/, 30_000);
    runDir = m[1]!;
    await up.waitFor(/^✓ all proxies SYNCED/, 60_000);
    const state = JSON.parse(readFileSync(up.stateFile, 'utf8')) as MeshState;
    client = state.pods.find((p) => p.name.startsWith('client-'))!;
    server = state.pods.find((p) => p.name.startsWith('server-'))!;
    // The client pod's view of each Service (where its sidecar listens for it in loopback mode), as its
    // environment says: read from the exec details trellis up keeps (what `trellis exec` runs with).
    const info = JSON.parse(readFileSync(join(runDir, 'pods', 'why', client.name, 'pod.json'), 'utf8')) as PodExecInfo;
    const env = info.containers[0]!.env;
    for (const name of ['backend', 'limited', 'nothere', 'closed', 'partial']) svc[name] = `${env[`${name.toUpperCase()}_SERVICE_HOST`]}:${env[`${name.toUpperCase()}_SERVICE_PORT`]}`;
    // The server pod gets ready, then its endpoint reaches the client's sidecar a push later: bounded.
    const warm = (i: number) => send(svc.backend!, '/', id(`warm${i}`), 'backend:8080').catch(() => 0);
    for (let i = 0; i < 80 && (await warm(i)) !== 200; i++) await new Promise((r) => setTimeout(r, 250));

    const uo = [1, 2, 3, 4].map((i) => id(`uo${i}`));
    const [codes] = await Promise.all([
      Promise.all(uo.map((u) => send(svc.limited!, '/hold', u, 'limited:8080'))),
      send(svc.nothere!, '/', id('uh'), 'nothere:8080'),
      send(svc.closed!, '/', id('uf'), 'closed:8080'),
      send(svc.backend!, '/slow', id('ut'), 'backend:8080'),
      send(svc.backend!, '/fail', id('urx'), 'backend:8080'),
      send(svc.partial!, '/other', id('nr'), 'partial:8080'),
      send(svc.backend!, '/fault', id('fi'), 'backend:8080'),
      send(svc.backend!, '/denied', id('rbac'), 'backend:8080'),
      send(svc.backend!, '/hold', id('dc'), 'backend:8080', 300),
      raw(svc.backend!, `POST /upload HTTP/1.1\r\nhost: backend:8080\r\nx-request-id: ${id('dpe')}\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n`).then((a) => (dpeAnswer = a)),
      raw(svc.backend!, 'GET / HTTP/1.1\r\nhost: backend:8080\r\nno colon here\r\n\r\n').then((a) => (garbageAnswer = a)),
    ]);
    uoIds = uo.filter((_u, i) => codes[i] === 503);
    // The server's sidecar logs the DC once the client's sidecar has cancelled: ask when both lines are there.
    const ask = async (k: string, want = 1): Promise<void> => {
      let lines: WhyLine[] = [];
      for (let i = 0; i < 20; i++) {
        lines = await whyIn({ requestId: k === 'uo' ? uoIds[0]! : id(k), output: 'json' }).catch(() => []);
        if (lines.length >= want) return void why.set(k, { lines });
        await new Promise((res) => setTimeout(res, 200));
      }
      throw new Error(`trellis why ${id(k)} found ${lines.length} of ${want} lines`);
    };
    // URX: the client's line and the server's three attempts.
    await Promise.all([ask('uh'), ask('uf', 2), ask('ut', 2), ask('urx', 4), ask('nr'), ask('fi'), ask('rbac', 2), ask('dc', 2), ask('dpe'), ...(uoIds.length > 0 ? [ask('uo')] : [])]);
    // --log: the client's log as any Envoy-format file, and as stdin; no mesh config is read for it.
    const log = readFileSync(join(runDir, 'pods', 'why', client.name, 'istio-proxy.log'));
    tmp = mkdtempSync(join(tmpdir(), 'trellis-why-'));
    const file = join(tmp, 'access.log');
    writeFileSync(file, log);
    [cliText, fromFile, unknown] = await Promise.all([
      up.cliAsync(['why', id('uh')]),
      up.cliAsync(['why', id('uh'), '--log', file]),
      up.cliAsync(['why', 'no-such-request', '--log', '-'], 20_000, log.toString('utf8')),
    ]);
  });

  after(async () => {
    await up?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** The line of one side, with its flag and details as the access log wrote them. */
  function line(k: string, side: 'client' | 'server', flags: string, details: string): WhyJson['lines'][number] {
    const l = why.get(k)!.lines.find((x) => x.side === side && x.entry.flags.join(',') === (flags === '-' ? '' : flags));
    assert.ok(l, `${k}: no ${side} line with ${flags} in ${JSON.stringify(why.get(k)!.lines.map((x) => x.line), null, 1)}`);
    assert.equal(l.entry.details, details, l.line);
    assert.ok(l.line.includes(` ${flags} ${details} `), l.line);
    return l;
  }
  const clientPod = () => `${client.name}.why`;
  const serverPod = () => `${server.name}.why`;

  test('UH: no endpoints — the cluster, 0 healthy of 0, its Service; next: its endpoints', () => {
    const l = line('uh', 'client', 'UH', 'no_healthy_upstream');
    assert.equal(l.entry.responseCode, 503);
    assert.equal(l.flagLong, 'NoHealthyUpstream');
    assert.match(l.sentence, /cluster outbound\|8080\|\|nothere\.why\.svc\.cluster\.local \(built for Service why\/nothere\) has 0 healthy endpoints of 0/);
    assert.equal(l.next, `trellis proxy-config endpoints ${clientPod()} --cluster 'outbound|8080||nothere.why.svc.cluster.local'`);
  });

  test('UF: a closed port — refused on the server side (errno 111), retries exhausted on the client side', () => {
    const s = line('uf', 'server', 'UF', 'upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_111}');
    assert.equal(s.flagLong, 'UpstreamConnectionFailure');
    assert.match(s.sentence, /connecting to 127\.\d+\.1\.\d+:9999 of inbound\|9999\|\|, the connection was refused/);
    assert.equal(s.next, `trellis proxy-config endpoints ${serverPod()} --cluster 'inbound|9999||'`);
    const c = line('uf', 'client', 'URX', 'via_upstream');
    assert.match(c.sentence, /under 2 retries on connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes/);
  });

  test('UO: maxConnections 1 and http1MaxPendingRequests 1 overflow under concurrent requests — the DestinationRule', () => {
    assert.ok(uoIds.length >= 1, 'some of 4 concurrent requests overflow');
    const l = line('uo', 'client', 'UO', 'upstream_reset_before_response_started{overflow}');
    assert.equal(l.flagLong, 'UpstreamOverflow');
    assert.match(l.sentence, /\(maxConnections 1, http1MaxPendingRequests 1\), set by DestinationRule why\/limited's trafficPolicy\.connectionPool/);
    assert.equal(l.next, `trellis proxy-config clusters ${clientPod()} --fqdn 'limited.why.svc.cluster.local' -o json`);
  });

  test('UT: a slow backend and the VirtualService timeout; the server side sees the client sidecar go (DC)', () => {
    const l = line('ut', 'client', 'UT', 'upstream_response_timeout');
    assert.equal(l.entry.responseCode, 504);
    assert.match(l.sentence, /within the route timeout 500ms set by VirtualService why\/backend/);
    assert.equal(l.next, `trellis proxy-config routes ${clientPod()} -o json`);
    const s = line('ut', 'server', 'DC', 'downstream_remote_disconnect');
    assert.match(s.sentence, new RegExp(`That client was ${client.name}\\.why's sidecar, which gave up first: UT \\(UpstreamRequestTimeout\\) on the client side\\.$`));
  });

  test('URX: retries exhausted on a 503 backend — the retry policy and its VirtualService; 3 attempts on the server', () => {
    const l = line('urx', 'client', 'URX', 'via_upstream');
    assert.equal(l.flagLong, 'UpstreamRetryLimitExceeded');
    assert.match(l.sentence, /last answer 503, via_upstream\) under 2 retries on 5xx from VirtualService why\/backend/);
    assert.equal(why.get('urx')!.lines.filter((x) => x.side === 'server').length, 3);
  });

  test('NR: the authority selects a virtual host whose only route is /api*', () => {
    const l = line('nr', 'client', 'NR', 'route_not_found');
    assert.equal(l.entry.responseCode, 404);
    assert.match(l.sentence, /route configuration 8080 the authority partial:8080 selects virtual host partial\.why\.svc\.cluster\.local:8080, and none of its routes \(\/api\*\) matches GET \/other/);
    assert.equal(l.next, `trellis proxy-config routes ${clientPod()} --name 8080 -o json`);
  });

  test('FI: the VirtualService fault abort', () => {
    const l = line('fi', 'client', 'FI', 'fault_filter_abort');
    assert.equal(l.entry.responseCode, 418);
    assert.match(l.sentence, /VirtualService why\/backend's fault abort 418 for 100% of requests/);
  });

  test('RBAC: the DENY AuthorizationPolicy and rule from the server side; the client passed the 403 on', () => {
    const l = line('rbac', 'server', '-', 'rbac_access_denied_matched_policy[ns[why]-policy[deny-denied]-rule[0]]');
    assert.match(l.sentence, /AuthorizationPolicy why\/deny-denied \(DENY, rule 0\) matched/);
    assert.equal(l.next, `trellis describe pod ${serverPod()}`);
    line('rbac', 'client', '-', 'via_upstream');
  });

  test('DC: the client hung up before the response — on both sidecars', () => {
    const l = line('dc', 'client', 'DC', 'downstream_remote_disconnect');
    assert.equal(l.entry.responseCode, 0);
    assert.equal(l.flagLong, 'DownstreamConnectionTermination');
    line('dc', 'server', 'DC', 'downstream_remote_disconnect');
  });

  test('DPE: a malformed chunked body after a good head is 400 DPE http1.codec_error, and a bad head is logged as Envoy does', () => {
    assert.match(dpeAnswer, /^HTTP\/1\.1 400 /);
    assert.match(garbageAnswer, /^HTTP\/1\.1 400 /);
    const l = line('dpe', 'client', 'DPE', 'http1.codec_error');
    assert.equal(l.entry.responseCode, 400);
    assert.equal(l.flagLong, 'DownstreamProtocolError');
    assert.match(l.sentence, /malformed HTTP request \(http1\.codec_error\)/);
    const log = readFileSync(join(runDir, 'pods', 'why', client.name, 'istio-proxy.log'), 'utf8');
    assert.match(log, /"- - HTTP\/1\.1" 400 DPE http1\.codec_error - "-" 0 0 \d+ - "-" "-" "-" "-" "-" - - \S+ 127\.0\.0\.1:\d+ /);
  });

  test("istio_requests_total carries each flag in response_flags (client and server sidecars)", async () => {
    const metrics = async (admin: string) => {
      const r = await fetch(`http://${admin}/stats/prometheus`);
      return r.text();
    };
    const [c, s] = await Promise.all([metrics(client.admin!), metrics(server.admin!)]);
    for (const f of ['UH', 'UO', 'UT', 'URX', 'NR', 'FI', 'DC', 'DPE']) assert.match(c, new RegExp(`^istio_requests_total\\{[^}]*response_flags="${f}"[^}]*\\} [1-9]`, 'm'), `client: ${f}`);
    for (const f of ['UF', 'DC']) assert.match(s, new RegExp(`^istio_requests_total\\{[^}]*response_flags="${f}"[^}]*\\} [1-9]`, 'm'), `server: ${f}`);
  });

  test('the CLI against the mesh: text with the line, the sentence and the next command', () => {
    assert.equal(cliText.code, 0, cliText.stderr);
    assert.match(cliText.stdout, new RegExp(`^request ${id('uh')}: GET / \\(authority nothere:8080\\)\n\nclient side, ${client.name}\\.why: 503 UH \\(NoHealthyUpstream\\) no_healthy_upstream\n {2}No healthy upstream: .* has 0 healthy endpoints of 0.*\n {2}next: trellis proxy-config endpoints ${client.name}\\.why --cluster 'outbound\\|8080\\|\\|nothere\\.why\\.svc\\.cluster\\.local'\n {2}line: \\[`));
  });

  test('--log FILE without a mesh: the line alone explained; an unknown id (stdin) is REQUEST_NOT_FOUND', () => {
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stdout, /: 503 UH \(NoHealthyUpstream\) no_healthy_upstream\n {2}No healthy upstream: the cluster outbound\|8080\|\|nothere\.why\.svc\.cluster\.local \(built for Service why\/nothere\) had no healthy endpoint\./);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no access-log line with x-request-id no-such-request in stdin/);
  });
});
