/**
 * On-demand cluster discovery (src/proxy/upstream/cluster-discovery.ts) over
 * the real ClusterManager and the real CDS/EDS resource types; the ADS
 * stream is a small fake that records what is subscribed and lets the test
 * say "the server has no such cluster".
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Any } from '@bufbuild/protobuf/wkt';
import { ClusterDiscovery, ODCDS_STATS, type DiscoveryHandle, type DiscoveryStatus, type OnDemandSource } from '../../../src/proxy/upstream/cluster-discovery.js';
import { ClusterManager } from '../../../src/proxy/upstream/cluster-manager.js';
import { clusterType, endpointType } from '../../../src/proxy/xds-client/proxy-types.js';
import type { ResourceType, ResourceWatcher } from '../../../src/proxy/xds-client/resource-type.js';
import { ProxyStats } from '../../../src/proxy/telemetry/stats.js';
import { edsCluster, endpoints } from '../../integration/proxy/xds-builders.js';

class FakeAds implements OnDemandSource {
  readonly asked: string[][] = [];
  readonly watchers = new Map<string, Set<ResourceWatcher>>();
  supported = true;

  subscribeOnDemand(_type: ResourceType, names: readonly string[]): 'requested' | 'unsupported' {
    if (!this.supported) return 'unsupported';
    this.asked.push([...names]);
    return 'requested';
  }

  watch<T>(_type: ResourceType<T>, name: string, w: ResourceWatcher<T>): () => void {
    let set = this.watchers.get(name);
    if (!set) this.watchers.set(name, (set = new Set()));
    set.add(w as ResourceWatcher);
    return () => set.delete(w as ResourceWatcher);
  }

  /** The server listed `name` in removed_resources. */
  absent(name: string): void {
    for (const w of this.watchers.get(name) ?? []) w.onDoesNotExist();
  }
}

function decoded<T>(type: ResourceType<T>, any: Any): T {
  const d = type.decode(any);
  if (!d.ok) throw new Error(d.errors.join('; '));
  return d.value;
}

function setup(maxUnresolved?: number) {
  const ads = new FakeAds();
  const clusters = new ClusterManager();
  const stats = new ProxyStats({ workload: 'w', namespace: 'ns', app: 'a' });
  const discovery = new ClusterDiscovery(ads, clusters, clusterType, stats, maxUnresolved);
  const cds = (...names: string[]) => clusters.applyClusters(names.map((n) => decoded(clusterType, edsCluster(n))));
  const eds = (...names: string[]) => clusters.applyEndpoints(new Map(names.map((n) => [n, decoded(endpointType, endpoints(n, [1]))])));
  const count = (name: string) => stats.counters.get(name) ?? 0;
  return { ads, clusters, discovery, cds, eds, count };
}

type Setup = ReturnType<typeof setup>;

function waiter(s: Setup, names: string[], timeoutMs = 5000): { results: DiscoveryStatus[]; handle: DiscoveryHandle } {
  const results: DiscoveryStatus[] = [];
  const handle = s.discovery.discover(names, timeoutMs, (st) => results.push(st));
  assert.notEqual(handle, 'unsupported');
  return { results, handle: handle as DiscoveryHandle };
}

describe('on-demand cluster discovery', () => {
  let s: Setup;
  afterEach(() => assert.equal(s.discovery.pending, 0, 'no discovery left behind'));

  test('requests for one cluster share one discovery; they resume once the cluster has its endpoints, not before', () => {
    s = setup();
    const a = waiter(s, ['c1']);
    const b = waiter(s, ['c1']);
    assert.deepEqual(s.ads.asked, [['c1']], 'asked for once');
    s.cds('c1');
    assert.equal(s.clusters.usable('c1'), false);
    assert.deepEqual([a.results, b.results], [[], []], 'an EDS cluster without its assignment is not usable yet');
    s.eds('c1');
    assert.deepEqual([a.results, b.results], [['available'], ['available']]);
    assert.equal(s.count(ODCDS_STATS.attempt), 1);
    assert.equal(s.count(ODCDS_STATS.success), 1);
  });

  test('a cluster the server reports absent ends the wait at once as missing', () => {
    s = setup();
    const a = waiter(s, ['nope']);
    s.ads.absent('nope');
    assert.deepEqual(a.results, ['missing']);
    assert.equal(s.count(ODCDS_STATS.success), 1);
  });

  test('no answer in time: timeout, counted as init_fetch_timeout', async () => {
    s = setup();
    const a = waiter(s, ['slow'], 20);
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(a.results, ['timeout']);
    assert.equal(s.count(ODCDS_STATS.timeout), 1);
  });

  test('a weighted set waits for every cluster; one that does not exist makes the outcome missing', () => {
    s = setup();
    const a = waiter(s, ['v1', 'v2', 'v3']);
    assert.deepEqual(s.ads.asked, [['v1', 'v2', 'v3']]);
    s.cds('v1', 'v2');
    s.eds('v1');
    s.ads.absent('v3');
    assert.deepEqual(a.results, [], 'v2 still waits for its endpoints');
    s.eds('v1', 'v2');
    assert.deepEqual(a.results, ['missing']);
  });

  test('a cluster that arrived but waits for its endpoints is not asked for again (nor counted)', () => {
    s = setup();
    s.cds('c1');
    const a = waiter(s, ['c1']);
    assert.deepEqual(s.ads.asked, []);
    s.eds('c1');
    assert.deepEqual(a.results, ['available']);
    assert.deepEqual([s.count(ODCDS_STATS.attempt), s.count(ODCDS_STATS.success)], [0, 0]);
  });

  test('a waiter that leaves is never called; its discovery runs on to the answer, then nothing is left', () => {
    s = setup();
    const a = waiter(s, ['c1']);
    const b = waiter(s, ['c1']);
    a.handle.cancel();
    b.handle.cancel();
    assert.equal(s.discovery.pending, 1, 'still asked for');
    s.ads.absent('c1');
    assert.equal(s.ads.watchers.get('c1')?.size, 0, 'watch cancelled');
    assert.deepEqual([a.results, b.results], [[], []]);
    assert.deepEqual(s.discovery.missing(['c1']), [], 'the answer is remembered');
  });

  test('a discovery nobody waits for any more still ends at its timeout', async () => {
    s = setup();
    waiter(s, ['slow'], 10).handle.cancel();
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(s.count(ODCDS_STATS.timeout), 1);
  });

  test('names that never resolve are bounded: past the bound an unknown name is not asked for (the request goes on)', () => {
    s = setup(2);
    waiter(s, ['ghost1']);
    s.ads.absent('ghost1');
    const pending = waiter(s, ['slow']);
    assert.deepEqual(s.discovery.missing(['ghost2', 'slow']), ['slow'], 'one absent and one pending: full');
    s.cds('known');
    assert.deepEqual(s.discovery.missing(['known']), ['known'], 'a cluster that arrived is still waited for');
    s.cds('slow', 'known');
    s.eds('slow', 'known');
    assert.deepEqual(pending.results, ['available']);
    assert.deepEqual(s.discovery.missing(['ghost2']), ['ghost2'], 'room again');
    assert.deepEqual(s.ads.asked, [['ghost1'], ['slow']]);
  });

  test('a stream that cannot subscribe on demand (SotW): unsupported, nothing held', () => {
    s = setup();
    s.ads.supported = false;
    assert.equal(s.discovery.discover(['c1'], 5000, () => assert.fail('never called')), 'unsupported');
    assert.equal(s.count(ODCDS_STATS.attempt), 0);
  });

  test('a name reported absent is not waited for again, until the server pushes the cluster after all', () => {
    s = setup();
    assert.deepEqual(s.discovery.missing(['later', 'other']), ['later', 'other']);
    waiter(s, ['later']);
    s.ads.absent('later');
    assert.deepEqual(s.discovery.missing(['later', 'other']), ['other'], 'the router answers 503 NC at once');
    s.cds('later');
    assert.deepEqual(s.discovery.missing(['later']), ['later'], 'arrived: waited for until its endpoints come');
    const b = waiter(s, ['later']);
    s.eds('later');
    assert.deepEqual(b.results, ['available']);
    assert.deepEqual(s.ads.asked, [['later']], 'asked for once');
    assert.deepEqual(s.discovery.missing(['later']), []);
  });
});
