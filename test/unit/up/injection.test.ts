import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalService, injectedMetadata, injectionDecision, type InjectionInput } from '../../../src/local/up/injection.js';

const base: InjectionInput = { labels: {}, annotations: {}, spec: {}, namespace: 'shop', namespaceLabels: {} };
const decide = (o: Partial<InjectionInput>) => injectionDecision({ ...base, ...o });

test("Istio's injection decision", () => {
  const cases: [Partial<InjectionInput>, boolean, string][] = [
    [{}, false, 'namespace not labelled for injection'],
    [{ namespaceLabels: { 'istio-injection': 'enabled' } }, true, 'namespace label istio-injection=enabled'],
    [{ namespaceLabels: { 'istio.io/rev': 'default' } }, true, 'namespace label istio.io/rev=default'],
    [{ namespaceLabels: { 'istio-injection': 'enabled' }, labels: { 'sidecar.istio.io/inject': 'false' } }, false, 'pod label sidecar.istio.io/inject=false'],
    [{ namespaceLabels: { 'istio-injection': 'enabled' }, annotations: { 'sidecar.istio.io/inject': 'false' } }, false, 'pod annotation sidecar.istio.io/inject=false'],
    [{ labels: { 'sidecar.istio.io/inject': 'true' } }, true, 'pod label sidecar.istio.io/inject=true'],
    // The webhook's object selector reads labels: an annotation alone does not opt a pod in.
    [{ annotations: { 'sidecar.istio.io/inject': 'true' } }, false, 'namespace not labelled for injection'],
    [{ namespaceLabels: { 'istio-injection': 'disabled' }, labels: { 'sidecar.istio.io/inject': 'true' } }, false, 'namespace label istio-injection=disabled'],
    [{ namespaceLabels: { 'istio-injection': 'enabled' }, spec: { hostNetwork: true } }, false, 'hostNetwork pod'],
    [{ namespace: 'kube-system', labels: { 'sidecar.istio.io/inject': 'true' } }, false, 'namespace kube-system'],
  ];
  for (const [input, sidecar, reason] of cases) assert.deepEqual(decide(input), { sidecar, reason }, JSON.stringify(input));
});

test("the injector's labels: tlsMode and the canonical service from app/version (or the workload name and latest)", () => {
  assert.deepEqual(canonicalService({ app: 'reviews', version: 'v2' }, 'reviews-v2'), { name: 'reviews', revision: 'v2' });
  assert.deepEqual(canonicalService({ 'app.kubernetes.io/name': 'r', app: 'x' }, 'w'), { name: 'r', revision: 'latest' });
  assert.deepEqual(canonicalService({}, 'w'), { name: 'w', revision: 'latest' });
  const m = injectedMetadata({ app: 'reviews' }, 'reviews-v1');
  assert.equal(m.labels['security.istio.io/tlsMode'], 'istio');
  assert.deepEqual(JSON.parse(m.annotations['sidecar.istio.io/status']!).containers, ['istio-proxy']);
});
