/**
 * Is what one proxy would receive consistent? Walks the references the way
 * Envoy resolves them — LDS → RDS, LDS/RDS → CDS, CDS → EDS — and lists
 * every name referenced but absent from the answer the proxy gets for that
 * type. Pure: reads the generator, never the network.
 *
 * Not every absent cluster is a fault. istiod, and translation here, keep a
 * route (or tcp_proxy) to a destination the proxy's registry cannot back —
 * a VirtualService naming an unknown host, a port the service lacks, a
 * subset no DestinationRule defines — so that those requests fail with 503
 * (NC) instead of falling through to a later, wrong route; analysis reports
 * them (IST0101). allowedDangling() is exactly that rule, decided from the
 * proxy's own answers; see docs/ARCHITECTURE.md ("Consistent snapshots").
 */
import { TypeUrl } from '../../xds/type-urls.js';
import type { ProxyNode } from '../../xds/proxy-node.js';
import type { ResourceSet } from '../wire/resource.js';
import type { TranslateGenerator } from '../translate/generator-impl.js';
import { parseClusterName } from '../translate/names.js';
import { edsServiceName, listenerRefs, routeConfigRefs, type ClusterRef } from './references.js';

/** One name a proxy's config references and its answers lack. */
export interface Dangling {
  /** The proxy's node id. */
  readonly proxy: string;
  /** The xDS type of what is missing: RDS (a route configuration), CDS (a cluster) or EDS (a load assignment). */
  readonly type: 'RDS' | 'CDS' | 'EDS';
  /** The resource holding the reference, "LDS/NAME", "RDS/NAME" or "CDS/NAME". */
  readonly resource: string;
  readonly missing: string;
}

/** The four answers the check reads: what the proxy receives after its LDS → RDS and CDS → EDS walk. */
export interface ProxyAnswers {
  readonly listeners: ResourceSet;
  readonly routes: ResourceSet;
  readonly clusters: ResourceSet;
  readonly endpoints: ResourceSet;
}

type Finding = Omit<Dangling, 'proxy'>;

/**
 * The answers a proxy gets: CDS and LDS wildcard, RDS and EDS for the names
 * its listeners and clusters reference. A proxy with on-demand clusters
 * (translate/on-demand.ts) gets fewer clusters by wildcard than it may hold:
 * its clusters are all it can ask for by name.
 */
export function proxyAnswers(g: TranslateGenerator, node: ProxyNode): ProxyAnswers {
  const wildcard = g.generate(node, TypeUrl.Cluster, undefined);
  const reachable = g.referencedNames(node, TypeUrl.Cluster);
  return {
    clusters: reachable.size === wildcard.size ? wildcard : g.generate(node, TypeUrl.Cluster, reachable),
    endpoints: g.generate(node, TypeUrl.ClusterLoadAssignment, g.referencedNames(node, TypeUrl.ClusterLoadAssignment)),
    listeners: g.generate(node, TypeUrl.Listener, undefined),
    routes: g.generate(node, TypeUrl.RouteConfiguration, g.referencedNames(node, TypeUrl.RouteConfiguration)),
  };
}

/**
 * Memos on the answers' identities: proxies of one scope get the same Map
 * objects, so 1,000 of them cost one check. The listener and route walk is
 * keyed on (listeners, routes, clusters); the CDS → EDS walk on (clusters,
 * endpoints) alone, which scopes seeing the same services share. WeakMaps: a
 * generator's sets go with it.
 */
const listenerMemo = new WeakMap<ResourceSet, WeakMap<ResourceSet, WeakMap<ResourceSet, readonly Finding[]>>>();
const clusterMemo = new WeakMap<ResourceSet, WeakMap<ResourceSet, readonly Finding[]>>();

function level<K extends object, V>(m: WeakMap<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) m.set(k, (v = make()));
  return v;
}

/** The dangling references of one proxy's config (empty when consistent). */
export function checkProxy(g: TranslateGenerator, node: ProxyNode): Dangling[] {
  return checkAnswers(proxyAnswers(g, node)).map((f) => ({ proxy: node.id, ...f }));
}

export function checkAnswers(a: ProxyAnswers): readonly Finding[] {
  const byRoutes = level(listenerMemo, a.listeners, () => new WeakMap());
  const byClusters = level(byRoutes, a.routes, () => new WeakMap());
  const routed = level(byClusters, a.clusters, () => danglingClusters(a));
  const eds = level(level(clusterMemo, a.clusters, () => new WeakMap()), a.endpoints, () => danglingEndpoints(a));
  return routed.length === 0 ? eds : eds.length === 0 ? routed : [...routed, ...eds];
}

/** LDS → RDS, and the clusters listeners and route configurations name. */
function danglingClusters(a: ProxyAnswers): Finding[] {
  const out: Finding[] = [];
  // Only needed for a missing cluster: a consistent snapshot never reads it.
  let known: ReadonlySet<string> | undefined;
  const cluster = (resource: string, ref: ClusterRef) => {
    if (!a.clusters.has(ref.cluster) && !allowedDangling(ref, (known ??= knownDestinations(a)))) out.push({ type: 'CDS', resource, missing: ref.cluster });
  };
  for (const l of a.listeners.values()) {
    const refs = listenerRefs(l);
    for (const r of refs.routes) if (!a.routes.has(r)) out.push({ type: 'RDS', resource: `LDS/${l.name}`, missing: r });
    for (const c of refs.clusters) cluster(`LDS/${l.name}`, c);
  }
  for (const rc of a.routes.values()) for (const c of routeConfigRefs(rc).clusters) cluster(`RDS/${rc.name}`, c);
  return out;
}

/** CDS → EDS: every EDS cluster's load assignment. */
function danglingEndpoints(a: Pick<ProxyAnswers, 'clusters' | 'endpoints'>): Finding[] {
  const out: Finding[] = [];
  for (const c of a.clusters.values()) {
    const eds = edsServiceName(c);
    if (eds !== undefined && !a.endpoints.has(eds)) out.push({ type: 'EDS', resource: `CDS/${c.name}`, missing: eds });
  }
  return out;
}

/**
 * "HOST:PORT" of every destination the proxy's config says it knows: a
 * virtual host of its route configurations, or an outbound cluster of any
 * subset.
 */
function knownDestinations(a: ProxyAnswers): ReadonlySet<string> {
  const known = new Set<string>();
  for (const rc of a.routes.values()) for (const h of routeConfigRefs(rc).hosts) known.add(h);
  for (const name of a.clusters.keys()) {
    const c = parseClusterName(name);
    if (c?.direction === 'outbound') known.add(`${c.hostname}:${c.port}`);
  }
  return known;
}

/**
 * The dangling references translation leaves on purpose: where Envoy
 * tolerates a missing cluster (RDS routes, tcp_proxy), an outbound cluster
 * `outbound|PORT|SUBSET|HOST` of a destination the proxy does not know
 * (unknown or invisible host, or a port the service lacks), or a subset of
 * one it knows (the subset is not defined for it). Everything else — a
 * known destination's default cluster, a cluster of another shape
 * (inbound, BlackHole, Passthrough, internal), a missing route
 * configuration or load assignment — is a translation fault.
 */
export function allowedDangling(ref: ClusterRef, known: ReadonlySet<string>): boolean {
  if (!ref.tolerated) return false;
  const c = parseClusterName(ref.cluster);
  if (c?.direction !== 'outbound') return false;
  return !known.has(`${c.hostname}:${c.port}`) || c.subset !== '';
}

/** One log line's worth: each missing name once, with (a few of) the resources naming it and how many proxies see it. */
export function summarise(dangling: readonly Dangling[], max = 20): { type: string; missing: string; resources: string[]; proxies: number }[] {
  const by = new Map<string, { type: string; missing: string; resources: Set<string>; proxies: Set<string> }>();
  for (const d of dangling) {
    const key = `${d.type} ${d.missing}`;
    let e = by.get(key);
    if (!e) by.set(key, (e = { type: d.type, missing: d.missing, resources: new Set(), proxies: new Set() }));
    e.resources.add(d.resource);
    e.proxies.add(d.proxy);
  }
  return [...by.values()].slice(0, max).map((e) => ({ type: e.type, missing: e.missing, resources: [...e.resources].slice(0, 5), proxies: e.proxies.size }));
}
