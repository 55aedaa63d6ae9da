/**
 * VirtualService delegation, as istiod does it before translation: a root
 * VirtualService (one with hosts) whose http route names a `delegate` gets,
 * in that route's place, the delegate's http routes — each one's matches
 * narrowed by the root route's (a delegate match must fall inside a root
 * match, or that delegate route is dropped), and the root route's timeout,
 * retries, fault, mirrors, rewrite, headers and direct response used where
 * the delegate route sets none. A delegate (a VirtualService without hosts)
 * serves nothing on its own. A delegate that does not exist, or is not
 * exported to the root's namespace, contributes nothing (its route is
 * dropped, as istiod drops it). Pure: objects in, merged copies out; the
 * originals (and their field lines) are untouched, and a delegate's
 * destination short names resolve in the root's namespace, as in istiod.
 */
import type { HTTPMatchRequest, HTTPRoute, StringMatch, VirtualService } from '../../config/objects.js';
import { logger } from '../../log.js';

const log = logger('registry');

/** The VirtualServices translation sees: roots with their delegations merged in, delegates left out. */
export function mergeDelegates(all: readonly VirtualService[]): VirtualService[] {
  const byName = new Map<string, VirtualService>();
  for (const vs of all) byName.set(`${vs.metadata.namespace ?? 'default'}/${vs.metadata.name}`, vs);
  const out: VirtualService[] = [];
  for (const vs of all) {
    const isDelegate = (vs.spec.hosts ?? []).length === 0;
    if (isDelegate) continue;
    if (!(vs.spec.http ?? []).some((r) => r.delegate !== undefined)) {
      out.push(vs);
      continue;
    }
    const rootNs = vs.metadata.namespace ?? 'default';
    const http: HTTPRoute[] = [];
    for (const r of vs.spec.http ?? []) {
      if (r.delegate === undefined) {
        http.push(r);
        continue;
      }
      const ns = r.delegate.namespace || rootNs;
      const target = byName.get(`${ns}/${r.delegate.name}`);
      if (!target || (target.spec.hosts ?? []).length > 0) {
        log.warn('delegate virtual service not found; its route is dropped', { root: `${rootNs}/${vs.metadata.name}`, delegate: `${ns}/${r.delegate.name}` });
        continue;
      }
      if (!exportedTo(target, rootNs)) {
        log.warn('delegate virtual service not exported to the root\'s namespace; its route is dropped', { root: `${rootNs}/${vs.metadata.name}`, delegate: `${ns}/${r.delegate.name}` });
        continue;
      }
      for (const sub of target.spec.http ?? []) {
        const merged = mergeRoute(r, sub);
        if (merged) http.push(merged);
      }
    }
    out.push({ ...vs, spec: { ...vs.spec, http } });
  }
  return out;
}

function exportedTo(vs: VirtualService, namespace: string): boolean {
  const to = vs.spec.exportTo;
  if (to === undefined || to.length === 0 || to.includes('*')) return true;
  const own = vs.metadata.namespace ?? 'default';
  return to.some((e) => (e === '.' ? own : e) === namespace);
}

/** The delegate's route under the root's: undefined when none of its matches fits inside a root match. */
function mergeRoute(root: HTTPRoute, sub: HTTPRoute): HTTPRoute | undefined {
  const match = mergeMatches(root.match, sub.match);
  if (match === null) return undefined;
  const name = sub.name && root.name ? `${root.name}-${sub.name}` : (sub.name ?? root.name);
  return {
    ...sub,
    ...(name !== undefined ? { name } : {}),
    ...(match !== undefined ? { match } : {}),
    rewrite: sub.rewrite ?? root.rewrite,
    directResponse: sub.directResponse ?? root.directResponse,
    timeout: sub.timeout ?? root.timeout,
    retries: sub.retries ?? root.retries,
    fault: sub.fault ?? root.fault,
    mirror: sub.mirror ?? root.mirror,
    mirrorPercentage: sub.mirrorPercentage ?? root.mirrorPercentage,
    mirrors: sub.mirrors ?? root.mirrors,
    corsPolicy: sub.corsPolicy ?? root.corsPolicy,
    headers: sub.headers ?? root.headers,
  };
}

/**
 * Every delegate match combined with each root match it fits inside; null
 * when some delegate match fits in none (a conflict: the route is dropped).
 * No matches on one side: the other side's, as they are.
 */
function mergeMatches(root: HTTPMatchRequest[] | undefined, sub: HTTPMatchRequest[] | undefined): HTTPMatchRequest[] | undefined | null {
  if (!root || root.length === 0) return sub;
  if (!sub || sub.length === 0) return root;
  const out: HTTPMatchRequest[] = [];
  for (const s of sub) {
    const fits = root.filter((r) => !conflicts(r, s));
    if (fits.length === 0) return null;
    for (const r of fits) out.push(combine(r, s));
  }
  return out;
}

function combine(r: HTTPMatchRequest, s: HTTPMatchRequest): HTTPMatchRequest {
  const name = s.name && r.name ? `${r.name}-${s.name}` : (s.name ?? r.name);
  const merged: HTTPMatchRequest = {
    ...s,
    uri: s.uri ?? r.uri,
    scheme: s.scheme ?? r.scheme,
    method: s.method ?? r.method,
    authority: s.authority ?? r.authority,
    headers: union(r.headers, s.headers),
    withoutHeaders: union(r.withoutHeaders, s.withoutHeaders),
    queryParams: union(r.queryParams, s.queryParams),
    sourceLabels: union(r.sourceLabels, s.sourceLabels),
    port: s.port || r.port,
    sourceNamespace: s.sourceNamespace || r.sourceNamespace,
    gateways: s.gateways && s.gateways.length > 0 ? s.gateways : r.gateways,
  };
  if (name !== undefined) merged.name = name;
  // Keys left undefined by the spreads above would read as "set" to a schema-minded reader: drop them.
  for (const k of Object.keys(merged) as (keyof HTTPMatchRequest)[]) if (merged[k] === undefined) delete merged[k];
  return merged;
}

/** Both maps' keys, the delegate's winning; undefined when neither has one. */
function union<T>(root: Record<string, T> | undefined, sub: Record<string, T> | undefined): Record<string, T> | undefined {
  return root === undefined && sub === undefined ? undefined : { ...root, ...sub };
}

/** Does the delegate match `s` ask for something outside the root match `r`? */
function conflicts(r: HTTPMatchRequest, s: HTTPMatchRequest): boolean {
  const pairs: [StringMatch | undefined, StringMatch | undefined][] = [[r.uri, s.uri], [r.scheme, s.scheme], [r.method, s.method], [r.authority, s.authority]];
  if (pairs.some(([a, b]) => stringConflict(a, b))) return true;
  for (const [k, v] of Object.entries(s.headers ?? {})) if (stringConflict(r.headers?.[k], v)) return true;
  for (const [k, v] of Object.entries(s.withoutHeaders ?? {})) if (stringConflict(r.withoutHeaders?.[k], v)) return true;
  for (const [k, v] of Object.entries(s.queryParams ?? {})) if (stringConflict(r.queryParams?.[k], v)) return true;
  if ((r.ignoreUriCase ?? false) !== (s.ignoreUriCase ?? false)) return true;
  if (r.port && s.port && r.port !== s.port) return true;
  if (r.sourceNamespace && s.sourceNamespace !== r.sourceNamespace) return true;
  for (const [k, v] of Object.entries(s.sourceLabels ?? {})) if (r.sourceLabels?.[k] !== undefined && r.sourceLabels[k] !== v) return true;
  if (r.gateways?.length && s.gateways?.length && s.gateways.some((g) => !r.gateways!.includes(g))) return true;
  return false;
}

/**
 * A delegate string match must narrow the root's: equal exact values, or a
 * prefix / exact value under the root's prefix. Regexes cannot be compared,
 * so a regex on either side with anything on the other conflicts.
 */
function stringConflict(root: StringMatch | undefined, leaf: StringMatch | undefined): boolean {
  if (!root || !leaf) return false;
  if (root.regex !== undefined || leaf.regex !== undefined) return true;
  if (root.exact !== undefined) return leaf.exact !== root.exact;
  if (root.prefix !== undefined) {
    if (leaf.prefix !== undefined) return !leaf.prefix.startsWith(root.prefix);
    if (leaf.exact !== undefined) return !leaf.exact.startsWith(root.prefix);
  }
  return true;
}
