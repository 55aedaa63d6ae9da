/**
 * Istio HTTPMatchRequest → Envoy RouteMatch, one VirtualService per feature,
 * checked on the generated RouteConfiguration after a protobuf/JSON round trip.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Route } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { fqdn } from './fixture.js';
import { clusterOf } from './check.js';
import { routesFor, type Case } from './feature-case.js';

const reviews = fqdn('reviews');
const c = (subset = '', host = reviews, port = 9080) => `outbound|${port}|${subset}|${host}`;

function headerMatch(r: Route, name: string) {
  const h = r.match!.headers.find((x) => x.name === name);
  assert.ok(h, `no header matcher ${name}`);
  return h;
}

const matchCases: Case[] = [
  { feature: 'uri exact → path', http: '- match: [{uri: {exact: /a}}]\n  route: [{destination: {host: reviews}}]', check: ([r]) => assert.deepEqual(r!.match!.pathSpecifier, { case: 'path', value: '/a' }) },
  { feature: 'uri prefix → prefix', http: '- match: [{uri: {prefix: /api}}]\n  route: [{destination: {host: reviews}}]', check: ([r]) => assert.deepEqual(r!.match!.pathSpecifier, { case: 'prefix', value: '/api' }) },
  {
    feature: 'uri regex → safeRegex with googleRe2',
    http: '- match: [{uri: {regex: "/v[0-9]+/.*"}}]\n  route: [{destination: {host: reviews}}]',
    check: ([r]) => {
      const p = r!.match!.pathSpecifier;
      assert.equal(p.case, 'safeRegex');
      assert.equal(p.case === 'safeRegex' && p.value.regex, '/v[0-9]+/.*');
      assert.equal(p.case === 'safeRegex' && p.value.engineType.case, 'googleRe2');
    },
  },
  { feature: 'ignoreUriCase → caseSensitive false', http: '- match: [{uri: {prefix: /A}, ignoreUriCase: true}]\n  route: [{destination: {host: reviews}}]', check: ([r]) => assert.equal(r!.match!.caseSensitive, false) },
  {
    feature: 'headers exact/prefix/regex → stringMatch',
    http: '- match: [{headers: {end-user: {exact: jason}, x-p: {prefix: ab}, x-r: {regex: "a.*"}}}]\n  route: [{destination: {host: reviews}}]',
    check: ([r]) => {
      const e = headerMatch(r!, 'end-user').headerMatchSpecifier;
      assert.equal(e.case === 'stringMatch' && e.value.matchPattern.case === 'exact' && e.value.matchPattern.value, 'jason');
      const p = headerMatch(r!, 'x-p').headerMatchSpecifier;
      assert.equal(p.case === 'stringMatch' && p.value.matchPattern.case === 'prefix' && p.value.matchPattern.value, 'ab');
      const x = headerMatch(r!, 'x-r').headerMatchSpecifier;
      assert.equal(x.case === 'stringMatch' && x.value.matchPattern.case === 'safeRegex' && x.value.matchPattern.value.regex, 'a.*');
      assert.equal(r!.match!.headers.some((h) => h.invertMatch), false);
    },
  },
  { feature: 'empty header match → presentMatch', http: '- match: [{headers: {x-any: {}}}]\n  route: [{destination: {host: reviews}}]', check: ([r]) => assert.deepEqual(headerMatch(r!, 'x-any').headerMatchSpecifier, { case: 'presentMatch', value: true }) },
  {
    feature: 'withoutHeaders → invertMatch',
    http: '- match: [{withoutHeaders: {x-debug: {exact: "1"}}}]\n  route: [{destination: {host: reviews}}]',
    check: ([r]) => assert.equal(headerMatch(r!, 'x-debug').invertMatch, true),
  },
  {
    feature: 'method, authority, scheme → pseudo-headers',
    http: '- match: [{method: {exact: GET}, authority: {prefix: reviews}, scheme: {exact: https}}]\n  route: [{destination: {host: reviews}}]',
    check: ([r]) => {
      for (const [n, v] of [[':method', 'GET'], [':authority', 'reviews'], [':scheme', 'https']]) {
        const s = headerMatch(r!, n!).headerMatchSpecifier;
        assert.equal(s.case === 'stringMatch' && s.value.matchPattern.value, v);
      }
    },
  },
  {
    feature: 'queryParams exact/regex/prefix',
    http: '- match: [{queryParams: {a: {exact: "1"}, b: {regex: "[0-9]+"}, c: {prefix: x}}}]\n  route: [{destination: {host: reviews}}]',
    check: ([r]) => {
      const q = r!.match!.queryParameters.map((p) => [p.name, p.queryParameterMatchSpecifier.case === 'stringMatch' ? p.queryParameterMatchSpecifier.value.matchPattern.case : '']);
      assert.deepEqual(q, [['a', 'exact'], ['b', 'safeRegex'], ['c', 'prefix']]);
    },
  },
  {
    feature: 'port match: only blocks for this port, ORed blocks become routes',
    http: '- name: r\n  match: [{name: a, port: 9080, uri: {prefix: /a}}, {name: b, port: 7000, uri: {prefix: /b}}, {name: c, uri: {prefix: /c}}]\n  route: [{destination: {host: reviews}}]',
    check: (rs) => assert.deepEqual(rs.map((r) => [r.name, r.match!.pathSpecifier.value]), [['r.a', '/a'], ['r.c', '/c']]),
  },
  {
    feature: 'sourceLabels: block applies only to matching proxies',
    http: '- match: [{sourceLabels: {app: productpage}, uri: {prefix: /pp}}, {sourceLabels: {app: other}, uri: {prefix: /o}}]\n  route: [{destination: {host: reviews}}]',
    labels: { app: 'productpage', version: 'v1' },
    check: (rs) => assert.deepEqual(rs.map((r) => r.match!.pathSpecifier.value), ['/pp']),
  },
  {
    feature: 'sourceNamespace: block for another namespace is skipped',
    http: '- match: [{sourceNamespace: other, uri: {prefix: /o}}, {sourceNamespace: default, uri: {prefix: /d}}]\n  route: [{destination: {host: reviews}}]',
    check: (rs) => assert.deepEqual(rs.map((r) => r.match!.pathSpecifier.value), ['/d']),
  },
  {
    feature: 'no match block → catch-all prefix "/", later routes dropped',
    http: '- name: first\n  route: [{destination: {host: reviews, subset: v1}}]\n- name: never\n  route: [{destination: {host: reviews, subset: v2}}]',
    check: (rs) => assert.deepEqual(rs.map((r) => [r.name, r.match!.pathSpecifier.value, clusterOf(r)]), [['first', '/', c('v1')]]),
  },
];

describe('HTTPMatchRequest → Envoy RouteMatch', () => {
  for (const k of matchCases) test(k.feature, () => k.check(routesFor(k)));
});
