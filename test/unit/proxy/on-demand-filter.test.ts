/**
 * envoy.filters.http.on_demand (src/proxy/filters/on-demand/): its config as
 * the control plane builds it (translate/on-demand.ts) and what is refused;
 * which clusters a route needs; and the filter's decisions — pass, hold and
 * resume, go on without discovery on SotW, release a client that left —
 * with a small fake of its one collaborator, the discovery.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { RouteConfigurationSchema } from '../../../src/gen/envoy/config/route/v3/route_pb.js';
import { OnDemandSchema } from '../../../src/gen/envoy/extensions/filters/http/on_demand/v3/on_demand_pb.js';
import { HttpConnectionManagerSchema } from '../../../src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouterSchema } from '../../../src/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { onDemandFilter } from '../../../src/controlplane/translate/on-demand.js';
import { compileHttpFilters } from '../../../src/proxy/filters/http-filters.js';
import { OnDemandFilter, routeClusters, type OnDemandClusters } from '../../../src/proxy/filters/on-demand/on-demand-filter.js';
import { DEFAULT_ODCDS_TIMEOUT_MS, type OnDemandPlan } from '../../../src/proxy/filters/on-demand/on-demand-plan.js';
import { CONTINUE, STOP, type HttpFilter } from '../../../src/proxy/filters/filter.js';
import { decodeHeaders } from '../../../src/proxy/filters/chain.js';
import { downstreamGone, type HttpStream } from '../../../src/proxy/filters/stream.js';
import { compileRouteConfig } from '../../../src/proxy/router/route-table.js';
import type { CompiledRoute } from '../../../src/proxy/router/route-table.js';
import { StreamInfo } from '../../../src/proxy/telemetry/stream-info.js';
import { ProxyStats } from '../../../src/proxy/telemetry/stats.js';
import type { DiscoveryStatus } from '../../../src/proxy/upstream/cluster-discovery.js';

const router = { name: 'envoy.filters.http.router', configType: { case: 'typedConfig' as const, value: anyPack(RouterSchema, create(RouterSchema)) } };

function compileOnDemandFilter(cfg: Parameters<typeof create<typeof OnDemandSchema>>[1]): { plan?: OnDemandPlan; errors: string[] } {
  const errors: string[] = [];
  const onDemand = { name: 'envoy.filters.http.on_demand', configType: { case: 'typedConfig' as const, value: anyPack(OnDemandSchema, create(OnDemandSchema, cfg)) } };
  const out = compileHttpFilters(create(HttpConnectionManagerSchema, { statPrefix: 'x', httpFilters: [onDemand, router] }), 'hcm', errors);
  const c = out.find((f) => f.kind === 'onDemand');
  return { plan: c?.kind === 'onDemand' ? c.plan : undefined, errors };
}

describe('on_demand config', () => {
  test('the control plane\'s filter compiles: odcds over ADS, 5 s', () => {
    const errors: string[] = [];
    const out = compileHttpFilters(create(HttpConnectionManagerSchema, { statPrefix: 'x', httpFilters: [onDemandFilter(), router] }), 'hcm', errors);
    assert.deepEqual(errors, []);
    assert.deepEqual(out.find((f) => f.kind === 'onDemand'), { kind: 'onDemand', name: 'envoy.filters.http.on_demand', plan: { odcds: { timeoutMs: 5000 } } });
  });

  test('without odcds the filter does nothing; an unset timeout is Envoy\'s 5 s', () => {
    assert.deepEqual(compileOnDemandFilter({}), { plan: { odcds: undefined }, errors: [] });
    assert.deepEqual(compileOnDemandFilter({ odcds: { source: { configSourceSpecifier: { case: 'ads', value: {} } } } }).plan, { odcds: { timeoutMs: DEFAULT_ODCDS_TIMEOUT_MS } });
  });

  test('what cannot run as configured is refused with its path (the listener is NACKed)', () => {
    const { errors } = compileOnDemandFilter({
      odcds: { source: { configSourceSpecifier: { case: 'path', value: '/etc/cds.yaml' } }, resourcesLocator: 'xdstp://x/envoy.config.cluster.v3.Cluster/*', timeout: { seconds: -1n } },
    });
    assert.deepEqual(errors, [
      'hcm.httpFilters[0].typedConfig.odcds.source: only ads is supported (got path)',
      'hcm.httpFilters[0].typedConfig.odcds.resourcesLocator: xdstp:// collections are not supported',
      'hcm.httpFilters[0].typedConfig.odcds.timeout: must be between 0 and 2147483647 ms',
    ]);
  });
});

const table = (() => {
  const r = compileRouteConfig(create(RouteConfigurationSchema, {
    name: 'r',
    virtualHosts: [{
      name: 'v',
      domains: ['*'],
      routes: [
        { match: { pathSpecifier: { case: 'prefix', value: '/single' } }, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'c1' } } } },
        { match: { pathSpecifier: { case: 'prefix', value: '/split' } }, action: { case: 'route', value: { clusterSpecifier: { case: 'weightedClusters', value: { clusters: [{ name: 'v1', weight: 90 }, { name: 'v2', weight: 10 }] } } } } },
        { match: { pathSpecifier: { case: 'prefix', value: '/header' } }, action: { case: 'route', value: { clusterSpecifier: { case: 'clusterHeader', value: 'x-cluster' } } } },
        { match: { pathSpecifier: { case: 'prefix', value: '/direct' } }, action: { case: 'directResponse', value: { status: 200 } } },
      ],
    }],
  }));
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.table;
})();

function routeFor(path: string, headers: Record<string, string> = {}): CompiledRoute | undefined {
  return table.route('svc', { path, query: '', headers });
}

test('the clusters a route needs: its cluster, every weighted one, a cluster_header\'s value; none for a direct response', () => {
  assert.deepEqual(routeClusters(routeFor('/single'), {}), ['c1']);
  assert.deepEqual(routeClusters(routeFor('/split'), {}), ['v1', 'v2']);
  assert.deepEqual(routeClusters(routeFor('/header'), { 'x-cluster': 'picked' }), ['picked']);
  assert.deepEqual(routeClusters(routeFor('/header'), {}), []);
  assert.deepEqual(routeClusters(routeFor('/direct'), {}), []);
  assert.deepEqual(routeClusters(undefined, {}), []);
});

class FakeDiscovery implements OnDemandClusters {
  readonly usableNames = new Set<string>();
  readonly calls: { names: string[]; timeoutMs: number; done: (s: DiscoveryStatus) => void }[] = [];
  cancelled = 0;
  supported = true;

  missing(names: readonly string[]): string[] {
    return names.filter((n) => !this.usableNames.has(n));
  }

  discover(names: readonly string[], timeoutMs: number, done: (s: DiscoveryStatus) => void) {
    if (!this.supported) return 'unsupported' as const;
    this.calls.push({ names: [...names], timeoutMs, done });
    return { cancel: () => void this.cancelled++ };
  }
}

/** A stream as the connection manager makes it, with the on_demand filter and a router that records being reached. */
function streamTo(path: string, filter: HttpFilter, routed: string[]): HttpStream {
  const stats = new ProxyStats({ workload: 'w', namespace: 'ns', app: 'a' });
  const routerFilter: HttpFilter = { name: 'router', decodeHeaders: () => { routed.push(path); return STOP; } };
  return {
    req: { headers: {} }, res: {}, info: new StreamInfo(), stats, conn: { inbound: false },
    plan: { statNames: { total: 't', byClass: ['0', '1', '2', '3', '4', '5'] }, accessLogs: [] },
    filters: [filter, routerFilter], filterIndex: 0, route: routeFor(path), downstreamGone: false, finished: false, upstream: undefined,
  } as unknown as HttpStream;
}

describe('the on_demand filter', () => {
  const plan: OnDemandPlan = { odcds: { timeoutMs: 1234 } };

  test('a route whose clusters are usable goes straight on', () => {
    const d = new FakeDiscovery();
    d.usableNames.add('c1');
    const f = new OnDemandFilter('od', plan, d);
    assert.equal(f.decodeHeaders(streamTo('/single', f, [])), CONTINUE);
    assert.equal(d.calls.length, 0);
  });

  test('without odcds nothing is discovered', () => {
    const d = new FakeDiscovery();
    const f = new OnDemandFilter('od', { odcds: undefined }, d);
    assert.equal(f.decodeHeaders(streamTo('/single', f, [])), CONTINUE);
    assert.equal(d.calls.length, 0);
  });

  test('a missing cluster holds the request; the router runs when the discovery ends, whatever its outcome', () => {
    for (const outcome of ['available', 'missing', 'timeout'] as const) {
      const d = new FakeDiscovery();
      d.usableNames.add('v1');
      const f = new OnDemandFilter('od', plan, d);
      const routed: string[] = [];
      const ex = streamTo('/split', f, routed);
      decodeHeaders(ex);
      assert.deepEqual(d.calls.map((c) => [c.names, c.timeoutMs]), [[['v2'], 1234]], 'only the weighted cluster not usable yet, with the configured timeout');
      assert.deepEqual(routed, [], 'held');
      d.calls[0]!.done(outcome);
      assert.deepEqual(routed, ['/split'], `resumed after ${outcome}`);
      assert.equal(ex.upstream, undefined);
    }
  });

  test('on SotW (no on-demand subscription) the request goes on at once', () => {
    const d = new FakeDiscovery();
    d.supported = false;
    const f = new OnDemandFilter('od', plan, d);
    const routed: string[] = [];
    decodeHeaders(streamTo('/single', f, routed));
    assert.deepEqual(routed, ['/single']);
  });

  test('a client that leaves while held is released from the discovery and its stream ends once, as DC', () => {
    const d = new FakeDiscovery();
    const f = new OnDemandFilter('od', plan, d);
    const routed: string[] = [];
    const ex = streamTo('/single', f, routed);
    assert.equal(f.decodeHeaders(ex), STOP);
    downstreamGone(ex);
    assert.equal(d.cancelled, 1);
    assert.equal(ex.finished, true);
    assert.deepEqual(ex.info.flags, ['DC']);
    assert.equal(ex.stats.counters.get('t'), 1, 'counted once');
  });
});
