/**
 * The CA's Kubernetes parts against the fake API server: TokenReview
 * authentication, the CA Secret (cacerts first, else istio-ca-secret made
 * once by the leader, followers waiting for it), leader election on a Lease
 * with optimistic concurrency, the webhook caBundle patch.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { logger } from '../../../src/log.js';
import { CaFile, newRoot } from '../../../src/ca/ca-dir.js';
import { loadCaFromSecrets } from '../../../src/kube/ca-secret.js';
import { KubeClient } from '../../../src/kube/kube-client.js';
import { loadKubeConfig } from '../../../src/kube/kube-config.js';
import { LeaderElector, microTime } from '../../../src/kube/leader-election.js';
import { TokenReviewVerifier } from '../../../src/kube/token-review.js';
import { patchWebhookCaBundle } from '../../../src/kube/webhook-ca-bundle.js';
import { FakeKubeApiServer } from '../../helpers/fake-kube-apiserver/server.js';
import { defForKind } from '../../helpers/fake-kube-apiserver/kinds.js';
import { namespace } from '../../helpers/kube-objects.js';

const log = logger('kube');
const waitFor = async (cond: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('Kubernetes parts of the CA', () => {
  let api: FakeKubeApiServer;
  let client: KubeClient;
  before(async () => {
    api = await FakeKubeApiServer.start();
    for (const ns of ['istio-system', 'plugged', 'race']) api.apply(namespace(ns));
    client = new KubeClient((await loadKubeConfig({ kubeconfig: api.writeKubeconfig() })).kc);
  });
  after(() => api.close());

  test('TokenReview: the identity is the review\'s user; refusals and non-service-account users have their codes', async () => {
    api.tokens.set('ok', { username: 'system:serviceaccount:shop:reviews', uid: '1', audiences: ['istio-ca'] });
    api.tokens.set('user', { username: 'alice', uid: '2', audiences: ['istio-ca'] });
    api.tokens.set('kube', { username: 'system:serviceaccount:shop:reviews', uid: '3', audiences: ['https://kubernetes.default.svc.cluster.local'] });
    const v = new TokenReviewVerifier(client);
    assert.deepEqual(await v.verify('ok', 'istio-ca'), { namespace: 'shop', serviceAccount: 'reviews' });
    const review = api.requests.filter((r) => r.path === '/apis/authentication.k8s.io/v1/tokenreviews');
    assert.equal(review.length, 1);
    await assert.rejects(v.verify('nope', 'istio-ca'), { code: 'TOKEN_REJECTED' });
    await assert.rejects(v.verify('kube', 'istio-ca'), (e: Error & { code?: string }) => e.code === 'TOKEN_REJECTED' && /audiences/.test(e.message));
    await assert.rejects(v.verify('user', 'istio-ca'), { code: 'TOKEN_CLAIMS' });
    await assert.rejects(v.verify('x'.repeat(20_000), 'istio-ca'), { code: 'TOKEN_MALFORMED' });
    const closed = await FakeKubeApiServer.start();
    const unreachable = new TokenReviewVerifier(new KubeClient((await loadKubeConfig({ kubeconfig: closed.writeKubeconfig() })).kc));
    await closed.close();
    await assert.rejects(unreachable.verify('ok', 'istio-ca'), { code: 'TOKEN_REVIEW_UNAVAILABLE' });
  });

  test('TokenReview: a bound token\'s pod and node come from the review\'s extra fields (the node authorizer\'s input)', async () => {
    const extra = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [`authentication.kubernetes.io/${k}`, [v]]));
    api.tokens.set('ztunnel', { username: 'system:serviceaccount:istio-system:ztunnel', uid: '4', audiences: ['istio-ca'],
      extra: extra({ 'pod-name': 'ztunnel-x1', 'pod-uid': 'u-1', 'node-name': 'node-a' }) });
    api.tokens.set('bad-pod', { username: 'system:serviceaccount:istio-system:ztunnel', uid: '5', audiences: ['istio-ca'], extra: extra({ 'pod-name': 'Not/A/Name' }) });
    const v = new TokenReviewVerifier(client);
    assert.deepEqual(await v.verify('ztunnel', 'istio-ca'), { namespace: 'istio-system', serviceAccount: 'ztunnel', pod: { name: 'ztunnel-x1', uid: 'u-1' }, node: { name: 'node-a' } });
    await assert.rejects(v.verify('bad-pod', 'istio-ca'), { code: 'TOKEN_CLAIMS' });
  });

  test('a plugged-in cacerts Secret wins, and nothing is created', async () => {
    const { files } = newRoot({ trustDomain: 'cluster.local', keyType: 'ec' });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    api.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: 'plugged' },
      data: { 'ca-cert.pem': b64(files[CaFile.caCert]!), 'ca-key.pem': b64(files[CaFile.caKey]!), 'root-cert.pem': b64(files[CaFile.rootCert]!), 'cert-chain.pem': b64(files[CaFile.caCert]!) } });
    const got = await loadCaFromSecrets(client, { namespace: 'plugged', trustDomain: 'cluster.local', keyType: 'ec', elector: { isLeader: true }, log });
    assert.equal(got.where, 'secret plugged/cacerts');
    assert.equal(got.material.created, false);
    assert.equal(new X509Certificate(got.material.roots[0]!).fingerprint256, new X509Certificate(files[CaFile.rootCert]!).fingerprint256);
    assert.throws(() => api.store.get(defForKind('Secret'), 'plugged', 'istio-ca-secret'));
  });

  test('a broken cacerts is refused with KUBE_CA_SECRET, not replaced', async () => {
    api.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: 'race' }, data: { 'ca-cert.pem': Buffer.from('junk').toString('base64') } });
    await assert.rejects(loadCaFromSecrets(client, { namespace: 'race', trustDomain: 'cluster.local', keyType: 'ec', elector: { isLeader: true }, log }), { code: 'KUBE_CA_SECRET' });
    api.remove('Secret', 'race', 'cacerts');
  });

  test('followers wait; the leader creates istio-ca-secret once; everyone reads the same root', async () => {
    const leader = { isLeader: false };
    const opts = { namespace: 'istio-system', trustDomain: 'cluster.local', keyType: 'ec' as const, pollMs: 30, log };
    const followers = [loadCaFromSecrets(client, { ...opts, elector: { isLeader: false } }), loadCaFromSecrets(client, { ...opts, elector: { isLeader: false } })];
    await new Promise((r) => setTimeout(r, 100));
    leader.isLeader = true;
    const made = await loadCaFromSecrets(client, { ...opts, elector: leader });
    assert.equal(made.material.created, true);
    const roots = (await Promise.all(followers)).map((f) => new X509Certificate(f.material.roots[0]!).fingerprint256);
    const mine = new X509Certificate(made.material.roots[0]!).fingerprint256;
    assert.deepEqual(roots, [mine, mine]);
    const again = await loadCaFromSecrets(client, { ...opts, elector: { isLeader: true } });
    assert.equal(again.material.created, false, 'an existing secret is read, never replaced');
  });

  test('leader election: one of three leads, a stale write loses with 409, release hands over at once', async () => {
    const electors = ['r1', 'r2', 'r3'].map((identity) => new LeaderElector(client, { namespace: 'istio-system', name: 'lease-test', identity, leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 100, log }));
    for (const e of electors) e.start();
    await waitFor(() => electors.filter((e) => e.isLeader).length === 1);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(electors.filter((e) => e.isLeader).length, 1, 'still one after several rounds');
    const lease = api.store.get(defForKind('Lease'), 'istio-system', 'lease-test');
    const spec = lease.spec as { holderIdentity: string; renewTime: string; leaseTransitions: number };
    const leader = electors.find((e) => e.isLeader)!;
    assert.equal(spec.holderIdentity, leader.identity);
    assert.match(spec.renewTime, /\.\d{6}Z$/, 'MicroTime');
    // What keeps two replicas from both taking an expired Lease: a write with the resourceVersion read before another's write is refused.
    const path = '/apis/coordination.k8s.io/v1/namespaces/istio-system/leases/lease-test';
    await waitFor(() => api.store.get(defForKind('Lease'), 'istio-system', 'lease-test').metadata.resourceVersion !== lease.metadata.resourceVersion);
    await assert.rejects(client.put(path, { ...lease, spec: { ...spec, holderIdentity: 'intruder' } }), (e: Error & { status?: number; reason?: string }) => e.status === 409 && e.reason === 'Conflict');
    await leader.stop();
    const t0 = Date.now();
    await waitFor(() => electors.filter((e) => e.isLeader).length === 1 && !leader.isLeader, 3000);
    assert.ok(Date.now() - t0 < 2500, 'a released Lease is taken without waiting out the duration');
    for (const e of electors) await e.stop();
    assert.equal(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), '2026-01-02T03:04:05.678000Z');
  });

  test('caBundle: every webhook gets the roots; unchanged is not rewritten; absent is said', async () => {
    assert.equal(await patchWebhookCaBundle(client, 'missing', 'PEM'), 'absent');
    api.apply({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'inj' },
      webhooks: [{ name: 'a.trellis.io', clientConfig: { service: { name: 'istiod', namespace: 'istio-system' } } }, { name: 'b.trellis.io', clientConfig: { caBundle: 'b2xk' } }] });
    assert.equal(await patchWebhookCaBundle(client, 'inj', 'ROOT PEM'), 'patched');
    const w = api.store.get(defForKind('MutatingWebhookConfiguration'), undefined, 'inj');
    for (const hook of w.webhooks as { clientConfig: { caBundle: string; service?: unknown } }[]) assert.equal(Buffer.from(hook.clientConfig.caBundle, 'base64').toString(), 'ROOT PEM');
    assert.ok((w.webhooks as { clientConfig: { service?: unknown } }[])[0]!.clientConfig.service, 'the rest of clientConfig kept');
    assert.equal(await patchWebhookCaBundle(client, 'inj', 'ROOT PEM'), 'unchanged');
  });
});
