/**
 * Gateway API validation (gateway.networking.k8s.io): the kinds istiod reads
 * are accepted at the versions it reads, kept apart from Istio's Gateway by
 * group, and checked with the CRDs' rules, each problem at its field's line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../../src/config/load-config.js';
import { problemsOf, reasonsOf, yaml } from './helpers.js';

const valid = yaml`
  apiVersion: gateway.networking.k8s.io/v1
  kind: GatewayClass
  metadata: {name: istio}
  spec: {controllerName: istio.io/gateway-controller}
  ---
  apiVersion: gateway.networking.k8s.io/v1
  kind: Gateway
  metadata: {name: edge, namespace: infra}
  spec:
    gatewayClassName: istio
    listeners:
    - {name: web, port: 80, protocol: HTTP, hostname: "*.example.com", allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {team: a}}}}}
    - {name: secure, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: cert}]}}
  ---
  apiVersion: networking.istio.io/v1
  kind: Gateway
  metadata: {name: edge, namespace: infra}
  spec:
    servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
  ---
  apiVersion: gateway.networking.k8s.io/v1beta1
  kind: HTTPRoute
  metadata: {name: r, namespace: infra}
  spec:
    parentRefs: [{name: edge}]
    hostnames: [www.example.com]
    rules:
    - matches: [{path: {type: Exact, value: /a}, headers: [{name: x-v, value: "1"}], queryParams: [{type: RegularExpression, name: q, value: "^[a-z]+$"}], method: GET}]
      filters: [{type: URLRewrite, urlRewrite: {hostname: b.example.com}}, {type: CORS, cors: {allowOrigins: ["https://*.example.com"], maxAge: 60}}]
      backendRefs: [{name: svc, port: 80, weight: 3, filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {add: [{name: x-b, value: "1"}]}}]}]
      timeouts: {request: 10s, backendRequest: 1s}
      retry: {attempts: 2, codes: [503], backoff: 100ms}
  ---
  apiVersion: gateway.networking.k8s.io/v1
  kind: GRPCRoute
  metadata: {name: g, namespace: infra}
  spec:
    parentRefs: [{name: edge, sectionName: web}]
    rules: [{matches: [{method: {service: a.B, method: C}}], backendRefs: [{name: svc, port: 80}]}]
  ---
  apiVersion: gateway.networking.k8s.io/v1alpha2
  kind: TCPRoute
  metadata: {name: t, namespace: infra}
  spec:
    rules: [{backendRefs: [{name: svc, port: 80}]}]
  ---
  apiVersion: gateway.networking.k8s.io/v1alpha2
  kind: TLSRoute
  metadata: {name: s, namespace: infra}
  spec:
    hostnames: [tls.example.com]
    rules: [{backendRefs: [{name: svc, port: 80}]}]
  ---
  apiVersion: gateway.networking.k8s.io/v1beta1
  kind: ReferenceGrant
  metadata: {name: rg, namespace: other}
  spec:
    from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: infra}]
    to: [{group: "", kind: Service}]
`;

test('every Gateway API kind istiod reads is accepted; its Gateway and Istio\'s of the same name are two objects', () => {
  const loaded = loadConfigText('gw.yaml', valid);
  assert.deepEqual(problemsOf(valid), []);
  const keys = loaded.documents.map((d) => d.key);
  assert.deepEqual(keys, [
    'GatewayClass.gateway.networking.k8s.io//istio',
    'Gateway.gateway.networking.k8s.io/infra/edge',
    'Gateway/infra/edge',
    'HTTPRoute.gateway.networking.k8s.io/infra/r',
    'GRPCRoute.gateway.networking.k8s.io/infra/g',
    'TCPRoute.gateway.networking.k8s.io/infra/t',
    'TLSRoute.gateway.networking.k8s.io/infra/s',
    'ReferenceGrant.gateway.networking.k8s.io/other/rg',
  ]);
  assert.equal(loaded.documents[0]!.object!.metadata.namespace, undefined, 'GatewayClass is cluster-scoped');
});

test('versions istiod does not read are refused with the ones it does', () => {
  assert.deepEqual(reasonsOf('apiVersion: gateway.networking.k8s.io/v1alpha1\nkind: HTTPRoute\nmetadata: {name: r}\nspec: {}\n'), [
    'HTTPRoute default/r: apiVersion: gateway.networking.k8s.io/v1alpha1 is not accepted for HTTPRoute (expected gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1beta1)',
  ]);
  assert.deepEqual(reasonsOf('apiVersion: gateway.networking.k8s.io/v1\nkind: BackendLBPolicy\nmetadata: {name: r}\n'), ['unknown kind BackendLBPolicy (apiVersion gateway.networking.k8s.io/v1)']);
});

function gatewayWith(listeners: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  gatewayClassName: istio\n  listeners:\n${listeners}`;
}

test('Gateway: the CRD\'s listener rules, at the listener\'s line', () => {
  const text = gatewayWith([
    '  - {name: a, port: 80, protocol: HTTP, tls: {mode: Terminate, certificateRefs: [{name: c}]}}',
    '  - {name: a, port: 81, protocol: TCP, hostname: x.example.com}',
    '  - {name: b, port: 443, protocol: HTTPS}',
    '  - {name: c, port: 444, protocol: HTTPS, tls: {mode: Passthrough}}',
    '  - {name: d, port: 445, protocol: TLS, tls: {mode: Terminate}}',
    '  - {name: e, port: 80, protocol: HTTP}',
    '  - {name: F, port: 0, protocol: HTTP, hostname: "a.*.com"}',
    '',
  ].join('\n'));
  const problems = problemsOf(text);
  const at = (line: number) => problems.filter((p) => p.line === line).map((p) => p.reason.replace(/^Gateway default\/g: /, ''));
  assert.deepEqual(at(7), ["spec.listeners[0].tls: tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"]);
  assert.deepEqual(at(8), ["spec.listeners[1].hostname: hostname must not be specified for protocols ['TCP', 'UDP']", 'spec.listeners[1]: Listener name must be unique within the Gateway']);
  assert.deepEqual(at(9), ['spec.listeners[2].tls: tls must be specified for protocols HTTPS and TLS']);
  assert.deepEqual(at(10), ['spec.listeners[3].tls.mode: tls mode must be Terminate for protocol HTTPS']);
  assert.deepEqual(at(11), ['spec.listeners[4].tls.certificateRefs: certificateRefs or options must be specified when mode is Terminate']);
  assert.deepEqual(at(12), ['spec.listeners[5]: Combination of port, protocol and hostname must be unique for each listener']);
  assert.equal(at(13).length, 3, at(13).join('\n'));
  assert.deepEqual(reasonsOf(gatewayWith('').replace('listeners:\n', 'listeners: []\n')), ['Gateway default/g: spec.listeners: must have at least 1 item']);
});

function routeWith(rule: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  rules:\n  - ${rule}\n`;
}

test('HTTPRoute: the CRD\'s rules on paths, filters, redirects and timeouts', () => {
  const cases: [string, string][] = [
    ['matches: [{path: {type: PathPrefix, value: "a/b"}}]', "spec.rules[0].matches[0].path.value: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"],
    ['matches: [{path: {value: "/a//b"}}]', "spec.rules[0].matches[0].path.value: must not contain '//' when type one of ['Exact', 'PathPrefix']"],
    ['matches: [{path: {type: Exact, value: "/a/../b"}}]', "spec.rules[0].matches[0].path.value: must not contain '/./' or '/../' nor end with '/.' or '/..' when type one of ['Exact', 'PathPrefix']"],
    ['matches: [{path: {type: RegularExpression, value: "(a"}}]', 'spec.rules[0].matches[0].path.value: invalid regex'],
    ['matches: [{method: FETCH}]', 'spec.rules[0].matches[0].method: must be one of GET'],
    ['matches: [{headers: [{name: "bad header", value: x}]}]', 'spec.rules[0].matches[0].headers[0].name: "bad header" is not a valid header name'],
    ['filters: [{type: RequestRedirect, requestRedirect: {statusCode: 304}}]', 'spec.rules[0].filters[0].requestRedirect.statusCode: must be one of 301, 302, 303, 307, 308'],
    ['filters: [{type: RequestRedirect}]', 'spec.rules[0].filters[0].requestRedirect: filter.requestRedirect must be specified for RequestRedirect filter.type'],
    ['filters: [{type: URLRewrite, urlRewrite: {}, requestMirror: {backendRef: {name: m, port: 80}}}]', 'spec.rules[0].filters[0].requestMirror: filter.requestMirror must be nil if the filter.type is not RequestMirror'],
    ['filters: [{type: RequestRedirect, requestRedirect: {}}]\n    backendRefs: [{name: s, port: 80}]', 'spec.rules[0].filters: RequestRedirect filter must not be used together with backendRefs'],
    ['filters: [{type: RequestRedirect, requestRedirect: {}}, {type: URLRewrite, urlRewrite: {}}]', 'spec.rules[0].filters: May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both'],
    ['matches: [{path: {type: Exact, value: /a}}]\n    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}}]', 'spec.rules[0].filters: When using a RequestRedirect or URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified'],
    ['timeouts: {request: 1s, backendRequest: 2s}', 'spec.rules[0].timeouts.backendRequest: backendRequest timeout cannot be longer than request timeout'],
    ['timeouts: {request: 1.5s}', 'spec.rules[0].timeouts.request: "1.5s" is not a valid Gateway API duration'],
    ['backendRefs: [{name: s}]', 'spec.rules[0].backendRefs[0].port: Must have port for Service reference'],
    ['backendRefs: [{name: s, port: 80, weight: 1000001}]', 'spec.rules[0].backendRefs[0].weight: must be an integer 0..1000000'],
    ['filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}, percent: 10, fraction: {numerator: 1}}}]', 'spec.rules[0].filters[0].requestMirror: Only one of percent or fraction may be specified in HTTPRequestMirrorFilter'],
  ];
  for (const [rule, want] of cases) {
    const reasons = reasonsOf(routeWith(rule)).map((r) => r.replace(/^HTTPRoute default\/r: /, ''));
    assert.equal(reasons.length, 1, `${rule}: ${reasons.join('\n')}`);
    assert.ok(reasons[0]!.startsWith(want), `${rule}:\n  got  ${reasons[0]}\n  want ${want}`);
  }
});

test('ReferenceGrant and GatewayClass: required fields', () => {
  assert.deepEqual(reasonsOf('apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g}\nspec: {from: [], to: [{kind: Service}]}\n'), [
    'ReferenceGrant default/g: spec.from: must have at least 1 item',
    'ReferenceGrant default/g: spec.to[0].group: required field is missing',
  ]);
  assert.deepEqual(reasonsOf('apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: c}\nspec: {controllerName: nope}\n'), [
    'GatewayClass c: spec.controllerName: "nope" is not a domain-prefixed path (e.g. istio.io/gateway-controller)',
  ]);
});
