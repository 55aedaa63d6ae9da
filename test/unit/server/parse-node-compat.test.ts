import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { NodeSchema } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import { parseNode } from '../../../src/xds/parse-node.js';
import type { ParseNode } from '../../../src/controlplane/server/stream-call.js';
import { proxyId } from '../../../src/controlplane/server/sync-status.js';

// The production parser plugs into AdsServer's parseNode option, and syncz ids come out istiod-shaped.
const parse: ParseNode = parseNode;

test('proxyId of the production node parser: pod.namespace, or the raw id for non-Istio clients', () => {
  assert.equal(proxyId(parse(create(NodeSchema, { id: 'sidecar~10.1.0.5~reviews-v1-xyz.bookinfo~bookinfo.svc.cluster.local' }))), 'reviews-v1-xyz.bookinfo');
  assert.equal(proxyId(parse(create(NodeSchema, { id: 'my-grpc-client' }))), 'my-grpc-client');
});
