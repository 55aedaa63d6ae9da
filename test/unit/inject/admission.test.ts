/** handleReview without the server: what each kind of request is answered, as istiod answers it. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import jsonpatch from 'fast-json-patch';
import { handleReview, type ReviewContext } from '../../../src/inject/admission.js';
import { defaultInjectionConfig } from '../../../src/inject/config.js';

const ctx: ReviewContext = { cfg: defaultInjectionConfig(), namespaceLabels: (ns): Record<string, string> | undefined => (ns === 'on' ? { 'istio-injection': 'enabled' } : ns === 'off' ? {} : undefined) };
const review = (request: unknown) => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'a' }] } };

describe('handleReview', () => {
  test('an injected pod: allowed, JSONPatch in base64, uid echoed; the patch applies', () => {
    const a = handleReview(review({ uid: 'u1', namespace: 'on', kind: { group: '', version: 'v1', kind: 'Pod' }, object: pod }), ctx);
    assert.equal(a.status, 200);
    assert.equal(a.outcome, 'injected');
    const r = a.review.response;
    assert.deepEqual([r.uid, r.allowed, r.patchType], ['u1', true, 'JSONPatch']);
    const ops = JSON.parse(Buffer.from(r.patch!, 'base64').toString()) as jsonpatch.Operation[];
    const out = jsonpatch.applyPatch(structuredClone(pod), ops, true, false).newDocument as unknown as { spec: { initContainers: { name: string }[] } };
    assert.deepEqual(out.spec.initContainers.map((c) => c.name), ['trellis-init', 'trellis-proxy']);
  });

  test('a skipped pod: allowed, no patch', () => {
    const a = handleReview(review({ uid: 'u2', namespace: 'off', object: pod }), ctx);
    assert.deepEqual(a.review.response, { uid: 'u2', allowed: true });
    assert.equal(a.outcome, 'skipped');
    assert.equal(a.decision?.decidedBy, 'webhook-selector');
  });

  test('the pod\'s namespace is the request\'s when the pod has none; dryRun is reported and answered the same', () => {
    const wet = handleReview(review({ uid: 'u', namespace: 'on', object: pod }), ctx);
    const dry = handleReview(review({ uid: 'u', namespace: 'on', object: pod, dryRun: true }), ctx);
    assert.equal(dry.dryRun, true);
    assert.equal(dry.review.response.patch, wet.review.response.patch);
  });

  const malformed: [string, string, number, RegExp, string][] = [
    ['empty', '', 400, /no body found/, ''],
    ['not JSON', '{', 200, /not JSON/, ''],
    ['a string', '"x"', 200, /not an AdmissionReview/, ''],
    ['v1beta1 is another version', JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'b1' } }), 200, /expected kind AdmissionReview, apiVersion admission\.k8s\.io\/v1/, 'b1'],
    ['no request', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), 200, /no request/, ''],
    ['no uid', review({ object: pod }), 200, /no uid/, ''],
  ];
  for (const [what, body, status, message, uid] of malformed) {
    test(`malformed (${what}): HTTP ${status}, allowed: false with the reason, uid echoed when there is one`, () => {
      const a = handleReview(body, ctx);
      assert.equal(a.status, status);
      assert.equal(a.outcome, 'malformed');
      assert.equal(a.review.response.allowed, false);
      assert.equal(a.review.response.uid, uid);
      assert.match(a.review.response.result?.message ?? '', message);
    });
  }

  test('a Pod the injector cannot read is refused with the reason; another kind is let through with a warning', () => {
    const bad = handleReview(review({ uid: 'u', namespace: 'on', object: { kind: 'Pod', spec: { containers: [{ image: 'no-name' }] } } }), ctx);
    assert.equal(bad.review.response.allowed, false);
    assert.match(bad.review.response.result?.message ?? '', /named containers/);
    const dep = handleReview(review({ uid: 'u', kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, object: { kind: 'Deployment' } }), ctx);
    assert.equal(dep.review.response.allowed, true);
    assert.equal(dep.outcome, 'passed-through');
  });

  test('annotations Istio refuses: allowed: false naming each', () => {
    const p = { ...pod, metadata: { name: 'p', annotations: { 'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.0', 'sidecar.istio.io/proxyCPU': 'lots' } } };
    const a = handleReview(review({ uid: 'u', namespace: 'on', object: p }), ctx);
    assert.equal(a.review.response.allowed, false);
    assert.match(a.review.response.result?.message ?? '', /includeOutboundIPRanges.*\n?.*proxyCPU|proxyCPU.*includeOutboundIPRanges/s);
  });
});
