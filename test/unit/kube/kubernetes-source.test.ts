/**
 * The Kubernetes config source against the fake API server (a test double
 * speaking the list/watch wire protocol): paged lists, watches resumed from
 * the last resourceVersion, re-lists after 410 Expired, a watch cut
 * mid-stream, bookmarks, and bad objects reported with the last good
 * version kept.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubernetesSource, type KubernetesSourceOptions } from '../../../src/controlplane/sources/kubernetes/kubernetes-source.js';
import type { ConfigState } from '../../../src/controlplane/sources/source.js';
import { buildModel } from '../../../src/controlplane/registry/build-model.js';
import { KubeClient } from '../../../src/kube/kube-client.js';
import { loadKubeConfig } from '../../../src/kube/kube-config.js';
import { FakeKubeApiServer } from '../../helpers/fake-kube-apiserver/server.js';
import { namespace, pod, service, virtualService } from '../../helpers/kube-objects.js';

const SERVICES = '/api/v1/services';

describe('KubernetesSource against the fake kube-apiserver', () => {
  let api: FakeKubeApiServer;
  let source: KubernetesSource | undefined;
  const states: ConfigState[] = [];

  const last = () => states[states.length - 1]!;
  const has = (key: string) => last().objects.has(key);
  async function until(what: string, cond: () => boolean, ms = 8000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}; last state: ${[...(states.at(-1)?.objects.keys() ?? [])].join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  async function startSource(pageSize = 500, more: KubernetesSourceOptions = {}): Promise<KubernetesSource> {
    const conn = await loadKubeConfig({ kubeconfig: api.writeKubeconfig() });
    source = new KubernetesSource(conn.kc, new KubeClient(conn.kc), { debounceMs: 10, debounceMaxMs: 100, pageSize, watchTimeoutSeconds: () => 60, backoffInitialMs: 50, backoffMaxMs: 200, ...more });
    await source.start((s) => states.push(s));
    return source;
  }

  before(async () => {
    api = await FakeKubeApiServer.start({ bookmarkIntervalMs: 200 });
  });
  after(async () => {
    await api.close();
  });
  beforeEach(() => {
    states.length = 0;
    for (const ns of ['default', 'shop']) {
      try {
        api.apply(namespace(ns));
      } catch {
        /* exists */
      }
    }
  });
  afterEach(async () => {
    api.fault = undefined;
    api.stallWatches = false;
    await source?.stop();
    source = undefined;
    for (const [kind, plural] of [['Service', 'services'], ['VirtualService', 'virtualservices'], ['Pod', 'pods']] as const) {
      const path = plural === 'virtualservices' ? '/apis/networking.istio.io/v1/virtualservices' : `/api/v1/${plural}`;
      const list = (await (await fetchJson(api, path)).items) as { metadata: { name: string; namespace: string } }[];
      for (const o of list) api.remove(kind, o.metadata.namespace, o.metadata.name);
    }
  });

  test('the first state is the whole cluster, listed in pages that all show one resourceVersion', async () => {
    for (let i = 0; i < 5; i++) api.apply(service('shop', `svc-${i}`, 8000 + i));
    const before = api.requests.length;
    await startSource(2);
    assert.equal(states.length, 1);
    assert.equal(states[0]!.revision, 1);
    for (let i = 0; i < 5; i++) assert.ok(has(`Service/shop/svc-${i}`), `svc-${i}`);
    assert.ok(has('Namespace//shop'));
    const lists = api.requests.slice(before).filter((r) => r.path === SERVICES && r.query.watch === undefined);
    assert.deepEqual(lists.map((r) => r.query.limit), ['2', '2', '2'], 'three pages of two');
    assert.equal(lists[0]!.query.continue, undefined);
    assert.ok(lists[1]!.query.continue && lists[2]!.query.continue, 'later pages carry the continue token');
  });

  test('a continue token that expired mid-list: one list without pages, as client-go\'s pager does', async () => {
    for (let i = 0; i < 4; i++) api.apply(service('shop', `svc-${i}`, 8000 + i));
    let expired = 0;
    api.fault = (r) => {
      if (r.path !== SERVICES || !r.query.continue || expired > 0) return undefined;
      expired += 1;
      return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Expired', message: 'The provided continue parameter is too old to display a consistent list result.', code: 410 };
    };
    const from = api.requests.length;
    await startSource(2);
    for (let i = 0; i < 4; i++) assert.ok(has(`Service/shop/svc-${i}`), `svc-${i}`);
    const lists = api.requests.slice(from).filter((r) => r.path === SERVICES && r.query.watch === undefined);
    assert.deepEqual(lists.map((r) => [r.query.limit ?? '', r.query.continue ? 'token' : '']), [['2', ''], ['2', 'token'], ['', '']]);
  });

  test('a change arrives through the watch, which asks for bookmarks and starts at the list\'s resourceVersion', async () => {
    const from = api.requests.length;
    await startSource();
    const rvAtList = String(api.store.rv);
    api.apply(virtualService('shop', 'reviews', 'reviews.shop.svc.cluster.local'));
    await until('the VirtualService', () => has('VirtualService/shop/reviews'));
    const watch = api.requests.slice(from).find((r) => r.path === '/apis/networking.istio.io/v1/virtualservices' && r.query.watch !== undefined)!;
    assert.equal(watch.query.allowWatchBookmarks, 'true');
    assert.equal(watch.query.resourceVersion, rvAtList);
    assert.equal(watch.query.timeoutSeconds, '60');
    api.remove('VirtualService', 'shop', 'reviews');
    await until('the deletion', () => !has('VirtualService/shop/reviews'));
  });

  test('a watch cut mid-stream resumes from the last resourceVersion and loses nothing written meanwhile', async () => {
    api.apply(service('shop', 'cart', 8080));
    await startSource();
    const listsBefore = api.count(SERVICES, 'list');
    const watchesBefore = api.count(SERVICES, 'watch');
    assert.ok(api.dropWatches() > 0, 'watches were open');
    api.apply(service('shop', 'orders', 8081));
    api.remove('Service', 'shop', 'cart');
    await until('the add and the delete made while the watch was down', () => has('Service/shop/orders') && !has('Service/shop/cart'));
    assert.equal(api.count(SERVICES, 'list'), listsBefore, 'no relist: the history was still there');
    assert.ok(api.count(SERVICES, 'watch') > watchesBefore, 'a new watch');
    const resumed = api.requests.filter((r) => r.path === SERVICES && r.query.watch !== undefined).at(-1)!;
    assert.notEqual(resumed.query.resourceVersion, '', 'resumed from a resourceVersion, not from now');
  });

  test('a watch that goes silent (a half-open connection) is given up after its timeout and a grace, and what it missed arrives', async () => {
    api.apply(service('shop', 'cart', 8080));
    await startSource(500, { watchTimeoutSeconds: () => 2, silentWatchGraceMs: 300, minWatchIntervalMs: 0 });
    api.stallWatches = true;
    api.dropWatches();
    await until('stalled watches open', () => source!.stats().Service!.dropped >= 1);
    const stalledAt = Date.now();
    await new Promise((r) => setTimeout(r, 100));
    api.stallWatches = false;
    api.apply(service('shop', 'orders', 8081));
    await new Promise((r) => setTimeout(r, 500));
    // Judged only while the silent watch cannot have been given up yet (its 2 s timeout): on a loaded machine
    // the wait above can stretch past it, and then the watchdog has rightly restarted the watch already.
    if (Date.now() - stalledAt < 1500) assert.ok(!has('Service/shop/orders'), 'nothing arrives on a silent watch');
    await until('the watchdog restarted the watch and the change arrived', () => has('Service/shop/orders'), 5000);
    assert.ok(source!.stats().Service!.dropped >= 2, 'the silent watch counted as cut');
  });

  test('410 Expired (history compacted while the watch was down) relists, and deletions made meanwhile are seen', async () => {
    api.apply(service('shop', 'cart', 8080));
    api.apply(service('shop', 'legacy', 8082));
    await startSource();
    const listsBefore = api.count(SERVICES, 'list');
    api.dropWatches();
    api.remove('Service', 'shop', 'legacy');
    api.apply(service('shop', 'orders', 8081));
    api.store.compact();
    await until('converged after the relist', () => has('Service/shop/orders') && !has('Service/shop/legacy') && has('Service/shop/cart'));
    assert.ok(api.count(SERVICES, 'list') > listsBefore, 'relisted');
    assert.ok(source!.stats().Service!.expired >= 1, 'the 410 was seen');
  });

  test('bookmarks keep a quiet collection\'s resourceVersion fresh: after a compaction it resumes without a relist', async () => {
    api.apply(service('shop', 'cart', 8080));
    await startSource();
    // Writes elsewhere move the global revision past what the services watch has seen.
    for (let i = 0; i < 3; i++) api.applyWithStatus(pod('shop', `p${i}`, { app: 'x' }, `10.1.0.${i + 1}`));
    await until('a bookmark on the services watch', () => (source!.stats().Service?.bookmarks ?? 0) >= 2);
    api.store.compact();
    const listsBefore = api.count(SERVICES, 'list');
    api.dropWatches();
    api.apply(service('shop', 'orders', 8081));
    await until('the new service', () => has('Service/shop/orders'));
    assert.equal(api.count(SERVICES, 'list'), listsBefore, 'resumed from the bookmark, no relist');
    assert.equal(source!.stats().Service!.expired, 0);
  });

  test('a bad Istio object is reported like a bad document, and a bad update keeps the last good version', async () => {
    api.apply(virtualService('shop', 'bad', 'bad.shop.svc.cluster.local', { http: [{ route: [{ destination: { host: 'bad' }, weight: 'heavy' }] }] }));
    api.apply(virtualService('shop', 'reviews', 'reviews.shop.svc.cluster.local'));
    await startSource();
    assert.ok(!has('VirtualService/shop/bad'));
    const p = last().problems.find((x) => x.file === 'kubernetes:VirtualService/shop/bad');
    assert.ok(p, JSON.stringify(last().problems));
    assert.equal(p.code, 'CONFIG_INVALID');
    assert.match(p.reason, /VirtualService shop\/bad: spec\.http\[0\]\.route\[0\]\.weight/);
    const good = last().objects.get('VirtualService/shop/reviews')!;
    api.apply(virtualService('shop', 'reviews', 'reviews.shop.svc.cluster.local', { tcp: 'nonsense' }));
    await until('the problem of the bad update', () => last().problems.some((x) => x.file === 'kubernetes:VirtualService/shop/reviews'));
    const kept = last().objects.get('VirtualService/shop/reviews')!;
    assert.equal(kept.metadata.resourceVersion, good.metadata.resourceVersion, 'the last good version stays');
    assert.match(last().problems.find((x) => x.file === 'kubernetes:VirtualService/shop/reviews')!.reason, /keeping the previous version/);
    api.remove('VirtualService', 'shop', 'bad');
    await until('the bad object\'s problem goes with it', () => !last().problems.some((x) => x.file === 'kubernetes:VirtualService/shop/bad'));
  });

  test('an API outage: retries back off, CONFIG_SOURCE is reported after a while with the last objects kept, and it recovers', async () => {
    api.apply(service('shop', 'cart', 8080));
    await startSource(500, { unavailableAfterMs: 400, backoffInitialMs: 40, backoffMaxMs: 320, minWatchIntervalMs: 0 });
    const from = api.requests.length;
    api.fault = (r) => (r.path === SERVICES ? { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'ServiceUnavailable', message: 'etcd is down', code: 503 } : undefined);
    api.dropWatches();
    await until('CONFIG_SOURCE', () => last().problems.some((p) => p.code === 'CONFIG_SOURCE'));
    const p = last().problems.find((x) => x.code === 'CONFIG_SOURCE')!;
    assert.equal(p.file, `kubernetes:${SERVICES}`);
    assert.match(p.reason, /Service Unavailable.*serving the last objects seen/);
    assert.ok(has('Service/shop/cart'), 'the last objects stay in service');
    await new Promise((r) => setTimeout(r, 1200));
    const tries = api.requests.slice(from).filter((r) => r.path === SERVICES).map((r) => r.at);
    const gaps = tries.slice(1).map((t, i) => t - tries[i]!);
    // 40 ms doubling to 320 with jitter: a handful of tries, never a busy loop; timing on a loaded machine is too noisy to assert the doubling itself.
    assert.ok(tries.length >= 3 && tries.length <= 25, `${tries.length} tries in ~1.6 s (gaps ${gaps.join(', ')})`);
    assert.ok(gaps.slice(-3).every((g) => g >= 150), `at the cap, gaps of 160–320 ms: ${gaps.join(', ')}`);
    api.fault = undefined;
    api.apply(service('shop', 'orders', 8081));
    await until('recovered', () => !last().problems.some((x) => x.code === 'CONFIG_SOURCE') && has('Service/shop/orders'));
  });

  test('a CRD that is not installed is an empty collection, not an outage; its objects appear once it is installed', async () => {
    const notFound = { kind: 'Status' as const, apiVersion: 'v1' as const, metadata: {}, status: 'Failure' as const, reason: 'NotFound', message: 'the server could not find the requested resource', code: 404 };
    api.fault = (r) => (r.path.startsWith('/apis/security.istio.io/') ? notFound : undefined);
    api.apply({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'strict', namespace: 'shop' }, spec: { mtls: { mode: 'STRICT' } } });
    await startSource(500, { notServedRetryMs: 100, unavailableAfterMs: 200 });
    assert.ok(!has('PeerAuthentication/shop/strict'));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(last().problems, [], 'no CONFIG_SOURCE for a missing CRD');
    api.fault = undefined;
    await until('the PeerAuthentication', () => has('PeerAuthentication/shop/strict'));
    api.remove('PeerAuthentication', 'shop', 'strict');
  });

  test('Secrets are read (gateways\' credentialName): a TLS Secret becomes the model\'s credential, an edit replaces it', async () => {
    const b64 = (v: string) => Buffer.from(v).toString('base64');
    const secret = (crt: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shop-cert', namespace: 'shop' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(crt), 'tls.key': b64('KEY') } });
    api.apply(secret('CHAIN-1'));
    try {
      await startSource();
      assert.deepEqual(buildModel(last()).credential('shop', 'shop-cert'), { cert: { chain: 'CHAIN-1', key: 'KEY' } });
      api.apply(secret('CHAIN-2'));
      await until('the edited Secret', () => buildModel(last()).credential('shop', 'shop-cert')?.cert?.chain === 'CHAIN-2');
      assert.deepEqual(last().problems, []);
    } finally {
      api.remove('Secret', 'shop', 'shop-cert');
    }
  });

  test('Secrets are listed and watched with istiod\'s field selector: service-account tokens and Helm releases never reach the source', async () => {
    const b64 = (v: string) => Buffer.from(v).toString('base64');
    const secret = (name: string, type: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'shop' }, type, data: { 'tls.crt': b64('C'), 'tls.key': b64('K') } });
    api.apply(secret('listed-token', 'kubernetes.io/service-account-token'));
    api.apply(secret('listed-helm', 'helm.sh/release.v1'));
    api.apply(secret('listed-tls', 'kubernetes.io/tls'));
    try {
      await startSource();
      assert.ok(has('Secret/shop/listed-tls'), 'the control: a TLS Secret is listed');
      // Watched later: the selector holds on the watch as on the list.
      api.apply(secret('watched-token', 'kubernetes.io/service-account-token'));
      api.apply(secret('watched-tls', 'kubernetes.io/tls'));
      await until('the watched TLS Secret', () => has('Secret/shop/watched-tls'));
      const names = [...last().objects.keys()].filter((k) => k.startsWith('Secret/'));
      assert.deepEqual(names.filter((k) => /token|helm/.test(k)), [], names.join(', '));
    } finally {
      for (const n of ['listed-token', 'listed-helm', 'listed-tls', 'watched-token', 'watched-tls']) api.remove('Secret', 'shop', n);
    }
  });

  test('fields of built-in kinds Trellis does not know are dropped, not reported (the API server validated them)', async () => {
    const svc = service('shop', 'cart', 8080);
    (svc.spec as Record<string, unknown>).someFutureField = { x: 1 };
    api.apply(svc);
    await startSource();
    const got = last().objects.get('Service/shop/cart')!;
    assert.equal((got.spec as Record<string, unknown>).someFutureField, undefined);
    assert.deepEqual(last().problems, []);
  });
});

async function fetchJson(api: FakeKubeApiServer, path: string): Promise<{ items: unknown[] }> {
  const conn = await loadKubeConfig({ kubeconfig: api.writeKubeconfig() });
  return new KubeClient(conn.kc).get<{ items: unknown[] }>(path);
}
