/**
 * Who is in ambient mode, as Istio's CNI decides with its default
 * enablement selectors: a pod labelled istio.io/dataplane-mode=ambient, or
 * any pod of a namespace so labelled unless the pod says "none"; never a pod
 * that already has a sidecar (sidecar.istio.io/status). Services: those of
 * an ambient namespace, those labelled ambient themselves, and those that
 * select an ambient pod (so that a pod enrolled on its own is reachable by
 * its Service's address).
 */
import type { Pod } from '../../../config/objects.js';
import type { MeshService } from '../../registry/model.js';
import type { AmbientSource } from '../../registry/ambient-source.js';

export const DATAPLANE_MODE = 'istio.io/dataplane-mode';
export const SIDECAR_STATUS = 'sidecar.istio.io/status';

export function namespaceAmbient(source: AmbientSource, namespace: string): boolean {
  return source.namespaceLabels(namespace)[DATAPLANE_MODE] === 'ambient';
}

export function podAmbient(source: AmbientSource, pod: Pod): boolean {
  if (pod.metadata.annotations?.[SIDECAR_STATUS] !== undefined) return false;
  const mode = pod.metadata.labels?.[DATAPLANE_MODE];
  if (mode === 'ambient') return true;
  return mode !== 'none' && namespaceAmbient(source, pod.metadata.namespace ?? 'default');
}

/** `selectsAmbientPod`: whether the service's selector picks one of the ambient pods of its namespace. */
export function serviceAmbient(source: AmbientSource, svc: MeshService, selectsAmbientPod: boolean): boolean {
  return namespaceAmbient(source, svc.namespace) || svc.labels[DATAPLANE_MODE] === 'ambient' || selectsAmbientPod;
}

/** Istio's tunnel label: a pod whose proxy terminates HBONE itself (a sidecar with HBONE listening). */
export const TUNNEL_LABEL = 'networking.istio.io/tunnel';

/** istiod's setTunnelProtocol: such a pod is sent with tunnel HBONE and native_tunnel, so node proxies reach its own 15008. */
export function podNativeTunnel(pod: Pod): boolean {
  return pod.metadata.labels?.[TUNNEL_LABEL] === 'http';
}
