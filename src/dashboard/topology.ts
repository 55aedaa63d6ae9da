/**
 * The graph the page draws: nodes for every workload and service an edge
 * touches, edges with their window's rates (service-stats.ts), and for each
 * workload → service edge the `trellis explain` command of a typical
 * request: from one pod of the workload to the service's first port. Pure.
 */
import type { ServiceRate } from '../local/up/status/service-stats.js';
import type { GraphEdge, GraphNode } from './model.js';

export interface PodName {
  name: string;
  namespace: string;
}

export interface ServicePorts {
  /** The service's host, "name.ns.svc.cluster.local". */
  host: string;
  ports: number[];
}

function node(id: string): GraphNode {
  const [kind, rest = ''] = id.split(/:(.*)/s) as [string, string];
  if (kind === 'service') {
    // A Kubernetes Service's host names its namespace; a ServiceEntry's host is only a name.
    const k8s = /^([^.]+)\.([^.]+)\.svc\./.exec(rest);
    return { id, kind: 'service', name: k8s ? k8s[1]! : rest, namespace: k8s ? k8s[2]! : '' };
  }
  const slash = rest.indexOf('/');
  return { id, kind: 'workload', namespace: rest.slice(0, slash), name: rest.slice(slash + 1) };
}

/**
 * The pod a workload's request would come from: a pod named as its
 * controller names them (NAME-HASH-XXXXX, NAME-XXXXX) or NAME itself (a bare
 * Pod), the first by name.
 */
export function podOfWorkload(pods: readonly PodName[], namespace: string, workload: string): PodName | undefined {
  const own = (p: PodName) => p.namespace === namespace && (p.name === workload || (p.name.startsWith(`${workload}-`) && /^[a-z0-9]+(-[a-z0-9]{5})?$/.test(p.name.slice(workload.length + 1))));
  return pods.filter(own).sort((a, b) => a.name.localeCompare(b.name))[0];
}

function explainOf(from: GraphNode, to: GraphNode, pods: readonly PodName[], services: readonly ServicePorts[]): GraphEdge['explain'] {
  if (from.kind !== 'workload' || to.kind !== 'service') return null;
  const pod = podOfWorkload(pods, from.namespace, from.name);
  if (!pod) return null;
  const host = to.id.slice('service:'.length);
  const port = services.find((s) => s.host === host)?.ports[0];
  const url = `http://${host}${port === undefined ? '' : `:${port}`}/`;
  const podRef = `${pod.name}.${pod.namespace}`;
  return { from: podRef, url, command: `trellis explain --from ${podRef} ${url}` };
}

const orNull = (v: number | undefined) => (v === undefined ? null : v);

export function topology(rates: readonly ServiceRate[], pods: readonly PodName[], services: readonly ServicePorts[]): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  for (const r of rates) {
    const cut = r.key.indexOf('>');
    if (cut < 0) continue;
    const from = nodes.get(r.key.slice(0, cut)) ?? node(r.key.slice(0, cut));
    const to = nodes.get(r.key.slice(cut + 1)) ?? node(r.key.slice(cut + 1));
    nodes.set(from.id, from);
    nodes.set(to.id, to);
    edges.push({
      id: r.key,
      from: from.id,
      to: to.id,
      rps: r.rps,
      errorPct: r.errorPct,
      p50Ms: orNull(r.p50Ms),
      p99Ms: orNull(r.p99Ms),
      mtlsPct: orNull(r.mtlsPct),
      principals: Object.keys(r.principals).sort(),
      flags: r.flags,
      explain: explainOf(from, to, pods, services),
    });
  }
  return { nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)), edges };
}
