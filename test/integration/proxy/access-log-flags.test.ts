/**
 * The access log's failure fields from a real proxy, in a format that asks
 * for them all: %RESPONSE_FLAGS%, %RESPONSE_FLAGS_LONG% (Envoy's long names,
 * its order and separator) and %RESPONSE_CODE_DETAILS% as Envoy writes them,
 * for a cluster without endpoints (UH), a refused connection retried (UF,URX),
 * no route (NR), a client that hangs up (DC), a malformed body (DPE) and a
 * malformed head (DPE, no request id).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { freePort } from '../../helpers/ports.js';
import { eventually, startBackend, startProxyListening, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, httpListener, ms, prefixRoute, routeConfig } from './xds-builders.js';

const FORMAT = '%REQ(X-REQUEST-ID)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_FLAGS_LONG% %RESPONSE_CODE_DETAILS%\n';

describe('proxy: the access log says why a request failed, as Envoy does', () => {
  const ads = new FakeAdsServer();
  let proxy: RunningProxy;
  let hold: Backend;
  let port = 0;

  const send = (path: string, id: string, abortAfterMs?: number) => new Promise<number>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, headers: { 'x-request-id': id } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', (err) => (abortAfterMs !== undefined ? resolve(0) : reject(err)));
    if (abortAfterMs !== undefined) setTimeout(() => req.destroy(), abortAfterMs);
  });
  const raw = (bytes: string) => new Promise<string>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    let got = '';
    s.setEncoding('latin1').on('data', (d: string) => (got += d));
    s.once('close', () => resolve(got));
    s.once('error', reject);
  });
  const logLine = (id: string) => eventually(() => proxy.stdout().split('\n').find((l) => l.startsWith(`${id} `)), 3000, `the line of ${id}`);

  before(async () => {
    hold = await startBackend((req, res) => {
      req.resume();
      const t = setTimeout(() => res.end('late'), 2000);
      res.once('close', () => clearTimeout(t));
    });
    ads.setAll(TypeUrl.Cluster, [['empty', edsCluster('empty')], ['dead', edsCluster('dead')], ['hold', edsCluster('hold')]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [['empty', endpoints('empty', [])], ['dead', endpoints('dead', [await freePort()])], ['hold', endpoints('hold', [hold.port])]]);
    ads.setAll(TypeUrl.Listener, [['http', httpListener('http', 'routes', 0, FORMAT)]]);
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{
      name: 'all',
      domains: ['*'],
      routes: [
        prefixRoute('/empty', 'empty'),
        prefixRoute('/dead', 'dead', { retryPolicy: { retryOn: 'connect-failure', numRetries: 1, retryBackOff: { baseInterval: ms(5), maxInterval: ms(10) } } }),
        prefixRoute('/hold', 'hold'),
      ],
    }])]]);
    await ads.start();
    ({ proxy, port } = await startProxyListening(ads.port));
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await hold?.close();
  });

  test('UH, UF+URX, NR: short and long flags in Envoy\'s order, and the details', async () => {
    assert.deepEqual(await Promise.all([send('/empty', 'uh'), send('/dead', 'uf'), send('/nowhere', 'nr')]), [503, 503, 404]);
    assert.equal(await logLine('uh'), 'uh 503 UH NoHealthyUpstream no_healthy_upstream');
    assert.equal(await logLine('uf'), 'uf 503 UF,URX UpstreamConnectionFailure,UpstreamRetryLimitExceeded upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_111}');
    assert.equal(await logLine('nr'), 'nr 404 NR NoRouteFound route_not_found');
  });

  test('DC: the client hangs up before the answer', async () => {
    await send('/hold', 'dc', 200);
    assert.equal(await logLine('dc'), 'dc 0 DC DownstreamConnectionTermination downstream_remote_disconnect');
  });

  test('DPE: a bad chunk after a good head ends its request as 400 DPE; a bad head is logged without an id', async () => {
    const answer = await raw('POST /hold HTTP/1.1\r\nhost: x\r\nx-request-id: dpe\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n');
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.equal(await logLine('dpe'), 'dpe 400 DPE DownstreamProtocolError http1.codec_error');
    assert.match(await raw('GET / HTTP/1.1\r\nhost: x\r\nno colon\r\n\r\n'), /^HTTP\/1\.1 400 /);
    await eventually(() => proxy.stdout().split('\n').includes('- 400 DPE DownstreamProtocolError http1.codec_error'), 3000, 'the line of the bad head');
    const stats = (await proxy.admin('/stats/prometheus')).body;
    // One series per destination (the refused head has no authority): two requests in all.
    const dpe = [...stats.matchAll(/^istio_requests_total\{[^}]*response_code="400",response_flags="DPE"[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(dpe, 2);
  });
});
