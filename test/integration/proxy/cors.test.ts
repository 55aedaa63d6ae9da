/**
 * CORS through the real proxy with curl (issue 13): the routes carry the
 * CorsPolicy the control plane translates from a VirtualService corsPolicy
 * (corsConfig, as istiod writes it) and the listener the sidecar's HCM
 * (fault, CORS, router). A preflight from an allowed origin is answered by
 * the proxy; a simple request gets the allow headers on the app's response;
 * an origin not allowed gets none, and its preflight reaches the app unless
 * unmatchedPreflights is IGNORE. Origins match exactly, by prefix, or by a
 * regex matching the whole origin.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { corsConfig } from '../../../src/controlplane/translate/routes/cors.js';
import { hcmFilter, sidecarHcm } from '../../../src/controlplane/translate/hcm.js';
import type { CorsPolicy } from '../../../src/config/objects.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { eventually, startBackend, startProxy, type Backend, type RunningProxy } from './harness.js';
import { edsCluster, endpoints, prefixRoute, routeConfig } from './xds-builders.js';

const strict: CorsPolicy = {
  allowOrigins: [{ exact: 'https://a.example' }, { prefix: 'https://pre.' }, { regex: 'https://[a-z]+\\.b\\.example' }],
  allowMethods: ['GET', 'POST'],
  allowHeaders: ['X-Foo', 'X-Bar'],
  exposeHeaders: ['X-Exposed'],
  maxAge: '1h',
  allowCredentials: true,
};

/** The sidecar's listener (sidecarHcm: fault, CORS, router) on 127.0.0.1, any port. */
function sidecarListener(name: string, routes: string) {
  return anyPack(ListenerSchema, create(ListenerSchema, {
    name,
    address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: 0 } } } },
    filterChains: [{ filters: [hcmFilter(sidecarHcm(name, { rds: routes }, true))] }],
  }));
}

interface CurlResult { status: number; headers: Record<string, string>; body: string }

const run = promisify(execFile);

/** One request with curl (asynchronously: the app runs in this process): status, headers (lower-case names) and body. */
async function curl(port: number, path: string, args: string[]): Promise<CurlResult> {
  const r = await run('curl', ['-sS', '-i', '--max-time', '5', ...args, `http://127.0.0.1:${port}${path}`], { encoding: 'utf8' });
  const [head, ...rest] = r.stdout.split('\r\n\r\n');
  const [statusLine, ...lines] = head!.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

const preflight = (origin: string, method = 'POST') => ['-X', 'OPTIONS', '-H', `Origin: ${origin}`, '-H', `Access-Control-Request-Method: ${method}`, '-H', 'Access-Control-Request-Headers: x-foo'];
const fromOrigin = (origin: string) => ['-H', `Origin: ${origin}`];
const corsHeaders = (h: Record<string, string>) => Object.keys(h).filter((k) => k.startsWith('access-control-')).sort();

describe('proxy: CORS (envoy.filters.http.cors)', () => {
  const ads = new FakeAdsServer();
  let backend: Backend;
  let proxy: RunningProxy;
  let port = 0;
  /** Requests the app saw, as "METHOD path". */
  const seen: string[] = [];

  before(async () => {
    backend = await startBackend((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      res.writeHead(200, { 'x-exposed': 'yes' }).end(`app ${req.method}`);
    });
    ads.setAll(TypeUrl.Cluster, [['app', edsCluster('app')]]);
    ads.setAll(TypeUrl.ClusterLoadAssignment, [['app', endpoints('app', [backend.port])]]);
    ads.setAll(TypeUrl.Listener, [['http', sidecarListener('http', 'routes')]]);
    const withCors = (prefix: string, cors: CorsPolicy) => ({ ...prefixRoute(prefix, 'app'), typedPerFilterConfig: { 'envoy.filters.http.cors': corsConfig(cors, 'test')! } });
    ads.setAll(TypeUrl.RouteConfiguration, [['routes', routeConfig('routes', [{
      name: 'all',
      domains: ['*'],
      routes: [
        withCors('/strict', strict),
        withCors('/ignore', { allowOrigins: [{ exact: 'https://a.example' }], allowMethods: ['GET'], unmatchedPreflights: 'IGNORE' }),
        withCors('/star', { allowOrigins: [{ exact: '*' }], allowMethods: ['*'], allowHeaders: ['*'] }),
        prefixRoute('/plain', 'app'),
      ],
    }])]]);
    await ads.start();
    proxy = await startProxy(ads.port);
    await proxy.ready();
    port = await proxy.listenerPort('http');
  });

  after(async () => {
    await proxy?.stop();
    ads.stop();
    await backend?.close();
  });

  test('a preflight from an allowed origin is answered by the proxy: 200 with the allow headers, the app never sees it', async () => {
    seen.length = 0;
    const r = await curl(port, '/strict/x', preflight('https://a.example'));
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://a.example');
    assert.equal(r.headers['access-control-allow-methods'], 'GET,POST');
    assert.equal(r.headers['access-control-allow-headers'], 'X-Foo,X-Bar');
    assert.equal(r.headers['access-control-max-age'], '3600');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    // Expose-Headers belongs to actual responses, not to the preflight (Envoy).
    assert.equal(r.headers['access-control-expose-headers'], undefined);
    assert.equal(r.body, '');
    assert.deepEqual(seen, []);
  });

  test('a simple request from an allowed origin reaches the app; its response gets Allow-Origin, -Credentials and -Expose-Headers', async () => {
    seen.length = 0;
    const r = await curl(port, '/strict/get', fromOrigin('https://a.example'));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'app GET');
    assert.deepEqual(seen, ['GET /strict/get']);
    assert.equal(r.headers['access-control-allow-origin'], 'https://a.example');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(r.headers['access-control-expose-headers'], 'X-Exposed');
    // Only preflights carry the method and header lists.
    assert.equal(r.headers['access-control-allow-methods'], undefined);
  });

  test('prefix and regex origins: the regex must match the whole origin', async () => {
    assert.equal((await curl(port, '/strict/p', fromOrigin('https://pre.anything'))).headers['access-control-allow-origin'], 'https://pre.anything');
    assert.equal((await curl(port, '/strict/r', fromOrigin('https://app.b.example'))).headers['access-control-allow-origin'], 'https://app.b.example');
    assert.deepEqual(corsHeaders((await curl(port, '/strict/r', fromOrigin('https://app.b.example.evil.test'))).headers), []);
    assert.deepEqual(corsHeaders((await curl(port, '/strict/r', fromOrigin('https://app.B.example'))).headers), []);
    const pre = await curl(port, '/strict/r', preflight('https://x.b.example'));
    assert.equal(pre.status, 200);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://x.b.example');
  });

  test('an origin not allowed: the response passes without CORS headers, and its preflight goes to the app (unmatchedPreflights default FORWARD)', async () => {
    seen.length = 0;
    const simple = await curl(port, '/strict/get', fromOrigin('https://evil.example'));
    assert.equal(simple.body, 'app GET');
    assert.deepEqual(corsHeaders(simple.headers), []);
    const pre = await curl(port, '/strict/x', preflight('https://evil.example'));
    assert.equal(pre.body, 'app OPTIONS');
    assert.deepEqual(corsHeaders(pre.headers), []);
    assert.deepEqual(seen, ['GET /strict/get', 'OPTIONS /strict/x']);
  });

  test('unmatchedPreflights IGNORE: a preflight from another origin is answered 200 by the proxy without Allow-Origin', async () => {
    seen.length = 0;
    const r = await curl(port, '/ignore/x', preflight('https://evil.example', 'GET'));
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.equal(r.headers['access-control-allow-methods'], 'GET');
    assert.deepEqual(seen, []);
    // The allowed origin still gets its answer.
    assert.equal((await curl(port, '/ignore/x', preflight('https://a.example', 'GET'))).headers['access-control-allow-origin'], 'https://a.example');
  });

  test('"*" allows every origin; "*" methods and headers echo what the browser asked for', async () => {
    const r = await curl(port, '/star/x', preflight('https://whoever.example', 'PATCH'));
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://whoever.example');
    assert.equal(r.headers['access-control-allow-methods'], 'PATCH');
    assert.equal(r.headers['access-control-allow-headers'], 'x-foo');
    assert.equal(r.headers['access-control-allow-credentials'], undefined);
  });

  test('no Origin, or a route without a policy: nothing added, OPTIONS reaches the app', async () => {
    seen.length = 0;
    assert.deepEqual(corsHeaders((await curl(port, '/strict/no-origin', [])).headers), []);
    const plain = await curl(port, '/plain/x', preflight('https://a.example'));
    assert.equal(plain.body, 'app OPTIONS');
    assert.deepEqual(corsHeaders(plain.headers), []);
    assert.deepEqual(seen, ['GET /strict/no-origin', 'OPTIONS /plain/x']);
  });

  test("Envoy's counters: http.<stat_prefix>.cors.origin_valid and origin_invalid", async () => {
    const count = async (name: string) => Number(new RegExp(`^http\\.http\\.cors\\.${name}: (\\d+)$`, 'm').exec((await proxy.admin('/stats')).body)?.[1] ?? 0);
    const [valid, invalid] = [await count('origin_valid'), await count('origin_invalid')];
    await curl(port, '/strict/a', fromOrigin('https://a.example'));
    await curl(port, '/strict/b', fromOrigin('https://evil.example'));
    await curl(port, '/strict/c', fromOrigin('https://evil.example'));
    await curl(port, '/plain/d', fromOrigin('https://evil.example'));
    assert.equal(await count('origin_valid'), valid + 1);
    assert.equal(await count('origin_invalid'), invalid + 2);
  });
});
