/**
 * How the debugging CLI finds a mesh and its pods: a MeshLocator knows the
 * control plane's debug address and the pods, with whatever it knows of
 * each (a proxy admin address only comes from someone who started the
 * proxy: `trellis up`'s state file, or --admin). `trellis up` plugs in
 * through the state file (src/local/state-file.ts); the control plane's
 * /debug/syncz adds every proxy that is connected.
 */
import { TrellisError } from '../errors.js';

export interface PodRef {
  name: string;
  namespace: string;
  ip?: string;
  /** HOST:PORT of the pod's sidecar admin API, when known. */
  admin?: string;
  /** The network namespace `admin` is reached in (a `trellis up` pod), when not the machine's own. */
  netns?: string;
  /** The control plane's id for its proxy ("pod.namespace"), when it is connected. */
  proxyId?: string;
}

export interface MeshLocator {
  /** Where the mesh was found, for messages ("state file /run/trellis/mesh.json", "control plane 127.0.0.1:15014"). */
  readonly source: string;
  /** The control plane's debug HOST:PORT, when known. */
  readonly controlPlane: string | undefined;
  /** Every pod this locator knows. */
  pods(): Promise<readonly PodRef[]>;
}

/** A fixed list of pods (the state file's, tests'). */
export function staticLocator(source: string, controlPlane: string | undefined, pods: readonly PodRef[]): MeshLocator {
  return { source, controlPlane, pods: () => Promise.resolve(pods) };
}

/**
 * The union of several locators' pods, by name and namespace; for each field
 * the first locator that knows it wins. A locator that fails is skipped as
 * long as another answered (a state file still names the pods while the
 * control plane is restarting); when all fail, the first error is thrown.
 */
export function mergedLocator(first: MeshLocator, ...rest: MeshLocator[]): MeshLocator {
  const all = [first, ...rest];
  return {
    source: all.map((l) => l.source).join(' + '),
    controlPlane: all.find((l) => l.controlPlane !== undefined)?.controlPlane,
    async pods() {
      const results = await Promise.allSettled(all.map((l) => l.pods()));
      if (results.every((r) => r.status === 'rejected')) throw (results[0] as PromiseRejectedResult).reason;
      const byKey = new Map<string, PodRef>();
      for (const r of results) {
        if (r.status !== 'fulfilled') continue;
        for (const p of r.value) {
          const key = `${p.name}.${p.namespace}`;
          const had = byKey.get(key);
          byKey.set(key, had ? { ...p, ...definedOnly(had) } : p);
        }
      }
      return [...byKey.values()].sort((a, b) => podKey(a).localeCompare(podKey(b)));
    },
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** "name.namespace", istioctl's way of naming a pod. */
export function podKey(p: { name: string; namespace: string }): string {
  return `${p.name}.${p.namespace}`;
}

/**
 * The pod a user means: "name", "name.namespace" or "pod/name[.namespace]"
 * (istioctl's forms) or "deploy/NAME" (the first of its pods by name, as
 * kubectl picks one), in `namespace` when given. A bare name found in one
 * namespace only needs no namespace. Unknown or ambiguous names are
 * POD_NOT_FOUND errors that list the pods the user can choose from.
 */
export function findPod<T extends PodRef>(pods: readonly T[], query: string, source: string, namespace?: string): T {
  const inNs = (p: T) => namespace === undefined || p.namespace === namespace;
  const deploy = /^(?:deploy|deployment|deployments)\/(.+)$/.exec(query);
  if (deploy) return deploymentPod(pods.filter(inNs), deploy[1]!, source, namespace);
  const q = query.replace(/^(pod|pods|po)\//, '');
  let hits = pods.filter((p) => p.name === q && inNs(p));
  const dot = q.lastIndexOf('.');
  if (hits.length === 0 && dot > 0) {
    const [name, ns] = [q.slice(0, dot), q.slice(dot + 1)];
    if (namespace === undefined || namespace === ns) hits = pods.filter((p) => p.name === name && p.namespace === ns);
  }
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1) {
    throw new TrellisError('POD_NOT_FOUND', `pod "${q}" is in several namespaces (${hits.map((p) => p.namespace).join(', ')}): name it as ${q}.NAMESPACE or use --namespace`);
  }
  throw new TrellisError('POD_NOT_FOUND', `pod "${query}" not found${namespace ? ` in namespace ${namespace}` : ''} (${source}); ${knownPods(pods)}`);
}

/**
 * A Deployment's pods are named as its ReplicaSet makes them,
 * NAME-TEMPLATEHASH-XXXXX: the locator knows names, not owners, and the
 * name is what both Kubernetes and `trellis up` give.
 */
function deploymentPod<T extends PodRef>(pods: readonly T[], deployment: string, source: string, namespace: string | undefined): T {
  const escaped = deployment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${escaped}-[a-z0-9]{1,10}-[a-z0-9]{5}$`);
  const hits = pods.filter((p) => re.test(p.name)).sort((a, b) => podKey(a).localeCompare(podKey(b)));
  const namespaces = new Set(hits.map((p) => p.namespace));
  if (namespaces.size > 1) throw new TrellisError('POD_NOT_FOUND', `deployment "${deployment}" is in several namespaces (${[...namespaces].sort().join(', ')}): use --namespace`);
  if (hits[0]) return hits[0];
  throw new TrellisError('POD_NOT_FOUND', `no pod of deployment "${deployment}"${namespace ? ` in namespace ${namespace}` : ''} (${source}); ${knownPods(pods)}`);
}

/** "known pods: a.default, b.shop" (at most 30 named), or "no pods known". */
export function knownPods(pods: readonly PodRef[]): string {
  if (pods.length === 0) return 'no pods known';
  const names = pods.map(podKey).sort();
  const shown = names.slice(0, 30).join(', ');
  return `known pods: ${shown}${names.length > 30 ? `, and ${names.length - 30} more` : ''}`;
}
