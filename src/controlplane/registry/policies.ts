import type { AuthorizationPolicy, DestinationRule, KObject, PeerAuthentication, Sidecar, VirtualService } from '../../config/objects.js';
import { hostMatches, isExportedTo } from './visibility.js';
import { isEmpty, selectorMatches } from './labels.js';

/** Istio's precedence for config of the same kind: oldest first, then by namespace/name. */
export function byAge(a: KObject, b: KObject): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function groupByNamespace<T extends KObject>(objects: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const o of [...objects].sort(byAge)) {
    const ns = o.metadata.namespace ?? 'default';
    let list = out.get(ns);
    if (!list) out.set(ns, (list = []));
    list.push(o);
  }
  return out;
}

/** A DestinationRule host as Istio reads it: a short name is relative to the rule's namespace. */
export function resolveHost(host: string, namespace: string, domainSuffix: string): string {
  if (host.includes('*') || host.includes('.')) return host;
  return `${host}.${namespace}.svc.${domainSuffix}`;
}

/** One namespace's rules by resolved host: exact hosts in a map, wildcards longest first. */
interface RuleIndex {
  exact: Map<string, DestinationRule[]>;
  wildcard: { host: string; dr: DestinationRule }[];
}

function indexRules(rules: readonly DestinationRule[], domainSuffix: string): RuleIndex {
  const idx: RuleIndex = { exact: new Map(), wildcard: [] };
  for (const dr of rules) {
    // Rules scoped to particular workloads are not applied (documented limitation).
    if (!isEmpty(dr.spec.workloadSelector?.matchLabels)) continue;
    const host = resolveHost(dr.spec.host, dr.metadata.namespace ?? 'default', domainSuffix);
    if (host.includes('*')) {
      idx.wildcard.push({ host, dr });
      continue;
    }
    let list = idx.exact.get(host);
    if (!list) idx.exact.set(host, (list = []));
    list.push(dr);
  }
  // Stable sort: equal lengths keep age order.
  idx.wildcard.sort((a, b) => b.host.length - a.host.length);
  return idx;
}

function visible(dr: DestinationRule, fromNs: string): boolean {
  return isExportedTo(dr.spec.exportTo, dr.metadata.namespace ?? 'default', fromNs);
}

/** The rule of one namespace for a hostname: an exact host (oldest first) beats the longest matching wildcard. */
function pickInNamespace(idx: RuleIndex | undefined, hostname: string, fromNs: string): DestinationRule | undefined {
  if (!idx) return undefined;
  const exact = idx.exact.get(hostname)?.find((dr) => visible(dr, fromNs));
  if (exact) return exact;
  return idx.wildcard.find((w) => hostMatches(w.host, hostname) && visible(w.dr, fromNs))?.dr;
}

export class PolicyIndex {
  readonly #dr = new Map<string, RuleIndex>();
  readonly #vs: VirtualService[];
  readonly #sidecars: Map<string, Sidecar[]>;
  readonly #pa: Map<string, PeerAuthentication[]>;
  readonly #ap: Map<string, AuthorizationPolicy[]>;
  readonly #vsMemo = new Map<string, readonly VirtualService[]>();
  /** fromNs → hostname → rule (null: none); nested so that a lookup builds no key string. */
  readonly #drMemo = new Map<string, Map<string, DestinationRule | null>>();

  constructor(
    objs: { dr: DestinationRule[]; vs: VirtualService[]; sidecars: Sidecar[]; pa: PeerAuthentication[]; ap: AuthorizationPolicy[] },
    readonly domainSuffix: string,
    readonly rootNamespace: string,
  ) {
    for (const [ns, rules] of groupByNamespace(objs.dr)) this.#dr.set(ns, indexRules(rules, domainSuffix));
    this.#vs = [...objs.vs].sort(byAge);
    this.#sidecars = groupByNamespace(objs.sidecars);
    this.#pa = groupByNamespace(objs.pa);
    this.#ap = groupByNamespace(objs.ap);
  }

  virtualServices(fromNs: string): readonly VirtualService[] {
    let hit = this.#vsMemo.get(fromNs);
    if (!hit) {
      hit = this.#vs.filter((v) => isExportedTo(v.spec.exportTo, v.metadata.namespace ?? 'default', fromNs));
      this.#vsMemo.set(fromNs, hit);
    }
    return hit;
  }

  /** Own namespace, then the service's namespace, then the root namespace (Istio's lookup order). */
  destinationRule(hostname: string, fromNs: string, serviceNs: string | undefined): DestinationRule | undefined {
    let byHost = this.#drMemo.get(fromNs);
    if (!byHost) this.#drMemo.set(fromNs, (byHost = new Map()));
    const hit = byHost.get(hostname);
    if (hit !== undefined) return hit ?? undefined;
    let found: DestinationRule | undefined;
    for (const ns of [fromNs, serviceNs, this.rootNamespace]) {
      if (ns === undefined) continue;
      found = pickInNamespace(this.#dr.get(ns), hostname, fromNs);
      if (found) break;
    }
    byHost.set(hostname, found ?? null);
    return found;
  }

  sidecarFor(ns: string, labels: Readonly<Record<string, string>>): Sidecar | undefined {
    const local = this.#sidecars.get(ns) ?? [];
    const selected = local.find((s) => !isEmpty(s.spec.workloadSelector?.labels) && selectorMatches(s.spec.workloadSelector?.labels, labels));
    if (selected) return selected;
    const nsDefault = local.find((s) => isEmpty(s.spec.workloadSelector?.labels));
    if (nsDefault) return nsDefault;
    return (this.#sidecars.get(this.rootNamespace) ?? []).find((s) => isEmpty(s.spec.workloadSelector?.labels));
  }

  peerAuthentications(ns: string): readonly PeerAuthentication[] {
    return this.#pa.get(ns) ?? [];
  }

  authorizationPolicies(ns: string): readonly AuthorizationPolicy[] {
    return this.#ap.get(ns) ?? [];
  }
}
