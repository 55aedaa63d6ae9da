/**
 * The snapshot consistency check on real translated configs: clean meshes
 * (including VirtualServices that route to hosts and subsets that do not
 * exist, which istiod keeps too) pass; a generator wrapping the real one
 * whose answers lose a cluster, a route configuration or a load assignment,
 * or whose routes name a cluster nobody defines, is flagged with the names.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { createGenerator, type TranslateGenerator } from '../../../src/controlplane/translate/generator-impl.js';
import { routeBuilders } from '../../../src/controlplane/translate/routes/index.js';
import { checkAnswers, checkProxy, proxyAnswers } from '../../../src/controlplane/snapshot/consistency.js';
import { prepare } from '../../../src/controlplane/snapshot/prepare.js';
import { edsServiceName, listenerRefs, routeConfigRefs } from '../../../src/controlplane/snapshot/references.js';
import { Cluster_DiscoveryType, type Cluster } from '../../../src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { toResource, type ResourceSet, type XdsResource } from '../../../src/controlplane/wire/resource.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { ListenerSchema } from '../../../src/gen/envoy/config/listener/v3/listener_pb.js';
import { FilterChainSchema, FilterSchema } from '../../../src/gen/envoy/config/listener/v3/listener_components_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../../src/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import type { ProxyNode } from '../../../src/xds/proxy-node.js';
import { bookinfo, grpcNode, modelOf, sidecarNode } from '../translate/helpers.js';

const reviews = 'outbound|9080||reviews.default.svc.cluster.local';

/** VirtualServices istiod translates into routes to clusters that do not exist (503 NC), and subsets that do. */
const routing = `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - match: [{uri: {prefix: /ghost}}]
    route: [{destination: {host: ghost.default.svc.cluster.local, port: {number: 80}}}]
  - match: [{uri: {prefix: /v9}}]
    route: [{destination: {host: reviews, subset: v9}}]
  - route: [{destination: {host: reviews, subset: v1}, weight: 90}, {destination: {host: ratings, port: {number: 9999}}, weight: 10}]
    mirror: {host: nowhere.example.com}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: other}
spec:
  hosts: [db]
  tcp: [{route: [{destination: {host: db-replica.other.svc.cluster.local, port: {number: 5432}}}]}]
`;

const node = sidecarNode('10.0.0.9', 'sleep', 'default');

function generator(extra = ''): TranslateGenerator {
  return createGenerator(modelOf(bookinfo + extra), routeBuilders);
}

/**
 * A real generator whose answers of one type pass through `edit`. Each
 * edited set is memoised on the original, as a generator's are, so the
 * check's own memo sees stable identities.
 */
function faulty(real: TranslateGenerator, type: TypeUrl, edit: (set: Map<string, XdsResource>) => void): TranslateGenerator {
  const edited = new WeakMap<ResourceSet, ResourceSet>();
  return {
    referencedNames: (n, t) => real.referencedNames(n, t),
    generate(n, t, names) {
      const set = real.generate(n, t, names);
      if (t !== type) return set;
      let hit = edited.get(set);
      if (!hit) {
        const copy = new Map(set);
        edit(copy);
        edited.set(set, (hit = copy));
      }
      return hit;
    },
  };
}

/** `rc` with every route action's cluster `from` renamed to `to`, as a new resource (the original's message is shared). */
function rerouted(r: XdsResource, from: string, to: string): XdsResource {
  const rc = r.message as RouteConfiguration;
  const copy = create(RouteConfigurationSchema, rc);
  for (const vh of copy.virtualHosts) {
    for (const route of vh.routes) {
      const a = route.action;
      if (a.case === 'route' && a.value.clusterSpecifier.case === 'cluster' && a.value.clusterSpecifier.value === from) a.value.clusterSpecifier.value = to;
    }
  }
  return toResource(RouteConfigurationSchema, copy.name, copy);
}

describe('snapshot consistency', () => {
  test('real translations are consistent: sidecars of two namespaces, proxyless gRPC', () => {
    const g = generator();
    for (const n of [node, sidecarNode('10.0.2.9', 'client', 'other'), grpcNode('default')]) assert.deepEqual(checkProxy(g, n), [], n.id);
  });

  test('routes istiod also leaves dangling are not flagged: unknown host, missing port, undefined subset, mirror, tcp route', () => {
    const g = generator(routing);
    const a = proxyAnswers(g, node);
    const referenced = new Set([
      ...[...a.routes.values()].flatMap((r) => routeConfigRefs(r).clusters.map((c) => c.cluster)),
      ...[...a.listeners.values()].flatMap((l) => listenerRefs(l).clusters.map((c) => c.cluster)),
    ]);
    // The config really does reference clusters CDS lacks (else this test proves nothing).
    for (const c of [
      'outbound|80||ghost.default.svc.cluster.local',
      'outbound|9080|v9|reviews.default.svc.cluster.local',
      'outbound|9999||ratings.default.svc.cluster.local',
      'outbound|9080||nowhere.example.com',
      'outbound|5432||db-replica.other.svc.cluster.local',
    ]) {
      assert.ok(referenced.has(c), c);
      assert.equal(a.clusters.has(c), false, c);
    }
    assert.deepEqual(checkProxy(g, node), []);
    assert.deepEqual(checkProxy(g, sidecarNode('10.0.2.9', 'client', 'other')), []);
  });

  test('the wire scan reads what a full decode reads: route clusters, virtual hosts, EDS names', () => {
    const g = generator(routing);
    const a = proxyAnswers(g, node);
    for (const r of a.routes.values()) {
      const rc = r.message as RouteConfiguration;
      const decoded = new Set<string>();
      for (const vh of rc.virtualHosts) {
        for (const route of vh.routes) {
          if (route.action.case !== 'route') continue;
          const cs = route.action.value.clusterSpecifier;
          if (cs.case === 'cluster') decoded.add(cs.value);
          if (cs.case === 'weightedClusters') for (const w of cs.value.clusters) decoded.add(w.name);
          for (const m of route.action.value.requestMirrorPolicies) decoded.add(m.cluster);
        }
      }
      const refs = routeConfigRefs(r);
      assert.deepEqual(new Set(refs.clusters.map((c) => c.cluster)), decoded, r.name);
      assert.deepEqual(refs.hosts, rc.virtualHosts.map((vh) => vh.name));
      assert.ok(refs.clusters.every((c) => c.tolerated), 'RDS with validate_clusters false');
    }
    let eds = 0;
    for (const c of a.clusters.values()) {
      const cluster = c.message as Cluster;
      const want = cluster.clusterDiscoveryType.case === 'type' && cluster.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS ? cluster.edsClusterConfig?.serviceName || cluster.name : undefined;
      assert.equal(edsServiceName(c), want, c.name);
      if (want) eds++;
    }
    assert.ok(eds > 3);
  });

  test('a route to a cluster nobody defines is flagged with proxy, route configuration and name', () => {
    const g = faulty(generator(), TypeUrl.RouteConfiguration, (set) => set.set('9080', rerouted(set.get('9080')!, reviews, 'no-such-cluster')));
    assert.deepEqual(checkProxy(g, node), [{ proxy: node.id, type: 'CDS', resource: 'RDS/9080', missing: 'no-such-cluster' }]);
  });

  test("a known destination's cluster missing from CDS is flagged (the destination has a virtual host)", () => {
    const g = faulty(generator(), TypeUrl.Cluster, (set) => set.delete(reviews));
    assert.deepEqual(checkProxy(g, node), [{ proxy: node.id, type: 'CDS', resource: 'RDS/9080', missing: reviews }]);
  });

  test('a listener naming a route configuration RDS does not answer is flagged', () => {
    const g = faulty(generator(), TypeUrl.RouteConfiguration, (set) => set.delete('9080'));
    const found = checkProxy(g, node);
    assert.ok(found.length > 0);
    for (const d of found) assert.deepEqual({ type: d.type, missing: d.missing }, { type: 'RDS', missing: '9080' });
    assert.ok(found.some((d) => d.resource.startsWith('LDS/')), JSON.stringify(found));
  });

  test('an EDS cluster without its load assignment is flagged', () => {
    const g = faulty(generator(), TypeUrl.ClusterLoadAssignment, (set) => set.delete(reviews));
    assert.deepEqual(checkProxy(g, node), [{ proxy: node.id, type: 'EDS', resource: `CDS/${reviews}`, missing: reviews }]);
  });

  test('inline route configurations validate clusters (Envoy rejects the listener): even an unknown host is flagged; a tcp_proxy to one is not', () => {
    const ghost = 'outbound|80||ghost.default.svc.cluster.local';
    const rc = create(RouteConfigurationSchema, { name: 'inline', virtualHosts: [{ name: 'x', domains: ['*'], routes: [{ action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: ghost } } } }] }] });
    const hcm = create(HttpConnectionManagerSchema, { statPrefix: 'x', routeSpecifier: { case: 'routeConfig', value: rc } });
    const tcp = create(TcpProxySchema, { statPrefix: 'y', clusterSpecifier: { case: 'cluster', value: ghost } });
    const filter = (name: string, any: Any) => create(FilterSchema, { name, configType: { case: 'typedConfig', value: any } });
    const listener = create(ListenerSchema, {
      name: 'l',
      filterChains: [create(FilterChainSchema, { filters: [filter('hcm', anyPack(HttpConnectionManagerSchema, hcm))] }), create(FilterChainSchema, { filters: [filter('tcp', anyPack(TcpProxySchema, tcp))] })],
    });
    const empty = new Map<string, XdsResource>();
    const found = checkAnswers({ listeners: new Map([['l', toResource(ListenerSchema, 'l', listener)]]), routes: empty, clusters: empty, endpoints: empty });
    assert.deepEqual(found, [{ type: 'CDS', resource: 'LDS/l', missing: ghost }]);
  });

  test('checked once per scope: proxies of one scope share the answers and the result', () => {
    const g = generator();
    const other = sidecarNode('10.0.0.10', 'sleep-2', 'default');
    const a = proxyAnswers(g, node);
    const b = proxyAnswers(g, other);
    assert.equal(a.routes, b.routes);
    assert.equal(checkAnswers(a), checkAnswers(b));
  });

  test('prepare generates every proxy and returns the dangling references with the times', () => {
    const nodes: ProxyNode[] = [node, sidecarNode('10.0.2.9', 'client', 'other')];
    const proxies = nodes.map((n) => ({ node: n, types: new Map() }));
    const ok = prepare(generator(), proxies);
    assert.equal(ok.proxies, 2);
    assert.deepEqual(ok.dangling, []);
    assert.ok(ok.translateMs > 0 && ok.checkMs >= 0);
    const bad = prepare(faulty(generator(), TypeUrl.Cluster, (set) => set.delete(reviews)), proxies);
    assert.deepEqual(new Set(bad.dangling.map((d) => d.proxy)), new Set(nodes.map((n) => n.id)));
    assert.ok(bad.dangling.every((d) => d.missing === reviews), JSON.stringify(bad.dangling));
  });

  test('a proxy whose translation throws does not hold back the others', () => {
    const real = generator();
    const odd = sidecarNode('10.0.0.66', 'odd', 'default');
    const g: TranslateGenerator = {
      referencedNames: (n, t) => real.referencedNames(n, t),
      generate: (n, t, names) => {
        if (n === odd) throw new Error('translation bug');
        return real.generate(n, t, names);
      },
    };
    const p = prepare(g, [node, odd].map((n) => ({ node: n, types: new Map() })));
    assert.deepEqual(p.failed, [{ proxy: odd.id, error: 'translation bug' }]);
    assert.deepEqual(p.dangling, []);
  });
});
