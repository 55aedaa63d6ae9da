/**
 * Virtual hosts shared across scopes. Every namespace's route configuration
 * has one virtual host per visible service port, and for a service the
 * virtual host is usually the same in every namespace but its own: what it
 * depends on is
 *   - the service, the port, gRPC or not (the generator kind),
 *   - whether the proxy is in the service's namespace (only the domains: the
 *     short "name"; the routes are shared by both variants),
 *   - the VirtualService selected for the host from the proxy's namespace,
 *   - the DestinationRule of each destination host as seen from the proxy's
 *     namespace (hash policies), recorded while building,
 *   - the proxy's namespace and labels, only through sourceNamespace and
 *     sourceLabels match conditions: such VirtualServices are never memoised,
 *   - the model's services (WeakMap key: a model is immutable, and a model
 *     derived after a routing-only or endpoint-only change keeps its
 *     predecessor's services, registry/build-model.ts, so their virtual
 *     hosts carry over — each hit still re-checks the VirtualService and
 *     the DestinationRules against the new model).
 * A memoised virtual host is reused only when all of these are equal, which
 * is checked on every hit, so sharing never changes what a proxy receives.
 */
import type { DestinationRule, VirtualService } from '../../../config/objects.js';
import type { MeshModel, MeshService, SelectedRules } from '../../registry/model.js';
import type { Route, VirtualHost } from '../../../gen/envoy/config/route/v3/route_components_pb.js';
import { serviceDomains } from './hosts.js';

/** One memoised route list and the inputs it was built from. */
interface Entry {
  readonly vs: VirtualService | undefined;
  readonly rules: ReadonlyMap<string, DestinationRule | undefined>;
  readonly routes: Route[];
  /** The virtual host for proxies in the service's own namespace [0] and in others [1]. */
  readonly hosts: [VirtualHost | undefined, VirtualHost | undefined];
}

/** Per service, by port (nested maps and pairs: no key strings built on this hot path). */
interface ServiceMemo {
  /** port → [envoy, gRPC] → variants (one per distinct VirtualService and rules, usually one). */
  readonly entries: Map<number, [Entry[], Entry[]]>;
  /** port → serviceDomains for [the service's own namespace, other namespaces]. */
  readonly domains: Map<number, [string[] | undefined, string[] | undefined]>;
  /** hasUniqueDomains, once computed. */
  unique?: boolean;
}

const memos = new WeakMap<readonly MeshService[], Map<MeshService, ServiceMemo>>();
const sourceDependent = new WeakMap<VirtualService, boolean>();

/** Does any HTTP match block of `vs` depend on who the proxy is (sourceLabels, sourceNamespace)? */
export function dependsOnSource(vs: VirtualService): boolean {
  let hit = sourceDependent.get(vs);
  if (hit === undefined) {
    hit = (vs.spec.http ?? []).some((r) =>
      (r.match ?? []).some((m) => m.sourceNamespace !== undefined || Object.keys(m.sourceLabels ?? {}).length > 0));
    sourceDependent.set(vs, hit);
  }
  return hit;
}

function serviceMemo(model: MeshModel, svc: MeshService): ServiceMemo {
  let bySvc = memos.get(model.services);
  if (bySvc === undefined) memos.set(model.services, (bySvc = new Map()));
  let m = bySvc.get(svc);
  if (m === undefined) bySvc.set(svc, (m = { entries: new Map(), domains: new Map() }));
  return m;
}

/** serviceDomains(svc, port, namespace, suffix), which only depends on whether the namespace is the service's. */
export function memoServiceDomains(model: MeshModel, svc: MeshService, port: number, namespace: string): string[] {
  const m = serviceMemo(model, svc);
  let pair = m.domains.get(port);
  if (pair === undefined) m.domains.set(port, (pair = [undefined, undefined]));
  const i = svc.namespace === namespace ? 0 : 1;
  return (pair[i] ??= serviceDomains(svc, port, namespace, model.domainSuffix));
}

const uniqueComputed = new WeakSet<MeshModel>();

/**
 * True when no other service of the model has any of this service's virtual
 * host domains (on any port, from any namespace): then no other service can
 * take them in a route configuration, and the check can be skipped. Computed
 * for every service at once (the domain lists are the memoised ones, needed
 * anyway for proxies in each service's own namespace, whose lists are the
 * longest: they add the short name).
 */
export function hasUniqueDomains(model: MeshModel, svc: MeshService): boolean {
  if (!uniqueComputed.has(model)) {
    const owners = new Map<string, number>();
    const lists = model.services.map((s) => {
      const mine = new Set<string>();
      for (const p of s.ports) for (const d of memoServiceDomains(model, s, p.port, s.namespace)) mine.add(d);
      for (const d of mine) owners.set(d, (owners.get(d) ?? 0) + 1);
      return mine;
    });
    model.services.forEach((s, i) => {
      let unique = true;
      for (const d of lists[i]!) if (owners.get(d) !== 1) unique = false;
      serviceMemo(model, s).unique = unique;
    });
    uniqueComputed.add(model);
  }
  // A service not in model.services (never the case for visible services) is treated as shared.
  return memos.get(model.services)?.get(svc)?.unique ?? false;
}

export interface VirtualHostKey {
  model: MeshModel;
  namespace: string;
  /** The proxy's workloadSelector DestinationRules: lookups through them are what `rules` records. */
  selectedRules: SelectedRules | undefined;
  svc: MeshService;
  port: number;
  grpc: boolean;
  vs: VirtualService | undefined;
  /** memoServiceDomains(...) for this namespace: the same array object is what makes a virtual host shareable. */
  domains: string[];
}

function sameRules(k: VirtualHostKey, rules: ReadonlyMap<string, DestinationRule | undefined>): boolean {
  for (const [host, dr] of rules) if (k.model.destinationRule(host, k.namespace, k.selectedRules) !== dr) return false;
  return true;
}

function entryFor(k: VirtualHostKey, buildRoutes: (rules: Map<string, DestinationRule | undefined>) => Route[]): Entry {
  const m = serviceMemo(k.model, k.svc);
  let byKind = m.entries.get(k.port);
  if (byKind === undefined) m.entries.set(k.port, (byKind = [[], []]));
  const entries = byKind[k.grpc ? 1 : 0];
  for (const e of entries) if (e.vs === k.vs && sameRules(k, e.rules)) return e;
  const rules = new Map<string, DestinationRule | undefined>();
  const e: Entry = { vs: k.vs, rules, routes: buildRoutes(rules), hosts: [undefined, undefined] };
  entries.push(e);
  return e;
}

/**
 * The virtual host for `k`: its routes built by `buildRoutes` (which records
 * its DestinationRule lookups into `rules`) or reused from another namespace
 * with equal inputs. VirtualServices with source-dependent matches are built
 * every time.
 */
export function memoVirtualHost(
  k: VirtualHostKey,
  buildRoutes: (rules: Map<string, DestinationRule | undefined>) => Route[],
  make: (routes: Route[]) => VirtualHost,
): VirtualHost {
  if (k.vs !== undefined && dependsOnSource(k.vs)) return make(buildRoutes(new Map()));
  const e = entryFor(k, buildRoutes);
  const i = k.svc.namespace === k.namespace ? 0 : 1;
  return (e.hosts[i] ??= make(e.routes));
}
