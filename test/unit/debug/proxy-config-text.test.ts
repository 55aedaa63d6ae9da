/** How istioctl proxy-config describes Istio's names, matches and domains. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { FilterChainMatchSchema } from '../../../src/gen/envoy/config/listener/v3/listener_components_pb.js';
import { RouteMatchSchema } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { describeManagement, parseSubsetKey, renderConfig } from '../../../src/debug/proxy-config/istio-names.js';
import { describeChainMatch } from '../../../src/debug/proxy-config/listeners-table.js';
import { describeRouteDomains } from '../../../src/debug/proxy-config/routes-table.js';
import { describeMatch } from '../../../src/debug/proxy-config/route-text.js';
import { loggingQueries, activeLoggerNames } from '../../../src/debug/proxy-config/log-levels.js';

test('subset keys: outbound with and without subset, inbound; other names are not keys', () => {
  assert.deepEqual(parseSubsetKey('outbound|9080|v1|reviews.default.svc.cluster.local'), { direction: 'outbound', port: 9080, subset: 'v1', fqdn: 'reviews.default.svc.cluster.local' });
  assert.deepEqual(parseSubsetKey('inbound|9080||'), { direction: 'inbound', port: 9080, subset: '', fqdn: '' });
  assert.equal(parseSubsetKey('PassthroughCluster'), undefined);
  assert.equal(parseSubsetKey('outbound|9080|v1|a|b')?.fqdn, '', 'an extra separator: no host, as in Istio');
});

test('istio.config metadata rendered as name.namespace', () => {
  assert.equal(renderConfig('/apis/networking.istio.io/v1/namespaces/shop/virtual-service/reviews'), 'reviews.shop');
  assert.equal(renderConfig('/apis/security.istio.io/v1/namespaces/shop/peer-authentication/x'), '<unknown>');
  assert.equal(describeManagement(undefined), '');
  assert.equal(describeManagement({ $typeName: 'envoy.config.core.v3.Metadata', filterMetadata: { istio: { config: '/apis/networking.istio.io/v1/namespaces/a/destination-rule/b' } }, typedFilterMetadata: {} }), 'b.a');
});

test('filter chain matches in istioctl\'s words', () => {
  assert.equal(describeChainMatch(undefined), 'ALL');
  assert.equal(describeChainMatch(create(FilterChainMatchSchema, { destinationPort: 9080 })), 'Addr: *:9080');
  assert.equal(describeChainMatch(create(FilterChainMatchSchema, { serverNames: ['a.com', 'b.com'], transportProtocol: 'tls', applicationProtocols: ['istio-peer-exchange', 'istio'] })), 'SNI: a.com,b.com; Trans: tls; App: TCP TLS');
  assert.equal(describeChainMatch(create(FilterChainMatchSchema, { applicationProtocols: ['h2'], prefixRanges: [{ addressPrefix: '10.0.0.1', prefixLen: 32 }], destinationPort: 80 })), 'App: h2; Addr: 10.0.0.1/32:80');
});

test('route matches and domains', () => {
  assert.equal(describeMatch(create(RouteMatchSchema, { pathSpecifier: { case: 'prefix', value: '/api' } })), '/api*');
  assert.equal(describeMatch(create(RouteMatchSchema, { pathSpecifier: { case: 'path', value: '/exact' } })), '/exact');
  assert.equal(describeRouteDomains(['reviews.default.svc.cluster.local', 'reviews.default.svc.cluster.local:9080']), 'reviews.default.svc.cluster.local', 'no short form: the FQDN stays');
  assert.equal(describeRouteDomains(['*']), '*');
  assert.equal(describeRouteDomains(['a.ns.svc.cluster.local', 'a', 'a.ns', 'a.ns.svc', '10.0.0.1', 'a:80']), 'a, a.ns + 1 more...');
  assert.equal(describeRouteDomains(['[fd00:10:96::7fc7]', '[fd00:10:96::7fc7]:8090', 'a.b']), '[fd00:10:96::7fc7], a.b');
});

test('--level: a bare level for all, LOGGER:LEVEL and LOGGER=LEVEL each, checked against the proxy\'s loggers', () => {
  const active = activeLoggerNames('active loggers:\n  cluster: info\n  xds: warning\n');
  assert.deepEqual(active, ['cluster', 'xds']);
  assert.deepEqual(loggingQueries('debug', active), ['level=debug']);
  assert.deepEqual(loggingQueries('xds:debug,cluster=Warning,warn', active), ['level=warn', 'xds=debug', 'cluster=warning']);
  assert.deepEqual(loggingQueries('default::xds:trace', active), ['xds=trace']);
  assert.throws(() => loggingQueries('rbac:debug', active), /unrecognized logger name: rbac \(the proxy's loggers: cluster, xds\)/);
  assert.throws(() => loggingQueries('xds:loud', active), /unrecognized logging level: loud/);
  assert.throws(() => loggingQueries(',', active), /give LEVEL or LOGGER:LEVEL/);
});
