/** trellis why reads access-log lines back: Istio's text format (the sidecars'), other formats, JSON lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileLineParser, lineParser } from '../../../../src/debug/why/access-log-line.js';
import { compileFormat, ISTIO_DEFAULT_FORMAT } from '../../../../src/proxy/telemetry/access-log-format.js';
import { StreamInfo } from '../../../../src/proxy/telemetry/stream-info.js';

test("a line the proxy wrote in Istio's format parses back to the same fields", () => {
  const s = new StreamInfo();
  s.method = 'GET';
  s.path = '/hold?x=1';
  s.authority = 'limited:8080';
  s.requestHeaders = { 'x-request-id': 'r-1', 'user-agent': 'curl/8 (x; "y")' };
  s.responseCode = 503;
  s.addFlag('UO');
  s.responseCodeDetails = 'upstream_reset_before_response_started{overflow}';
  s.upstreamCluster = 'outbound|8080||limited.why.svc.cluster.local';
  s.downstreamLocal = '127.42.1.2:8080';
  s.downstreamRemote = '127.0.0.1:4000';
  s.durationMs = 12;
  const line = compileFormat(ISTIO_DEFAULT_FORMAT)(s);
  const e = lineParser()(line);
  assert.ok(e, line);
  assert.equal(e.requestId, 'r-1');
  assert.equal(e.responseCode, 503);
  assert.deepEqual(e.flags, ['UO']);
  assert.equal(e.details, 'upstream_reset_before_response_started{overflow}');
  assert.equal(e.upstreamCluster, 'outbound|8080||limited.why.svc.cluster.local');
  assert.equal(e.upstreamHost, undefined, '"-" is no value');
  assert.equal(e.downstreamLocal, '127.42.1.2:8080');
  assert.equal(e.path, '/hold?x=1');
  assert.equal(e.durationMs, 12);
});

test("a DPE line without headers, Envoy's own line, and the proxy's other messages", () => {
  const parse = lineParser();
  const envoy = parse('[2021-11-22T21:54:57.850Z] "- - HTTP/1.1" 400 DPE http1.codec_error - "-" 0 11 0 - "-" "-" "-" "-" "-" - - 192.168.162.154:10101 192.168.162.191:36656 outbound_.10101_._.svc.sm.svc.cluster.local -');
  assert.equal(envoy?.responseCode, 400);
  assert.deepEqual(envoy?.flags, ['DPE']);
  assert.equal(envoy?.requestId, undefined);
  assert.equal(envoy?.method, undefined);
  assert.equal(parse('2026-12-06T13:42:06.621Z info xds connected to 127.0.0.1:15010'), undefined);
});

test('another format string, and JSON lines with Istio\'s keys', () => {
  const p = compileLineParser('%RESPONSE_CODE% %RESPONSE_FLAGS% "%REQ(X-REQUEST-ID)%" %RESPONSE_FLAGS_LONG%\n');
  assert.deepEqual(p('504 UT "abc" UpstreamRequestTimeout'), { responseCode: 504, flags: ['UT'], requestId: 'abc' });
  assert.equal(p('504 UT abc'), undefined);
  const j = lineParser()('{"response_code":503,"response_flags":"UF,URX","x_request_id":"q","upstream_cluster":"outbound|80||a.b.svc.cluster.local","response_code_details":"via_upstream"}');
  assert.deepEqual(j, { responseCode: 503, flags: ['UF', 'URX'], requestId: 'q', upstreamCluster: 'outbound|80||a.b.svc.cluster.local', details: 'via_upstream' });
  assert.equal(lineParser()('{not json'), undefined);
});
