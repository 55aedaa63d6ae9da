/**
 * Fuzz target: the webhook's handleReview (src/inject/admission.ts) on
 * AdmissionReviews whose pods are random mixes of valid and wrong shapes,
 * the annotations the injector reads with arbitrary values, and bodies that
 * are not reviews at all. It must always answer (never throw), echo the
 * uid it was given, and any patch it returns must apply cleanly with
 * fast-json-patch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import { fuzz } from './harness.js';
import { handleReview } from '../../src/inject/admission.js';
import { defaultInjectionConfig } from '../../src/inject/config.js';
import { ANNOTATION, LABEL, PROMETHEUS } from '../../src/inject/names.js';

const cfg = defaultInjectionConfig();
const ctx = { cfg, namespaceLabels: () => ({ 'istio-injection': 'enabled' }) };

const anyJson = fc.jsonValue({ maxDepth: 3 });
const annotationKeys = fc.constantFrom(...Object.values(ANNOTATION), ...Object.values(PROMETHEUS), LABEL.inject);
const annotationValues = fc.oneof(fc.constantFrom('true', 'false', '', '*', '0', '15020', '10.0.0.0/8', '1,2,3', 'REDIRECT', 'NONE', 'TPROXY', '{}', '{"a":{}}', '100m', '8080:/m,9100'), fc.string({ maxLength: 20 }));
const port = fc.oneof(fc.integer({ min: -1, max: 70000 }), fc.constantFrom('http', 'grpc', '8080', ''));
const probe = fc.oneof(
  fc.record({ httpGet: fc.record({ path: fc.string({ maxLength: 8 }), port, scheme: fc.constantFrom('HTTP', 'HTTPS', 'x') }, { requiredKeys: ['port'] }) }),
  fc.record({ tcpSocket: fc.record({ port }) }),
  fc.record({ grpc: fc.record({ port, service: fc.string({ maxLength: 4 }) }, { requiredKeys: ['port'] }) }),
  anyJson,
);
const container = fc.record({
  name: fc.oneof(fc.constantFrom('app', 'web', 'trellis-proxy', 'istio-proxy', 'istio-init'), fc.string({ maxLength: 6 })),
  image: fc.string({ maxLength: 6 }),
  ports: fc.array(fc.record({ name: fc.constantFrom('http', 'grpc', 'x'), containerPort: fc.integer({ min: 0, max: 70000 }) }, { requiredKeys: ['containerPort'] }), { maxLength: 3 }),
  readinessProbe: probe, livenessProbe: probe, startupProbe: probe,
  securityContext: fc.oneof(fc.record({ runAsUser: fc.integer({ min: -1, max: 70000 }), runAsGroup: fc.integer({ min: -1, max: 70000 }) }), anyJson),
  env: fc.oneof(fc.array(fc.record({ name: fc.string({ maxLength: 4 }), value: fc.string({ maxLength: 4 }) })), anyJson),
}, { requiredKeys: ['name'] });
const pod = fc.record({
  metadata: fc.oneof(fc.record({
    name: fc.string({ maxLength: 6 }),
    labels: fc.dictionary(fc.oneof(annotationKeys, fc.string({ maxLength: 6 })), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
    annotations: fc.dictionary(annotationKeys, annotationValues, { maxKeys: 6 }),
  }), anyJson),
  spec: fc.oneof(fc.record({
    containers: fc.array(container, { maxLength: 3 }),
    initContainers: fc.array(container, { maxLength: 2 }),
    volumes: fc.oneof(fc.array(fc.record({ name: fc.string({ maxLength: 4 }) }), { maxLength: 2 }), anyJson),
    hostNetwork: fc.boolean(),
  }, { requiredKeys: ['containers'] }), anyJson),
}, { requiredKeys: ['spec'] });

const body = fc.oneof(
  fc.tuple(fc.uuid(), pod, fc.boolean()).map(([uid, object, dryRun]) => ({ uid, text: JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, namespace: 'ns', object, dryRun } }), object })),
  fc.string({ maxLength: 40 }).map((text) => ({ uid: undefined, text, object: undefined })),
  anyJson.map((j) => ({ uid: undefined, text: JSON.stringify(j), object: undefined })),
);

test('fuzz inject/review: any body is answered, the uid echoed, and every patch applies', async (t) => {
  await fuzz('inject/review', fc.property(body, ({ uid, text, object }) => {
    const a = handleReview(text, ctx);
    assert.equal(a.review.kind, 'AdmissionReview');
    if (uid !== undefined) assert.equal(a.review.response.uid, uid);
    if (a.review.response.patch !== undefined) {
      const ops = JSON.parse(Buffer.from(a.review.response.patch, 'base64').toString('utf8')) as jsonpatch.Operation[];
      jsonpatch.applyPatch(structuredClone(object), ops, true, false);
    }
  }), 400, t);
});
