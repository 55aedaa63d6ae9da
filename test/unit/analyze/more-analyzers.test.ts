/**
 * The analyzers `trellis analyze` adds to the control plane's: conflicting
 * PeerAuthentications (TRL0001, TRL0002), ports without a protocol (IST0118,
 * IST0150) and VirtualServices claiming the same host (IST0109), each at the
 * line Istio would point at.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../../src/config/load-config.js';
import { acceptFile, mergeFiles } from '../../../src/controlplane/sources/file-merge.js';
import { buildModel } from '../../../src/controlplane/registry/build-model.js';
import { analyzeAll } from '../../../src/controlplane/analyze/analyze-all.js';
import { yaml } from '../config/helpers.js';
import { lineOfText } from './helpers.js';

function analyze(text: string) {
  const merged = mergeFiles([['mesh.yaml', acceptFile(undefined, loadConfigText('mesh.yaml', text))]]);
  assert.deepEqual(merged.problems, []);
  return analyzeAll([...merged.objects.values()], buildModel({ objects: merged.objects, problems: [], revision: 1 }));
}

const pa = (name: string, ns: string, selector?: string, created = '2026-01-01T00:00:00Z') => yaml`
  apiVersion: security.istio.io/v1
  kind: PeerAuthentication
  metadata: {name: ${name}, namespace: ${ns}, creationTimestamp: "${created}"}
  spec:
    ${selector ? `selector: {matchLabels: {${selector}}}` : 'mtls: {mode: STRICT}'}
`;
const pod = (name: string, labels: string) => yaml`
  apiVersion: v1
  kind: Pod
  metadata: {name: ${name}, namespace: shop, labels: {${labels}}}
`;

test('TRL0001: two namespace-wide PeerAuthentications, each reported, naming the one that applies', () => {
  const text = [pa('b-strict', 'shop', undefined, '2026-01-02T00:00:00Z'), pa('a-loose', 'shop'), pa('only', 'bank')].join('---\n');
  const found = analyze(text).filter((m) => m.type.code === 'TRL0001');
  assert.deepEqual(found.map((m) => [m.object.metadata.name, m.line]), [['b-strict', lineOfText(text, 'name: b-strict')], ['a-loose', lineOfText(text, 'name: a-loose')]]);
  assert.equal(found[0]!.message, 'The PeerAuthentications [a-loose, b-strict] in namespace "shop" have no workload selector; only the oldest, a-loose, applies.');
  assert.equal(found[0]!.type.severity, 'Warning');
});

test('TRL0002: two selectors matching one pod; disjoint selectors are fine', () => {
  const text = [pa('by-app', 'shop', 'app: reviews'), pa('by-version', 'shop', 'version: v1', '2026-01-03T00:00:00Z'), pa('other', 'shop', 'app: ratings'), pod('reviews-v1', 'app: reviews, version: v1'), pod('ratings-v1', 'app: ratings, version: v2')].join('---\n');
  const found = analyze(text).filter((m) => m.type.code === 'TRL0002');
  assert.deepEqual(found.map((m) => m.object.metadata.name), ['by-app', 'by-version']);
  assert.match(found[0]!.message, /\[by-app, by-version\] in namespace "shop" select the same workload pod "reviews-v1"; only the oldest, by-app, applies to it\./);
});

test('IST0118 at the port\'s line, with Istio\'s wording; named, appProtocol and well-known ports are fine', () => {
  const text = yaml`
    apiVersion: v1
    kind: Service
    metadata: {name: db, namespace: shop}
    spec:
      ports:
        - {name: http-web, port: 80}
        - {port: 3306}
        - {name: admin, port: 8080, appProtocol: http}
        - {name: postgres, port: 5432, targetPort: 5433}
  `;
  const found = analyze(text);
  assert.deepEqual(found.map((m) => [m.type.code, m.line, m.message]), [['IST0118', lineOfText(text, 'postgres'), "Port name postgres (port: 5432, targetPort: 5433) doesn't follow the naming convention of Istio port."]]);
});

test('IST0109: two mesh VirtualServices for one host; a gateway-only one does not count', () => {
  const vs = (name: string, gateways = 'mesh') => yaml`
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: ${name}, namespace: shop}
    spec:
      hosts: [reviews.shop.svc.cluster.local]
      gateways: [${gateways}]
      http: [{route: [{destination: {host: reviews.shop.svc.cluster.local}}]}]
  `;
  const text = [vs('first'), vs('second'), vs('at-gateway', 'shop/gw')].join('---\n');
  const found = analyze(text).filter((m) => m.type.code === 'IST0109');
  assert.deepEqual(found.map((m) => m.object.metadata.name), ['first', 'second']);
  assert.match(found[0]!.message, /^The VirtualServices shop\/first,shop\/second associated with mesh gateway define the same host \*\/reviews\.shop\.svc\.cluster\.local which/);
});
