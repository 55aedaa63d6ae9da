/** Finding a pod by the names users type, and merging what several locators know about it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrellisError } from '../../../src/errors.js';
import { findPod, mergedLocator, staticLocator, type MeshLocator, type PodRef } from '../../../src/debug/locator.js';

const pods: PodRef[] = [
  { name: 'reviews-v1', namespace: 'default' },
  { name: 'reviews-v1', namespace: 'staging' },
  { name: 'ratings-v1', namespace: 'default' },
  { name: 'web.example', namespace: 'default' },
];

test('name, name.namespace, pod/name, and --namespace', () => {
  assert.deepEqual(findPod(pods, 'ratings-v1', 'test'), pods[2]);
  assert.deepEqual(findPod(pods, 'reviews-v1.staging', 'test'), pods[1]);
  assert.deepEqual(findPod(pods, 'pod/reviews-v1.default', 'test'), pods[0]);
  assert.deepEqual(findPod(pods, 'reviews-v1', 'test', 'staging'), pods[1]);
  assert.deepEqual(findPod(pods, 'web.example', 'test'), pods[3], 'a dotted pod name is a name before it is name.namespace');
});

test('ambiguous and unknown names are POD_NOT_FOUND, saying what to type instead', () => {
  const ambiguous = (): PodRef => findPod(pods, 'reviews-v1', 'test');
  assert.throws(ambiguous, (e: unknown) => e instanceof TrellisError && e.code === 'POD_NOT_FOUND' && /several namespaces \(default, staging\).*reviews-v1\.NAMESPACE/.test(e.message));
  assert.throws(() => findPod(pods, 'details', 'state file x'), /pod "details" not found \(state file x\); known pods: ratings-v1\.default, reviews-v1\.default, reviews-v1\.staging, web\.example\.default/);
  assert.throws(() => findPod([], 'details', 'x'), /no pods known/);
});

test('merged: each field from the first locator that knows it; a locator that fails is skipped while another answers', async () => {
  const state = staticLocator('state file', '127.0.0.1:15014', [{ name: 'a', namespace: 'default', admin: '127.0.0.1:40000', ip: '10.0.0.1' }]);
  const syncz = staticLocator('control plane', '127.0.0.1:15014', [{ name: 'a', namespace: 'default', proxyId: 'a.default', ip: '10.9.9.9' }, { name: 'b', namespace: 'default', proxyId: 'b.default' }]);
  const merged = mergedLocator(state, syncz);
  assert.deepEqual(await merged.pods(), [
    { name: 'a', namespace: 'default', proxyId: 'a.default', ip: '10.0.0.1', admin: '127.0.0.1:40000' },
    { name: 'b', namespace: 'default', proxyId: 'b.default' },
  ]);
  const down: MeshLocator = { source: 'down', controlPlane: undefined, pods: () => Promise.reject(new Error('ECONNREFUSED')) };
  assert.equal((await mergedLocator(state, down).pods()).length, 1);
  await assert.rejects(mergedLocator(down, down).pods(), /ECONNREFUSED/);
});

test('deploy/NAME: the first of the Deployment\'s pods (NAME-HASH-XXXXX), in --namespace when given', () => {
  const made: PodRef[] = [
    { name: 'reviews-v1-7d9c4f5b8-zq2xk', namespace: 'demo' },
    { name: 'reviews-v1-7d9c4f5b8-abcde', namespace: 'demo' },
    { name: 'reviews-v10-6f8b9c7d5-aaaaa', namespace: 'demo' },
    { name: 'reviews-v1-5c6d7e8f9-qqqqq', namespace: 'staging' },
  ];
  assert.equal(findPod(made, 'deploy/reviews-v1', 'test', 'demo').name, 'reviews-v1-7d9c4f5b8-abcde');
  assert.equal(findPod(made, 'deployment/reviews-v10', 'test').name, 'reviews-v10-6f8b9c7d5-aaaaa');
  assert.throws(() => findPod(made, 'deploy/reviews-v1', 'test'), /several namespaces \(demo, staging\)/);
  assert.throws(() => findPod(made, 'deploy/ratings', 'test', 'demo'), (e: unknown) => e instanceof TrellisError && e.code === 'POD_NOT_FOUND' && /no pod of deployment "ratings" in namespace demo/.test(e.message));
});
