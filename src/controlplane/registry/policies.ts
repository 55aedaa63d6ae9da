import type { AuthorizationPolicy, DestinationRule, KObject, PeerAuthentication, Sidecar, VirtualService } from '../../config/objects.js';
import type { SelectedRules } from './model.js';
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

/** Istio tells rules apart by whether a workloadSelector is set at all (an empty one selects every proxy of its namespace). */
export const hasWorkloadSelector = (dr: DestinationRule): boolean => dr.spec.workloadSelector != null;

function indexRules(rules: readonly DestinationRule[], domainSuffix: string): RuleIndex {
  const idx: RuleIndex = { exact: new Map(), wildcard: [] };
  for (const dr of rules) {
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

/**
 * istiod's MostSpecificHostMatch in one namespace: the rules (age order) of
 * the exact host, else of the longest matching wildcard host, visible from
 * `fromNs`. Rules with a workloadSelector count here: a namespace holding
 * only those for a host still hides the rules of later namespaces, as in
 * istiod's PushContext.destinationRule.
 */
function candidatesInNamespace(idx: RuleIndex | undefined, hostname: string, fromNs: string): DestinationRule[] {
  if (!idx) return [];
  const exact = idx.exact.get(hostname)?.filter((dr) => visible(dr, fromNs)) ?? [];
  if (exact.length > 0) return exact;
  const first = idx.wildcard.find((w) => hostMatches(w.host, hostname) && visible(w.dr, fromNs));
  return first ? idx.wildcard.filter((w) => w.host === first.host && visible(w.dr, fromNs)).map((w) => w.dr) : [];
}

/** What one host resolves to from one namespace: the candidates, and the pick for a proxy no selector selects. */
interface Candidates {
  readonly list: readonly DestinationRule[];
  readonly plain: DestinationRule | undefined;
}

export class PolicyIndex {
  readonly #dr = new Map<string, RuleIndex>();
  readonly #vs: VirtualService[];
  readonly #sidecars: Map<string, Sidecar[]>;
  readonly #pa: Map<string, PeerAuthentication[]>;
  readonly #ap: Map<string, AuthorizationPolicy[]>;
  readonly #vsMemo = new Map<string, readonly VirtualService[]>();
  /** fromNs → hostname → candidates; nested so that a lookup builds no key string. */
  readonly #drMemo = new Map<string, Map<string, Candidates>>();
  /** Rules with a workloadSelector by namespace, age order. */
  readonly #selecting = new Map<string, DestinationRule[]>();

  constructor(
    objs: { dr: DestinationRule[]; vs: VirtualService[]; sidecars: Sidecar[]; pa: PeerAuthentication[]; ap: AuthorizationPolicy[] },
    readonly domainSuffix: string,
    readonly rootNamespace: string,
  ) {
    for (const [ns, rules] of groupByNamespace(objs.dr)) {
      this.#dr.set(ns, indexRules(rules, domainSuffix));
      const selecting = rules.filter(hasWorkloadSelector);
      if (selecting.length > 0) this.#selecting.set(ns, selecting);
    }
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

  /**
   * Own namespace, then the service's namespace, then the root namespace
   * (Istio's lookup order); among the candidates, istiod's
   * SidecarScope.DestinationRule: a rule selecting the proxy (`selected`)
   * first, else the oldest rule without a workloadSelector.
   */
  destinationRule(hostname: string, fromNs: string, serviceNs: string | undefined, selected?: SelectedRules): DestinationRule | undefined {
    const c = this.#candidates(hostname, fromNs, serviceNs);
    if (selected) for (const dr of c.list) if (selected.rules.has(dr)) return dr;
    return c.plain;
  }

  #candidates(hostname: string, fromNs: string, serviceNs: string | undefined): Candidates {
    let byHost = this.#drMemo.get(fromNs);
    if (!byHost) this.#drMemo.set(fromNs, (byHost = new Map()));
    const hit = byHost.get(hostname);
    if (hit !== undefined) return hit;
    let list: DestinationRule[] = [];
    for (const ns of [fromNs, serviceNs, this.rootNamespace]) {
      if (ns === undefined) continue;
      list = candidatesInNamespace(this.#dr.get(ns), hostname, fromNs);
      if (list.length > 0) break;
    }
    const c: Candidates = { list, plain: list.find((dr) => !hasWorkloadSelector(dr)) };
    byHost.set(hostname, c);
    return c;
  }

  /** The rules with a workloadSelector in `ns` that select `labels`; undefined when none does (the common case). */
  selectedDestinationRules(ns: string, labels: Readonly<Record<string, string>>): SelectedRules | undefined {
    const candidates = this.#selecting.get(ns);
    if (!candidates) return undefined;
    const rules = candidates.filter((dr) => selectorMatches(dr.spec.workloadSelector?.matchLabels, labels));
    if (rules.length === 0) return undefined;
    return { key: rules.map((dr) => `${dr.metadata.namespace ?? 'default'}/${dr.metadata.name}`).join(','), rules: new Set(rules) };
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
