import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileFormat, compileJsonFormat, ISTIO_DEFAULT_FORMAT } from '../../../src/proxy/telemetry/access-log-format.js';
import { StreamInfo } from '../../../src/proxy/telemetry/stream-info.js';

function info(): StreamInfo {
  const s = new StreamInfo();
  s.method = 'GET';
  s.path = '/api?q=1';
  s.authority = 'reviews:9080';
  s.requestHeaders = { 'user-agent': 'curl/8', 'x-request-id': 'abc', 'x-envoy-original-path': '/orig' };
  s.responseHeaders = { 'x-envoy-upstream-service-time': '3' };
  s.responseCode = 503;
  s.addFlag('UF');
  s.addFlag('URX');
  s.bytesReceived = 10;
  s.bytesSent = 20;
  s.durationMs = 7;
  s.upstreamHost = '10.0.0.2:9080';
  s.upstreamCluster = 'outbound|9080||reviews.default.svc.cluster.local';
  return s;
}

describe('access log format strings', () => {
  test('operators, header fallbacks and truncation', () => {
    const f = compileFormat('%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %REQ(USER-AGENT):4% %REQ(X-MISSING)% %UNKNOWN_THING% 100%%');
    assert.equal(f(info()), 'GET /orig /api?q=1 503 UF,URX curl - - 100%%');
  });

  test("%RESPONSE_FLAGS_LONG%: Envoy's long names, in its order, comma-separated; '-' when none", () => {
    const f = compileFormat('%RESPONSE_FLAGS% %RESPONSE_FLAGS_LONG%');
    assert.equal(f(info()), 'UF,URX UpstreamConnectionFailure,UpstreamRetryLimitExceeded');
    assert.equal(f(new StreamInfo()), '- -');
    const s = new StreamInfo();
    for (const x of ['DPE', 'DC', 'UH', 'NR', 'FI', 'UO', 'UT', 'OM']) s.addFlag(x);
    assert.equal(f(s), 'UH,UT,UO,NR,FI,DC,DPE,OM NoHealthyUpstream,UpstreamRequestTimeout,UpstreamOverflow,NoRouteFound,FaultInjected,DownstreamConnectionTermination,DownstreamProtocolError,OverloadManagerTerminated');
  });

  test("response flags print in Envoy's fixed order, not the order they happened", () => {
    const s = new StreamInfo();
    assert.equal(s.flagString(), '-');
    for (const f of ['URX', 'UF', 'DC']) s.addFlag(f);
    assert.equal(s.flagString(), 'UF,DC,URX');
    const t = new StreamInfo();
    t.addFlag('FI');
    t.addFlag('DI');
    t.addFlag('FI');
    assert.equal(t.flagString(), 'DI,FI');
  });

  test('Istio default format', () => {
    const line = compileFormat(ISTIO_DEFAULT_FORMAT)(info());
    assert.match(line, /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] "GET \/orig HTTP\/1\.1" 503 UF,URX - - "-" 10 20 7 3 "-" "curl\/8" "abc" "reviews:9080" "10\.0\.0\.2:9080" outbound\|9080\|\|reviews\.default\.svc\.cluster\.local /);
    assert.ok(line.endsWith('\n'));
  });

  test('JSON format', () => {
    const f = compileJsonFormat({ code: '%RESPONSE_CODE%', flags: '%RESPONSE_FLAGS%' });
    assert.deepEqual(JSON.parse(f(info())), { code: '503', flags: 'UF,URX' });
  });
});
