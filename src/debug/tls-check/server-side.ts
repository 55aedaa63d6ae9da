/**
 * The server side of a destination: for each endpoint of a service port,
 * whether the workload behind it has a sidecar and, if so, the mTLS mode
 * its sidecar enforces on the port it listens on (PeerAuthentication,
 * portLevelMtls included), with the policy that decided it.
 */
import type { AnyObject, PeerAuthentication, Pod } from '../../config/objects.js';
import { selectorMatches } from '../../controlplane/registry/labels.js';
import type { MeshEndpoint, MeshModel, MeshService } from '../../controlplane/registry/model.js';
import { composePeerAuthentication, mtlsModeForPort, type EffectiveMtls, type MtlsMode } from '../../controlplane/registry/peer-authentication.js';
import { hasSidecar } from '../injection.js';

export interface ServerEndpoint {
  address: string;
  /** undefined: no sidecar, the workload takes plain text only. */
  mode: MtlsMode | undefined;
  /** "name.namespace" of the policy that set the mode; undefined for the mesh default (PERMISSIVE). */
  policy: string | undefined;
}

export interface ServerContext {
  model: MeshModel;
  pods: ReadonlyMap<string, Pod>;
  namespaces: ReadonlyMap<string, AnyObject>;
  peerAuthentications: readonly PeerAuthentication[];
}

/** Workloads without a Pod object (WorkloadEntry, EndpointSlice without targetRef) are taken to run a sidecar, as VMs in a mesh do. */
function sidecarOf(ctx: ServerContext, e: MeshEndpoint): boolean {
  if (!e.workload?.startsWith('Pod/')) return true;
  const pod = ctx.pods.get(e.workload);
  return pod === undefined ? true : hasSidecar(pod, ctx.namespaces);
}

function serverEndpoint(ctx: ServerContext, e: MeshEndpoint): ServerEndpoint {
  if (!sidecarOf(ctx, e)) return { address: `${e.address}:${e.port}`, mode: undefined, policy: undefined };
  const eff = composePeerAuthentication(ctx.model.rootNamespace, ctx.peerAuthentications, { namespace: e.namespace, labels: e.labels });
  const mode = mtlsModeForPort(eff, e.port);
  const decided = decidingPolicy(eff, e.port);
  return { address: `${e.address}:${e.port}`, mode, policy: decided ? `${decided.metadata.name}.${decided.metadata.namespace}` : undefined };
}

/** The narrowest policy that set the mode of this port: a port-level setting, else the first level with a mode. */
function decidingPolicy(eff: EffectiveMtls, port: number): PeerAuthentication | undefined {
  const portLevel = eff.workload?.spec?.portLevelMtls?.[String(port)]?.mode;
  if (portLevel !== undefined && portLevel !== 'UNSET') return eff.workload;
  return [eff.workload, eff.namespace, eff.mesh].find((p) => p !== undefined && (p.spec?.mtls?.mode ?? 'UNSET') !== 'UNSET');
}

/** The endpoints of one service port (of one subset, when given), each with its server-side mode. */
export function serverEndpoints(ctx: ServerContext, svc: MeshService, port: number, subsetLabels?: Readonly<Record<string, string>>): ServerEndpoint[] {
  if (svc.meshExternal) return [];
  return ctx.model.endpoints(svc.hostname, port)
    .filter((e) => subsetLabels === undefined || selectorMatches(subsetLabels, e.labels))
    .map((e) => serverEndpoint(ctx, e));
}
