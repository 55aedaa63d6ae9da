import { test } from 'node:test';
import assert from 'node:assert/strict';
import { problemsOf, reasonsOf, yaml } from './helpers.js';

const dr = yaml`
  apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata:
    name: reviews
    namespace: bookinfo
  spec:
    host: reviews.bookinfo.svc.cluster.local
    trafficPolicy:
      loadBalancer:
        simple: LEAST_REQUEST
      connectionPool:
        tcp: {maxConnections: 100, connectTimeout: 30ms}
        http: {http1MaxPendingRequests: 10, maxRequestsPerConnection: 1, idleTimeout: 1h}
      outlierDetection:
        consecutive5xxErrors: 7
        interval: 5m
        baseEjectionTime: 15m
      tls:
        mode: ISTIO_MUTUAL
    subsets:
    - name: v1
      labels:
        version: v1
    - name: v2
      labels:
        version: v2
      trafficPolicy:
        loadBalancer:
          consistentHash:
            httpCookie: {name: user, ttl: 0s}
        portLevelSettings:
        - port: {number: 9080}
          tls: {mode: DISABLE}
`;

test('a full DestinationRule is valid', () => {
  assert.deepEqual(reasonsOf(dr), []);
});

test('subset names are unique', () => {
  const problems = problemsOf(dr.replace('- name: v2', '- name: v1'));
  assert.deepEqual(problems.map((p) => [p.line, p.reason]), [
    [24, 'DestinationRule bookinfo/reviews: spec.subsets[1].name: duplicate subset name "v1" (first at subsets[0])'],
  ]);
});

test('loadBalancer.simple is an enum', () => {
  assert.deepEqual(problemsOf(dr.replace('LEAST_REQUEST', 'ROUNDROBIN')).map((p) => [p.line, p.reason]), [
    [10, 'DestinationRule bookinfo/reviews: spec.trafficPolicy.loadBalancer.simple: must be one of UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST (got "ROUNDROBIN")'],
  ]);
  for (const ok of ['ROUND_ROBIN', 'RANDOM', 'LEAST_CONN', 'PASSTHROUGH']) assert.deepEqual(reasonsOf(dr.replace('LEAST_REQUEST', ok)), [], ok);
});

test('tls.mode is an enum, at every level', () => {
  assert.deepEqual(reasonsOf(dr.replace('mode: ISTIO_MUTUAL', 'mode: STRICT').replace('mode: DISABLE', 'mode: OFF')), [
    'DestinationRule bookinfo/reviews: spec.trafficPolicy.tls.mode: must be one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL (got "STRICT")',
    'DestinationRule bookinfo/reviews: spec.subsets[1].trafficPolicy.portLevelSettings[0].tls.mode: must be one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL (got "OFF")',
  ]);
  for (const ok of ['SIMPLE', 'MUTUAL', 'DISABLE']) assert.deepEqual(reasonsOf(dr.replace('ISTIO_MUTUAL', ok)), [], ok);
});

test('durations in traffic policies must parse', () => {
  assert.deepEqual(reasonsOf(dr.replace('interval: 5m', 'interval: 5 minutes').replace('ttl: 0s', 'ttl: forever')), [
    'DestinationRule bookinfo/reviews: spec.trafficPolicy.outlierDetection.interval: "5 minutes" is not a duration (e.g. "1.5s", "100ms", "2m")',
    'DestinationRule bookinfo/reviews: spec.subsets[1].trafficPolicy.loadBalancer.consistentHash.httpCookie.ttl: "forever" is not a duration (e.g. "1.5s", "100ms", "2m")',
  ]);
});

test('host is required; simple and consistentHash exclude each other', () => {
  assert.deepEqual(reasonsOf(dr.replace('  host: reviews.bookinfo.svc.cluster.local\n', '')), [
    'DestinationRule bookinfo/reviews: spec.host: required field is missing',
  ]);
  const both = dr.replace('simple: LEAST_REQUEST', 'simple: LEAST_REQUEST\n      consistentHash: {useSourceIp: true}');
  assert.deepEqual(reasonsOf(both), ['DestinationRule bookinfo/reviews: spec.trafficPolicy.loadBalancer.consistentHash: simple and consistentHash cannot be used together']);
});

test('numeric limits are non-negative integers', () => {
  assert.deepEqual(reasonsOf(dr.replace('maxConnections: 100', 'maxConnections: -1').replace('consecutive5xxErrors: 7', 'consecutive5xxErrors: "7"')), [
    'DestinationRule bookinfo/reviews: spec.trafficPolicy.connectionPool.tcp.maxConnections: must be an integer >= 0 (got -1)',
    'DestinationRule bookinfo/reviews: spec.trafficPolicy.outlierDetection.consecutive5xxErrors: must be an integer >= 0',
  ]);
});

test('localityLbSetting: what istiod rejects is a problem with its path; a good one is valid', () => {
  const withSetting = (setting: string) => yaml`
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: r, namespace: default}
    spec:
      host: reviews
      trafficPolicy:
        outlierDetection: {consecutive5xxErrors: 1}
        loadBalancer:
          localityLbSetting: ${setting}
  `;
  assert.deepEqual(reasonsOf(withSetting('{distribute: [{from: "us-west/zone1/*", to: {"us-west/zone1/*": 80, "us-west/zone2/*": 20}}]}')), []);
  assert.deepEqual(reasonsOf(withSetting('{failover: [{from: us-east, to: eu-west}], failoverPriority: [topology.istio.io/network]}')), []);
  const prefix = 'DestinationRule default/r: spec.trafficPolicy.loadBalancer.localityLbSetting.';
  assert.deepEqual(reasonsOf(withSetting('{distribute: [{from: a, to: {a: 50, b: 30}}], failover: [{from: a, to: b}]}')), [
    `${prefix}failover: can not simultaneously specify 'distribute' and 'failover'`,
  ]);
  assert.deepEqual(reasonsOf(withSetting('{distribute: [{from: "a/*/b", to: {a: 50, "b//c": 30}}]}')), [
    `${prefix}distribute[0].from: locality "a/*/b": at most one wildcard '*', at the end`,
    `${prefix}distribute[0].to["b//c"]: locality "b//c" must not contain empty region/zone/subzone info`,
    `${prefix}distribute[0].to: total locality weight 80 != 100`,
  ]);
  assert.deepEqual(reasonsOf(withSetting('{failover: [{from: us, to: us}, {from: us/z1, to: "eu*"}], failoverPriority: [topology.kubernetes.io/zone]}')), [
    `${prefix}failoverPriority[0]: can not simultaneously set 'failover' and topology label 'topology.kubernetes.io/zone' in 'failoverPriority'`,
    `${prefix}failover[0]: locality lb failover settings must specify different regions`,
    `${prefix}failover[1]: locality lb failover only specify region`,
    `${prefix}failover[1]: locality lb failover region should not contain '*' wildcard`,
  ]);
});

test('localityLbSetting of the wrong shape is a type problem, never an exception', () => {
  for (const setting of ['{distribute: x, failover: 3}', '{distribute: [null, {to: 5}], failover: [null, "a"]}', '{failover: [{from: 1, to: [2]}], failoverPriority: 7}']) {
    const text = yaml`
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: r, namespace: default}
      spec:
        host: reviews
        trafficPolicy: {loadBalancer: {localityLbSetting: ${setting}}}
    `;
    assert.ok(reasonsOf(text).length > 0, setting);
  }
});
