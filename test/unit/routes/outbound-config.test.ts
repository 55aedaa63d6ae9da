/**
 * RouteConfiguration "PORT" for sidecars: which virtual hosts exist, their
 * domains, which VirtualService applies to which host, and route order.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOutboundRouteConfig } from '../../../src/controlplane/translate/routes/index.js';
import { bookinfo, external, fqdn, scopeOf } from './fixture.js';
import { actionOf, clusterOf, reviewsVs, serialised, vhost } from './check.js';

const reviews = fqdn('reviews');

function vs(name: string, ns: string, hosts: string[], http: string, extra = ''): string {
  return `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hosts: ${JSON.stringify(hosts)}
${extra}  http:
${http.replace(/^/gm, '  ')}
`;
}

describe('buildOutboundRouteConfig', () => {
  test('one virtual host per HTTP service on the port, sorted, then allow_any', () => {
    const rc = serialised(buildOutboundRouteConfig(scopeOf(bookinfo()), 9080));
    assert.equal(rc.name, '9080');
    assert.equal(rc.validateClusters, false);
    assert.deepEqual(rc.virtualHosts.map((v) => v.name), [`${fqdn('details', 'other')}:9080`, `${fqdn('ratings')}:9080`, `${reviews}:9080`, 'allow_any']);
  });

  test('a port only served by TCP or other-port services has only allow_any', () => {
    const rc = serialised(buildOutboundRouteConfig(scopeOf(bookinfo()), 27017));
    assert.deepEqual(rc.virtualHosts.map((v) => v.name), ['allow_any']);
    const grpc = serialised(buildOutboundRouteConfig(scopeOf(bookinfo()), 9090));
    assert.deepEqual(grpc.virtualHosts.map((v) => v.name), [`${fqdn('ratings')}:9090`, 'allow_any']);
  });

  test('allow_any routes everything else to PassthroughCluster', () => {
    const any = vhost(serialised(buildOutboundRouteConfig(scopeOf(bookinfo()), 9080)), 'allow_any');
    assert.deepEqual(any.domains, ['*']);
    assert.equal(clusterOf(any.routes[0]!), 'PassthroughCluster');
  });

  test('domains: FQDN, short forms, VIP, each with and without the port', () => {
    const rc = serialised(buildOutboundRouteConfig(scopeOf(bookinfo()), 9080));
    assert.deepEqual(vhost(rc, `${reviews}:9080`).domains, [
      reviews, `${reviews}:9080`, 'reviews', 'reviews:9080', 'reviews.default', 'reviews.default:9080',
      'reviews.default.svc', 'reviews.default.svc:9080', '10.96.0.20', '10.96.0.20:9080',
    ]);
    // From another namespace a bare name would resolve there, so it is not a domain of this host.
    const other = vhost(rc, `${fqdn('details', 'other')}:9080`).domains;
    assert.ok(other.includes('details.other:9080'));
    assert.ok(!other.includes('details') && !other.includes('details:9080'));
  });

  test('a domain claimed by an earlier virtual host is not repeated (Envoy rejects duplicates)', () => {
    const twin = { ...external('api.example.com', [[9080, 'HTTP']]), vip: '10.96.0.20' };
    const rc = serialised(buildOutboundRouteConfig(scopeOf(bookinfo('', [twin])), 9080));
    const all = rc.virtualHosts.flatMap((v) => v.domains);
    assert.equal(all.length, new Set(all).size);
    // api.example.com sorts first, so it keeps the shared VIP.
    assert.deepEqual(vhost(rc, 'api.example.com:9080').domains, ['api.example.com', 'api.example.com:9080', '10.96.0.20', '10.96.0.20:9080']);
    assert.ok(!vhost(rc, `${reviews}:9080`).domains.some((d) => d.startsWith('10.96.0.20')));
  });

  test('no VirtualService → route "default" to outbound|PORT||HOST', () => {
    const [r, ...rest] = vhost(serialised(buildOutboundRouteConfig(scopeOf(bookinfo()), 9080)), `${reviews}:9080`).routes;
    assert.equal(rest.length, 0);
    assert.equal(r!.name, 'default');
    assert.deepEqual(r!.match!.pathSpecifier, { case: 'prefix', value: '/' });
    assert.equal(clusterOf(r!), `outbound|9080||${reviews}`);
    assert.equal(actionOf(r!).retryPolicy!.numRetries, 2);
  });

  test('routes keep http[] order, then match order', () => {
    const y = reviewsVs('- name: a\n  match: [{uri: {prefix: /a1}}, {uri: {prefix: /a2}}]\n  route: [{destination: {host: reviews, subset: v1}}]\n- name: b\n  match: [{uri: {exact: /b}}]\n  route: [{destination: {host: reviews, subset: v2}}]\n- name: c\n  route: [{destination: {host: reviews, subset: v3}}]');
    const routes = vhost(serialised(buildOutboundRouteConfig(scopeOf(bookinfo(y)), 9080)), `${reviews}:9080`).routes;
    assert.deepEqual(routes.map((r) => [r.name, r.match!.pathSpecifier.value]), [['a', '/a1'], ['a', '/a2'], ['b', '/b'], ['c', '/']]);
  });

  describe('host resolution', () => {
    const route = (yamlText: string, host = reviews, ns = 'default') =>
      clusterOf(vhost(serialised(buildOutboundRouteConfig(scopeOf(bookinfo(yamlText), ns), 9080)), `${host}:9080`).routes[0]!);
    const toV9 = '- route: [{destination: {host: reviews, subset: v9}}]';

    test('short host name resolves in the VirtualService namespace', () => {
      assert.equal(route(vs('r', 'default', ['reviews'], toV9)), `outbound|9080|v9|${reviews}`);
      // "reviews" in namespace other means reviews.other, which does not exist: reviews.default keeps its default route.
      assert.equal(route(vs('r', 'other', ['reviews'], toV9)), `outbound|9080||${reviews}`);
    });

    test('FQDN host', () => {
      assert.equal(route(vs('r', 'other', [reviews], toV9)), `outbound|9080|v9|${fqdn('reviews', 'other')}`);
    });

    test('destination short name resolves in the VirtualService namespace too', () => {
      const y = vs('d', 'other', ['details'], '- route: [{destination: {host: details, subset: v2}}]');
      assert.equal(route(y, fqdn('details', 'other')), `outbound|9080|v2|${fqdn('details', 'other')}`);
    });

    test('wildcard host selects every service under it', () => {
      const api = external('api.example.com', [[9080, 'HTTP']]);
      const rc = serialised(buildOutboundRouteConfig(scopeOf(bookinfo(vs('w', 'default', ['*.example.com'], '- route: [{destination: {host: api.example.com, subset: w}}]'), [api])), 9080));
      assert.equal(clusterOf(vhost(rc, 'api.example.com:9080').routes[0]!), 'outbound|9080|w|api.example.com');
      assert.equal(vhost(rc, `${reviews}:9080`).routes[0]!.name, 'default');
    });

    test('a VirtualService bound only to gateways does not apply to sidecars', () => {
      assert.equal(route(vs('g', 'default', ['reviews'], toV9, '  gateways: [my-gateway]\n')), `outbound|9080||${reviews}`);
      assert.equal(route(vs('g', 'default', ['reviews'], toV9, '  gateways: [my-gateway, mesh]\n')), `outbound|9080|v9|${reviews}`);
    });

    test('a VirtualService not exported to the proxy namespace is ignored', () => {
      const y = vs('x', 'other', [reviews], toV9, '  exportTo: ["."]\n');
      assert.equal(route(y), `outbound|9080||${reviews}`);
      assert.equal(route(y, reviews, 'other'), `outbound|9080|v9|${fqdn('reviews', 'other')}`);
    });
  });

  test('several VirtualServices for one host: the first by precedence wins', () => {
    const first = vs('first', 'default', ['reviews'], '- route: [{destination: {host: reviews, subset: v1}}]');
    const second = vs('second', 'default', [reviews, 'ratings'], '- route: [{destination: {host: reviews, subset: v2}}]');
    const rc = serialised(buildOutboundRouteConfig(scopeOf(bookinfo(first + second)), 9080));
    assert.equal(clusterOf(vhost(rc, `${reviews}:9080`).routes[0]!), `outbound|9080|v1|${reviews}`);
    // The second still owns ratings, which the first does not name.
    assert.equal(clusterOf(vhost(rc, `${fqdn('ratings')}:9080`).routes[0]!), `outbound|9080|v2|${reviews}`);
    const swapped = serialised(buildOutboundRouteConfig(scopeOf(bookinfo(second + first)), 9080));
    assert.equal(clusterOf(vhost(swapped, `${reviews}:9080`).routes[0]!), `outbound|9080|v2|${reviews}`);
  });

  describe('VirtualService hosts that name no service', () => {
    const partner = vs('p', 'default', ['api.partner.com'], '- route: [{destination: {host: api.partner.com}}]');

    test('are served on port 80 when the VirtualService routes for no service', () => {
      const rc80 = serialised(buildOutboundRouteConfig(scopeOf(bookinfo(partner)), 80));
      const vh = vhost(rc80, 'api.partner.com:80');
      assert.deepEqual(vh.domains, ['api.partner.com', 'api.partner.com:80']);
      assert.equal(clusterOf(vh.routes[0]!), 'outbound|80||api.partner.com');
      const rc9080 = serialised(buildOutboundRouteConfig(scopeOf(bookinfo(partner)), 9080));
      assert.ok(!rc9080.virtualHosts.some((v) => v.name.startsWith('api.partner.com')));
    });

    test('are served on the HTTP ports of the services the same VirtualService names', () => {
      const both = vs('b', 'default', ['reviews', 'reviews.example.com'], '- route: [{destination: {host: reviews, subset: v1}}]');
      const rc = serialised(buildOutboundRouteConfig(scopeOf(bookinfo(both)), 9080));
      assert.deepEqual(rc.virtualHosts.map((v) => v.name).slice(-2), ['reviews.example.com:9080', 'allow_any']);
      assert.equal(clusterOf(vhost(rc, 'reviews.example.com:9080').routes[0]!), `outbound|9080|v1|${reviews}`);
    });
  });

  test('a VirtualService whose routes all skip this port falls back to the default route', () => {
    const y = reviewsVs('- match: [{port: 7000}]\n  route: [{destination: {host: reviews, subset: v1}}]');
    const routes = vhost(serialised(buildOutboundRouteConfig(scopeOf(bookinfo(y)), 9080)), `${reviews}:9080`).routes;
    assert.deepEqual(routes.map((r) => [r.name, clusterOf(r)]), [['default', `outbound|9080||${reviews}`]]);
  });
});
