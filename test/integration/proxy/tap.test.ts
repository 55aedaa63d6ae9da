/**
 * `trellis tap` and the proxy's /tap: the real proxy binary against the fake
 * ADS server, tappers as real HTTP clients of its admin API, the CLI as a
 * real child process.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import type { TapEvent } from '../../../src/proxy/tap/tap-event.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { closeServed, echoBackend, eventually, startBackend, startServed, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, prefixRoute, routeConfig } from './xds-builders.js';
import { TrellisProcess, trellisBin } from '../../helpers/trellis-process.js';

/** A tapper: GET /tap with `query`, its events parsed as they come. */
interface Tap {
  events: TapEvent[];
  raw(): string;
  /** Resolves when the proxy ends the stream (not when it is reset). */
  ended: Promise<void>;
  waitFor(n: number, timeoutMs?: number): Promise<TapEvent[]>;
  close(): void;
}

function openTap(adminPort: number, query: string): Promise<Tap> {
  return new Promise((resolve, reject) => {
    const events: TapEvent[] = [];
    let raw = '';
    let rest = '';
    const req = http.get({ host: '127.0.0.1', port: adminPort, path: `/tap?${query}`, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`tap answered ${res.statusCode}`));
      res.setEncoding('utf8').on('data', (c: string) => {
        raw += c;
        const lines = (rest + c).split('\n');
        rest = lines.pop()!;
        for (const l of lines) events.push(JSON.parse(l) as TapEvent);
      });
      res.on('error', () => {});
      // A reset (the proxy killed) rejects: the caller fails rather than waits.
      const ended = new Promise<void>((r, j) => { res.on('end', r); res.on('close', () => j(new Error('tap stream reset, not ended'))); });
      ended.catch(() => {});
      resolve({
        ended,
        events,
        raw: () => raw,
        waitFor: (n, timeoutMs = 3000) => eventually(() => events.length >= n && events, timeoutMs, () => `${n} tap events, have ${events.length}`),
        close: () => req.destroy(),
      });
    });
    req.on('error', (e) => reject(e));
  });
}

const micros = (d: { seconds: number; nanos: number }) => d.seconds * 1e6 + d.nanos / 1e3;
const kind = (e: TapEvent) => (e.requestInitEvent ? 'req' : e.responseInitEvent ? 'rsp' : e.responseEndEvent ? 'end' : '?');
const idOf = (e: TapEvent) => (e.requestInitEvent ?? e.responseInitEvent ?? e.responseEndEvent)!.id.stream;

describe('proxy: tap', () => {
  const ads = new FakeAdsServer();
  const backends: Backend[] = [];
  const agent = new Agent({ connections: 8 });
  let proxy: RunningProxy;
  let port = 0;
  let aPort = 0;

  const send = async (path: string, opts: { method?: string; headers?: Record<string, string> } = {}) => {
    const t0 = process.hrtime.bigint();
    const r = await request(`http://127.0.0.1:${port}${path}`, { method: (opts.method ?? 'GET') as 'GET', headers: opts.headers ?? {}, dispatcher: agent });
    const body = await r.body.text();
    return { status: r.statusCode, body, micros: Number(process.hrtime.bigint() - t0) / 1000 };
  };
  const stat = async (name: string) => {
    const j = JSON.parse((await proxy.admin('/stats?format=json')).body) as { stats: Array<{ name: string; value: number }> };
    return j.stats.find((s) => s.name === name)?.value ?? 0;
  };

  before(async () => {
    const a = await echoBackend('a');
    const cookies = await startBackend((req, res) => {
      req.resume();
      res.writeHead(200, { 'set-cookie': 'session=s3cr3t-session', 'x-visible-response': 'shown' }).end('ok');
    });
    backends.push(a, cookies);
    aPort = a.port;
    ads.setAll(TypeUrl.Cluster, [['a', edsCluster('a')], ['cookies', edsCluster('cookies')], ['empty', edsCluster('empty')]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [['a', endpoints('a', [a.port])], ['cookies', endpoints('cookies', [cookies.port])], ['empty', endpoints('empty', [])]]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes', 0, undefined, { maxRequestHeadersKb: 96 })]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{
      name: 'main',
      domains: ['*'],
      routes: [
        { ...prefixRoute('/k/nohost', 'empty'), name: 'nohost' },
        { ...prefixRoute('/k', 'a'), name: 'k' },
        { ...prefixRoute('/h', 'cookies'), name: 'h' },
        // Answered by the proxy: big request heads without a backend's header limit.
        { name: 'slow', match: { pathSpecifier: { case: 'prefix', value: '/slow' } }, action: { case: 'directResponse', value: { status: 200 } } },
        { ...prefixRoute('/', 'a'), name: 'default' },
      ],
    }])]]);
    ({ proxy, port } = await startServed(ads, 'http'));
  });

  after(() => closeServed(agent, proxy, ads, backends));

  test('K requests give K ordered req/rsp/end events with status, latency, bytes, route, cluster, endpoint and flags', async () => {
    const tap = await openTap(proxy.adminPort, 'path=/k');
    const K = 5;
    const sent: Array<{ path: string; status: number; micros: number; bytes: number }> = [];
    for (let i = 0; i < K; i++) {
      const r = await send(`/k/${i}?q=1`);
      sent.push({ path: `/k/${i}`, status: r.status, micros: r.micros, bytes: Buffer.byteLength(r.body) });
    }
    const uh = await send('/k/nohost');
    const events = await tap.waitFor(3 * (K + 1));
    tap.close();
    assert.equal(events.length, 3 * (K + 1));
    const byId = new Map<number, TapEvent[]>();
    for (const e of events) byId.set(idOf(e), [...(byId.get(idOf(e)) ?? []), e]);
    assert.equal(byId.size, K + 1);
    const streams = [...byId.values()];
    for (const [i, s] of sent.entries()) {
      const evs = streams[i]!;
      assert.deepEqual(evs.map(kind), ['req', 'rsp', 'end'], `request ${i}: start before headers before end`);
      const [req, rsp, end] = evs as [TapEvent, TapEvent, TapEvent];
      assert.equal(req.requestInitEvent!.path, s.path);
      assert.equal(req.requestInitEvent!.method, 'GET');
      assert.equal(req.proxyDirection, 'OUTBOUND');
      assert.equal(rsp.responseInitEvent!.httpStatus, s.status);
      const latency = micros(rsp.responseInitEvent!.sinceRequestInit);
      assert.ok(latency > 0 && latency <= s.micros, `latency ${latency}µs within the client's ${s.micros}µs`);
      // The end comes after the last byte is written: the client may have read it a moment before.
      assert.ok(micros(end.responseEndEvent!.sinceRequestInit) >= latency);
      assert.equal(end.responseEndEvent!.responseBytes, s.bytes);
      assert.equal(end.responseEndEvent!.responseFlags, '-');
      for (const e of [rsp, end]) {
        assert.equal(e.routeMeta.route, 'k');
        assert.equal(e.destination.metadata.cluster, 'a');
        assert.equal(e.destination.metadata.endpoint, `127.0.0.1:${aPort}`);
      }
    }
    const [, rsp, end] = streams[K]! as [TapEvent, TapEvent, TapEvent];
    assert.equal(uh.status, 503);
    assert.equal(rsp.responseInitEvent!.httpStatus, 503);
    assert.equal(end.responseEndEvent!.responseFlags, 'UH');
    assert.equal(end.routeMeta.route, 'nohost');
  });

  test('path, method and authority select the requests a tapper sees', async () => {
    const tap = await openTap(proxy.adminPort, 'path=/f&method=post&authority=Sel.local');
    await send('/f/1', { headers: { host: 'sel.local' } });
    await send('/f/2', { method: 'POST', headers: { host: 'other.local' } });
    await send('/g/3', { method: 'POST', headers: { host: 'sel.local' } });
    await send('/f/4', { method: 'POST', headers: { host: 'sel.local' } });
    const events = await tap.waitFor(3);
    // Events arrive in order on one stream: anything the filters let through would be before /f/4's end.
    await eventually(() => events.some((e) => e.responseEndEvent), 3000, 'the end of /f/4');
    tap.close();
    assert.deepEqual(events.filter((e) => e.requestInitEvent).map((e) => e.requestInitEvent!.path), ['/f/4']);
    assert.equal(events.length, 3);
  });

  test('--max-rps holds: requests over the rate are dropped and counted', async () => {
    const dropped0 = await stat('tap.rq_dropped_max_rps');
    const tap = await openTap(proxy.adminPort, 'path=/r&max_rps=2');
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) assert.equal((await send(`/r/${i}`)).status, 200);
    const elapsedS = (Date.now() - t0) / 1000;
    await tap.waitFor(6);
    // The bucket holds 2 and refills at 2/s: what the rate allows over the time the requests took.
    const allowed = 2 + Math.floor(elapsedS * 2);
    await eventually(async () => (await stat('tap.rq_dropped_max_rps')) - dropped0 >= 10 - allowed, 2000, 'drops counted');
    tap.close();
    const tapped = tap.events.filter((e) => e.requestInitEvent).length;
    assert.ok(tapped >= 2 && tapped <= allowed, `${tapped} tapped, at most ${allowed}`);
    assert.equal((await stat('tap.rq_dropped_max_rps')) - dropped0, 10 - tapped);
  });

  test('headers only when asked for, with authorization, proxy-authorization, cookie and set-cookie redacted', async () => {
    const withHeaders = await openTap(proxy.adminPort, 'path=/h&headers=true');
    const without = await openTap(proxy.adminPort, 'path=/h');
    await send('/h/1', { headers: { authorization: 'Bearer s3cr3t-token', 'proxy-authorization': 'Basic s3cr3t-proxy', cookie: 'id=s3cr3t-cookie', 'x-visible': 'shown' } });
    const [req, rsp] = await withHeaders.waitFor(3);
    await without.waitFor(3);
    withHeaders.close();
    without.close();
    const h = (list: Array<{ name: string; valueStr: string }>) => Object.fromEntries(list.map((x) => [x.name, x.valueStr]));
    const rq = h(req!.requestInitEvent!.headers);
    assert.equal(rq.authorization, 'REDACTED');
    assert.equal(rq['proxy-authorization'], 'REDACTED');
    assert.equal(rq.cookie, 'REDACTED');
    assert.equal(rq['x-visible'], 'shown');
    const rs = h(rsp!.responseInitEvent!.headers);
    assert.equal(rs['set-cookie'], 'REDACTED');
    assert.equal(rs['x-visible-response'], 'shown');
    assert.doesNotMatch(withHeaders.raw(), /s3cr3t/);
    assert.doesNotMatch(without.raw(), /s3cr3t|x-visible/);
    assert.deepEqual(without.events[0]!.requestInitEvent!.headers, []);
  });

  test('a tapper that disconnects is removed at once and costs nothing afterwards', async () => {
    const t1 = await openTap(proxy.adminPort, 'path=/d');
    const t2 = await openTap(proxy.adminPort, 'path=/d');
    assert.equal(await stat('tap.tappers_active'), 2);
    t1.close();
    await eventually(async () => (await stat('tap.tappers_active')) === 1, 2000, 'one tapper left');
    t2.close();
    await eventually(async () => (await stat('tap.tappers_active')) === 0, 2000, 'no tapper left');
    const tapped0 = await stat('tap.rq_tapped');
    for (let i = 0; i < 5; i++) assert.equal((await send(`/d/${i}`)).status, 200);
    assert.equal(await stat('tap.rq_tapped'), tapped0);
  });

  test('a tapper that does not read loses events (counted); the proxy neither stalls nor buffers them', async (t) => {
    // 64 KiB of header per event fills the socket buffers, then the proxy's MAX_UNREAD_BYTES.
    const stuck = net.connect(proxy.adminPort, '127.0.0.1');
    t.after(() => stuck.destroy());
    stuck.write('GET /tap?path=/slow&headers=true&max_rps=10000 HTTP/1.1\r\nhost: admin\r\n\r\n');
    stuck.pause();
    await eventually(async () => (await stat('tap.tappers_active')) === 1, 2000, 'the stuck tapper');
    const pad = 'p'.repeat(64 * 1024);
    const before = await stat('tap.events_dropped_slow_consumer');
    const statuses = await Promise.all(Array.from({ length: 400 }, (_, i) => send(`/slow/${i}`, { headers: { 'x-pad': pad } }).then((r) => r.status)));
    assert.deepEqual(statuses.filter((s) => s !== 200), []);
    assert.ok((await stat('tap.events_dropped_slow_consumer')) - before > 0, 'events dropped for the slow tapper');
    stuck.destroy();
    await eventually(async () => (await stat('tap.tappers_active')) === 0, 2000, 'the stuck tapper removed');
  });

  test('the admin API (and /tap) listens on 127.0.0.1 only; a bad tap request is a 400 with the reason', async () => {
    await assert.rejects(new Promise((resolve, reject) => {
      const s = net.connect(proxy.adminPort, '127.0.0.2', () => { s.destroy(); resolve(undefined); });
      s.on('error', reject);
    }), /ECONNREFUSED/);
    const bad = await proxy.admin('/tap?max_rps=0&path=x&colour=red');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /max_rps/);
    assert.match(bad.body, /path: a prefix starts with "\/"/);
    assert.match(bad.body, /unknown parameter "colour"/);
    assert.equal((await proxy.admin('/tap', 'POST')).status, 405);
    assert.equal(await stat('tap.tappers_active'), 0);
  });

  test('trellis tap --admin prints linkerd viz tap lines (-o wide: labels and flags); a bad flag exits 2', async () => {
    const cli = new TrellisProcess(['tap', '--admin', `127.0.0.1:${proxy.adminPort}`, '--path', '/cli', '-o', 'wide']);
    try {
      await eventually(async () => (await stat('tap.tappers_active')) === 1, 5000, 'the CLI subscribed');
      assert.equal((await send('/cli/x')).status, 200);
      const end = await cli.waitForLine((l) => l.startsWith('end '), 5000);
      const [req, rsp] = [cli.lines.find((l) => l.startsWith('req '))!, cli.lines.find((l) => l.startsWith('rsp '))!];
      const flow = `proxy=out src=127\\.0\\.0\\.1:\\d+ dst=127\\.0\\.0\\.1:${port} tls=`;
      assert.match(req, new RegExp(`^req id=0:\\d+ ${flow} :method=GET :authority=127\\.0\\.0\\.1:${port} :path=/cli/x rt_route=default rt_virtual_host=main$`));
      assert.match(rsp, new RegExp(`^rsp id=0:\\d+ ${flow} :status=200 latency=\\d+µs dst_cluster=a dst_endpoint=127\\.0\\.0\\.1:${aPort} rt_route=default`));
      assert.match(end, new RegExp(`^end id=0:\\d+ ${flow} duration=\\d+µs response-length=\\d+B response-flags=- dst_cluster=a`));
    } finally {
      await cli.stop();
    }
    assert.equal(cli.child.exitCode, 0);
    const usage = await promisify(execFile)(process.execPath, [trellisBin, 'tap', '--admin', `127.0.0.1:${proxy.adminPort}`, '--max-rps', '0']).then(() => undefined, (e: { code: number; stderr: string }) => e);
    assert.equal(usage?.code, 2);
    assert.match(usage.stderr, /--max-rps: a number above 0/);
  });

  // Last: it stops the proxy.
  test('stopping the proxy ends the tap streams cleanly and is not held up by them', async () => {
    const tap = await openTap(proxy.adminPort, '');
    const t0 = Date.now();
    await proxy.stop();
    await tap.ended;
    // --drain-seconds is 1; an admin API waiting on the open tap would be killed by the harness after 3 s.
    assert.ok(Date.now() - t0 < 2500, `stopped in ${Date.now() - t0} ms`);
    assert.equal(proxy.proc.exitCode, 0);
  });
});
