/**
 * check-inject's explanation: every rule in the order the injector applies
 * it, its own verdict, and which one decided — as istioctl x check-inject
 * explains a webhook's match, but for each of Istio's rules. Pure.
 */
import type { Decision, RuleResult } from './decision.js';

const MARK: Record<RuleResult['verdict'], string> = { inject: 'inject', skip: 'skip', pass: '-' };

export function checkInjectReport(workload: string, namespace: string, namespaceLabels: Readonly<Record<string, string>>, d: Decision): string {
  const labels = Object.entries(namespaceLabels).map(([k, v]) => `${k}=${v}`).join(',') || '(none)';
  const rows = d.rules.map((r) => [r.rule === d.decidedBy ? `* ${r.rule}` : `  ${r.rule}`, MARK[r.verdict], r.reason]);
  const width = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length), i === 0 ? 6 : 7));
  const line = (r: string[]) => `${r[0]!.padEnd(width[0]!)}  ${r[1]!.padEnd(width[1]!)}  ${r[2]}`.trimEnd();
  const verdict = d.alreadyInjected ? 'already injected: left unchanged' : d.inject ? 'would be injected' : 'would NOT be injected';
  return [
    `${workload} in namespace ${namespace || '(none)'} (namespace labels: ${labels})`,
    line(['  RULE', 'VERDICT', 'REASON']),
    ...rows.map(line),
    `=> ${verdict} (decided by ${d.decidedBy})`,
    '',
  ].join('\n');
}
