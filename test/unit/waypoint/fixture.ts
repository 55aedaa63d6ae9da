import { toJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { TranslateGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import type { TypeUrl } from '../../../src/xds/type-urls.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';
import { xdsRegistry } from '../../../src/xds/registry.js';

/** Envoy's config as JSON, walked by field path in the assertions. */
export type Json = Record<string, any>;

/** What `gen` sends `node` of `type` (the named ones, or all), as JSON by name. */
export function jsonResources<D extends DescMessage>(gen: TranslateGenerator, node: ProxyNode, type: TypeUrl, schema: D, names?: string[]): Map<string, Json> {
  const set = gen.generate(node, type, names ? new Set(names) : undefined);
  return new Map([...set].map(([n, r]) => [n, toJson(schema, r.message as MessageShape<D>, { registry: xdsRegistry }) as Json]));
}

/**
 * A mesh with a waypoint, for the waypoint tests (unit and integration):
 * namespace shop is ambient and uses waypoint "wp"; reviews has two subsets
 * split 90/10 with retries and a fault on /slow; an AuthorizationPolicy
 * attached to the waypoint's Gateway denies DELETE.
 */
/** A waypoint Gateway "wp" in shop, its Service and a pod behind it (what istiod's deployment controller makes). */
export const waypointYaml = (ready = true) => `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: wp, namespace: shop}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
---
apiVersion: v1
kind: Service
metadata: {name: wp, namespace: shop, labels: {gateway.istio.io/managed: istio.io-mesh-controller, gateway.networking.k8s.io/gateway-name: wp}}
spec: {clusterIP: 10.96.9.9, selector: {gateway.networking.k8s.io/gateway-name: wp}, ports: [{name: mesh, port: 15008}]}
---
apiVersion: v1
kind: Pod
metadata: {name: wp-1, namespace: shop, labels: {gateway.networking.k8s.io/gateway-name: wp, istio.io/dataplane-mode: none}}
status: {podIP: 10.1.0.99, phase: Running, conditions: [{type: Ready, status: "${ready ? 'True' : 'False'}"}]}
`;

export const waypointMesh = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: wp}}
${waypointYaml()}---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {clusterIP: 10.96.5.1, selector: {app: reviews}, ports: [{name: http, port: 9080}, {name: tcp-db, port: 5432}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1, namespace: shop, labels: {app: reviews, version: v1}}
status: {podIP: 10.1.0.5, phase: Running, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v2, namespace: shop, labels: {app: reviews, version: v2}}
status: {podIP: 10.1.0.6, phase: Running, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - match: [{uri: {prefix: /slow}}]
    fault: {delay: {fixedDelay: 1s, percentage: {value: 100}}}
    route: [{destination: {host: reviews, subset: v1}}]
  - retries: {attempts: 3, retryOn: 5xx}
    route:
    - {destination: {host: reviews, subset: v1}, weight: 90}
    - {destination: {host: reviews, subset: v2}, weight: 10}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-delete, namespace: shop}
spec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: wp}]
  action: DENY
  rules: [{to: [{operation: {methods: [DELETE]}}]}]
`;

export const waypointNodeId = 'waypoint~10.1.0.99~wp-1.shop~shop.svc.cluster.local';
export const waypointLabels = { 'gateway.networking.k8s.io/gateway-name': 'wp' };
