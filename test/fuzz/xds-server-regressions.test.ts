/**
 * Regressions found by the xds-server fuzz target (xds-server.test.ts), each
 * replayed as the raw HTTP/2 stream that found it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { status } from '@grpc/grpc-js';
import { AdsServer } from '../../src/controlplane/server/ads-server.js';
import { Metrics } from '../../src/controlplane/metrics/metrics.js';
import { logger } from '../../src/log.js';
import { adsServiceDefinition } from '../../src/xds/ads-service.js';
import { parseNode } from '../../src/xds/parse-node.js';
import { CDS, FakeGenerator, cluster } from '../integration/ads/fake-generator.js';
import { validRequestBytes } from './xds-requests.js';

let server: AdsServer;
let port: number;

before(async () => {
  server = new AdsServer({ generator: new FakeGenerator({ default: { [CDS]: [cluster('a')] } }), parseNode, metrics: new Metrics(), log: logger('fuzz-regression') });
  port = await server.listen('127.0.0.1', 0);
});

after(async () => {
  await server?.close();
});

const frame = (msg: Uint8Array) => {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
};

/** Sends `body` in one DATA frame on a new stream and ends it; resolves with the trailers' status, or rejects after 3 s. */
function exchange(path: string, body: Buffer): Promise<{ code: number | undefined; details: string; messages: number }> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  return new Promise<{ code: number | undefined; details: string; messages: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the stream is still open 3 s after the client ended it (no trailers)')), 3000);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    let code: number | undefined;
    let details = '';
    let messages = 0;
    req.on('data', () => messages++);
    req.on('trailers', (h) => {
      code = Number(h['grpc-status']);
      details = decodeURIComponent(String(h['grpc-message'] ?? ''));
    });
    req.on('close', () => {
      clearTimeout(timer);
      resolve({ code, details, messages });
    });
    req.end(body);
  }).finally(() => session.destroy());
}

// grpc-js answers an undecodable request with INTERNAL but still delivers the requests queued before it in
// the same DATA frame; our answer to those was written after grpc-js had ended the stream, and the stream
// stayed open without trailers for as long as the connection lived.
test('issue 8 (fuzz): an undecodable request after ones already answered ends the stream with INVALID_ARGUMENT', async () => {
  const illegalTag = Uint8Array.of(0x03); // field 0, wire type 3: not protobuf
  for (const kind of ['sotw', 'delta'] as const) {
    const valid = validRequestBytes[kind][0]!;
    const path = kind === 'sotw' ? adsServiceDefinition.StreamAggregatedResources.path : adsServiceDefinition.DeltaAggregatedResources.path;
    const r = await exchange(path, Buffer.concat([frame(valid), frame(valid), frame(illegalTag)]));
    assert.equal(r.code, status.INVALID_ARGUMENT, `${kind}: ${r.details}`);
    assert.match(r.details, /^request 3 of the stream is not a valid envoy\.service\.discovery\.v3\.(Delta)?DiscoveryRequest: /);
    assert.ok(r.messages >= 1, `${kind}: the first request was answered`);
  }
});
