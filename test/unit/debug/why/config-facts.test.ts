/** What trellis why reads from a proxy's /config_dump: the route a request took (the proxy's own lookup), the cluster. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigDump } from '../../../../src/debug/proxy-config/dump.js';
import { clusterFacts, requestRouting } from '../../../../src/debug/why/config-facts.js';

const T = 'type.googleapis.com/envoy.';
const BACKEND = 'outbound|8080||backend.why.svc.cluster.local';
const VS = '/apis/networking.istio.io/v1/namespaces/why/virtual-service/backend';
const dumpJson = {
  configs: [
    { '@type': `${T}admin.v3.ClustersConfigDump`, dynamicActiveClusters: [
      { cluster: { '@type': `${T}config.cluster.v3.Cluster`, name: 'outbound|8080||limited.why.svc.cluster.local', metadata: { filterMetadata: { istio: { config: '/apis/networking.istio.io/v1/namespaces/why/destination-rule/limited' } } }, circuitBreakers: { thresholds: [{ maxConnections: 1, maxPendingRequests: 1, maxRequests: 4294967295 }] } } },
      { cluster: { '@type': `${T}config.cluster.v3.Cluster`, name: BACKEND } },
    ] },
    { '@type': `${T}admin.v3.ListenersConfigDump`, dynamicListeners: [
      { name: '127.42.8.251_8080', activeState: { listener: { '@type': `${T}config.listener.v3.Listener`, name: '127.42.8.251_8080', address: { socketAddress: { address: '127.42.8.251', portValue: 8080 } }, filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: { '@type': `${T}extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`, statPrefix: 'outbound_8080', rds: { routeConfigName: 'web', configSource: { ads: {} } } } }] }] } } },
    ] },
    { '@type': `${T}admin.v3.RoutesConfigDump`, dynamicRouteConfigs: [
      { routeConfig: { '@type': `${T}config.route.v3.RouteConfiguration`, name: 'web', virtualHosts: [
        { name: 'backend.why.svc.cluster.local:8080', domains: ['backend', 'backend:8080'], routes: [
          { match: { prefix: '/fault' }, route: { cluster: BACKEND }, metadata: { filterMetadata: { istio: { config: VS } } }, typedPerFilterConfig: { 'envoy.filters.http.fault': { '@type': `${T}extensions.filters.http.fault.v3.HTTPFault`, abort: { httpStatus: 418, percentage: { numerator: 100 } } } } },
          { match: { prefix: '/' }, route: { cluster: BACKEND, timeout: '0.500s', retryPolicy: { retryOn: '5xx', numRetries: 2, perTryTimeout: '0.200s' } }, metadata: { filterMetadata: { istio: { config: VS } } } },
        ] },
        { name: 'partial.why.svc.cluster.local:8080', domains: ['partial', 'partial:8080'], routes: [{ match: { prefix: '/api' }, route: { cluster: 'x' } }] },
      ] } },
      { routeConfig: { '@type': `${T}config.route.v3.RouteConfiguration`, name: '8080', virtualHosts: [] } },
    ] },
  ],
};

test("the route: the listener on the request's address names the route configuration; the proxy's lookup picks host and route", () => {
  const dump = parseConfigDump(dumpJson);
  const fault = requestRouting(dump, { local: '127.42.8.251:8080', authority: 'backend:8080', path: '/fault?x=1' });
  assert.equal(fault.routeConfig?.name, 'web', 'the listener\'s RDS name, not the port');
  assert.deepEqual(fault.route, { name: '', config: VS, fault: { abortStatus: 418, abortPercent: 100, delayMs: 0 } });
  const slow = requestRouting(dump, { local: '127.42.8.251:8080', authority: 'backend:8080', path: '/slow' });
  assert.deepEqual(slow.route, { name: '', config: VS, timeoutMs: 500, retry: { retryOn: '5xx', numRetries: 2, perTryTimeoutMs: 200 } });
  const nr = requestRouting(dump, { local: '127.42.8.251:8080', authority: 'partial:8080', path: '/other' });
  assert.equal(nr.route, undefined);
  assert.deepEqual(nr.routeConfig?.matched, { name: 'partial.why.svc.cluster.local:8080', routes: [{ name: '', match: '/api*' }] });
  const unknown = requestRouting(dump, { local: '127.42.8.251:8080', authority: 'elsewhere', path: '/' });
  assert.equal(unknown.routeConfig?.matched, undefined);
  assert.deepEqual(unknown.routeConfig?.virtualHosts.map((v) => v.name), ['backend.why.svc.cluster.local:8080', 'partial.why.svc.cluster.local:8080']);
  // No listener on that address: Istio's port-named route configuration.
  assert.equal(requestRouting(dump, { local: '10.0.0.1:8080', authority: 'backend:8080', path: '/' }).routeConfig?.name, '8080');
});

test('the cluster: DestinationRule, circuit breaker, endpoints and their health from /clusters', () => {
  const dump = parseConfigDump(dumpJson);
  const clusters = { cluster_statuses: [{ name: BACKEND, host_statuses: [
    { address: { socket_address: { address: '10.0.0.1', port_value: 8080 } }, health_status: { eds_health_status: 'HEALTHY' } },
    { address: { socket_address: { address: '10.0.0.2', port_value: 8080 } }, health_status: { eds_health_status: 'HEALTHY', failed_outlier_check: true } },
  ] }] };
  const limited = clusterFacts(dump, clusters, 'outbound|8080||limited.why.svc.cluster.local');
  assert.equal(limited?.config, '/apis/networking.istio.io/v1/namespaces/why/destination-rule/limited');
  assert.deepEqual([limited?.maxConnections, limited?.maxPendingRequests, limited?.maxRequests], [1, 1, 4294967295]);
  const backend = clusterFacts(dump, clusters, BACKEND);
  assert.equal(backend?.endpoints.length, 2);
  assert.equal(backend?.healthy, 1, 'an ejected host is not healthy');
  assert.equal(clusterFacts(dump, clusters, 'outbound|1||none'), undefined);
});

test('a filtered parse decodes only what is kept', () => {
  const d = parseConfigDump(dumpJson, (kind, name) => kind === 'cluster' && name === BACKEND);
  assert.deepEqual([d.clusters.map((c) => c.name), d.listeners.length, d.routes.length], [[BACKEND], 0, 0]);
});
