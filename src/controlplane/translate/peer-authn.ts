import type { PeerAuthentication } from '../../config/objects.js';
import type { MtlsMode } from '../registry/model.js';
import { byAge } from '../registry/policies.js';
import { isNamespaceWide, mtlsModeOf } from '../registry/security-policies.js';

/** The inbound mTLS of one workload: a mode, and per workload port where portLevelMtls differs. */
export interface MergedPeerAuthentication {
  readonly mode: MtlsMode;
  /** By target (container) port, sorted. */
  readonly perPort: ReadonlyMap<number, MtlsMode>;
}

const permissive: MergedPeerAuthentication = { mode: 'PERMISSIVE', perPort: new Map() };

function oldest(list: readonly PeerAuthentication[]): PeerAuthentication | undefined {
  return [...list].sort(byAge)[0];
}

/**
 * istiod's ComposePeerAuthentication: the narrowest scope wins (workload >
 * namespace > mesh, the mesh being the root namespace's policy without a
 * selector), the oldest policy wins within a scope, and UNSET inherits from
 * the scope above (a port from its workload policy); PERMISSIVE when nothing
 * says otherwise. A selector in the root namespace is ignored, as in istiod.
 * `configs` is what MeshModel.peerAuthenticationsFor returns.
 */
export function composePeerAuthentication(rootNamespace: string, configs: readonly PeerAuthentication[]): MergedPeerAuthentication {
  if (configs.length === 0) return permissive;
  const inRoot = (p: PeerAuthentication) => (p.metadata.namespace ?? 'default') === rootNamespace;
  const mesh = oldest(configs.filter((p) => isNamespaceWide(p) && inRoot(p)));
  const namespace = oldest(configs.filter((p) => isNamespaceWide(p) && !inRoot(p)));
  const workload = oldest(configs.filter((p) => !isNamespaceWide(p) && !inRoot(p)));
  let mode: MtlsMode = 'PERMISSIVE';
  for (const p of [mesh, namespace, workload]) mode = mtlsModeOf(p?.spec.mtls?.mode) ?? mode;
  const perPort = new Map<number, MtlsMode>();
  const ports = Object.entries(workload?.spec.portLevelMtls ?? {}).map(([k, v]) => [Number(k), v] as const).sort((a, b) => a[0] - b[0]);
  for (const [port, v] of ports) perPort.set(port, mtlsModeOf(v?.mode) ?? mode);
  return { mode, perPort };
}

export function modeForPort(m: MergedPeerAuthentication, port: number): MtlsMode {
  return m.perPort.get(port) ?? m.mode;
}

/** Equal keys, equal inbound mTLS: part of the inbound memo key. */
export function peerAuthKey(m: MergedPeerAuthentication): string {
  return [m.mode, ...[...m.perPort].map(([p, mode]) => `${p}=${mode}`)].join(';');
}
