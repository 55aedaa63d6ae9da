/**
 * Route actions and options: one VirtualService per feature → the Envoy
 * Route fields istiod would emit.
 * Each case builds the whole RouteConfiguration "9080" from YAML and checks
 * the real generated message (after a protobuf and JSON round trip).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { Route } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { RedirectAction_RedirectResponseCode as Code } from '../../../src/gen/envoy/config/route/v3/route_components_pb.js';
import { HeaderValueOption_HeaderAppendAction as Append } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import { FractionalPercent_DenominatorType as Denom } from '../../../src/gen/envoy/type/v3/percent_pb.js';
import { HTTPFaultSchema } from '../../../src/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { CorsPolicySchema } from '../../../src/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { toJson } from '@bufbuild/protobuf';
import { xdsRegistry } from '../../../src/xds/registry.js';
import { fqdn } from './fixture.js';
import { actionOf, clusterOf } from './check.js';
import { routesFor, type Case } from './feature-case.js';

const reviews = fqdn('reviews');
const c = (subset = '', host = reviews, port = 9080) => `outbound|${port}|${subset}|${host}`;

const fault = (r: Route) => {
  const any = r.typedPerFilterConfig['envoy.filters.http.fault'];
  assert.ok(any, 'no fault config');
  assert.equal(any.typeUrl, 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault');
  return anyUnpack(any, HTTPFaultSchema)!;
};

/** The route's CORS policy as istiod's JSON (protojson names), so cases read like istiod's config_dump. */
const cors = (r: Route) => {
  const any = r.typedPerFilterConfig['envoy.filters.http.cors'];
  assert.ok(any, 'no CORS config');
  assert.equal(any.typeUrl, 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy');
  return toJson(CorsPolicySchema, anyUnpack(any, CorsPolicySchema)!) as Record<string, unknown>;
};

const actionCases: Case[] = [
  { feature: 'single destination with subset → cluster', http: '- route: [{destination: {host: reviews, subset: v2}}]', check: ([r]) => assert.equal(clusterOf(r!), c('v2')) },
  {
    feature: 'destination port omitted: single-port service uses its port, multi-port uses the listener port',
    http: '- match: [{uri: {prefix: /r}}]\n  route: [{destination: {host: ratings}}]\n- route: [{destination: {host: details.other.svc.cluster.local, port: {number: 9999}}}]',
    check: ([a, b]) => {
      assert.equal(clusterOf(a!), c('', fqdn('ratings'), 9080));
      assert.equal(clusterOf(b!), c('', fqdn('details', 'other'), 9999));
    },
  },
  {
    feature: 'unknown destination host keeps its cluster name (Envoy answers 503 NC)',
    http: '- route: [{destination: {host: ghost}}]',
    check: ([r]) => assert.equal(clusterOf(r!), c('', fqdn('ghost'))),
  },
  {
    feature: '90/10 split to subsets v1/v2 → weightedClusters',
    http: '- route: [{destination: {host: reviews, subset: v1}, weight: 90}, {destination: {host: reviews, subset: v2}, weight: 10}]',
    check: ([r]) => {
      const cs = actionOf(r!).clusterSpecifier;
      assert.equal(cs.case, 'weightedClusters');
      assert.deepEqual(cs.case === 'weightedClusters' && cs.value.clusters.map((w) => [w.name, w.weight]), [[c('v1'), 90], [c('v2'), 10]]);
    },
  },
  {
    feature: 'weight 0 destination dropped when others carry traffic',
    http: '- route: [{destination: {host: reviews, subset: v1}, weight: 100}, {destination: {host: reviews, subset: v2}, weight: 0}]',
    check: ([r]) => assert.equal(clusterOf(r!), c('v1')),
  },
  {
    feature: 'per-destination header ops → weighted cluster entries',
    http: '- route:\n  - {destination: {host: reviews, subset: v1}, weight: 50, headers: {request: {set: {x-v: "1"}}, response: {remove: [x-internal]}}}\n  - {destination: {host: reviews, subset: v2}, weight: 50}',
    check: ([r]) => {
      const cs = actionOf(r!).clusterSpecifier;
      const w = cs.case === 'weightedClusters' ? cs.value.clusters[0]! : assert.fail('not weighted');
      assert.deepEqual(w.requestHeadersToAdd.map((h) => [h.header!.key, h.header!.value, h.appendAction]), [['x-v', '1', Append.OVERWRITE_IF_EXISTS_OR_ADD]]);
      assert.deepEqual(w.responseHeadersToRemove, ['x-internal']);
    },
  },
  {
    feature: 'single (live) destination header ops → route header ops',
    http: '- route: [{destination: {host: reviews}, weight: 100, headers: {request: {add: {x-d: d}}}}, {destination: {host: reviews, subset: off}, weight: 0}]',
    check: ([r]) => assert.deepEqual(r!.requestHeadersToAdd.map((h) => [h.header!.key, h.appendAction]), [['x-d', Append.APPEND_IF_EXISTS_OR_ADD]]),
  },
  {
    feature: 'headers set/add/remove on request and response',
    http: '- headers:\n    request: {set: {x-s: s}, add: {x-a: a}, remove: [x-r]}\n    response: {set: {x-rs: rs}, remove: [server]}\n  route: [{destination: {host: reviews}}]',
    check: ([r]) => {
      assert.deepEqual(r!.requestHeadersToAdd.map((h) => [h.header!.key, h.header!.value, h.appendAction]), [['x-s', 's', Append.OVERWRITE_IF_EXISTS_OR_ADD], ['x-a', 'a', Append.APPEND_IF_EXISTS_OR_ADD]]);
      assert.deepEqual(r!.requestHeadersToRemove, ['x-r']);
      assert.deepEqual(r!.responseHeadersToAdd.map((h) => [h.header!.key, h.appendAction]), [['x-rs', Append.OVERWRITE_IF_EXISTS_OR_ADD]]);
      assert.deepEqual(r!.responseHeadersToRemove, ['server']);
    },
  },
  { feature: 'timeout → route timeout', http: '- timeout: 1.5s\n  route: [{destination: {host: reviews}}]', check: ([r]) => assert.deepEqual([actionOf(r!).timeout!.seconds, actionOf(r!).timeout!.nanos], [1n, 500_000_000]) },
  { feature: 'no timeout → 0s (disabled)', http: '- route: [{destination: {host: reviews}}]', check: ([r]) => assert.deepEqual([actionOf(r!).timeout!.seconds, actionOf(r!).timeout!.nanos], [0n, 0]) },
  {
    feature: 'no retries → Istio default retry policy',
    http: '- route: [{destination: {host: reviews}}]',
    check: ([r]) => {
      const p = actionOf(r!).retryPolicy!;
      assert.equal(p.retryOn, 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes');
      assert.equal(p.numRetries, 2);
      assert.deepEqual(p.retriableStatusCodes, [503]);
      assert.deepEqual(p.retryHostPredicate.map((h) => h.name), ['envoy.retry_host_predicates.previous_hosts']);
      assert.equal(p.hostSelectionRetryMaxAttempts, 5n);
    },
  },
  {
    feature: 'retries attempts, perTryTimeout, retryOn with status codes',
    http: '- retries: {attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error,503,429"}\n  route: [{destination: {host: reviews}}]',
    check: ([r]) => {
      const p = actionOf(r!).retryPolicy!;
      assert.equal(p.numRetries, 3);
      assert.equal(p.perTryTimeout!.seconds, 2n);
      assert.equal(p.retryOn, 'gateway-error,retriable-status-codes');
      assert.deepEqual(p.retriableStatusCodes, [503, 429]);
    },
  },
  { feature: 'retries attempts 0 → no retry policy', http: '- retries: {attempts: 0}\n  route: [{destination: {host: reviews}}]', check: ([r]) => assert.equal(actionOf(r!).retryPolicy, undefined) },
  {
    feature: 'fault delay 0.1% → fixedDelay and MILLION-scaled percentage',
    http: '- fault: {delay: {fixedDelay: 5s, percentage: {value: 0.1}}}\n  route: [{destination: {host: reviews}}]',
    check: ([r]) => {
      const f = fault(r!);
      assert.equal(f.delay!.faultDelaySecifier.case === 'fixedDelay' && f.delay!.faultDelaySecifier.value.seconds, 5n);
      assert.deepEqual([f.delay!.percentage!.numerator, f.delay!.percentage!.denominator], [1000, Denom.MILLION]);
      assert.equal(f.abort, undefined);
    },
  },
  {
    feature: 'fault abort httpStatus and grpcStatus',
    http: '- match: [{uri: {prefix: /h}}]\n  fault: {abort: {httpStatus: 503, percentage: {value: 50}}}\n  route: [{destination: {host: reviews}}]\n- fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}\n  route: [{destination: {host: reviews}}]',
    check: ([h, g]) => {
      const a = fault(h!).abort!;
      assert.deepEqual([a.errorType.case, a.errorType.value, a.percentage!.numerator, a.percentage!.denominator], ['httpStatus', 503, 500_000, Denom.MILLION]);
      assert.deepEqual([fault(g!).abort!.errorType.case, fault(g!).abort!.errorType.value], ['grpcStatus', 14]);
    },
  },
  {
    feature: "corsPolicy → typed_per_filter_config envoy.filters.http.cors, istiod's TranslateCORSPolicy",
    http: `- corsPolicy:
    allowOrigins: [{exact: "https://a.example"}, {prefix: "https://b."}, {regex: "https://.*\\\\.c\\\\.example"}]
    allowMethods: [POST, GET]
    allowHeaders: [X-Foo-Bar, X-Baz]
    exposeHeaders: [X-Exposed]
    maxAge: 24h30m1500ms
    allowCredentials: false
  route: [{destination: {host: reviews}}]`,
    check: ([r]) => assert.deepEqual(cors(r!), {
      allowOriginStringMatch: [{ exact: 'https://a.example' }, { prefix: 'https://b.' }, { safeRegex: { regex: 'https://.*\\.c\\.example' } }],
      allowMethods: 'POST,GET',
      allowHeaders: 'X-Foo-Bar,X-Baz',
      exposeHeaders: 'X-Exposed',
      maxAge: '88201',
      allowCredentials: false,
      filterEnabled: { defaultValue: { numerator: 100 } },
      forwardNotMatchingPreflights: true,
    }),
  },
  {
    feature: 'corsPolicy: unmatchedPreflights IGNORE → forward_not_matching_preflights false; deprecated allowOrigin → exact; unset fields stay unset; on redirects too',
    http: `- match: [{uri: {prefix: /r}}]
  corsPolicy: {allowOrigin: ["https://old.example", "*"], unmatchedPreflights: IGNORE}
  redirect: {uri: /x}
- match: [{uri: {prefix: /b}}]
  corsPolicy: {allowOrigins: [{exact: "https://a"}], allowOrigin: ["https://ignored"], unmatchedPreflights: FORWARD}
  route: [{destination: {host: reviews}}]
- route: [{destination: {host: reviews}}]`,
    check: ([a, b, none]) => {
      assert.deepEqual(cors(a!), {
        allowOriginStringMatch: [{ exact: 'https://old.example' }, { exact: '*' }],
        filterEnabled: { defaultValue: { numerator: 100 } },
        forwardNotMatchingPreflights: false,
      });
      assert.deepEqual(cors(b!).allowOriginStringMatch, [{ exact: 'https://a' }]);
      assert.equal(cors(b!).forwardNotMatchingPreflights, true);
      assert.equal(none!.typedPerFilterConfig['envoy.filters.http.cors'], undefined);
    },
  },
  {
    feature: 'retries.backoff → retry_back_off.base_interval only (Envoy defaults max_interval to 10×)',
    http: '- match: [{uri: {prefix: /a}}]\n  retries: {attempts: 3, backoff: 150ms}\n  route: [{destination: {host: reviews}}]\n- retries: {attempts: 3}\n  route: [{destination: {host: reviews}}]',
    check: ([a, b]) => {
      const p = actionOf(a!).retryPolicy!;
      assert.deepEqual([p.retryBackOff!.baseInterval!.seconds, p.retryBackOff!.baseInterval!.nanos, p.retryBackOff!.maxInterval], [0n, 150_000_000, undefined]);
      assert.equal(p.numRetries, 3);
      assert.equal(actionOf(b!).retryPolicy!.retryBackOff, undefined);
    },
  },
  {
    feature: 'mirror with mirrorPercentage, mirrors list, explicit 0% dropped',
    http: '- mirror: {host: reviews, subset: v3}\n  mirrorPercentage: {value: 12.5}\n  mirrors:\n  - {destination: {host: ratings}}\n  - {destination: {host: reviews, subset: v4}, percentage: {value: 0}}\n  route: [{destination: {host: reviews}}]',
    check: ([r]) => {
      const m = actionOf(r!).requestMirrorPolicies;
      assert.deepEqual(m.map((p) => [p.cluster, p.runtimeFraction!.defaultValue!.numerator, p.runtimeFraction!.defaultValue!.denominator]), [
        [c('v3'), 125_000, Denom.MILLION],
        [c('', fqdn('ratings')), 100, Denom.HUNDRED],
      ]);
    },
  },
  {
    feature: 'rewrite uri on prefix match → prefixRewrite; authority → hostRewriteLiteral',
    http: '- match: [{uri: {prefix: /old}}]\n  rewrite: {uri: /new, authority: reviews.internal}\n  route: [{destination: {host: reviews}}]',
    check: ([r]) => {
      const a = actionOf(r!);
      assert.equal(a.prefixRewrite, '/new');
      assert.deepEqual(a.hostRewriteSpecifier, { case: 'hostRewriteLiteral', value: 'reviews.internal' });
    },
  },
  {
    feature: 'rewrite uri on exact match → regexRewrite of the whole path',
    http: '- match: [{uri: {exact: /a.b}}]\n  rewrite: {uri: /c}\n  route: [{destination: {host: reviews}}]',
    check: ([r]) => {
      const a = actionOf(r!);
      assert.equal(a.prefixRewrite, '');
      assert.deepEqual([a.regexRewrite!.pattern!.regex, a.regexRewrite!.substitution], ['^/a\\.b$', '/c']);
    },
  },
  {
    feature: 'uriRegexRewrite → regexRewrite',
    http: '- rewrite: {uriRegexRewrite: {match: "^/service/([^/]+)(/.*)$", rewrite: "\\\\2/instance/\\\\1"}}\n  route: [{destination: {host: reviews}}]',
    check: ([r]) => assert.deepEqual([actionOf(r!).regexRewrite!.pattern!.regex, actionOf(r!).regexRewrite!.substitution], ['^/service/([^/]+)(/.*)$', '\\2/instance/\\1']),
  },
  {
    feature: 'redirect → pathRedirect, hostRedirect, portRedirect, schemeRedirect, responseCode',
    http: '- match: [{uri: {exact: /v1}}]\n  redirect: {uri: /v2, authority: new.example.com, port: 8443, scheme: https, redirectCode: 308}\n- redirect: {uri: /x}',
    check: ([a, b]) => {
      assert.equal(a!.action.case, 'redirect');
      const rd = a!.action.value as Extract<Route['action'], { case: 'redirect' }>['value'];
      assert.deepEqual([rd.pathRewriteSpecifier.value, rd.hostRedirect, rd.portRedirect, rd.schemeRewriteSpecifier.value, rd.responseCode], ['/v2', 'new.example.com', 8443, 'https', Code.PERMANENT_REDIRECT]);
      const rd2 = b!.action.value as typeof rd;
      assert.equal(rd2.responseCode, Code.MOVED_PERMANENTLY);
    },
  },
  {
    feature: 'directResponse → status and inline body',
    http: '- directResponse: {status: 418, body: {string: "teapot"}}',
    check: ([r]) => {
      assert.equal(r!.action.case, 'directResponse');
      const d = r!.action.value as Extract<Route['action'], { case: 'directResponse' }>['value'];
      assert.deepEqual([d.status, d.body!.specifier.case, d.body!.specifier.value], [418, 'inlineString', 'teapot']);
    },
  },
  {
    feature: 'DestinationRule consistentHash → hashPolicy (subset overrides top level)',
    http: '- route: [{destination: {host: reviews, subset: v1}}]',
    docs: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: default}\nspec:\n  host: reviews.default.svc.cluster.local\n  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}\n  subsets:\n  - {name: v1, labels: {version: v1}, trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: sess, ttl: 10s}}}}}',
    check: ([r]) => {
      const hp = actionOf(r!).hashPolicy;
      assert.equal(hp.length, 1);
      assert.equal(hp[0]!.policySpecifier.case, 'cookie');
      const cookie = hp[0]!.policySpecifier.value as { name: string; ttl?: { seconds: bigint } };
      assert.deepEqual([cookie.name, cookie.ttl!.seconds], ['sess', 10n]);
    },
  },
  {
    feature: 'decorator: destination host:port or VirtualService name:port, then the path',
    http: '- match: [{uri: {prefix: /api}}]\n  route: [{destination: {host: reviews}}]\n- route: [{destination: {host: reviews, subset: a}, weight: 1}, {destination: {host: reviews, subset: b}, weight: 1}]',
    check: ([a, b]) => assert.deepEqual([a!.decorator!.operation, b!.decorator!.operation], [`${reviews}:9080/api*`, 'reviews:9080/*']),
  },
  { feature: 'route name is http[].name', http: '- name: reviews-v2-route\n  route: [{destination: {host: reviews}}]', check: ([r]) => assert.equal(r!.name, 'reviews-v2-route') },
];

describe('HTTPRoute features → Envoy routes', () => {
  for (const k of actionCases) test(k.feature, () => k.check(routesFor(k)));

  test('fault config unpacks through the xDS registry (typed_per_filter_config resolves)', () => {
    const [r] = routesFor({ feature: '', http: '- fault: {abort: {httpStatus: 500, percentage: {value: 1}}}\n  route: [{destination: {host: reviews}}]', check: () => {} });
    const any = r!.typedPerFilterConfig['envoy.filters.http.fault']!;
    assert.ok(xdsRegistry.getMessage(any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1)));
  });
});
