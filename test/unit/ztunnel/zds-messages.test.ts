/**
 * ZDS messages: Istio's field numbers on the wire (bytes a node agent of
 * Istio's would send), and the node proxy's rules for what a request may
 * carry — exactly one fd with an add, none otherwise, nothing truncated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrellisError } from '../../../src/errors.js';
import { encodeAck, encodeHello, encodeRequest, parseAck, parseHello, parseRequest } from '../../../src/ztunnel/zds/index.js';

const protocolError = (re: RegExp) => (err: unknown) => err instanceof TrellisError && err.code === 'ZDS_PROTOCOL' && re.test(err.message);

test('the wire bytes use zds.proto\'s field numbers', () => {
  // WorkloadRequest.add = 1 { uid = 1, workload_info = 2 { name = 1, namespace = 2, service_account = 3 } }
  const add = encodeRequest({ kind: 'add', uid: 'u', name: 'n', namespace: 's', serviceAccount: 'a' });
  assert.equal(Buffer.from(add).toString('hex'), '0a0e0a01751209' + '0a016e' + '120173' + '1a0161');
  // del = 2 { uid = 2 }, keep = 5 { uid = 1 }, snapshot_sent = 3 {}
  assert.equal(Buffer.from(encodeRequest({ kind: 'del', uid: 'u' })).toString('hex'), '1203120175');
  assert.equal(Buffer.from(encodeRequest({ kind: 'keep', uid: 'u' })).toString('hex'), '2a030a0175');
  assert.equal(Buffer.from(encodeRequest({ kind: 'snapshotSent' })).toString('hex'), '1a00');
  // ZdsHello { version = 1: V1 }; WorkloadResponse.ack = 1 { error = 1 }
  assert.equal(Buffer.from(encodeHello()).toString('hex'), '0801');
  assert.equal(Buffer.from(encodeAck('no')).toString('hex'), '0a040a026e6f');
});

test('requests round-trip with the fds each kind must carry', () => {
  const add = { kind: 'add', uid: 'u1', name: 'web', namespace: 'shop', serviceAccount: 'web' } as const;
  assert.deepEqual(parseRequest(encodeRequest(add), 1, false), add);
  assert.deepEqual(parseRequest(encodeRequest({ kind: 'del', uid: 'u1' }), 0, false), { kind: 'del', uid: 'u1' });
  assert.deepEqual(parseRequest(encodeRequest({ kind: 'snapshotSent' }), 0, false), { kind: 'snapshotSent' });
  assert.throws(() => parseRequest(encodeRequest(add), 0, false), protocolError(/exactly one network namespace fd, this one carried 0/));
  assert.throws(() => parseRequest(encodeRequest(add), 2, false), protocolError(/carried 2/));
  assert.throws(() => parseRequest(encodeRequest({ kind: 'del', uid: 'u1' }), 1, false), protocolError(/a del must carry no fd/));
  assert.throws(() => parseRequest(encodeRequest(add), 1, true), protocolError(/truncated/));
});

test('garbage, an empty request and a wrong hello are protocol errors; acks carry their error', () => {
  assert.throws(() => parseRequest(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), 0, false), protocolError(/not a ZDS WorkloadRequest/));
  assert.throws(() => parseRequest(new Uint8Array(), 0, false), protocolError(/no payload/));
  assert.throws(() => parseHello(Buffer.from('0802', 'hex')), protocolError(/version 2, not V1/));
  assert.throws(() => parseHello(new Uint8Array()), protocolError(/NOT_USED, not V1/));
  parseHello(encodeHello());
  assert.equal(parseAck(encodeAck()), '');
  assert.equal(parseAck(encodeAck('no room')), 'no room');
  assert.throws(() => parseAck(new Uint8Array()), protocolError(/no ack/));
});
