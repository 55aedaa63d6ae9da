import { create } from '@bufbuild/protobuf';
import { parseAllDocuments } from 'yaml';
import { objectKey, type AnyObject } from '../../../src/config/objects.js';
import type { ConfigState } from '../../../src/controlplane/sources/source.js';
import { buildModel } from '../../../src/controlplane/registry/build-model.js';
import type { MeshModel } from '../../../src/controlplane/registry/model.js';
import { RouteConfigurationSchema } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { VirtualHostSchema } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { TcpProxySchema } from '../../../src/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { outboundClusterName } from '../../../src/controlplane/translate/names.js';
import type { RouteBuilders } from '../../../src/controlplane/translate/generator-impl.js';
import { parseNodeId } from '../../../src/xds/parse-node.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';

/** A ConfigState from YAML documents (the loader's job is not under test here). */
export function stateOf(yamlText: string, revision = 1): ConfigState {
  const objects = new Map<string, AnyObject>();
  for (const doc of parseAllDocuments(yamlText)) {
    const o = doc.toJS() as AnyObject | null;
    if (!o) continue;
    o.metadata.namespace ??= 'default';
    objects.set(objectKey(o), o);
  }
  return { objects, problems: [], revision };
}

export function modelOf(yamlText: string): MeshModel {
  return buildModel(stateOf(yamlText));
}

/** Route builders standing in for translate/routes: one virtual host per visible service on the port. */
export const testRoutes: RouteBuilders = {
  outbound: (scope, port) =>
    create(RouteConfigurationSchema, {
      name: String(port),
      virtualHosts: scope.services
        .filter((s) => s.ports.some((p) => p.port === port))
        .map((s) => create(VirtualHostSchema, { name: `${s.hostname}:${port}`, domains: [s.hostname] })),
    }),
  grpc: (_scope, hostname, port) =>
    create(RouteConfigurationSchema, { name: `${hostname}:${port}`, virtualHosts: [create(VirtualHostSchema, { name: hostname, domains: ['*'] })] }),
  tcp: (_scope, svc, port) => {
    const cluster = outboundClusterName(port, undefined, svc.hostname);
    return create(TcpProxySchema, { statPrefix: cluster, clusterSpecifier: { case: 'cluster', value: cluster } });
  },
};

export function sidecarNode(ip: string, pod: string, ns: string): ProxyNode {
  return parseNodeId(`sidecar~${ip}~${pod}.${ns}~${ns}.svc.cluster.local`);
}

export function grpcNode(ns: string, pod = 'grpc-client'): ProxyNode {
  return parseNodeId(`sidecar~10.0.0.99~${pod}.${ns}~${ns}.svc.cluster.local`, { NAMESPACE: ns, GENERATOR: 'grpc' });
}

/** A small mesh: reviews (pods, 3 versions, one not ready), ratings (EndpointSlice), db (TCP, other namespace). */
export const bookinfo = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  clusterIP: 10.96.0.20
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: 9080}]
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1, namespace: default, labels: {app: reviews, version: v1, topology.kubernetes.io/region: eu, topology.kubernetes.io/zone: eu-a}}
spec: {serviceAccountName: reviews}
status: {podIP: 10.0.0.1, phase: Running, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v2, namespace: default, labels: {app: reviews, version: v2, topology.kubernetes.io/region: eu, topology.kubernetes.io/zone: eu-b}}
spec: {serviceAccountName: reviews}
status: {podIP: 10.0.0.2, phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v3, namespace: default, labels: {app: reviews, version: v3}}
spec: {serviceAccountName: reviews}
status: {podIP: 10.0.0.3, phase: Running, conditions: [{type: Ready, status: "False"}]}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: default}
spec:
  clusterIP: 10.96.0.30
  selector: {app: ratings}
  ports: [{name: grpc-api, port: 9090, targetPort: 19090}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ratings-abc, namespace: default, labels: {kubernetes.io/service-name: ratings}}
addressType: IPv4
ports: [{name: grpc-api, port: 19090}]
endpoints:
- {addresses: [10.0.1.1], conditions: {ready: true}, targetRef: {kind: Pod, name: ratings-1}, zone: z1}
- {addresses: [10.0.1.2], conditions: {ready: false}, zone: z1}
- {addresses: [10.0.1.3], zone: z2}
---
apiVersion: v1
kind: Pod
metadata: {name: ratings-1, namespace: default, labels: {app: ratings, version: v1}}
spec: {serviceAccountName: ratings}
status: {podIP: 10.0.1.1, phase: Running}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: other}
spec:
  clusterIP: 10.96.1.1
  selector: {app: db}
  ports: [{name: tcp-pg, port: 5432, targetPort: pg}]
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: other, labels: {app: db}}
spec: {containers: [{name: pg, ports: [{name: pg, containerPort: 15432}]}]}
status: {podIP: 10.0.2.1, phase: Running}
`;
