/**
 * fast-check arbitraries for what an xDS client can send: node ids (Istio
 * ones and not), type URLs, nonces, resource name lists, error details, as
 * scripts of SotW or Delta requests on one stream; and valid request bytes
 * for byte-level mutation.
 */
import { create, toBinary, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { NodeSchema, type Node } from '../../src/gen/envoy/config/core/v3/base_pb.js';
import { DeltaDiscoveryRequestSchema, DiscoveryRequestSchema } from '../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { TypeUrl } from '../../src/xds/type-urls.js';

/** A long string (10 KB to 300 KB) built by repetition: cheap to make, and a size no real client sends. */
export const huge = (prefix = ''): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom('x', 'é', '~', '\n', '😀'), fc.integer({ min: 10_000, max: 300_000 })).map(([c, n]) => prefix + c.repeat(Math.ceil(n / c.length)));

/** Short text of every kind: printable, any code point (controls, unicode), empty; sometimes huge. */
export const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: huge() },
);

const ip = fc.oneof(fc.ipV4(), fc.ipV6());
const dnsLabel = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);

/** Istio-shaped ids the server accepts. */
export const validNodeId: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('sidecar', 'router', 'waypoint', 'ztunnel'), ip, dnsLabel, dnsLabel)
  .map(([type, addr, pod, ns]) => `${type}~${addr}~${pod}.${ns}~${ns}.svc.cluster.local`);

export const nodeId: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: validNodeId },
  { weight: 2, arbitrary: fc.constantFrom('', 'garbage', 'x~y', 'sidecar~~p.ns~ns.svc', 'gateway~10.0.0.1~p.ns~ns.svc.cluster.local', 'sidecar~10.0.0.1~~d') },
  { weight: 2, arbitrary: text },
  { weight: 1, arbitrary: fc.tuple(text, text, text, text).map((p) => p.join('~')) },
  { weight: 1, arbitrary: huge('sidecar~10.0.0.1~') },
);

const metadataValue: fc.Arbitrary<JsonValue> = fc.oneof(text, fc.constantFrom('grpc', '10.0.0.1,fd00::1', 'default'), fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>);
const metadata: fc.Arbitrary<JsonObject> = fc.dictionary(fc.oneof(fc.constantFrom('NAMESPACE', 'INSTANCE_IPS', 'GENERATOR', 'LABELS', 'ISTIO_VERSION', 'DNS_DOMAIN'), text), metadataValue, { maxKeys: 4 });

/** A node, or none (the first request must carry one). */
export const node: fc.Arbitrary<Node | undefined> = fc.option(
  fc.record({ id: nodeId, metadata }).map((n) => create(NodeSchema, n)),
  { nil: undefined, freq: 10 },
);

export const typeUrl: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...Object.values(TypeUrl)) },
  { weight: 1, arbitrary: fc.constantFrom('', 'type.googleapis.com/envoy.config.listener.v3.Listenerx', 'type.googleapis.com/google.protobuf.Empty') },
  { weight: 1, arbitrary: text },
  { weight: 1, arbitrary: huge('type.googleapis.com/') },
);

/** Names of the fake mesh's resources, the wildcard, and anything else. */
const name = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('*', 'a', 'b', 'c', '0.0.0.0_9080', '9080', '8080') }, { weight: 2, arbitrary: text });
export const names: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 6, arbitrary: fc.array(name, { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 30_000 }).map((n) => Array.from({ length: n }, (_, i) => `n${i}`)) },
);

/** Which nonce a request carries: none, the last response's (an ACK or NACK), or made up. */
export const nonce = fc.oneof(fc.constant({ kind: 'none' as const }), fc.constant({ kind: 'last' as const }), text.map((value) => ({ kind: 'random' as const, value })));

export const errorDetail = fc.option(
  fc.record({
    code: fc.integer({ min: -5, max: 20 }),
    message: fc.oneof({ weight: 4, arbitrary: text }, { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 1_100_000 }).map((n) => 'e'.repeat(n)) }),
  }),
  { nil: undefined, freq: 3 },
);

export const sotwStep = fc.record({ node, typeUrl, names, versionInfo: text, nonce, errorDetail });
export type SotwStep = typeof sotwStep extends fc.Arbitrary<infer T> ? T : never;

export const deltaStep = fc.record({
  node,
  typeUrl,
  subscribe: names,
  unsubscribe: fc.array(name, { maxLength: 4 }),
  initialVersions: fc.dictionary(name, text, { maxKeys: 4 }),
  nonce,
  errorDetail,
});
export type DeltaStep = typeof deltaStep extends fc.Arbitrary<infer T> ? T : never;

/** One stream's script: SotW or Delta, 1 to 8 requests. */
export const streamScript = fc.oneof(
  fc.record({ kind: fc.constant('sotw' as const), steps: fc.array(sotwStep, { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delta' as const), steps: fc.array(deltaStep, { minLength: 1, maxLength: 8 }) }),
);
export type StreamScript = typeof streamScript extends fc.Arbitrary<infer T> ? T : never;

const goodNode = create(NodeSchema, { id: 'sidecar~10.0.0.1~p.default~default.svc.cluster.local', metadata: { NAMESPACE: 'default', INSTANCE_IPS: '10.0.0.1' } });

/** Valid encoded requests of each stream kind: the seeds of byte mutation. */
export const validRequestBytes = {
  sotw: [
    toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { node: goodNode, typeUrl: TypeUrl.Cluster })),
    toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { node: goodNode, typeUrl: TypeUrl.ClusterLoadAssignment, resourceNames: ['a', 'b'], versionInfo: 'v1', responseNonce: 'n-1' })),
    toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: TypeUrl.Listener, responseNonce: 'n-2', errorDetail: { code: 3, message: 'bad listener' } })),
  ],
  delta: [
    toBinary(DeltaDiscoveryRequestSchema, create(DeltaDiscoveryRequestSchema, { node: goodNode, typeUrl: TypeUrl.Cluster, resourceNamesSubscribe: ['*'] })),
    toBinary(DeltaDiscoveryRequestSchema, create(DeltaDiscoveryRequestSchema, { node: goodNode, typeUrl: TypeUrl.RouteConfiguration, resourceNamesSubscribe: ['9080'], resourceNamesUnsubscribe: ['8080'], initialResourceVersions: { '9080': 'v' } })),
    toBinary(DeltaDiscoveryRequestSchema, create(DeltaDiscoveryRequestSchema, { typeUrl: TypeUrl.Listener, responseNonce: 'n-3', errorDetail: { code: 3, message: 'nack' } })),
  ],
};
