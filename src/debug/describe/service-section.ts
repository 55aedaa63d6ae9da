/**
 * istioctl describe's part for one service of the pod: its ports and the pod
 * ports they target, the DestinationRule that applies (subsets that do and
 * do not select the pod, TLS mode, policies), and the VirtualService routes
 * that can reach the pod.
 */
import type { DestinationRule, Pod, Subset, TrafficPolicy, VirtualService } from '../../config/objects.js';
import { selectorMatches } from '../../controlplane/registry/labels.js';
import type { MeshService, MeshServicePort } from '../../controlplane/registry/model.js';
import { httpRouteFacts, tcpRouteFacts, type SubsetsForPod } from './route-facts.js';

const indent = (level: number) => ' '.repeat(3 * level);

/** "name" in the pod's namespace, "name.namespace" elsewhere (istioctl's kname). */
export function kname(meta: { name: string; namespace?: string }, podNamespace: string): string {
  const ns = meta.namespace ?? 'default';
  return ns === podNamespace ? meta.name : `${meta.name}.${ns}`;
}

/** The pod port a service port reaches: a number, a named container port, or the service port itself. */
export function targetPodPort(p: MeshServicePort, pod: Pod): number | string {
  if (typeof p.targetPort === 'number') return p.targetPort;
  for (const c of pod.spec?.containers ?? []) {
    const hit = (c.ports ?? []).find((cp) => cp.name === p.targetPort);
    if (hit) return hit.containerPort;
  }
  return `no container port named "${p.targetPort}"`;
}

export function subsetsForPod(dr: DestinationRule | undefined, labels: Readonly<Record<string, string>>): SubsetsForPod {
  const subsets: readonly Subset[] = dr?.spec.subsets ?? [];
  return {
    matching: subsets.filter((s) => selectorMatches(s.labels, labels)).map((s) => s.name),
    nonMatching: subsets.filter((s) => !selectorMatches(s.labels, labels)).map((s) => s.name),
  };
}

export function serviceLines(svc: MeshService, pod: Pod): string[] {
  const out = [`${svc.origin === 'ServiceEntry' ? 'ServiceEntry' : 'Service'}: ${kname(svc, pod.metadata.namespace ?? 'default')}`];
  for (const p of svc.ports) {
    if (p.protocol === 'UDP') continue;
    const protocol = p.protocol === 'UNKNOWN' ? 'UnsupportedProtocol' : p.protocol;
    out.push(`${indent(1)}Port: ${p.name} ${p.port}/${protocol} targets pod port ${targetPodPort(p, pod)}`);
  }
  return out;
}

function shortPolicies(p: Pick<TrafficPolicy, 'loadBalancer' | 'connectionPool' | 'outlierDetection'>): string | undefined {
  const names = [p.loadBalancer && 'load balancer', p.connectionPool && 'connection pool', p.outlierDetection && 'outlier detection'].filter(Boolean);
  return names.length > 0 ? `Policies: ${names.join('/')}` : undefined;
}

export function destinationRuleLines(dr: DestinationRule, subsets: SubsetsForPod, podNamespace: string): string[] {
  const out = [`DestinationRule: ${kname(dr.metadata, podNamespace)} for "${dr.spec.host}"`];
  if (subsets.matching.length > 0 || subsets.nonMatching.length > 0) {
    if (subsets.matching.length === 0) out.push(`${indent(1)}WARNING POD DOES NOT MATCH ANY SUBSETS.  (Non matching subsets ${subsets.nonMatching.join(',')})`);
    out.push(`${indent(1)}Matching subsets: ${subsets.matching.join(',')}`);
    if (subsets.nonMatching.length > 0) out.push(`${indent(2)}(Non-matching subsets ${subsets.nonMatching.join(',')})`);
  }
  const tp = dr.spec.trafficPolicy;
  if (tp === undefined) return [...out, `${indent(1)}No Traffic Policy`];
  if (tp.tls) out.push(`${indent(1)}Traffic Policy TLS Mode: ${tp.tls.mode ?? 'DISABLE'}`);
  const short = shortPolicies(tp);
  if (short) out.push(`${indent(1)}${short}`);
  if (tp.portLevelSettings?.length) {
    out.push(`${indent(1)}Port Level Settings:`);
    for (const ps of tp.portLevelSettings) {
      out.push(`${indent(2)}${ps.port?.number ?? '?'}:`);
      if (ps.tls) out.push(`${indent(3)}TLS Mode: ${ps.tls.mode ?? 'DISABLE'}`);
      const sp = shortPolicies(ps);
      if (sp) out.push(`${indent(3)}${sp}`);
    }
  }
  return out;
}

/** The VirtualService's routes as they concern the pod, with istioctl's summary when none or only some reach it. */
export function virtualServiceLines(vs: VirtualService, svc: MeshService, subsets: SubsetsForPod, dr: DestinationRule | undefined, podNamespace: string, domainSuffix: string): string[] {
  const out = [`VirtualService: ${kname(vs.metadata, podNamespace)}`];
  let matches = 0;
  let facts = 0;
  const mismatch: string[] = [];
  const results = [
    ...(vs.spec.http ?? []).map((r) => httpRouteFacts(vs, r, svc.hostname, domainSuffix, subsets, dr)),
    ...(vs.spec.tcp ?? []).map((r) => tcpRouteFacts(vs, r, svc.hostname, domainSuffix)),
  ];
  for (const r of results) {
    if (!r.reaches) {
      mismatch.push(...r.facts);
      continue;
    }
    matches++;
    for (const f of r.facts) out.push(`${indent(1)}${f}`);
    facts += r.facts.length;
  }
  const http = vs.spec.http?.length ?? 0;
  const tcp = vs.spec.tcp?.length ?? 0;
  if (matches === 0) {
    if (http > 0) out.push(`${indent(1)}WARNING: No destinations match pod subsets (checked ${http} HTTP routes)`);
    if (tcp > 0) out.push(`${indent(1)}WARNING: No destinations match pod subsets (checked ${tcp} TCP routes)`);
    return [...out, ...mismatch.map((m) => `${indent(2)}${m}`)];
  }
  const possible = http + tcp + (vs.spec.tls?.length ?? 0);
  if (matches < possible) {
    out.push(`${indent(1)}${possible - matches} additional destination(s) that will not reach this pod`);
    if (facts === 0) out.push(...mismatch.map((m) => `${indent(2)}${m}`));
    return out;
  }
  if (facts === 0) {
    if (http > 0) out.push(`${indent(1)}${http} HTTP route(s)`);
    if (tcp > 0) out.push(`${indent(1)}${tcp} TCP route(s)`);
  }
  return out;
}
