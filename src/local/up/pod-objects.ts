/**
 * Running pods as the API server would store them: the pod spec with the
 * injector's containers, the ReplicaSet owner, and the kubelet's status
 * (phase, podIP, conditions, containerStatuses). The control plane reads
 * these (endpoints from ready pods, as in a cluster) and `trellis get pods`
 * prints them. Pure.
 */
import type { ContainerSpec, RunnablePodSpec } from '../../config/deployment.js';
import type { ContainerState } from './container.js';
import type { PodPhase } from './pod.js';

export interface PodSnapshot {
  namespace: string;
  name: string;
  uid: string;
  createdAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: RunnablePodSpec;
  owner: { kind: 'Deployment' | 'Pod'; name: string; hash: string };
  sidecar: boolean;
  /** Served by the node proxy (ambient mode): set only then. */
  ambient?: true;
  nodeName: string;
  ip?: string;
  phase: PodPhase;
  message?: string;
  startedAt?: string;
  containers: { name: string; state: ContainerState }[];
  proxy?: ContainerState;
  ready: boolean;
}

export interface PodObject {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: Record<string, unknown>;
  spec: Record<string, unknown>;
  status: Record<string, unknown>;
}

function containerStatus(name: string, s: ContainerState, image: string): Record<string, unknown> {
  const state =
    s.state === 'running' ? { running: { startedAt: s.startedAt } }
    : s.state === 'terminated' ? { terminated: { exitCode: s.exitCode ?? 0, reason: s.reason, ...(s.message ? { message: s.message } : {}), finishedAt: s.finishedAt } }
    : { waiting: { reason: s.reason, ...(s.message ? { message: s.message } : {}) } };
  return { name, ready: s.ready, restartCount: s.restarts, started: s.state === 'running', state, image };
}

const PROXY_IMAGE = 'trellis proxy (local process)';

export function podObject(p: PodSnapshot): PodObject {
  const condition = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False' });
  const running = p.phase === 'Running';
  const containers: ContainerSpec[] = [...(p.spec.containers ?? [])];
  const statuses = p.containers.map((c) => containerStatus(c.name, c.state, containers.find((x) => x.name === c.name)?.image ?? ''));
  const spec: Record<string, unknown> = { ...p.spec, nodeName: p.nodeName };
  if (p.sidecar) {
    spec.initContainers = [...(p.spec.initContainers ?? []), { name: 'istio-init', image: PROXY_IMAGE }];
    spec.containers = [...containers, { name: 'istio-proxy', image: PROXY_IMAGE }];
    statuses.push(containerStatus('istio-proxy', p.proxy ?? { state: 'waiting', reason: 'PodInitializing', restarts: 0, ready: false }, PROXY_IMAGE));
  }
  const status: Record<string, unknown> = {
    phase: p.phase === 'Terminating' ? 'Running' : p.phase,
    ...(p.message ? { message: p.message } : {}),
    ...(p.ip ? { podIP: p.ip, podIPs: [{ ip: p.ip }] } : {}),
    ...(p.startedAt ? { startTime: p.startedAt } : {}),
    conditions: [condition('PodScheduled', true), condition('Initialized', running), condition('ContainersReady', p.ready), condition('Ready', p.ready)],
    containerStatuses: statuses,
  };
  if (p.sidecar) status.initContainerStatuses = [containerStatus('istio-init', running ? { state: 'terminated', reason: 'Completed', exitCode: 0, restarts: 0, ready: false } : { state: 'waiting', reason: 'PodInitializing', restarts: 0, ready: false }, PROXY_IMAGE)];
  const metadata: Record<string, unknown> = {
    name: p.name,
    namespace: p.namespace,
    uid: p.uid,
    creationTimestamp: p.createdAt,
    labels: p.labels,
    ...(Object.keys(p.annotations).length > 0 ? { annotations: p.annotations } : {}),
    ...(p.owner.kind === 'Deployment' ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${p.owner.name}-${p.owner.hash}`, controller: true }] } : {}),
    ...(p.phase === 'Terminating' ? { deletionTimestamp: new Date().toISOString() } : {}),
  };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec, status };
}
