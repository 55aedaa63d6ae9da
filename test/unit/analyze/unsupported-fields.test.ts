/**
 * Fields Istio accepts and Trellis does not act on are reported as
 * CONFIG_UNSUPPORTED at their own line (issue 13: nothing accepted
 * silently) — and the claim "does not act on" is checked: translating the
 * config with the field and without it gives the same xDS, byte for byte.
 * When a field gets implemented the second test fails, which is the
 * signal to take it out of the table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { yaml } from '../config/helpers.js';
import { analyzeFiles, lineOfText } from './helpers.js';
import { bookinfo, modelOf, sidecarNode } from '../translate/helpers.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { createGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { TypeUrl } from '../../../src/xds/type-urls.js';

const config = yaml`
  apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata: {name: reviews, namespace: default}
  spec:
    host: reviews
    trafficPolicy:
      loadBalancer:
        simple: ROUND_ROBIN
        localityLbSetting: {enabled: true, failover: [{from: eu, to: us}]}
      connectionPool:
        tcp: {maxConnections: 10, tcpKeepalive: {time: 60s}}
        http: {useClientProtocol: true, http1MaxPendingRequests: 5}
      portLevelSettings:
      - port: {number: 9080}
        loadBalancer: {simple: RANDOM, warmupDurationSecs: 30s}
    subsets:
    - name: v1
      labels: {version: v1}
      trafficPolicy:
        tls: {mode: SIMPLE, credentialName: reviews-ca}
  ---
  apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata: {name: reviews, namespace: default}
  spec:
    hosts: [reviews]
    http:
    - match: [{uri: {prefix: /a}, statPrefix: a-routes}]
      corsPolicy: {allowOrigins: [{exact: https://example.com}]}
      retries: {attempts: 2, backoff: 100ms}
      route: [{destination: {host: reviews, subset: v1}}]
  ---
  apiVersion: networking.istio.io/v1
  kind: Sidecar
  metadata: {name: default, namespace: default}
  spec:
    ingress:
    - port: {number: 9080, protocol: HTTP, name: http}
      defaultEndpoint: unix:///var/run/app.sock
    egress:
    - port: {number: 9080, protocol: HTTP, name: http}
      hosts: ["./*"]
  ---
  apiVersion: networking.istio.io/v1
  kind: ServiceEntry
  metadata: {name: ext, namespace: default}
  spec:
    hosts: [ext.example.com]
    addresses: [192.0.2.10, 192.0.2.11]
    ports: [{number: 80, name: http, protocol: HTTP}]
    resolution: STATIC
    endpoints: [{address: 192.0.2.10}]
  ---
  apiVersion: networking.istio.io/v1
  kind: ServiceEntry
  metadata: {name: one, namespace: default}
  spec:
    hosts: [one.example.com]
    addresses: [192.0.2.20]
    ports: [{number: 80, name: http, protocol: HTTP}]
    resolution: STATIC
    endpoints: [{address: 192.0.2.20}]
`;

test('each field set that Trellis does not implement is one CONFIG_UNSUPPORTED warning at its line, saying what happens instead', () => {
  const found = analyzeFiles({ 'mesh.yaml': config }).filter((p) => p.code === 'CONFIG_UNSUPPORTED');
  const at = found.map((p) => `${p.line} ${p.reason.slice(0, p.reason.indexOf(':', p.reason.indexOf(': ') + 2))}`);
  const line = (needle: string) => lineOfText(config, needle);
  assert.deepEqual(found.map((p) => p.line).sort((a, b) => a - b), [
    line('localityLbSetting'), line('useClientProtocol'), line('warmupDurationSecs'), line('credentialName'),
    line('statPrefix'), line('defaultEndpoint'),
    line('addresses: [192.0.2.10'),
  ].sort((a, b) => a - b), at.join('\n'));
  for (const p of found) {
    assert.equal(p.file, 'mesh.yaml');
    assert.match(p.reason, /(is|are) not implemented|are implemented as|only the first/, p.reason);
  }
  const locality = found.find((p) => p.line === line('localityLbSetting'))!;
  assert.match(locality.reason, /^DestinationRule default\/reviews: spec\.trafficPolicy\.loadBalancer\.localityLbSetting: .*balanced without regard to locality/);
  const warmup = found.find((p) => p.line === line('warmupDurationSecs'))!;
  assert.match(warmup.reason, /spec\.trafficPolicy\.portLevelSettings\[0\]\.loadBalancer\.warmupDurationSecs/);
});

test('a DestinationRule with a workloadSelector is reported as ignored as a whole; retryIgnorePreviousHosts only when false', () => {
  const files = {
    'dr.yaml': yaml`
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: scoped, namespace: default}
      spec:
        host: reviews
        workloadSelector: {matchLabels: {app: productpage}}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: r, namespace: default}
      spec:
        hosts: [reviews]
        http:
        - retries: {attempts: 1, retryIgnorePreviousHosts: true}
          route: [{destination: {host: reviews}}]
        - retries: {attempts: 1, retryIgnorePreviousHosts: false}
          route: [{destination: {host: reviews}}]
    `,
  };
  const found = analyzeFiles(files).filter((p) => p.code === 'CONFIG_UNSUPPORTED').map((p) => p.reason);
  assert.equal(found.length, 2, found.join('\n'));
  assert.match(found[0]!, /DestinationRule default\/scoped: spec\.workloadSelector: .*ignored entirely/);
  assert.match(found[1]!, /spec\.http\[1\]\.retries\.retryIgnorePreviousHosts/);
});

/** Every resource a sidecar in `default` gets, as bytes by type and name. */
function xds(text: string): Map<string, string> {
  const gen = createGenerator(modelOf(bookinfo + text), routeBuilders);
  const node = sidecarNode('10.0.0.9', 'productpage-v1', 'default');
  const out = new Map<string, string>();
  for (const t of [TypeUrl.Cluster, TypeUrl.Listener, TypeUrl.ClusterLoadAssignment, TypeUrl.RouteConfiguration]) {
    for (const [name, r] of gen.generate(node, t, undefined)) out.set(`${t} ${name}`, Buffer.from(toBinary(AnySchema, r.any)).toString('base64'));
  }
  return out;
}

test('what the table calls unimplemented changes nothing in the xDS a sidecar gets (so the warning is true)', () => {
  const dr = (policy: string) => `\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: default}\nspec:\n  host: reviews\n  trafficPolicy:\n${policy}\n`;
  const vs = (route: string) => `\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: default}\nspec:\n  hosts: [reviews]\n  http:\n  - ${route}\n    route: [{destination: {host: reviews}}]\n`;
  const tel = (spec: string) => `\n---\napiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: t, namespace: default}\nspec:\n${spec}\n`;
  const pairs: [string, string, string][] = [
    ['localityLbSetting', dr('    loadBalancer: {simple: RANDOM, localityLbSetting: {enabled: true}}'), dr('    loadBalancer: {simple: RANDOM}')],
    ['warmup', dr('    loadBalancer: {simple: RANDOM, warmupDurationSecs: 30s}'), dr('    loadBalancer: {simple: RANDOM}')],
    ['maxConnectionDuration', dr('    connectionPool: {tcp: {maxConnections: 3, maxConnectionDuration: 60s}}'), dr('    connectionPool: {tcp: {maxConnections: 3}}')],
    ['useClientProtocol', dr('    connectionPool: {http: {maxRetries: 3, useClientProtocol: true}}'), dr('    connectionPool: {http: {maxRetries: 3}}')],
    ['credentialName', dr('    tls: {mode: SIMPLE, sni: x, credentialName: c}'), dr('    tls: {mode: SIMPLE, sni: x}')],
    ['statPrefix', vs('match: [{uri: {prefix: /}, statPrefix: s}]'), vs('match: [{uri: {prefix: /}}]')],
    ['Telemetry accessLogging filter', tel('  accessLogging:\n  - providers: [{name: envoy}]\n    filter: {expression: "response.code >= 400"}'), tel('  accessLogging:\n  - providers: [{name: envoy}]')],
    ['Telemetry metrics overrides', tel('  metrics:\n  - reportingInterval: 5s\n    overrides:\n    - disabled: true\n      tagOverrides: {a: {operation: REMOVE}}'), tel('  metrics: []')],
    ['Telemetry tracing', tel('  tracing:\n  - randomSamplingPercentage: 5\n    providers: [{name: zipkin}]'), tel('  tracing: []')],
    ['Telemetry targetRef', tel('  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}\n  accessLogging:\n  - disabled: true'), ''],
    ['EnvoyFilter', '\n---\napiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: e, namespace: default}\nspec:\n  configPatches:\n  - applyTo: CLUSTER\n    patch: {operation: REMOVE}\n', ''],
  ];
  // Telemetry access logging (the envoy provider, disabled) is implemented: it shows.
  assert.notDeepEqual(xds(tel('  accessLogging:\n  - disabled: true')), xds(''));
  // Controls: implemented fields do change the xDS, so the comparison can see a difference.
  assert.notDeepEqual(xds(dr('    loadBalancer: {simple: RANDOM}')), xds(dr('    loadBalancer: {simple: LEAST_REQUEST}')));
  assert.notDeepEqual(xds(vs('retries: {attempts: 2}')), xds(vs('retries: {attempts: 3}')));
  // Implemented since issue 13 (so absent from the table, and visible in the xDS).
  assert.notDeepEqual(xds(dr('    connectionPool: {tcp: {maxConnections: 3, tcpKeepalive: {time: 60s}}}')), xds(dr('    connectionPool: {tcp: {maxConnections: 3}}')));
  assert.notDeepEqual(xds(vs('corsPolicy: {allowOrigins: [{exact: "https://a"}]}\n    timeout: 1s')), xds(vs('timeout: 1s')));
  assert.notDeepEqual(xds(vs('retries: {attempts: 2, backoff: 1s}')), xds(vs('retries: {attempts: 2}')));
  for (const [field, withField, without] of pairs) {
    assert.deepEqual(xds(withField), xds(without), `${field} now changes the xDS: it is implemented — take it out of unsupported-fields.ts`);
  }
});
