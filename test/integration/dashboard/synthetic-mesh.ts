/** A dashboard model of a large mesh (N workloads calling N/3 services), for the rendering-time test. */
import type { DashboardModel, GraphEdge, GraphNode } from '../../../src/dashboard/model.js';

export function syntheticModel(workloads: number): DashboardModel {
  const services = Math.max(1, Math.floor(workloads / 3));
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const edge = (from: string, to: string, i: number): GraphEdge => ({
    id: `${from}>${to}`, from, to, rps: 10 + (i % 7), errorPct: i % 11 === 0 ? 5 : 0, p50Ms: 2, p99Ms: 20, mtlsPct: to.startsWith('workload:') ? 100 : null,
    principals: to.startsWith('workload:') ? [`spiffe://cluster.local/ns/ns${i % 10}/sa/w${i}`] : [], flags: {}, explain: null,
  });
  for (let s = 0; s < services; s++) nodes.push({ id: `service:s${s}.ns${s % 10}.svc.cluster.local`, kind: 'service', name: `s${s}`, namespace: `ns${s % 10}` });
  for (let w = 0; w < workloads; w++) {
    const id = `workload:ns${w % 10}/w${w}`;
    nodes.push({ id, kind: 'workload', namespace: `ns${w % 10}`, name: `w${w}` });
    edges.push(edge(id, nodes[w % services]!.id, w));
    if (w < services) edges.push(edge(nodes[w]!.id, id, w));
  }
  return {
    generatedAt: new Date().toISOString(), windowSeconds: 10, source: 'synthetic', nodes, edges,
    proxies: Array.from({ length: workloads }, (_x, i) => ({ proxy: `w${i}-0.ns${i % 10}`, state: 'SYNCED' as const, version: 'CDS a · LDS b', error: null })),
    changes: [{ at: new Date().toISOString(), types: ['EDS'], reached: workloads - 3, total: workloads, nacked: 0 }],
    certs: [], problems: [], commands: { topology: 'curl -s {origin}/api/model', proxies: 'trellis proxy-status', changes: 'trellis proxy-status POD', certs: 'trellis proxy-config secret POD' },
  };
}
