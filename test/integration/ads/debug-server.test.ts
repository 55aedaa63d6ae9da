import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { AdsServer } from '../../../src/controlplane/server/ads-server.js';
import { Metrics } from '../../../src/controlplane/metrics/metrics.js';
import { startDebugServer, type DebugServer } from '../../../src/controlplane/debug/debug-server.js';
import type { ConfigProblem } from '../../../src/config/config-problem.js';
import { logger } from '../../../src/log.js';
import { CDS, EDS, FakeGenerator, LDS, RDS, cluster, endpoints, listener, route } from './fake-generator.js';
import { parseNode } from '../../../src/xds/parse-node.js';
import { TestAdsClient, nodeId, waitFor, type SotwStream } from '../../helpers/ads-client.js';

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Sends raw bytes; resolves with the response's first 12 characters ("" when closed without a reply). */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(text));
    let got = '';
    sock.setTimeout(2000, () => sock.destroy(new Error('timeout')));
    sock.on('data', (d) => (got += d.toString('latin1')));
    sock.on('close', () => resolve(got.slice(0, 12)));
    sock.on('error', reject);
  });
}

describe('debug HTTP server', () => {
  let ads: AdsServer;
  let debug: DebugServer;
  let client: TestAdsClient;
  let stream: SotwStream;
  let ready = false;
  const problems: ConfigProblem[] = [{ code: 'CONFIG_INVALID', file: 'vs.yaml', line: 3, reason: 'spec.http[0].route: required' }];
  const metrics = new Metrics();
  const id = nodeId('productpage-v1-abc', 'default');

  before(async () => {
    const gen = new FakeGenerator({
      default: {
        [CDS]: [cluster('outbound|9080||reviews.default.svc.cluster.local'), cluster('BlackHoleCluster')],
        [EDS]: [endpoints('outbound|9080||reviews.default.svc.cluster.local')],
        [LDS]: [listener('0.0.0.0_9080')],
        [RDS]: [route('9080', ['reviews'])],
      },
    });
    ads = new AdsServer({ generator: gen, parseNode, metrics, log: logger('test-ads') });
    client = new TestAdsClient(await ads.listen('127.0.0.1', 0));
    debug = await startDebugServer({ host: '127.0.0.1', port: 0, server: ads, metrics, configProblems: () => problems, notReady: () => (ready ? undefined : 'testing') });
    stream = client.sotw(id);
    stream.request(CDS);
    stream.ack(await stream.next());
    stream.request(LDS);
    await stream.next(); // left un-ACKed on purpose
    stream.request(RDS, ['9080']);
    const rds = await stream.next();
    stream.nack(rds, 'route 9080: bad regex');
    await waitFor(() => ads.syncStatus()[0]?.types.RDS.nack !== undefined && ads.syncStatus()[0]?.types.CDS.status === 'SYNCED');
  });

  after(async () => {
    client.close();
    await debug.close();
    await ads.close();
  });

  test('/debug/syncz has one entry per proxy with per-type sent/acked/nack/status', async () => {
    const res = await get(debug.port, '/debug/syncz');
    assert.equal(res.status, 200);
    assert.match(res.type, /application\/json/);
    const body = JSON.parse(res.body);
    assert.equal(body.length, 1);
    const p = body[0];
    assert.equal(p.proxy, 'productpage-v1-abc.default');
    assert.equal(p.nodeId, id);
    assert.equal(p.namespace, 'default');
    assert.equal(p.stream, 'sotw');
    assert.ok(!Number.isNaN(Date.parse(p.connectedAt)));
    assert.equal(p.types.CDS.status, 'SYNCED');
    assert.deepEqual(p.types.CDS.acked, p.types.CDS.sent);
    assert.equal(p.types.LDS.status, 'STALE');
    assert.equal(p.types.LDS.acked, undefined);
    assert.equal(p.types.RDS.status, 'STALE');
    assert.equal(p.types.RDS.nack.error, 'route 9080: bad regex');
    assert.equal(p.types.EDS.status, 'NOT SENT');
  });

  test('/debug/config_dump: Envoy ConfigDump JSON with the sent clusters', async () => {
    for (const q of [id, 'productpage-v1-abc.default']) {
      const res = await get(debug.port, `/debug/config_dump?proxyID=${encodeURIComponent(q)}`);
      assert.equal(res.status, 200, res.body);
      const dump = JSON.parse(res.body);
      const types = dump.configs.map((c: { '@type': string }) => c['@type']);
      assert.deepEqual(types, [
        'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
        'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
        'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
        'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump',
      ]);
      const clusters = dump.configs[0].dynamicActiveClusters;
      assert.deepEqual(clusters.map((c: { cluster: { name: string } }) => c.cluster.name), ['BlackHoleCluster', 'outbound|9080||reviews.default.svc.cluster.local']);
      assert.equal(clusters[0].clientStatus, 'ACKED');
      assert.equal(dump.configs[1].dynamicListeners[0].name, '0.0.0.0_9080');
      assert.equal(dump.configs[2].dynamicRouteConfigs[0].clientStatus, 'NACKED');
      assert.equal(dump.configs[2].dynamicRouteConfigs[0].routeConfig.name, '9080');
    }
  });

  test('/debug/config_dump: 400 without proxyID, 404 for an unknown proxy, both JSON', async () => {
    const r400 = await get(debug.port, '/debug/config_dump');
    assert.equal(r400.status, 400);
    assert.ok(JSON.parse(r400.body).error);
    const r404 = await get(debug.port, '/debug/config_dump?proxyID=nobody.nowhere');
    assert.equal(r404.status, 404);
    assert.match(JSON.parse(r404.body).error, /nobody\.nowhere/);
  });

  test('/debug/config_problems lists the problems', async () => {
    const res = await get(debug.port, '/debug/config_problems');
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), problems);
  });

  test('/metrics: Prometheus text with the pilot_* metrics', async () => {
    const res = await get(debug.port, '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain; version=0\.0\.4/);
    const samples = new Map<string, number>();
    for (const line of res.body.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
      assert.ok(m, `bad sample line: ${line}`);
      samples.set(m[1], Number(m[2]));
    }
    assert.equal(samples.get('pilot_xds'), 1);
    assert.equal(samples.get('pilot_xds_pushes{type="cds"}'), 1);
    assert.equal(samples.get('pilot_total_xds_rejects{type="rds"}'), 1);
    assert.equal(samples.get('trellis_config_problems'), 1);
    assert.match(res.body, /# TYPE pilot_proxy_convergence_time histogram/);
  });

  test('/ready follows notReady(): 503 with the reason, then 200', async () => {
    const unready = await get(debug.port, '/ready');
    assert.equal(unready.status, 503);
    assert.equal(unready.body.trim(), 'not ready: testing');
    ready = true;
    const res = await get(debug.port, '/ready');
    assert.equal(res.status, 200);
    assert.equal(res.body.trim(), 'ready');
  });

  test('unknown path 404, bad method 405, odd URLs do not crash the server', async () => {
    assert.equal((await get(debug.port, '/nope')).status, 404);
    assert.equal((await get(debug.port, '/debug/syncz', 'POST')).status, 405);
    assert.equal((await get(debug.port, '/debug/config_dump?proxyID=%E0%A4%A')).status, 404);
    assert.equal((await get(debug.port, '//debug/syncz?x=%%')).status, 404);
    assert.equal(await raw(debug.port, 'GET http://[::1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), 'HTTP/1.1 400');
    assert.equal(await raw(debug.port, 'BLAH\r\n\r\n'), '', 'an unparsable request just closes the socket');
    assert.equal((await get(debug.port, '/debug/syncz')).status, 200);
  });
});
