/**
 * ADS responses are encoded by parts, each resource's bytes once (issue 16):
 * the bytes must be exactly what toBinary writes, for SotW and Delta, with
 * resources shared between responses, none at all, removals and every
 * scalar field set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, toBinary } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import fc from 'fast-check';
import {
  DeltaDiscoveryResponseSchema,
  DiscoveryResponseSchema,
  ResourceSchema,
} from '../../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { ClusterSchema } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { encodeDeltaResponse, encodeSotwResponse } from '../../../src/controlplane/server/server-service.js';
import { shareList } from '../../../src/controlplane/wire/parts-encoding.js';

const clusters = Array.from({ length: 6 }, (_, i) => anyPack(ClusterSchema, create(ClusterSchema, { name: `outbound|9080||svc-${i}.ns.svc.cluster.local`, altStatName: 'x'.repeat(i * 40) })));
const resources = clusters.map((any, i) => create(ResourceSchema, { name: `c${i}`, version: `v${i}`, resource: any, aliases: i % 2 ? ['a'] : [] }));
const text = fc.string({ maxLength: 20 });
const subset = <T>(all: T[]) => fc.subarray(all).chain((s) => fc.shuffledSubarray(s, { minLength: s.length, maxLength: s.length }));

test('SotW responses: the same bytes as toBinary, resources shared between responses', () => {
  fc.assert(
    fc.property(subset(clusters), text, text, text, fc.boolean(), (anys, versionInfo, nonce, typeUrl, canary) => {
      const m = create(DiscoveryResponseSchema, { versionInfo, resources: anys, nonce, typeUrl, canary, controlPlane: { identifier: 'trellis' } });
      assert.deepEqual(new Uint8Array(encodeSotwResponse(m)), toBinary(DiscoveryResponseSchema, m));
    }),
    { seed: 16, numRuns: 200 },
  );
  const empty = create(DiscoveryResponseSchema, {});
  assert.equal(encodeSotwResponse(empty).length, 0);
});

test('Delta responses: the same bytes as toBinary, with removals', () => {
  fc.assert(
    fc.property(subset(resources), fc.array(text, { maxLength: 3 }), text, text, (rs, removed, systemVersionInfo, nonce) => {
      const m = create(DeltaDiscoveryResponseSchema, { systemVersionInfo, resources: rs, removedResources: removed, nonce, typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', controlPlane: { identifier: 'trellis' } });
      assert.deepEqual(new Uint8Array(encodeDeltaResponse(m)), toBinary(DeltaDiscoveryResponseSchema, m));
    }),
    { seed: 16, numRuns: 200 },
  );
});

test('a shared list (a whole set sent to many proxies) is encoded once and every response around it stays exact', () => {
  const sotwList = shareList(clusters.slice(0, 4));
  const deltaList = shareList(resources.slice(1, 5));
  fc.assert(
    fc.property(text, text, text, fc.boolean(), (version, nonce, typeUrl, canary) => {
      const s = create(DiscoveryResponseSchema, { versionInfo: version, nonce, typeUrl, canary, controlPlane: { identifier: 'trellis' } });
      s.resources = sotwList;
      assert.deepEqual(new Uint8Array(encodeSotwResponse(s)), toBinary(DiscoveryResponseSchema, s));
      const d = create(DeltaDiscoveryResponseSchema, { systemVersionInfo: version, nonce, typeUrl, removedResources: canary ? ['gone'] : [] });
      d.resources = deltaList;
      assert.deepEqual(new Uint8Array(encodeDeltaResponse(d)), toBinary(DeltaDiscoveryResponseSchema, d));
    }),
    { seed: 17, numRuns: 100 },
  );
});
