/**
 * What @grpc/grpc-js-xds makes of the bytes we send a proxyless gRPC client:
 * its own resource decoders (the validation it runs on every LDS/CDS/EDS
 * response) must accept every listener, cluster and endpoint assignment.
 * Own file: register() touches process-wide state of grpc-js.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { bookinfo, grpcNode, modelOf, testRoutes } from './helpers.js';

interface DecodeResult {
  name: string;
  value?: unknown;
  error?: string;
}
interface Decoder {
  get(): { decode(ctx: unknown, res: { type_url: string; value: Buffer }): DecodeResult };
}
const require = createRequire(import.meta.url);
(require('@grpc/grpc-js-xds') as { register(): void }).register();
const base = '@grpc/grpc-js-xds/build/src/xds-resource-type/';
const decoders: Record<string, Decoder> = {
  [TypeUrl.Listener]: (require(`${base}listener-resource-type.js`) as { ListenerResourceType: Decoder }).ListenerResourceType,
  [TypeUrl.Cluster]: (require(`${base}cluster-resource-type.js`) as { ClusterResourceType: Decoder }).ClusterResourceType,
  [TypeUrl.ClusterLoadAssignment]: (require(`${base}endpoint-resource-type.js`) as { EndpointResourceType: Decoder }).EndpointResourceType,
};

const mesh = bookinfo + `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    connectionPool: {http: {http2MaxRequests: 50}}
    outlierDetection: {consecutive5xxErrors: 3, interval: 5s}
  subsets:
  - {name: v1, labels: {version: v1}, trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}}
  - {name: v2, labels: {version: v2}, trafficPolicy: {loadBalancer: {simple: LEAST_CONN}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: default}
spec:
  host: ratings
  trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 65537}}}}
  subsets: [{name: random, trafficPolicy: {loadBalancer: {simple: RANDOM}}}, {name: pass, trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: other}
spec:
  host: db
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
`;

describe('grpc-js-xds accepts what a proxyless gRPC node gets', () => {
  const gen = createGenerator(modelOf(mesh), testRoutes);
  const node = grpcNode('default');
  for (const type of [TypeUrl.Listener, TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment]) {
    test(type.split('.').pop()!, () => {
      const set = gen.generate(node, type, type === TypeUrl.ClusterLoadAssignment ? gen.referencedNames(node, type) : undefined);
      assert.ok(set.size >= 3, `${set.size} resources`);
      if (type === TypeUrl.Cluster) assert.ok(set.get(`outbound|5432||db.other.svc.cluster.local`)!.any.value.length > 200, 'ISTIO_MUTUAL is in the set');
      for (const [name, r] of set) {
        // The certificate provider Istio's agent names "default" in a proxyless gRPC bootstrap.
        const bootstrap = { node: {}, authorities: {}, xdsServers: [], certificateProviders: { default: {} } };
        const res = decoders[type]!.get().decode({ server: {}, bootstrap }, { type_url: r.typeUrl, value: Buffer.from(r.any.value) });
        assert.equal(res.error, undefined, `${name}: ${res.error}`);
        assert.equal(res.name, name);
      }
    });
  }
});
