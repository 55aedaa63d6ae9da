import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTapEvent } from '../../../src/debug/tap/render.js';
import type { TapEvent } from '../../../src/proxy/tap/tap-event.js';

const base = {
  source: { ip: '10.0.0.1', port: 5000, metadata: { tls: 'true', client_id: 'spiffe://cluster.local/ns/default/sa/front' } },
  destination: { ip: '10.0.0.2', port: 9080, metadata: { cluster: 'inbound|9080||', endpoint: '127.0.0.1:9080' } },
  routeMeta: { route: 'default' },
  proxyDirection: 'INBOUND' as const,
};
const id = { base: 0, stream: 7 };
const d = (us: number) => ({ seconds: Math.floor(us / 1e6), nanos: (us % 1e6) * 1000 });

test("default output is linkerd viz tap's req/rsp/end lines", () => {
  const req: TapEvent = { ...base, requestInitEvent: { id, method: 'GET', scheme: 'https', authority: 'reviews:9080', path: '/r', headers: [] } };
  assert.equal(renderTapEvent(req, 'default'), 'req id=0:7 proxy=in  src=10.0.0.1:5000 dst=10.0.0.2:9080 tls=true :method=GET :authority=reviews:9080 :path=/r');
  const rsp: TapEvent = { ...base, responseInitEvent: { id, sinceRequestInit: d(1_500_123), httpStatus: 503, headers: [{ name: 'x-a', valueStr: 'two words' }] } };
  assert.equal(renderTapEvent(rsp, 'default'), 'rsp id=0:7 proxy=in  src=10.0.0.1:5000 dst=10.0.0.2:9080 tls=true :status=503 latency=1500123µs x-a="two words"');
  const end: TapEvent = { ...base, responseEndEvent: { id, sinceRequestInit: d(9), sinceResponseInit: d(42), responseBytes: 19, trailers: [], grpcStatusCode: 4, responseFlags: 'UF,URX', responseCodeDetails: '' } };
  assert.equal(renderTapEvent(end, 'default'), 'end id=0:7 proxy=in  src=10.0.0.1:5000 dst=10.0.0.2:9080 tls=true grpc-status=DeadlineExceeded duration=42µs response-length=19B');
  assert.equal(renderTapEvent(end, 'wide'), 'end id=0:7 proxy=in  src=10.0.0.1:5000 dst=10.0.0.2:9080 tls=true grpc-status=DeadlineExceeded duration=42µs response-length=19B response-flags=UF,URX'
    + ' src_client_id=spiffe://cluster.local/ns/default/sa/front src_tls=true dst_cluster=inbound|9080|| dst_endpoint=127.0.0.1:9080 rt_route=default');
  assert.deepEqual(JSON.parse(renderTapEvent(end, 'json')), end);
  assert.ok(!renderTapEvent(end, 'json').includes('\n'));
});

test('outbound: tls from the destination, IPv6 addresses bracketed, gRPC Canceled spelt as Go does', () => {
  const e: TapEvent = { ...base, proxyDirection: 'OUTBOUND', source: { ip: '::1', port: 1, metadata: {} }, destination: { ip: '::1', port: 2, metadata: {} }, responseEndEvent: { id, sinceRequestInit: d(0), sinceResponseInit: d(0), responseBytes: 0, trailers: [], grpcStatusCode: 1, responseFlags: '-', responseCodeDetails: '' } };
  assert.equal(renderTapEvent(e, 'default'), 'end id=0:7 proxy=out src=[::1]:1 dst=[::1]:2 tls= grpc-status=Canceled duration=0µs response-length=0B');
});
