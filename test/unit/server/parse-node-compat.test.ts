import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { NodeSchema } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import { parseNode } from '../../../src/xds/parse-node.js';
import { nodeOf, type ParseNode } from '../../../src/controlplane/server/stream-call.js';
import { proxyId } from '../../../src/controlplane/server/sync-status.js';

// The production parser plugs into AdsServer's parseNode option, and syncz ids come out istiod-shaped.
const parse: ParseNode = parseNode;

test('proxyId of the production node parser: pod.namespace', () => {
  assert.equal(proxyId(parse(create(NodeSchema, { id: 'sidecar~10.1.0.5~reviews-v1-xyz.bookinfo~bookinfo.svc.cluster.local' }))), 'reviews-v1-xyz.bookinfo');
});

test('a stream whose node the parser refuses ends with INVALID_ARGUMENT and the parser\'s message', () => {
  assert.throws(
    () => nodeOf(create(NodeSchema, { id: 'my-grpc-client' }), parse),
    (err: Error & { grpcCode?: number }) => err.grpcCode === status.INVALID_ARGUMENT && /^invalid node id "my-grpc-client": .*expected TYPE~IP~/.test(err.message),
  );
  assert.throws(() => nodeOf(undefined, parse), (err: Error & { grpcCode?: number }) => err.grpcCode === status.INVALID_ARGUMENT && /must carry a node/.test(err.message));
});
