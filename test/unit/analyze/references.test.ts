/**
 * IST0101 ReferencedResourceNotFound for VirtualService destinations: unknown
 * hosts, ports and subsets, with Istio's wording, at the exact line — and no
 * finding for what does resolve (short names, other namespaces, ServiceEntry
 * hosts, wildcards).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { yaml } from '../config/helpers.js';
import { analyzeFiles, lineOfText, messageOf } from './helpers.js';

const mesh = yaml`
  apiVersion: v1
  kind: Service
  metadata: {name: reviews, namespace: default}
  spec:
    ports: [{port: 9080, name: http}]
    selector: {app: reviews}
  ---
  apiVersion: v1
  kind: Service
  metadata: {name: db, namespace: data}
  spec:
    ports: [{port: 5432, name: tcp-pg}]
  ---
  apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata: {name: reviews, namespace: default}
  spec:
    host: reviews
    subsets:
    - {name: v1, labels: {version: v1}}
    - {name: v2, labels: {version: v2}}
  ---
  apiVersion: networking.istio.io/v1
  kind: ServiceEntry
  metadata: {name: httpbin, namespace: default}
  spec:
    hosts: [httpbin.org]
    location: MESH_EXTERNAL
    resolution: DNS
    ports: [{number: 443, name: tls, protocol: TLS}]
  ---
  apiVersion: networking.istio.io/v1
  kind: ServiceEntry
  metadata: {name: eu, namespace: default}
  spec:
    hosts: ["*.eu.example.com"]
    location: MESH_EXTERNAL
    resolution: NONE
    ports: [{number: 80, name: http, protocol: HTTP}]
`;

const routing = yaml`
  apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata: {name: reviews, namespace: default}
  spec:
    hosts: [reviews]
    http:
    - match:
      - headers: {end-user: {exact: jason}}
      route:
      - destination: {host: reviews, subset: v2}
    - route:
      - destination:
          host: reviews
          subset: v3
        weight: 80
      - destination:
          host: ratings
        weight: 20
      mirror:
        host: reviews-shadow
      mirrors:
      - destination: {host: reviews, subset: canary}
`;

test('an unknown host and an undefined subset are IST0101 findings at the line of the field, in Istio\'s words', () => {
  const findings = analyzeFiles({ 'mesh.yaml': mesh, 'routing.yaml': routing });
  assert.deepEqual(
    findings.map((p) => [p.code, p.name, p.severity, p.file, p.line, p.reason]),
    [
      ['IST0101', 'ReferencedResourceNotFound', 'Error', 'routing.yaml', lineOfText(routing, 'subset: v3'),
        'VirtualService default/reviews: spec.http[1].route[0].destination.subset: Referenced host+subset in destinationrule not found: "reviews+v3"'],
      ['IST0101', 'ReferencedResourceNotFound', 'Error', 'routing.yaml', lineOfText(routing, 'host: ratings'),
        'VirtualService default/reviews: spec.http[1].route[1].destination.host: Referenced host not found: "ratings"'],
      ['IST0101', 'ReferencedResourceNotFound', 'Error', 'routing.yaml', lineOfText(routing, 'host: reviews-shadow'),
        'VirtualService default/reviews: spec.http[1].mirror.host: Referenced mirror host not found: "reviews-shadow"'],
      ['IST0101', 'ReferencedResourceNotFound', 'Error', 'routing.yaml', lineOfText(routing, 'subset: canary'),
        'VirtualService default/reviews: spec.http[1].mirrors[0].destination.subset: Referenced mirror+subset in destinationrule not found: "reviews+canary"'],
    ],
  );
});

test('tcp and tls route destinations, and a port the service does not have (host:port)', () => {
  const vs = yaml`
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: db, namespace: data}
    spec:
      hosts: [db]
      tcp:
      - route:
        - destination: {host: db, port: {number: 5433}}
      tls:
      - match: [{sniHosts: [db.example.com]}]
        route:
        - destination: {host: db-tls.data.svc.cluster.local}
  `;
  const findings = analyzeFiles({ 'mesh.yaml': mesh, 'db.yaml': vs });
  assert.deepEqual(findings.map((p) => [p.line, messageOf(p)]), [
    [lineOfText(vs, '{number: 5433}'), 'Referenced host:port not found: "db:5433"'],
    [lineOfText(vs, 'host: db-tls'), 'Referenced host not found: "db-tls.data.svc.cluster.local"'],
  ]);
  assert.match(findings[0]!.reason, /spec\.tcp\[0\]\.route\[0\]\.destination\.port\.number: /);
});

test('what resolves is not reported: short names in the VirtualService\'s namespace, FQDNs of other namespaces, ServiceEntry hosts, wildcards', () => {
  const vs = yaml`
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: fine, namespace: default}
    spec:
      hosts: [reviews]
      http:
      - route:
        - destination: {host: reviews, subset: v1, port: {number: 9080}}
          weight: 50
        - destination: {host: reviews.default.svc.cluster.local, subset: v2}
          weight: 50
        mirror: {host: httpbin.org, port: {number: 443}}
      - route:
        - destination: {host: api.eu.example.com}
      - route:
        - destination: {host: "*.eu.example.com"}
      - route:
        - destination: {host: "*.v2.eu.example.com", port: {number: 80}}
      tcp:
      - route:
        - destination: {host: db.data.svc.cluster.local}
  `;
  assert.deepEqual(analyzeFiles({ 'mesh.yaml': mesh, 'fine.yaml': vs }), []);
  // The same short name from another namespace names another (missing) service.
  const elsewhere = vs.replace('namespace: default', 'namespace: other');
  assert.deepEqual(
    analyzeFiles({ 'mesh.yaml': mesh, 'fine.yaml': elsewhere }).map(messageOf),
    ['Referenced host not found: "reviews"', 'Referenced host+subset in destinationrule not found: "reviews+v1"'],
  );
});

test('subsets from a wildcard DestinationRule, or from one in another namespace, count', () => {
  const rules = yaml`
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: eu, namespace: default}
    spec:
      host: "*.eu.example.com"
      subsets: [{name: blue, labels: {color: blue}}]
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: db, namespace: data}
    spec:
      host: db
      subsets: [{name: primary, labels: {role: primary}}]
  `;
  const vs = yaml`
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: x, namespace: default}
    spec:
      hosts: [x.example.com]
      http:
      - route:
        - destination: {host: api.eu.example.com, subset: blue}
      tcp:
      - route:
        - destination: {host: db.data.svc.cluster.local, subset: primary}
  `;
  assert.deepEqual(analyzeFiles({ 'mesh.yaml': mesh, 'rules.yaml': rules, 'vs.yaml': vs }), []);
  assert.deepEqual(analyzeFiles({ 'mesh.yaml': mesh, 'vs.yaml': vs }).map(messageOf), [
    'Referenced host+subset in destinationrule not found: "api.eu.example.com+blue"',
    'Referenced host+subset in destinationrule not found: "db.data.svc.cluster.local+primary"',
  ]);
});

test('visibility: a service exported elsewhere is not found from the VirtualService\'s namespace, unless the VirtualService is exported there', () => {
  const hidden = yaml`
    apiVersion: v1
    kind: Service
    metadata:
      name: details
      namespace: default
      annotations: {networking.istio.io/exportTo: banana}
    spec:
      ports: [{port: 9080, name: http}]
    ---
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: private, namespace: other}
    spec:
      exportTo: ["."]
      hosts: ["*"]
      resolution: NONE
      ports: [{number: 80, name: http, protocol: HTTP}]
  `;
  const vs = (ns: string, exportTo = '') => yaml`
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: details, namespace: ${ns}}
    spec:
      hosts: [details.default.svc.cluster.local]${exportTo}
      http:
      - route:
        - destination: {host: details.default.svc.cluster.local}
  `;
  const found = (text: string) => analyzeFiles({ 'hidden.yaml': hidden, 'vs.yaml': text }).length === 0;
  assert.equal(found(vs('istio-system')), false, 'exported to banana only');
  assert.equal(found(vs('banana')), true);
  assert.equal(found(vs('istio-system', '\n      exportTo: [banana]')), true);
  assert.equal(found(vs('istio-system', '\n      exportTo: ["*"]')), true);
  // The "*" ServiceEntry of namespace "other" is exported to its own namespace only: it covers nothing elsewhere.
  assert.equal(found(vs('other').replace(/details\.default\.svc\.cluster\.local/g, 'anything.example.com')), true);
  assert.equal(found(vs('default').replace(/details\.default\.svc\.cluster\.local/g, 'anything.example.com')), false);
});

test('names are quoted as Go\'s %q quotes them', () => {
  const vs = yaml`
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: q, namespace: default}
    spec:
      hosts: [q]
      http:
      - route:
        - destination: {host: "we\\"ird\\tname\\u00e9\\u0001"}
  `;
  assert.deepEqual(analyzeFiles({ 'q.yaml': vs }).map(messageOf), ['Referenced host not found: "we\\"ird\\tnameé\\x01"']);
});
