/**
 * Which node proxy a ztunnel-config command reads, as istioctl picks a
 * ztunnel: a saved dump (--file), an admin address (--admin), the node
 * proxy of --node, a POD that is a node proxy ("ztunnel-NODE.istio-system"),
 * or a workload POD — then the node proxy of its node, and the output is
 * about that workload (istioctl's TargetWorkload) — else the only one (the
 * first, by name, for commands whose answer is the same on every node).
 * Node proxies come from the running mesh's state file (`trellis up`).
 */
import { TrellisError } from '../../errors.js';
import { readStateFile, type FoundState, type MeshStateNodeProxy } from '../../local/state-file.js';
import { findPod, podKey } from '../locator.js';
import type { ProxyTarget } from '../proxy-config/target.js';

export interface ZtunnelTargetFlags {
  pod?: string;
  node?: string;
  file?: string;
  admin?: string;
  namespace?: string;
  /** istioctl's enforceSinglePod (certificates): with several node proxies, one must be named. */
  single: boolean;
}

export interface ZtunnelTarget extends ProxyTarget {
  /** The workload pod the user named, when it was one. */
  workload?: { name: string; namespace: string };
}

export async function resolveZtunnelTarget(f: ZtunnelTargetFlags, read: () => FoundState | undefined | Promise<FoundState | undefined> = readStateFile): Promise<ZtunnelTarget> {
  if ([f.file, f.admin, f.node, f.pod].filter((v) => v !== undefined).length > 1 && !(f.admin !== undefined && f.pod !== undefined)) {
    throw new TrellisError('CLI_USAGE', 'at most one of --file, --node, or pod name must be passed');
  }
  if (f.file !== undefined) return { label: f.file, file: f.file };
  if (f.admin !== undefined) return { label: f.pod ?? f.admin, admin: f.admin };
  const found = await read();
  if (!found) throw new TrellisError('MESH_NOT_FOUND', 'no running mesh found: start one with `trellis up`, or give --admin HOST:PORT (the node proxy\'s admin API) or --file CONFIG_DUMP.json');
  if (found.stale) throw new TrellisError('MESH_NOT_FOUND', `no running mesh: ${found.path} was left by a trellis up (pid ${found.state.pid}) that is no longer running`);
  const proxies = [...(found.state.nodeProxies ?? [])].sort((a, b) => podKey(a).localeCompare(podKey(b)));
  if (proxies.length === 0) {
    throw new TrellisError('MESH_NOT_FOUND', `no node proxy runs in the mesh of ${found.path}: trellis up starts one with the first ambient pod (a pod or namespace labelled istio.io/dataplane-mode=ambient, in netns mode)`);
  }
  const onNode = (node: string, why: string) => {
    const p = proxies.find((x) => x.node === node);
    if (!p) throw new TrellisError('POD_NOT_FOUND', `no node proxy on node ${node}${why}; node proxies: ${proxies.map((x) => `${podKey(x)} (node ${x.node})`).join(', ')}`);
    return p;
  };
  if (f.node !== undefined) return target(onNode(f.node, ''));
  if (f.pod === undefined) {
    if (f.single && proxies.length > 1) throw new TrellisError('CLI_USAGE', 'ztunnel pod name or --node must be set');
    return target(proxies[0]!);
  }
  const source = `state file ${found.path}`;
  const all = [...proxies.map((p) => ({ ...p, proxy: p })), ...found.state.pods.map((p) => ({ ...p, proxy: undefined }))];
  const hit = findPod(all, f.pod, source, f.namespace);
  if (hit.proxy) return target(hit.proxy);
  if (hit.node === undefined) throw new TrellisError('POD_NOT_FOUND', `pod ${podKey(hit)}: ${source} does not say which node it runs on`);
  return { ...target(onNode(hit.node, ` (where ${podKey(hit)} runs)`)), workload: { name: hit.name, namespace: hit.namespace } };
}

function target(p: MeshStateNodeProxy): ZtunnelTarget {
  return { label: podKey(p), admin: p.admin, ...(p.netns ? { netns: p.netns } : {}) };
}
