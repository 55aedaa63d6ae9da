/**
 * Two real `trellis controlplane --kubeconfig` replicas on one fake API
 * server (a test double of kube-apiserver): one of them takes the leader
 * Lease and creates istio-ca-secret, both sign with that root, tokens are
 * checked with TokenReview, the leader sets the webhook's caBundle, a proxy
 * gets the same resource versions from either replica, both converge after
 * their watches are cut and the history compacted (410 → relist), and when
 * the leader stops the other replica takes the Lease.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import type { DiscoveryResponse } from '../../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { TestAdsClient, namesOf, waitFor } from '../../helpers/ads-client.js';
import { TestCaClient } from '../../helpers/ca-client.js';
import { FakeKubeApiServer } from '../../helpers/fake-kube-apiserver/server.js';
import { namespace, pod, service, virtualService } from '../../helpers/kube-objects.js';
import { Scratch } from '../../helpers/openssl.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';

const NODE = 'sidecar~10.1.0.9~client-0.shop~shop.svc.cluster.local';
const spiffe = (ns: string, sa: string) => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;

interface Replica {
  proc: TrellisProcess;
  xds: number;
  debug: string;
  ca: string;
}

describe('two control plane replicas on one Kubernetes API server', () => {
  let api: FakeKubeApiServer;
  const replicas: Replica[] = [];
  const closers: Array<{ close(): void }> = [];
  const s = new Scratch();

  const secretRoot = () => {
    const secret = api.store.get(defOf('Secret'), 'istio-system', 'istio-ca-secret');
    return Buffer.from((secret.data as Record<string, string>)['ca-cert.pem']!, 'base64').toString('utf8');
  };
  const defOf = (kind: string) => ({ Secret: secretDef, Lease: leaseDef, MutatingWebhookConfiguration: webhookDef })[kind]!;
  let secretDef: Parameters<FakeKubeApiServer['store']['get']>[0];
  let leaseDef: typeof secretDef;
  let webhookDef: typeof secretDef;
  const holder = () => {
    try {
      return (api.store.get(leaseDef, 'istio-system', 'trellis-controlplane-leader').spec as { holderIdentity?: string }).holderIdentity;
    } catch {
      return undefined;
    }
  };

  async function startReplica(name: string): Promise<Replica> {
    const proc = new TrellisProcess(['controlplane', '--kubeconfig', api.writeKubeconfig(), '--xds-port', '0', '--debug-port', '0', '--ca-port', '0',
      '--leader-lease', '3s', '--debounce-ms', '20'], { POD_NAME: name, POD_NAMESPACE: 'istio-system' });
    const line = jsonLine<{ xds: string; debug: string; ca: string }>(await proc.waitForLine((l) => jsonLine(l)?.xds !== undefined, 30_000))!;
    return { proc, xds: Number(line.xds.split(':')[1]), debug: `http://${line.debug}`, ca: line.ca };
  }

  /** CDS then LDS from one replica, as a proxy subscribes (wildcard), each response ACKed. */
  async function fetchConfig(r: Replica): Promise<DiscoveryResponse[]> {
    const c = new TestAdsClient(r.xds);
    closers.push(c);
    const st = c.sotw(NODE);
    const out: DiscoveryResponse[] = [];
    for (const type of [TypeUrl.Cluster, TypeUrl.Listener]) {
      st.request(type);
      const res = await st.next(10_000);
      st.ack(res);
      out.push(res);
    }
    c.close();
    return out;
  }

  before(async () => {
    api = await FakeKubeApiServer.start({ bookmarkIntervalMs: 500 });
    const { defForKind } = await import('../../helpers/fake-kube-apiserver/kinds.js');
    secretDef = defForKind('Secret');
    leaseDef = defForKind('Lease');
    webhookDef = defForKind('MutatingWebhookConfiguration');
    api.apply(namespace('istio-system'));
    api.apply(namespace('shop', { 'istio-injection': 'enabled' }));
    api.apply(service('shop', 'reviews', 9080));
    api.applyWithStatus(pod('shop', 'reviews-0', { app: 'reviews' }, '10.1.0.1', 'reviews'));
    api.applyWithStatus(pod('shop', 'client-0', { app: 'client' }, '10.1.0.9', 'client'));
    api.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reviews', namespace: 'shop' } });
    api.apply(virtualService('shop', 'reviews', 'reviews.shop.svc.cluster.local', { http: [{ timeout: '3s', route: [{ destination: { host: 'reviews.shop.svc.cluster.local' } }] }] }));
    api.apply({
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'trellis-sidecar-injector' },
      webhooks: [{ name: 'sidecar-injector.trellis.io', clientConfig: { service: { name: 'istiod', namespace: 'istio-system', path: '/inject', port: 443 } }, sideEffects: 'None', admissionReviewVersions: ['v1'] }],
    });
    api.tokens.set('token-reviews', { username: 'system:serviceaccount:shop:reviews', uid: 'u1', audiences: ['istio-ca'] });
    api.tokens.set('token-kube-audience', { username: 'system:serviceaccount:shop:reviews', uid: 'u2', audiences: ['https://kubernetes.default.svc.cluster.local'] });
    replicas.push(...(await Promise.all([startReplica('trellis-a'), startReplica('trellis-b')])));
  });

  after(async () => {
    for (const c of closers) c.close();
    await Promise.all(replicas.map((r) => r.proc.stop()));
    await api.close();
    s.remove();
  });

  test('one replica leads; istio-ca-secret is created once, in Istio\'s layout, and both replicas sign with its root', async () => {
    await waitFor(() => holder() === 'trellis-a' || holder() === 'trellis-b', 10_000);
    const secret = api.store.get(secretDef, 'istio-system', 'istio-ca-secret');
    assert.equal(secret.type, 'istio.io/ca-root');
    assert.deepEqual(Object.keys(secret.data as object).sort(), ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'key.pem', 'root-cert.pem']);
    const root = secretRoot();
    const csr = s.csr('ec', [spiffe('shop', 'reviews')]).csrPem;
    for (const r of replicas) {
      const client = new TestCaClient(r.ca, root);
      closers.push(client);
      const a = await client.createCertificate(csr, 'token-reviews');
      assert.ok(a.ok, JSON.stringify(a));
      assert.equal(a.certChain.at(-1), root, 'the Secret\'s root ends the chain');
      assert.ok(new X509Certificate(a.certChain[0]!).verify(new X509Certificate(root).publicKey));
      assert.equal(new X509Certificate(a.certChain[0]!).subjectAltName, `URI:${spiffe('shop', 'reviews')}`);
    }
    assert.equal(api.requests.filter((q) => q.method === 'POST' && q.path === '/api/v1/namespaces/istio-system/secrets').length, 1, 'created once');
  });

  test('TokenReview decides: an unknown token, or one for another audience, is UNAUTHENTICATED; a CSR for another account is refused', async () => {
    const client = new TestCaClient(replicas[0]!.ca, secretRoot());
    closers.push(client);
    const csr = s.csr('ec', [spiffe('shop', 'reviews')]).csrPem;
    const unknown = await client.createCertificate(csr, 'forged');
    assert.ok(!unknown.ok && unknown.code === status.UNAUTHENTICATED, JSON.stringify(unknown));
    assert.match(unknown.details, /refused the token/);
    const wrongAudience = await client.createCertificate(csr, 'token-kube-audience');
    assert.ok(!wrongAudience.ok && wrongAudience.code === status.UNAUTHENTICATED, JSON.stringify(wrongAudience));
    assert.match(wrongAudience.details, /audiences/);
    const other = await client.createCertificate(s.csr('ec', [spiffe('shop', 'client')]).csrPem, 'token-reviews');
    assert.ok(!other.ok && other.code === status.PERMISSION_DENIED, JSON.stringify(other));
    const reviews = api.requests.filter((q) => q.path === '/apis/authentication.k8s.io/v1/tokenreviews');
    assert.ok(reviews.length >= 3);
  });

  test('the leader sets the injection webhook\'s caBundle to the root', async () => {
    await waitFor(() => {
      const w = api.store.get(webhookDef, undefined, 'trellis-sidecar-injector');
      return (w.webhooks as { clientConfig: { caBundle?: string } }[])[0]!.clientConfig.caBundle !== undefined;
    }, 10_000);
    const w = api.store.get(webhookDef, undefined, 'trellis-sidecar-injector');
    const bundle = (w.webhooks as { clientConfig: { caBundle: string } }[])[0]!.clientConfig.caBundle;
    assert.equal(Buffer.from(bundle, 'base64').toString('utf8'), secretRoot());
    const puts = api.requests.filter((q) => q.method === 'PUT' && q.path.endsWith('/mutatingwebhookconfigurations/trellis-sidecar-injector'));
    assert.equal(puts.length, 1, 'written once, by the leader');
  });

  test('a proxy gets the same resources and versions from either replica', async () => {
    const [a, b] = await Promise.all(replicas.map(fetchConfig));
    assert.ok(namesOf(a![0]!).includes('outbound|9080||reviews.shop.svc.cluster.local'), namesOf(a![0]!).join(', '));
    for (let i = 0; i < 2; i++) {
      assert.equal(a![i]!.versionInfo, b![i]!.versionInfo, `${a![i]!.typeUrl}: version_info`);
      assert.deepEqual(a![i]!.resources.map((r) => Buffer.from(r.value).toString('base64')), b![i]!.resources.map((r) => Buffer.from(r.value).toString('base64')));
    }
  });

  test('after every watch is cut and the history compacted, both replicas converge on the same new config', async () => {
    const before = await fetchConfig(replicas[0]!);
    api.dropWatches();
    api.apply(service('shop', 'ratings', 9081));
    api.remove('VirtualService', 'shop', 'reviews');
    api.store.compact();
    const converged = async (r: Replica) => {
      for (let i = 0; i < 100; i++) {
        const got = await fetchConfig(r);
        if (namesOf(got[0]!).includes('outbound|9081||ratings.shop.svc.cluster.local') && got[1]!.versionInfo !== before[1]!.versionInfo) return got;
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error('no convergence in 10 s');
    };
    const [a, b] = await Promise.all(replicas.map(converged));
    for (let i = 0; i < 2; i++) assert.equal(a![i]!.versionInfo, b![i]!.versionInfo, `${a![i]!.typeUrl} agrees after the relist`);
  });

  test('every request the replicas made is allowed by the RBAC `trellis install` grants', async () => {
    const { rbac } = await import('../../../src/install/rbac.js');
    const { forbidden } = await import('../../helpers/fake-kube-apiserver/rbac-check.js');
    const objs = rbac('istio-system') as unknown as { kind: string; rules?: never[] }[];
    const grants = { cluster: objs.find((o) => o.kind === 'ClusterRole')!.rules!, namespaced: { 'istio-system': objs.find((o) => o.kind === 'Role')!.rules! } };
    assert.ok(api.requests.length > 20);
    assert.deepEqual(forbidden(api.requests, grants), []);
  });

  test('when the leader stops, the other replica takes the Lease', async () => {
    const leader = holder()!;
    const idx = leader === 'trellis-a' ? 0 : 1;
    await replicas[idx]!.proc.stop();
    await waitFor(() => holder() === (idx === 0 ? 'trellis-b' : 'trellis-a'), 10_000);
  });
});
