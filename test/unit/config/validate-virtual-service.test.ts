import { test } from 'node:test';
import assert from 'node:assert/strict';
import { problemsOf, reasonsOf, yaml } from './helpers.js';

/** A bookinfo-style VirtualService with one http route whose body is `route`. */
const vs = (http: string) =>
  yaml`
  apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata:
    name: reviews
  spec:
    hosts:
    - reviews
    http:
` + http.replace(/^\n/, '');

const split = (w1: unknown, w2: unknown) => yaml`
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: ${w1}
    - destination:
        host: reviews
        subset: v2
      weight: ${w2}
`.replace(/^/gm, '  ');

test('weights: integers 0..100 summing to 100 over several destinations', () => {
  assert.deepEqual(reasonsOf(vs(split(80, 20))), []);
  assert.deepEqual(reasonsOf(vs(split(100, 0))), []);
  assert.deepEqual(
    problemsOf(vs(split(80, 150))).map((p) => [p.line, p.reason]),
    [[17, 'VirtualService default/reviews: spec.http[0].route[1].weight: must be an integer 0..100 (got 150)']],
  );
  assert.deepEqual(reasonsOf(vs(split(50.5, 49.5))), [
    'VirtualService default/reviews: spec.http[0].route[0].weight: must be an integer 0..100',
    'VirtualService default/reviews: spec.http[0].route[1].weight: must be an integer 0..100',
  ]);
  assert.deepEqual(
    problemsOf(vs(split(70, 20))).map((p) => [p.line, p.reason]),
    [[9, 'VirtualService default/reviews: spec.http[0].route: weights of 2 destinations must sum to 100 (got 90)']],
  );
});

test('a single destination needs no weight', () => {
  assert.deepEqual(reasonsOf(vs('  - route:\n    - destination:\n        host: reviews\n')), []);
});

test('tcp and tls routes have the same weight rule', () => {
  const text = yaml`
    apiVersion: networking.istio.io/v1beta1
    kind: VirtualService
    metadata: {name: db, namespace: data}
    spec:
      hosts: [db]
      tcp:
      - match: [{port: 5432}]
        route:
        - {destination: {host: db-a}, weight: 60}
        - {destination: {host: db-b}, weight: 60}
      tls:
      - match: [{sniHosts: [db.example.com], port: 443}]
        route:
        - {destination: {host: db-a}, weight: 50}
        - {destination: {host: db-b}, weight: 50}
  `;
  assert.deepEqual(reasonsOf(text), ['VirtualService data/db: spec.tcp[0].route: weights of 2 destinations must sum to 100 (got 120)']);
});

test('route destination host is required', () => {
  assert.deepEqual(
    problemsOf(vs('  - route:\n    - destination:\n        subset: v1\n')).map((p) => [p.line, p.reason]),
    [[10, 'VirtualService default/reviews: spec.http[0].route[0].destination.host: required field is missing']],
  );
  assert.deepEqual(reasonsOf(vs('  - route:\n    - weight: 100\n')), [
    'VirtualService default/reviews: spec.http[0].route[0].destination: required field is missing',
  ]);
});

test('null list items are refused (an http: [~] once made every push fail)', () => {
  const text = vs('  - ~\n  - route:\n    - ~\n    mirrors: [null]\n');
  assert.deepEqual(
    problemsOf(text).map((p) => [p.line, p.reason]),
    [
      [9, 'VirtualService default/reviews: spec.http[0]: list item must not be null'],
      [11, 'VirtualService default/reviews: spec.http[1].route[0]: list item must not be null'],
      [12, 'VirtualService default/reviews: spec.http[1].mirrors[0]: list item must not be null'],
    ],
  );
});

test('durations must parse (timeout, retries.perTryTimeout, fault delay)', () => {
  const good = yaml`
    - route:
      - destination: {host: reviews}
      timeout: 1.5s
      retries: {attempts: 3, perTryTimeout: 100ms, retryOn: "5xx,reset"}
      fault:
        delay: {fixedDelay: 2m, percentage: {value: 10}}
  `.replace(/^/gm, '  ');
  assert.deepEqual(reasonsOf(vs(good)), []);
  const bad = good.replace('1.5s', '10 seconds').replace('100ms', '"100"');
  assert.deepEqual(
    problemsOf(vs(bad)).map((p) => [p.line, p.reason]),
    [
      [11, 'VirtualService default/reviews: spec.http[0].timeout: "10 seconds" is not a duration (e.g. "1.5s", "100ms", "2m")'],
      [12, 'VirtualService default/reviews: spec.http[0].retries.perTryTimeout: "100" is not a duration (e.g. "1.5s", "100ms", "2m")'],
    ],
  );
});

test('regexes must compile; RE2 inline flags are accepted', () => {
  const match = (m: string) => vs(`  - match:\n    - uri:\n        regex: '${m}'\n    route:\n    - destination: {host: reviews}\n`);
  assert.deepEqual(reasonsOf(match('^/api/v[0-9]+/.*')), []);
  assert.deepEqual(reasonsOf(match('(?i)^/API')), []);
  const [p] = problemsOf(match('/api/(v1'));
  assert.equal(p!.line, 11);
  assert.match(p!.reason, /^VirtualService default\/reviews: spec.http\[0\].match\[0\].uri.regex: invalid regex "\/api\/\(v1"/);
});

test('a string match sets exactly one of exact, prefix, regex', () => {
  const text = vs('  - match:\n    - headers:\n        end-user: {exact: jason, prefix: j}\n    route:\n    - destination: {host: reviews}\n');
  assert.deepEqual(reasonsOf(text), [
    'VirtualService default/reviews: spec.http[0].match[0].headers["end-user"].prefix: only one of exact, prefix, regex may be set (also set: exact)',
  ]);
  assert.deepEqual(reasonsOf(text.replace(', prefix: j', '')), []);
});

test('an http route needs exactly one action', () => {
  assert.deepEqual(reasonsOf(vs('  - name: nothing\n')), [
    'VirtualService default/reviews: spec.http[0]: one of route, redirect, directResponse or delegate must be set',
  ]);
  const both = vs('  - redirect: {uri: /v2}\n    route:\n    - destination: {host: reviews}\n');
  assert.deepEqual(reasonsOf(both), ['VirtualService default/reviews: spec.http[0].redirect: route and redirect cannot be used together']);
  assert.deepEqual(reasonsOf(vs('  - redirect: {uri: /v2, redirectCode: 301}\n')), []);
  assert.deepEqual(reasonsOf(vs('  - directResponse: {status: 503, body: {string: unavailable}}\n')), []);
  assert.deepEqual(reasonsOf(vs('  - directResponse: {body: {string: unavailable}}\n')), [
    'VirtualService default/reviews: spec.http[0].directResponse.status: required field is missing',
  ]);
});

test('tls routes require sniHosts in their match', () => {
  const text = yaml`
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: tls}
    spec:
      hosts: [a.example.com]
      tls:
      - match: [{port: 443}]
        route: [{destination: {host: a.example.com}}]
  `;
  assert.deepEqual(reasonsOf(text), ['VirtualService default/tls: spec.tls[0].match[0].sniHosts: required field is missing']);
  assert.deepEqual(reasonsOf(text.replace('{port: 443}', '{port: 443, sniHosts: [a.example.com]}')), []);
});
