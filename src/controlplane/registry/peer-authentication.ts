/**
 * The mTLS mode a workload's sidecar enforces, from the PeerAuthentications
 * that apply to it, with Istio's precedence (pilot's
 * ComposePeerAuthentication): a workload policy (a selector matching the
 * workload's labels, in its namespace) beats the namespace's policy (no
 * selector), which beats the mesh policy (no selector, in the root
 * namespace); PERMISSIVE when none applies. Within a level the oldest policy
 * wins. UNSET inherits from the level above, and an UNSET port in
 * portLevelMtls inherits the workload's mode. A policy with a selector in the
 * root namespace applies to nothing, as in Istio.
 *
 * Pure, and the one place this is decided: the translator (inbound TLS),
 * `trellis describe` and `trellis tls-check` all call it.
 */
import type { MutualTLSMode, PeerAuthentication } from '../../config/objects.js';
import { isEmpty, selectorMatches } from './labels.js';
import type { MtlsMode } from './model.js';
import { byAge } from './policies.js';

export type { MtlsMode } from './model.js';

export interface EffectiveMtls {
  /** The mode for every port without its own setting. */
  mode: MtlsMode;
  /** The workload policy's portLevelMtls, by the workload's (container) port, UNSET resolved. */
  perPort: ReadonlyMap<number, MtlsMode>;
  /** The policy chosen at each level (those that exist). */
  mesh?: PeerAuthentication;
  namespace?: PeerAuthentication;
  workload?: PeerAuthentication;
  /** Policies that apply at a level where an older one won: never in force. */
  shadowed: PeerAuthentication[];
}

export interface WorkloadRef {
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

const set = (m: MutualTLSMode | undefined): m is MtlsMode => m !== undefined && m !== 'UNSET';

/** Does this policy select the workload at all (any level)? */
export function peerAuthenticationApplies(pa: PeerAuthentication, w: WorkloadRef, rootNamespace: string): boolean {
  const ns = pa.metadata.namespace ?? 'default';
  const labels = pa.spec?.selector?.matchLabels;
  if (isEmpty(labels)) return ns === w.namespace || ns === rootNamespace;
  return ns === w.namespace && ns !== rootNamespace && selectorMatches(labels, w.labels);
}

export function composePeerAuthentication(rootNamespace: string, policies: Iterable<PeerAuthentication>, w: WorkloadRef): EffectiveMtls {
  const levels: { mesh: PeerAuthentication[]; namespace: PeerAuthentication[]; workload: PeerAuthentication[] } = { mesh: [], namespace: [], workload: [] };
  for (const pa of policies) {
    if (!peerAuthenticationApplies(pa, w, rootNamespace)) continue;
    const ns = pa.metadata.namespace ?? 'default';
    if (!isEmpty(pa.spec?.selector?.matchLabels)) levels.workload.push(pa);
    else if (ns === rootNamespace) levels.mesh.push(pa);
    else levels.namespace.push(pa);
  }
  const out: EffectiveMtls = { mode: 'PERMISSIVE', perPort: new Map(), shadowed: [] };
  for (const level of ['mesh', 'namespace', 'workload'] as const) {
    const [winner, ...rest] = levels[level].sort(byAge);
    if (winner === undefined) continue;
    out[level] = winner;
    out.shadowed.push(...rest);
    const mode = winner.spec?.mtls?.mode;
    if (set(mode)) out.mode = mode;
  }
  const perPort = new Map<number, MtlsMode>();
  for (const [port, setting] of Object.entries(out.workload?.spec?.portLevelMtls ?? {})) {
    perPort.set(Number(port), set(setting.mode) ? setting.mode : out.mode);
  }
  out.perPort = perPort;
  return out;
}

/** The mode on one of the workload's ports. */
export function mtlsModeForPort(e: EffectiveMtls, workloadPort: number): MtlsMode {
  return e.perPort.get(workloadPort) ?? e.mode;
}

/** Equal keys, equal inbound mTLS: part of the translator's inbound memo key. */
export function peerAuthKey(e: EffectiveMtls): string {
  return [e.mode, ...[...e.perPort].sort((a, b) => a[0] - b[0]).map(([p, mode]) => `${p}=${mode}`)].join(';');
}

/**
 * The PeerAuthentication (and its field) that decides the mode of a port, or
 * of every port without one; undefined when no policy sets it (Istio's
 * default PERMISSIVE). What explain and the listener's metadata cite.
 */
export function modeSource(e: EffectiveMtls, port?: number): { pa: PeerAuthentication; field: string } | undefined {
  const own = port === undefined ? undefined : e.workload?.spec?.portLevelMtls?.[String(port)];
  if (e.workload && own && set(own.mode)) return { pa: e.workload, field: `portLevelMtls[${port}].mode` };
  for (const pa of [e.workload, e.namespace, e.mesh]) if (pa && set(pa.spec?.mtls?.mode)) return { pa, field: 'mtls.mode' };
  return undefined;
}

/** Which objects decide the modes: part of the key of a shared inbound listener, whose chains name them. */
export function modeSourcesKey(e: EffectiveMtls): string {
  const ports = [undefined, ...[...e.perPort.keys()].sort((a, b) => a - b)];
  return ports.map((p) => {
    const s = modeSource(e, p);
    return s ? `${s.pa.metadata.namespace ?? 'default'}/${s.pa.metadata.name}` : '';
  }).join(',');
}
