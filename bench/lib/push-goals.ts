/**
 * Issue 16's goals for the control plane at scale, and the verdict on one
 * measurement. Pure: the push benchmark measures, this says met or NOT met.
 */
export type Scenario = 'connect' | 'vsEdit' | 'endpointAcked' | 'endpointOnlyEds' | 'endpointTranslate' | 'endpointPush' | 'fullTranslate' | 'peakRss' | 'churnConverged';

export const goals: Readonly<Record<Scenario, { what: string; goal: string; limit: number }>> = {
  connect: { what: 'N proxies connect at once → all SYNCED (ms)', goal: '≤ 2 s', limit: 2000 },
  vsEdit: { what: 'VirtualService edit → all ACKed (ms, p50 / max)', goal: '≤ 1 s', limit: 1000 },
  endpointAcked: { what: 'one endpoint added/removed → all affected ACKed (ms, p50 / max)', goal: '≤ 300 ms', limit: 300 },
  endpointOnlyEds: { what: 'one endpoint added/removed: responses sent, by type', goal: 'only EDS', limit: 0 },
  endpointTranslate: { what: 'one endpoint added/removed: control plane model update + translation (+ snapshot check) for every proxy (ms, p50)', goal: '≤ 20 ms', limit: 20 },
  endpointPush: { what: 'same, the whole push: also every response serialised and queued (ms, p50)', goal: 'recorded', limit: Infinity },
  fullTranslate: { what: 'full translation: model + all types for N proxies (ms, in-process; N = BENCH_TRANSLATE_PROXIES if set)', goal: '≤ 2 s', limit: 2000 },
  peakRss: { what: 'control-plane peak RSS with N proxies (MiB)', goal: '≤ 1 GiB', limit: 1024 },
  churnConverged: { what: 'endpoint churn: last change → each proxy holds the final endpoints (ms, p50 / max)', goal: 'every proxy ≤ 1 s', limit: 1000 },
};

/** A number of milliseconds or MiB against a limit: the p50 (or the only value; for churn the max: every proxy) decides. */
export function verdict(scenario: Scenario, value: number): 'met' | 'NOT met' {
  return value <= goals[scenario].limit ? 'met' : 'NOT met';
}

/** The types sent after an endpoint change: met only when EDS is the only one. */
export function onlyEdsVerdict(types: Readonly<Record<string, number>>): 'met' | 'NOT met' {
  const sent = Object.keys(types).filter((t) => (types[t] ?? 0) > 0);
  return sent.length === 1 && sent[0]!.endsWith('.ClusterLoadAssignment') ? 'met' : 'NOT met';
}

/** "CDS×1000, EDS×1000": the short type names of istiod's metrics. */
export function typesText(types: Readonly<Record<string, number>>): string {
  const short: Record<string, string> = { Cluster: 'CDS', ClusterLoadAssignment: 'EDS', Listener: 'LDS', RouteConfiguration: 'RDS', Secret: 'SDS' };
  const entries = Object.entries(types).filter(([, n]) => n > 0);
  if (entries.length === 0) return 'nothing';
  return entries.map(([t, n]) => `${short[t.slice(t.lastIndexOf('.') + 1)] ?? t}×${n}`).join(', ');
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
