import type { AuthorizationPolicy, MutualTLSMode, PeerAuthentication, PolicyTargetReference, RequestAuthentication } from '../../config/objects.js';
import type { MtlsMode } from './model.js';
import { groupByNamespace } from './policies.js';
import { isEmpty, selectorMatches } from './labels.js';

/** A PeerAuthentication mode with UNSET (or nothing) as undefined: "inherit from the parent". */
export function mtlsModeOf(mode: MutualTLSMode | undefined): MtlsMode | undefined {
  return mode === 'STRICT' || mode === 'PERMISSIVE' || mode === 'DISABLE' ? mode : undefined;
}

/** Namespace- or mesh-wide: no selector, or one without labels (istiod treats both alike). */
export function isNamespaceWide(pa: PeerAuthentication): boolean {
  return isEmpty(pa.spec.selector?.matchLabels);
}

function lookupNamespaces(namespace: string, rootNamespace: string): string[] {
  return namespace === rootNamespace ? [namespace] : [namespace, rootNamespace];
}

/** A policy that selects workloads (sidecars) by labels; one with targetRef(s) is for gateways and waypoints. */
interface SelectingPolicy {
  spec: { selector?: { matchLabels?: Record<string, string> }; targetRef?: PolicyTargetReference; targetRefs?: PolicyTargetReference[] };
}

/**
 * PeerAuthentication, AuthorizationPolicy and RequestAuthentication, indexed as istiod's push
 * context holds them: by namespace, oldest first, with only the oldest
 * namespace-wide PeerAuthentication of each namespace kept (istiod ignores
 * the others with a warning).
 */
export class SecurityPolicyIndex {
  readonly #pa = new Map<string, PeerAuthentication[]>();
  readonly #ap: Map<string, AuthorizationPolicy[]>;
  readonly #ra: Map<string, RequestAuthentication[]>;
  readonly #nsMode = new Map<string, MtlsMode>();
  readonly #meshMode: MtlsMode | undefined;

  constructor(pa: readonly PeerAuthentication[], ap: readonly AuthorizationPolicy[], ra: readonly RequestAuthentication[], readonly rootNamespace: string) {
    let meshMode: MtlsMode | undefined;
    const nsModes = new Map<string, MutualTLSMode | undefined>();
    for (const [ns, list] of groupByNamespace([...pa])) {
      const kept: PeerAuthentication[] = [];
      let wide = false;
      for (const p of list) {
        if (isNamespaceWide(p)) {
          if (wide) continue;
          wide = true;
          // A mesh-wide policy left UNSET means PERMISSIVE.
          if (ns === rootNamespace) meshMode = mtlsModeOf(p.spec.mtls?.mode) ?? 'PERMISSIVE';
          else nsModes.set(ns, p.spec.mtls?.mode);
        }
        kept.push(p);
      }
      this.#pa.set(ns, kept);
    }
    this.#meshMode = meshMode;
    for (const [ns, mode] of nsModes) this.#nsMode.set(ns, mtlsModeOf(mode) ?? meshMode ?? 'PERMISSIVE');
    this.#ap = groupByNamespace([...ap]);
    this.#ra = groupByNamespace([...ra]);
  }

  peerAuthenticationsFor(namespace: string, labels: Readonly<Record<string, string>>): PeerAuthentication[] {
    const out: PeerAuthentication[] = [];
    for (const ns of lookupNamespaces(namespace, this.rootNamespace)) {
      for (const p of this.#pa.get(ns) ?? []) if (selectorMatches(p.spec.selector?.matchLabels, labels)) out.push(p);
    }
    return out;
  }

  namespaceMtlsMode(namespace: string): MtlsMode | undefined {
    return this.#nsMode.get(namespace) ?? this.#meshMode;
  }

  authorizationPoliciesFor(namespace: string, labels: Readonly<Record<string, string>>): AuthorizationPolicy[] {
    return this.#selecting(this.#ap, namespace, labels);
  }

  requestAuthenticationsFor(namespace: string, labels: Readonly<Record<string, string>>): RequestAuthentication[] {
    return this.#selecting(this.#ra, namespace, labels);
  }

  /** Root namespace first, then the workload's own, each oldest first. */
  #selecting<P extends SelectingPolicy>(byNs: ReadonlyMap<string, P[]>, namespace: string, labels: Readonly<Record<string, string>>): P[] {
    const out: P[] = [];
    for (const ns of lookupNamespaces(namespace, this.rootNamespace).reverse()) {
      for (const p of byNs.get(ns) ?? []) {
        // A RequestAuthentication may come without spec (it then enforces nothing, but selects).
        const spec = p.spec as SelectingPolicy['spec'] | undefined;
        if (spec?.targetRef || (spec?.targetRefs?.length ?? 0) > 0) continue;
        if (selectorMatches(spec?.selector?.matchLabels, labels)) out.push(p);
      }
    }
    return out;
  }
}
