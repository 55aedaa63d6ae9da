import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYamlDocuments } from '../../../src/config/load-yaml.js';
import { validateDocument, validateObject, kindSchemas } from '../../../src/config/validate/index.js';
import { kindVersions } from '../../../src/config/objects.js';
import { placeOf, problemsOf, reasonsOf, yaml } from './helpers.js';

const vs = (apiVersion: string) => yaml`
  apiVersion: ${apiVersion}
  kind: VirtualService
  metadata:
    name: reviews
  spec:
    hosts: [reviews]
    http:
    - route:
      - destination:
          host: reviews
`;

test('every kind of kindVersions has a schema', () => {
  assert.deepEqual(Object.keys(kindSchemas).sort(), Object.keys(kindVersions).sort());
});

test('apiVersion must be one of those accepted for the kind', () => {
  for (const v of ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3']) {
    assert.deepEqual(reasonsOf(vs(v)), [], v);
  }
  const problems = problemsOf(vs('networking.istio.io/v2'));
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.line, 1);
  assert.match(problems[0]!.reason, /^VirtualService default\/reviews: apiVersion: networking.istio.io\/v2 is not accepted for VirtualService/);
  assert.match(reasonsOf(yaml`
    apiVersion: v1
    kind: PeerAuthentication
    metadata: {name: x}
  `)[0]!, /v1 is not accepted for PeerAuthentication \(expected security.istio.io\/v1, security.istio.io\/v1beta1\)/);
});

test('unknown kinds are reported with their apiVersion at the kind line', () => {
  const problems = problemsOf('apiVersion: networking.istio.io/v1\nkind: VirtualServce\nmetadata: {name: ef}\n');
  assert.deepEqual(problems, [{ code: 'CONFIG_INVALID', file: 'test.yaml', line: 2, reason: 'unknown kind VirtualServce (apiVersion networking.istio.io/v1)' }]);
});

test('apiVersion and kind are required', () => {
  assert.deepEqual(reasonsOf('metadata: {name: x}\n'), ['apiVersion and kind must be set (strings)']);
});

test('metadata.name is required and must be a DNS-1123 name', () => {
  assert.deepEqual(reasonsOf('apiVersion: v1\nkind: Service\nmetadata: {namespace: ns}\n'), ['Service ns/<unnamed>: metadata.name: required field is missing']);
  assert.deepEqual(reasonsOf('apiVersion: v1\nkind: Service\n'), ['Service default/<unnamed>: metadata: required field is missing']);
  const bad = problemsOf('apiVersion: v1\nkind: Service\nmetadata:\n  name: Reviews_V1\n');
  assert.equal(bad.length, 1);
  assert.equal(bad[0]!.line, 4);
  assert.match(bad[0]!.reason, /^Service default\/Reviews_V1: metadata.name: "Reviews_V1" is not a valid DNS-1123 name/);
  assert.deepEqual(reasonsOf('apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews.v1-x\n'), []);
  assert.match(reasonsOf('apiVersion: v1\nkind: Service\nmetadata:\n  name: ok\n  namespace: Bad.NS\n')[0]!, /metadata.namespace: "Bad.NS" is not a valid DNS-1123 label/);
});

test('namespace defaults to "default", except for cluster-scoped kinds', () => {
  const [svc, ns] = parseYamlDocuments('n.yaml', 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b, namespace: ignored}\n').documents.map(validateDocument);
  assert.equal(svc!.object!.metadata.namespace, 'default');
  assert.equal(svc!.key, 'Service/default/a');
  assert.equal(ns!.object!.metadata.namespace, undefined);
  assert.equal(ns!.key, 'Namespace//b');
  assert.deepEqual(placeOf(ns!.object!), { file: 'n.yaml', line: 5 });
});

test('unknown fields are rejected anywhere, with the field path, the exact line and a suggestion', () => {
  const text = yaml`
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata:
      name: reviews
      namespace: bookinfo
      lables: {app: x}
    spec:
      host: reviews
      subsets:
      - name: v1
        labels: {version: v1}
      - name: v2
        lables:
          version: v2
      trafficPolicy:
        loadBalancer:
          simple: ROUND_ROBIN
          sticky: true
  `;
  const problems = problemsOf(text);
  assert.deepEqual(
    problems.map((p) => [p.line, p.reason]),
    [
      [6, 'DestinationRule bookinfo/reviews: metadata.lables: unknown field (did you mean "labels"?)'],
      [13, 'DestinationRule bookinfo/reviews: spec.subsets[1].lables: unknown field (did you mean "labels"?)'],
      [18, 'DestinationRule bookinfo/reviews: spec.trafficPolicy.loadBalancer.sticky: unknown field'],
    ],
  );
  // The same document without the typos is valid.
  const fixed = text.replace('  lables: {app: x}\n', '').replace('lables:', 'labels:').replace('      sticky: true\n', '');
  assert.deepEqual(reasonsOf(fixed), []);
});

test('field names that are also Object.prototype members ("constructor", "__proto__", "toString") are unknown fields too', () => {
  const text = yaml`
    apiVersion: v1
    kind: Service
    metadata:
      name: a
      constructor: x
    spec:
      __proto__: {ports: []}
      toString: y
  `;
  assert.deepEqual(
    problemsOf(text).map((p) => [p.line, p.reason]),
    [
      [5, 'Service default/a: metadata.constructor: unknown field'],
      [7, 'Service default/a: spec.__proto__: unknown field'],
      [8, 'Service default/a: spec.toString: unknown field'],
    ],
  );
});

test('all problems of a document are collected, each at its own line', () => {
  const text = yaml`
    apiVersion: v1
    kind: Service
    metadata:
      name: multi
      labels:
        version: 1
    spec:
      type: Cluster
      ports:
      - port: 0
      - port: "80"
  `;
  assert.deepEqual(
    problemsOf(text).map((p) => [p.line, p.reason]),
    [
      [6, 'Service default/multi: metadata.labels.version: must be a string'],
      [8, 'Service default/multi: spec.type: must be one of ClusterIP, NodePort, LoadBalancer, ExternalName (got "Cluster")'],
      [10, 'Service default/multi: spec.ports[0].port: must be an integer 1..65535 (got 0)'],
      [11, 'Service default/multi: spec.ports[1].port: must be an integer 1..65535'],
    ],
  );
});

test('validateObject works without YAML (e.g. objects from the Kubernetes API)', () => {
  const r = validateObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { ports: [{ port: 70000 }] } }, { file: 'k8s', line: 0 }, () => 0);
  assert.equal(r.object, undefined);
  assert.equal(r.key, 'Service/default/x');
  assert.deepEqual(r.problems, [{ code: 'CONFIG_INVALID', file: 'k8s', line: 0, reason: 'Service default/x: spec.ports[0].port: must be an integer 1..65535 (got 70000)' }]);
});

test('label keys with dots are quoted in paths', () => {
  assert.deepEqual(reasonsOf('apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    app.kubernetes.io/name: [x]\n'), [
    'Pod default/p: metadata.labels["app.kubernetes.io/name"]: must be a string',
  ]);
});
