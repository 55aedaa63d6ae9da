/**
 * Fuzz: ZDS messages as the node proxy reads them (src/ztunnel/zds/messages.ts),
 * on bytes near valid requests and on arbitrary bytes, with any fd count. A
 * request either parses or raises ZDS_PROTOCOL — never another exception (the
 * server answers the peer with that message and keeps serving others); what
 * parses from a valid request is the request sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TrellisError } from '../../src/errors.js';
import { encodeRequest, parseAck, parseRequest, type ZdsRequest } from '../../src/ztunnel/zds/index.js';
import { fuzz, mutated } from './harness.js';

const text = fc.string({ maxLength: 40 });
const request: fc.Arbitrary<ZdsRequest> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), uid: text, name: text, namespace: text, serviceAccount: text }),
  fc.record({ kind: fc.constant('keep' as const), uid: text }),
  fc.record({ kind: fc.constant('del' as const), uid: text }),
  fc.constant({ kind: 'snapshotSent' as const }),
);

function parse(b: Uint8Array, fds: number, truncated: boolean): ZdsRequest | 'refused' {
  try {
    return parseRequest(b, fds, truncated);
  } catch (err) {
    assert.ok(err instanceof TrellisError && err.code === 'ZDS_PROTOCOL', `not ZDS_PROTOCOL: ${String(err)}`);
    return 'refused';
  }
}

test('valid requests parse to what was sent, with the fds their kind carries', async (t) => {
  await fuzz('zds-request-valid', fc.property(request, (r) => {
    assert.deepEqual(parse(encodeRequest(r), r.kind === 'add' ? 1 : 0, false), { ...r });
  }), 300, t);
});

test('mutated and arbitrary bytes parse or are refused as ZDS_PROTOCOL; acks too', async (t) => {
  const bytes = fc.oneof(mutated(request.map(encodeRequest)), fc.uint8Array({ maxLength: 64 }));
  await fuzz('zds-request-mutated', fc.property(bytes, fc.nat(3), fc.boolean(), (b, fds, truncated) => {
    parse(b, fds, truncated);
    try {
      parseAck(b);
    } catch (err) {
      assert.ok(err instanceof TrellisError && err.code === 'ZDS_PROTOCOL', `ack: not ZDS_PROTOCOL: ${String(err)}`);
    }
  }), 2000, t);
});
