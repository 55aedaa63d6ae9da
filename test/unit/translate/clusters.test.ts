import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ClusterSchema, Cluster_DiscoveryType, Cluster_LbPolicy, type Cluster } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { UpstreamTlsContextSchema } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { HttpProtocolOptionsSchema } from '../../../src/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { ApiVersion } from '../../../src/gen/envoy/config/core/v3/config_source_pb.js';
import { toJson } from '@bufbuild/protobuf';
import { CommonTlsContextSchema } from '../../../src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { xdsRegistry } from '../../../src/xds/registry.js';
import { serviceClusters, outboundCluster, inboundCluster, passthroughCluster, blackHoleCluster, clusterContext } from '../../../src/controlplane/translate/clusters.js';
import { effectivePolicy } from '../../../src/controlplane/translate/destination-rule.js';
import { hashPolicies } from '../../../src/controlplane/translate/routes/hash-policy.js';
import { HttpProtocolOptionsKey } from '../../../src/controlplane/translate/cluster-policy.js';
import type { MeshModel } from '../../../src/controlplane/registry/model.js';
import { bookinfo, modelOf } from './helpers.js';

const host = 'reviews.default.svc.cluster.local';
/** istiod's SDS config for the workload certificate and root: the agent over the sds-grpc cluster, no initial fetch timeout. */
const agentSds = {
  apiConfigSource: { apiType: 'GRPC', transportApiVersion: 'V3', grpcServices: [{ envoyGrpc: { clusterName: 'sds-grpc' } }], setNodeOnFirstMessageOnly: true },
  initialFetchTimeout: '0s',
  resourceApiVersion: 'V3',
};

function clustersFor(model: MeshModel, hostname = host, generator: 'envoy' | 'grpc' = 'envoy', fromNs = 'default'): Map<string, Cluster> {
  const svc = model.service(hostname)!;
  const list = serviceClusters(svc, model.destinationRule(hostname, fromNs), generator, clusterContext(model, svc));
  return new Map(list.map((c) => [c.name, c]));
}

const rule = (spec: string) => `${bookinfo}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
${spec}`;

describe('outbound clusters', () => {
  test('names: default and one per subset; EDS over ADS with the cluster name as service name', () => {
    const m = modelOf(rule(`  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]`));
    const cs = clustersFor(m);
    assert.deepEqual([...cs.keys()], [`outbound|9080||${host}`, `outbound|9080|v1|${host}`, `outbound|9080|v2|${host}`]);
    for (const c of cs.values()) {
      assert.deepEqual(c.clusterDiscoveryType, { case: 'type', value: Cluster_DiscoveryType.EDS });
      assert.equal(c.edsClusterConfig?.serviceName, c.name);
      assert.equal(c.edsClusterConfig?.edsConfig?.configSourceSpecifier.case, 'ads');
      assert.equal(c.edsClusterConfig?.edsConfig?.resourceApiVersion, ApiVersion.V3);
      assert.equal(c.connectTimeout?.seconds, 10n);
      assert.equal(c.lbPolicy, Cluster_LbPolicy.ROUND_ROBIN);
      assert.equal(c.transportSocket, undefined);
    }
  });

  test('policy merge: top level < port level < subset < subset port level', () => {
    const m = modelOf(rule(`  trafficPolicy:
    loadBalancer: {simple: RANDOM}
    connectionPool: {tcp: {maxConnections: 10}}
    portLevelSettings:
    - port: {number: 9080}
      loadBalancer: {simple: LEAST_REQUEST}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      connectionPool: {tcp: {maxConnections: 5, connectTimeout: 2.5s}}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      loadBalancer: {simple: ROUND_ROBIN}
      portLevelSettings:
      - port: {number: 9080}
        loadBalancer: {simple: LEAST_CONN}
        connectionPool: {tcp: {maxConnections: 7}}`));
    const cs = clustersFor(m);
    const base = cs.get(`outbound|9080||${host}`)!;
    assert.equal(base.lbPolicy, Cluster_LbPolicy.LEAST_REQUEST);
    assert.equal(base.circuitBreakers?.thresholds[0]?.maxConnections, 10);
    const v1 = cs.get(`outbound|9080|v1|${host}`)!;
    assert.equal(v1.lbPolicy, Cluster_LbPolicy.LEAST_REQUEST, 'v1 inherits port-level LB');
    assert.equal(v1.circuitBreakers?.thresholds[0]?.maxConnections, 5);
    assert.equal(v1.connectTimeout?.seconds, 2n);
    assert.equal(v1.connectTimeout?.nanos, 500_000_000);
    const v2 = cs.get(`outbound|9080|v2|${host}`)!;
    assert.equal(v2.lbPolicy, Cluster_LbPolicy.LEAST_REQUEST, 'LEAST_CONN maps to LEAST_REQUEST');
    assert.equal(v2.circuitBreakers?.thresholds[0]?.maxConnections, 7);
    assert.equal(effectivePolicy(m.destinationRule(host, 'default'), 9081, 'v2').loadBalancer?.simple, 'ROUND_ROBIN');
  });

  test('circuit breakers: Istio defaults, and connectionPool numbers', () => {
    const none = clustersFor(modelOf(bookinfo)).get(`outbound|9080||${host}`)!;
    const t0 = none.circuitBreakers!.thresholds[0]!;
    assert.deepEqual([t0.maxConnections, t0.maxPendingRequests, t0.maxRequests, t0.maxRetries], [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
    const c = clustersFor(modelOf(rule(`  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 100}
      http: {http1MaxPendingRequests: 11, http2MaxRequests: 12, maxRetries: 3, maxRequestsPerConnection: 1, idleTimeout: 30s}`))).get(`outbound|9080||${host}`)!;
    const t = c.circuitBreakers!.thresholds[0]!;
    assert.deepEqual([t.maxConnections, t.maxPendingRequests, t.maxRequests, t.maxRetries], [100, 11, 12, 3]);
    const opts = anyUnpack(c.typedExtensionProtocolOptions[HttpProtocolOptionsKey]!, HttpProtocolOptionsSchema)!;
    assert.equal(opts.commonHttpProtocolOptions?.maxRequestsPerConnection, 1);
    assert.equal(opts.commonHttpProtocolOptions?.idleTimeout?.seconds, 30n);
    assert.equal(opts.upstreamProtocolOptions.case, 'explicitHttpConfig');
  });

  test('HTTP/2 upstream for gRPC ports, none for plain HTTP without settings', () => {
    const m = modelOf(bookinfo);
    const grpc = clustersFor(m, 'ratings.default.svc.cluster.local').get('outbound|9090||ratings.default.svc.cluster.local')!;
    const opts = anyUnpack(grpc.typedExtensionProtocolOptions[HttpProtocolOptionsKey]!, HttpProtocolOptionsSchema)!;
    assert.equal(opts.upstreamProtocolOptions.case === 'explicitHttpConfig' && opts.upstreamProtocolOptions.value.protocolConfig.case, 'http2ProtocolOptions');
    assert.deepEqual(Object.keys(clustersFor(m).get(`outbound|9080||${host}`)!.typedExtensionProtocolOptions), []);
  });

  test("tcpKeepalive → upstream_connection_options.tcp_keepalive as istiod's setKeepAliveSettings (seconds, probes only when positive; per subset; not for gRPC)", () => {
    const m = modelOf(rule(`  trafficPolicy:
    connectionPool:
      tcp: {tcpKeepalive: {time: 60s, interval: 10s, probes: 3}}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy: {connectionPool: {tcp: {tcpKeepalive: {time: 90500ms, probes: 0}}}}
  - name: v2
    labels: {version: v2}`));
    const cs = clustersFor(m);
    const json = (c: Cluster) => toJson(ClusterSchema, c, { registry: xdsRegistry }) as { upstreamConnectionOptions?: unknown };
    assert.deepEqual(json(cs.get(`outbound|9080||${host}`)!).upstreamConnectionOptions, { tcpKeepalive: { keepaliveProbes: 3, keepaliveTime: 60, keepaliveInterval: 10 } });
    // A subset's policy replaces the connection pool as a whole (Istio's merge): its own time, no probes, no interval.
    assert.deepEqual(json(cs.get(`outbound|9080|v1|${host}`)!).upstreamConnectionOptions, { tcpKeepalive: { keepaliveTime: 90 } });
    assert.deepEqual(json(cs.get(`outbound|9080|v2|${host}`)!).upstreamConnectionOptions, { tcpKeepalive: { keepaliveProbes: 3, keepaliveTime: 60, keepaliveInterval: 10 } });
    // An empty tcpKeepalive still turns SO_KEEPALIVE on (with the system's timers), as istiod's empty message does.
    const empty = clustersFor(modelOf(rule('  trafficPolicy: {connectionPool: {tcp: {tcpKeepalive: {}}}}'))).get(`outbound|9080||${host}`)!;
    assert.deepEqual(json(empty).upstreamConnectionOptions, { tcpKeepalive: {} });
    assert.equal(clustersFor(modelOf(bookinfo)).get(`outbound|9080||${host}`)!.upstreamConnectionOptions, undefined);
    const grpc = clustersFor(m, host, 'grpc').get(`outbound|9080||${host}`)!;
    assert.equal(grpc.upstreamConnectionOptions, undefined);
  });

  test('outlier detection', () => {
    const c = clustersFor(modelOf(rule(`  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 5, consecutiveGatewayErrors: 3, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50, minHealthPercent: 20}`))).get(`outbound|9080||${host}`)!;
    const o = c.outlierDetection!;
    assert.deepEqual([o.consecutive5xx, o.enforcingConsecutive5xx, o.consecutiveGatewayFailure, o.enforcingConsecutiveGatewayFailure, o.maxEjectionPercent], [5, 100, 3, 100, 50]);
    assert.equal(o.interval?.seconds, 10n);
    assert.equal(o.baseEjectionTime?.seconds, 30n);
    assert.equal(c.commonLbConfig?.healthyPanicThreshold?.value, 20);
    // As istiod: success-rate ejection (on by default in Envoy) turned off.
    assert.equal(o.enforcingSuccessRate, 0);
    assert.equal(o.enforcingLocalOriginSuccessRate, undefined);
  });

  test('outlier detection as istiod maps the rest: deprecated consecutiveErrors not read, maxEjectionPercent 0 left to Envoy, local-origin split', () => {
    const c = clustersFor(modelOf(rule(`  trafficPolicy:
    outlierDetection: {consecutiveErrors: 2, maxEjectionPercent: 0, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 4}`))).get(`outbound|9080||${host}`)!;
    const o = c.outlierDetection!;
    assert.deepEqual([o.consecutive5xx, o.enforcingConsecutive5xx, o.maxEjectionPercent, o.enforcingSuccessRate], [undefined, undefined, undefined, 0]);
    assert.deepEqual([o.splitExternalLocalOriginErrors, o.consecutiveLocalOriginFailure, o.enforcingConsecutiveLocalOriginFailure, o.enforcingLocalOriginSuccessRate], [true, 4, 100, 0]);
  });

  test('consistent hash: RING_HASH or MAGLEV on the cluster, the hash policy for the route', () => {
    const m = modelOf(rule(`  trafficPolicy:
    loadBalancer: {consistentHash: {httpHeaderName: x-user}}
  subsets:
  - {name: v1, labels: {version: v1}, trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 65537}}}}}
  - {name: v2, labels: {version: v2}, trafficPolicy: {loadBalancer: {simple: RANDOM}}}`));
    const cs = clustersFor(m);
    const base = cs.get(`outbound|9080||${host}`)!;
    assert.equal(base.lbPolicy, Cluster_LbPolicy.RING_HASH);
    assert.equal(base.lbConfig.case === 'ringHashLbConfig' && base.lbConfig.value.minimumRingSize, 1024n);
    const v1 = cs.get(`outbound|9080|v1|${host}`)!;
    assert.equal(v1.lbPolicy, Cluster_LbPolicy.MAGLEV);
    assert.equal(v1.lbConfig.case === 'maglevLbConfig' && v1.lbConfig.value.tableSize, 65537n);
    const hashPolicyFor = (hostname: string, port: number, subset: string | undefined) => hashPolicies(m.destinationRule(hostname, 'default'), port, subset);
    assert.equal(hashPolicyFor(host, 9080, undefined)[0]?.policySpecifier.case, 'header');
    const h = hashPolicyFor(host, 9080, undefined)[0]!;
    assert.equal(h.policySpecifier.case === 'header' && h.policySpecifier.value.headerName, 'x-user');
    assert.equal(hashPolicyFor(host, 9080, 'v1')[0]?.policySpecifier.case, 'connectionProperties');
    assert.deepEqual(hashPolicyFor(host, 9080, 'v2'), []);
    assert.deepEqual(hashPolicyFor('ratings.default.svc.cluster.local', 9090, undefined), []);
  });

  test('PASSTHROUGH load balancer: ORIGINAL_DST, no EDS', () => {
    const c = clustersFor(modelOf(rule(`  trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}`))).get(`outbound|9080||${host}`)!;
    assert.deepEqual(c.clusterDiscoveryType, { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST });
    assert.equal(c.lbPolicy, Cluster_LbPolicy.CLUSTER_PROVIDED);
    assert.equal(c.edsClusterConfig, undefined);
  });

  test('ISTIO_MUTUAL: "default" and "ROOTCA" from the agent (sds-grpc), Istio SNI, ALPN, TLS 1.2-1.3, SANs of the service accounts', () => {
    const m = modelOf(rule(`  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
  subsets: [{name: v1, labels: {version: v1}}, {name: plain, labels: {version: v2}, trafficPolicy: {tls: {mode: DISABLE}}}]`));
    const cs = clustersFor(m);
    for (const [subset, sni] of [['', `outbound_.9080_._.${host}`], ['v1', `outbound_.9080_.v1_.${host}`]] as const) {
      const c = cs.get(`outbound|9080|${subset}|${host}`)!;
      assert.deepEqual(c.transportSocketMatches, [], 'a rule that sets tls is not auto mTLS');
      const ts = c.transportSocket!;
      assert.equal(ts.name, 'envoy.transport_sockets.tls');
      assert.equal(ts.configType.case, 'typedConfig');
      const ctx = anyUnpack(ts.configType.value!, UpstreamTlsContextSchema)!;
      assert.equal(ctx.sni, sni);
      const json = toJson(CommonTlsContextSchema, ctx.commonTlsContext!, { registry: xdsRegistry });
      assert.deepEqual(json, {
        tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2', tlsMaximumProtocolVersion: 'TLSv1_3' },
        tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: agentSds }],
        combinedValidationContext: {
          defaultValidationContext: { matchSubjectAltNames: [{ exact: 'spiffe://cluster.local/ns/default/sa/reviews' }] },
          validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: agentSds },
        },
        alpnProtocols: ['istio-peer-exchange', 'istio'],
      });
    }
    assert.equal(cs.get(`outbound|9080|plain|${host}`)!.transportSocket, undefined);
  });

  test('ISTIO_MUTUAL: the rule\'s own SNI and SANs win; HTTP/2 clusters add h2 to ALPN', () => {
    const m = modelOf(rule(`  trafficPolicy: {tls: {mode: ISTIO_MUTUAL, sni: via.gateway, subjectAltNames: ["spiffe://other/ns/x/sa/y"]}, connectionPool: {http: {h2UpgradePolicy: UPGRADE}}}`));
    const ctx = anyUnpack(clustersFor(m).get(`outbound|9080||${host}`)!.transportSocket!.configType.value!, UpstreamTlsContextSchema)!;
    assert.equal(ctx.sni, 'via.gateway');
    const v = ctx.commonTlsContext!.validationContextType;
    assert.deepEqual(v.case === 'combinedValidationContext' && v.value.defaultValidationContext?.matchSubjectAltNames.map((s) => s.matchPattern.value), ['spiffe://other/ns/x/sa/y']);
    assert.deepEqual(ctx.commonTlsContext!.alpnProtocols, ['istio-peer-exchange', 'istio', 'h2']);
  });

  test('SIMPLE and MUTUAL use files', () => {
    const c = clustersFor(modelOf(rule(`  trafficPolicy: {tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem, sni: my.sni}}`))).get(`outbound|9080||${host}`)!;
    const ctx = anyUnpack(c.transportSocket!.configType.value!, UpstreamTlsContextSchema)!;
    assert.equal(ctx.sni, 'my.sni');
    const cert = ctx.commonTlsContext!.tlsCertificates[0]!;
    assert.deepEqual([cert.certificateChain?.specifier.value, cert.privateKey?.specifier.value], ['/c.pem', '/k.pem']);
    const v = ctx.commonTlsContext!.validationContextType;
    assert.equal(v.case === 'validationContext' && v.value.trustedCa?.specifier.value, '/ca.pem');
  });

  test('proxyless gRPC: EDS only, no transport socket unless the rule sets tls, no HTTP options', () => {
    const m = modelOf(bookinfo);
    const c = clustersFor(m, 'ratings.default.svc.cluster.local', 'grpc').get('outbound|9090||ratings.default.svc.cluster.local')!;
    assert.equal(c.transportSocket, undefined);
    assert.deepEqual(Object.keys(c.typedExtensionProtocolOptions), []);
    assert.equal(c.clusterDiscoveryType.value, Cluster_DiscoveryType.EDS);
  });

  test('headless services are ORIGINAL_DST for Envoy and EDS for gRPC; DNS ServiceEntries are STRICT_DNS', () => {
    const m = modelOf(bookinfo.replace('clusterIP: 10.96.0.20', 'clusterIP: None') + `
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: default}
spec: {hosts: [api.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}
`);
    assert.equal(clustersFor(m).get(`outbound|9080||${host}`)!.clusterDiscoveryType.value, Cluster_DiscoveryType.ORIGINAL_DST);
    assert.equal(clustersFor(m, host, 'grpc').get(`outbound|9080||${host}`)!.clusterDiscoveryType.value, Cluster_DiscoveryType.EDS);
    const dns = clustersFor(m, 'api.example.com').get('outbound|443||api.example.com')!;
    assert.equal(dns.clusterDiscoveryType.value, Cluster_DiscoveryType.STRICT_DNS);
    const ep = dns.loadAssignment!.endpoints[0]!.lbEndpoints[0]!;
    const addr = ep.hostIdentifier.case === 'endpoint' ? ep.hostIdentifier.value.address?.address : undefined;
    assert.equal(addr?.case === 'socketAddress' && addr.value.address, 'api.example.com');
  });
});

describe('fixed and inbound clusters', () => {
  test('inbound|PORT||: ORIGINAL_DST (the pod IP and port the client asked for, as Istio 1.10+), bound to 127.0.0.6', () => {
    const c = inboundCluster(9080);
    assert.equal(c.name, 'inbound|9080||');
    assert.equal(c.clusterDiscoveryType.value, Cluster_DiscoveryType.ORIGINAL_DST);
    assert.equal(c.lbPolicy, Cluster_LbPolicy.CLUSTER_PROVIDED);
    assert.equal(c.loadAssignment, undefined);
    assert.equal(c.upstreamBindConfig?.sourceAddress?.address, '127.0.0.6');
    assert.equal(c.metadata, undefined);
  });

  test("inbound clusters carry Istio's service metadata for the server side's telemetry", () => {
    const c = inboundCluster(9080, [{ host: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' }]);
    assert.deepEqual(c.metadata?.filterMetadata.istio, { services: [{ host: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' }] });
  });

  test('PassthroughCluster is ORIGINAL_DST, BlackHoleCluster is STATIC without endpoints', () => {
    assert.equal(passthroughCluster().clusterDiscoveryType.value, Cluster_DiscoveryType.ORIGINAL_DST);
    const bh = blackHoleCluster();
    assert.equal(bh.clusterDiscoveryType.value, Cluster_DiscoveryType.STATIC);
    assert.equal(bh.loadAssignment, undefined);
  });

  test('outboundCluster for a single subset carries its name', () => {
    const m = modelOf(rule(`  subsets: [{name: v1, labels: {version: v1}}]`));
    const svc = m.service(host)!;
    const dr = m.destinationRule(host, 'default');
    assert.equal(outboundCluster(svc, svc.ports[0]!, dr, dr!.spec.subsets![0], 'envoy', clusterContext(m, svc)).name, `outbound|9080|v1|${host}`);
  });
});
