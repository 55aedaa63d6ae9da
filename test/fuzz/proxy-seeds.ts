/**
 * Valid resources for the proxy's validators, the seeds that fuzzing
 * mutates: what the real control plane generates for a small mesh that uses
 * most of what it translates (regex and header matches, retries, timeouts,
 * faults, mirrors, weighted subsets, consistent hash, circuit breakers,
 * outlier detection, Istio mTLS), plus hand-built listeners, clusters and
 * SDS secrets with real PEM.
 */
import type { DescMessage } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { createGenerator } from '../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../src/controlplane/translate/routes/index.js';
import { ClusterSchema } from '../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../src/gen/envoy/config/route/v3/route_pb.js';
import { SecretSchema } from '../../src/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { clusterType, endpointType, listenerType, nameTableType, routeType, secretType } from '../../src/proxy/xds-client/proxy-types.js';
import { NameTableSchema } from '../../src/gen/networking/nds/v1/nds_pb.js';
import type { ResourceType } from '../../src/proxy/xds-client/resource-type.js';
import { pushOrder, TypeUrl } from '../../src/xds/type-urls.js';
import { TestPki } from '../helpers/pki.js';
import { caSecret, certSecret, withDownstreamMtls, withUpstreamMtls } from '../integration/proxy/tls-builders.js';
import { edsCluster, endpoints, httpListener, tcpListener } from '../integration/proxy/xds-builders.js';
import * as sec from '../integration/proxy/security-builders.js';
import { bookinfo, modelOf, sidecarNode } from '../unit/translate/helpers.js';

export interface Seed {
  type: ResourceType;
  schema: DescMessage;
  any: Any;
}

const byType: Record<string, { type: ResourceType; schema: DescMessage }> = {
  [TypeUrl.Listener]: { type: listenerType, schema: ListenerSchema },
  [TypeUrl.RouteConfiguration]: { type: routeType, schema: RouteConfigurationSchema },
  [TypeUrl.Cluster]: { type: clusterType, schema: ClusterSchema },
  [TypeUrl.ClusterLoadAssignment]: { type: endpointType, schema: ClusterLoadAssignmentSchema },
  [TypeUrl.Secret]: { type: secretType, schema: SecretSchema },
  [TypeUrl.NameTable]: { type: nameTableType, schema: NameTableSchema },
};

const policies = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match:
    - uri: {regex: '/api/v[0-9]+/.*'}
      headers: {x-user: {exact: jason}, x-env: {prefix: pre}}
      queryParams: {v: {regex: '[0-9]{1,3}'}}
    route:
    - {destination: {host: reviews, subset: v2}, weight: 80, headers: {request: {set: {x-split: a}}}}
    - {destination: {host: reviews, subset: v3}, weight: 20}
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: 'gateway-error,connect-failure'}
    timeout: 5s
    fault: {delay: {fixedDelay: 1s, percentage: {value: 10}}, abort: {httpStatus: 503, percentage: {value: 1}}}
    mirror: {host: ratings}
    mirrorPercentage: {value: 50}
  - match: [{uri: {prefix: /old}, ignoreUriCase: true}]
    rewrite: {uriRegexRewrite: {match: '^/old/(.*)$', rewrite: '/new/\\1'}}
    route: [{destination: {host: reviews, subset: v1}}]
  - match: [{uri: {exact: /moved}}]
    redirect: {uri: /elsewhere, redirectCode: 301}
  - match: [{uri: {exact: /teapot}}]
    directResponse: {status: 418, body: {string: short and stout}}
  - route: [{destination: {host: reviews, subset: v1}}]
    headers: {response: {add: {x-served-by: trellis}, remove: [server]}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {consistentHash: {httpHeaderName: x-user}}
    connectionPool: {tcp: {maxConnections: 10, connectTimeout: 2s}, http: {http1MaxPendingRequests: 5, maxRetries: 2}}
    outlierDetection: {consecutive5xxErrors: 3, interval: 5s, baseEjectionTime: 30s, maxEjectionPercent: 50}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}, trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}}
  - {name: v3, labels: {version: v3}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: default}
spec:
  host: ratings
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
`;

/** Every resource the control plane generates for a client sidecar and for a reviews pod (inbound listeners). */
function generated(): Seed[] {
  const gen = createGenerator(modelOf(`${bookinfo}\n---\n${policies}`), routeBuilders);
  const out: Seed[] = [];
  for (const node of [sidecarNode('10.0.9.9', 'client', 'default'), sidecarNode('10.0.0.1', 'reviews-v1', 'default')]) {
    for (const typeUrl of pushOrder) {
      if (typeUrl === TypeUrl.Secret) continue;
      const named = typeUrl === TypeUrl.RouteConfiguration || typeUrl === TypeUrl.ClusterLoadAssignment;
      for (const r of gen.generate(node, typeUrl, named ? gen.referencedNames(node, typeUrl) : undefined).values()) out.push({ ...byType[typeUrl]!, any: r.any });
    }
  }
  return out;
}

/** PERMISSIVE chains with RBAC (HTTP, shadow, network) and XFCC, behind tls_inspector and http_inspector, as istiod shapes them. */
function securityListener(): Any {
  const rules = sec.allow({ 'ns[default]-policy[p]-rule[0]': sec.istioPolicy({ principals: ['cluster.local/ns/default/sa/client'], namespaces: ['default'], ipBlocks: ['10.0.0.0/8'], methods: ['GET'], paths: ['/api/*', '/health'], ports: [8080], headers: { 'x-token': ['a'] } }) });
  const denyAdmin = sec.deny({ 'ns[default]-policy[d]-rule[0]': sec.istioPolicy({ paths: ['/admin'] }) });
  const http = sec.hcm({ statPrefix: 'inbound_8080', cluster: 'inbound|8080||', httpFilters: [sec.httpRbac(denyAdmin), sec.httpRbac(rules, { shadow: denyAdmin, shadowPrefix: 'istio_dry_run_allow_' })], xfcc: { mode: 'APPEND_FORWARD', subject: true, uri: true, dns: true } });
  return sec.inboundListener('virtualInbound', 15006, [
    { name: 'mtls-http', filterChainMatch: { destinationPort: 8080, transportProtocol: 'tls', applicationProtocols: sec.MTLS_HTTP_ALPNS }, transportSocket: sec.inboundMtls(), filters: [http] },
    { name: 'plain-http', filterChainMatch: { destinationPort: 8080, transportProtocol: 'raw_buffer', applicationProtocols: sec.PLAINTEXT_HTTP_ALPNS }, filters: [http] },
    { name: 'mtls-tcp', filterChainMatch: { destinationPort: 9000, transportProtocol: 'tls' }, transportSocket: sec.inboundMtls({ alpn: [] }), filters: [sec.networkRbac(rules), sec.tcpProxy('inbound_9000', 'inbound|9000||')] },
  ]);
}

/** Builds the seeds; creates (and removes) a throwaway PKI for the secrets. */
export function buildSeeds(): Seed[] {
  const pki = new TestPki('fuzz CA');
  try {
    const leaf = pki.leaf('spiffe://cluster.local/ns/default/sa/fuzz');
    const hand: [string, Any][] = [
      [TypeUrl.Listener, httpListener('http', 'routes', 0, '%REQ(:METHOD)% %RESPONSE_CODE% %DURATION%')],
      [TypeUrl.Listener, withDownstreamMtls(tcpListener('tcp', 'backend', 0, ''), { sans: ['spiffe://cluster.local/ns/default/sa/client'] })],
      [TypeUrl.Cluster, edsCluster('backend', { maxConnections: 4, maxPendingRequests: 2, maxRequests: 8, connectTimeoutMs: 250 })],
      [TypeUrl.Cluster, withUpstreamMtls(edsCluster('secure'), { sans: ['spiffe://cluster.local/ns/default/sa/server'], sni: 'outbound_.80_._.secure' })],
      [TypeUrl.ClusterLoadAssignment, endpoints('backend', [8080, 8081])],
      [TypeUrl.Listener, securityListener()],
      [TypeUrl.Cluster, sec.autoMtlsCluster('auto', sec.upstreamMtls({ sans: [sec.exact('spiffe://cluster.local/ns/default/sa/server')] }))],
      [TypeUrl.ClusterLoadAssignment, sec.endpointsWithTlsMode('auto', [{ port: 8080, tlsMode: 'istio' }, { port: 8081 }], 'istio')],
      [TypeUrl.Secret, certSecret('default', leaf)],
      [TypeUrl.Secret, caSecret('ROOTCA', pki.ca.cert)],
    ];
    const seeds = [...generated(), ...hand.map(([t, any]) => ({ ...byType[t]!, any }))];
    for (const s of seeds) {
      const d = s.type.decode(s.any);
      if (!d.ok) throw new Error(`seed ${s.type.short} ${d.name} does not validate: ${d.errors.join('; ')}`);
    }
    return seeds;
  } finally {
    pki.remove();
  }
}
