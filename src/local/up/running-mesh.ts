/**
 * The running mesh as the CLI sees it (`trellis get|exec|logs`): found
 * through the state file, then the run that wrote it, whose directory holds
 * the pods as stored (cluster/pods.yaml), the Services, each pod's exec
 * details and logs. Errors say what to do: no mesh, a crashed one, an
 * unknown pod (with the pods there are).
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { TrellisError, errorMessage } from '../../errors.js';
import { readStateFile, stateFilePath, type MeshState } from '../state-file.js';
import type { PodObject } from './pod-objects.js';
import type { PodAddress } from './network.js';
import { listRuns, pidAlive, runFiles, type RunInfo } from './run-dir.js';
import type { ServiceLike } from './kube-table.js';

export interface RunningMesh {
  stateFile: string;
  state: MeshState;
  run: string;
  info: RunInfo;
}

export interface PodExecInfo {
  namespace: string;
  name: string;
  address: PodAddress;
  sidecar: boolean;
  containers: { name: string; uid?: number; gid?: number; cwd: string; env: Record<string, string>; argv: string[] }[];
}

/** The running mesh, or a TrellisError (CLI_USAGE) saying there is none and why. */
export function findRunningMesh(): RunningMesh {
  const stateFile = stateFilePath();
  const state = readStateFile([stateFile])?.state;
  if (!state) throw new TrellisError('CLI_USAGE', `no mesh is running (no state file at ${stateFile}); start one with \`trellis up [DIR]\``);
  const run = listRuns().find((r) => r.info?.stateFile === stateFile && pidAlive(r.info.pid));
  if (!run?.info) {
    throw new TrellisError('CLI_USAGE', `no mesh is running: ${stateFile} was left by a trellis up that is gone (the next \`trellis up\` removes it)`);
  }
  return { stateFile, state, run: run.dir, info: run.info };
}

export function readPods(m: RunningMesh): PodObject[] {
  let text: string;
  try {
    text = readFileSync(runFiles.pods(m.run), 'utf8');
  } catch (err) {
    throw new TrellisError('IO', `cannot read the pods of run ${m.info.runId}: ${errorMessage(err)}`, { cause: err });
  }
  return parseAllDocuments(text).map((d) => d.toJS() as PodObject | null).filter((p): p is PodObject => p !== null && p.kind === 'Pod');
}

export function readServices(m: RunningMesh): ServiceLike[] {
  try {
    return JSON.parse(readFileSync(runFiles.services(m.run), 'utf8')) as ServiceLike[];
  } catch (err) {
    throw new TrellisError('IO', `cannot read the services of run ${m.info.runId}: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * A pod by name, as kubectl would take it: NAME (in `namespace`, or the only
 * pod of that name in any namespace), NS/NAME, or deployment/NAME (its first
 * pod, as `kubectl exec deploy/NAME` picks one).
 */
export function resolvePod(m: RunningMesh, ref: string, namespace: string | undefined): { namespace: string; name: string } {
  const pods = m.state.pods;
  const known = () => pods.map((p) => `${p.namespace}/${p.name}`).sort().join(', ') || '(none)';
  const deploy = /^(?:deploy|deployment|deployments)\/(.+)$/.exec(ref);
  if (deploy) {
    const objs = readPods(m).filter((p) => (p.metadata as { ownerReferences?: { name: string }[] }).ownerReferences?.some((o) => o.name.replace(/-[^-]+$/, '') === deploy[1]) && (namespace === undefined || p.metadata['namespace'] === namespace));
    const first = objs.sort((a, b) => String(a.metadata['name']).localeCompare(String(b.metadata['name'])))[0];
    if (!first) throw new TrellisError('CLI_USAGE', `no pod of deployment ${deploy[1]}${namespace ? ` in namespace ${namespace}` : ''}; pods: ${known()}`);
    return { namespace: String(first.metadata['namespace']), name: String(first.metadata['name']) };
  }
  const slash = ref.indexOf('/');
  const [ns, name] = slash > 0 ? [ref.slice(0, slash), ref.slice(slash + 1)] : [namespace, ref];
  const matches = pods.filter((p) => p.name === name && (ns === undefined || p.namespace === ns));
  if (matches.length === 1) return { namespace: matches[0]!.namespace, name: matches[0]!.name };
  if (matches.length > 1) throw new TrellisError('CLI_USAGE', `pod ${name} is in several namespaces (${matches.map((p) => p.namespace).join(', ')}): choose one with -n`);
  throw new TrellisError('CLI_USAGE', `pod ${ns ? `${ns}/` : ''}${name} not found; pods: ${known()}`);
}

export function readExecInfo(m: RunningMesh, pod: { namespace: string; name: string }): PodExecInfo {
  try {
    return JSON.parse(readFileSync(runFiles.podInfo(m.run, pod.namespace, pod.name), 'utf8')) as PodExecInfo;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw new TrellisError('CLI_USAGE', `pod ${pod.namespace}/${pod.name}: its exec details are readable by the mesh's owner only (run as root, as trellis up did)`);
    throw new TrellisError('CLI_USAGE', `pod ${pod.namespace}/${pod.name} has no running containers yet`, { cause: err });
  }
}

/** The log file of a container: "proxy" and "istio-proxy" name the sidecar, "app" (or none) the first app container. */
export function logFile(m: RunningMesh, pod: { namespace: string; name: string }, container: string | undefined): { file: string; container: string } {
  const info = readPodObject(m, pod);
  const apps = ((info?.spec as { containers?: { name: string }[] } | undefined)?.containers ?? []).map((c) => c.name).filter((n) => n !== 'istio-proxy');
  const hasProxy = ((info?.spec as { containers?: { name: string }[] } | undefined)?.containers ?? []).some((c) => c.name === 'istio-proxy');
  let name: string;
  if (container === 'proxy' || container === 'istio-proxy') {
    if (!hasProxy) throw new TrellisError('CLI_USAGE', `pod ${pod.namespace}/${pod.name} has no sidecar (containers: ${apps.join(', ')})`);
    name = 'istio-proxy';
  } else if (container === undefined || container === 'app') {
    if (apps.length === 0) throw new TrellisError('CLI_USAGE', `pod ${pod.namespace}/${pod.name} has no app container`);
    name = apps[0]!;
  } else {
    if (!apps.includes(container)) throw new TrellisError('CLI_USAGE', `container ${container} is not in pod ${pod.namespace}/${pod.name} (containers: ${[...apps, ...(hasProxy ? ['istio-proxy'] : [])].join(', ')})`);
    name = container;
  }
  return { file: runFiles.containerLog(m.run, pod.namespace, pod.name, name), container: name };
}

function readPodObject(m: RunningMesh, pod: { namespace: string; name: string }): PodObject | undefined {
  return readPods(m).find((p) => p.metadata['name'] === pod.name && p.metadata['namespace'] === pod.namespace);
}
