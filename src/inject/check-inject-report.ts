/**
 * check-inject's explanation, in two tables: istioctl x check-inject's
 * (WEBHOOK, REVISION, INJECTED, REASON: one line with the answer and the
 * reason that matters), then every rule in the order the injector applies
 * it with its own verdict, the deciding one marked — what istioctl leaves
 * the user to work out. Pure.
 */
import type { Decision, RuleResult } from './decision.js';

const MARK: Record<RuleResult['verdict'], string> = { inject: 'inject', skip: 'skip', pass: '-' };
/** The webhook's name in `trellis install`'s MutatingWebhookConfiguration, as istioctl names the one it checked. */
export const WEBHOOK_NAME = 'trellis-sidecar-injector';

/** Columns padded to their widest cell, two spaces apart (istioctl's tabwriter). */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - [...cell].length))).join('  ').trimEnd());
}

/** The one reason istioctl's table shows: what selected the pod when the policy then injected it, else the deciding rule's. */
function headline(d: Decision): string {
  const reason = d.decidedBy === 'policy' ? d.rules.find((r) => r.rule === 'webhook-selector')?.reason ?? d.reason : d.reason;
  return reason.charAt(0).toUpperCase() + reason.slice(1);
}

export function checkInjectReport(workload: string, namespace: string, namespaceLabels: Readonly<Record<string, string>>, revision: string, d: Decision): string {
  const labels = Object.entries(namespaceLabels).map(([k, v]) => `${k}=${v}`).join(',') || '(none)';
  const injected = d.alreadyInjected ? '✔ (already)' : d.inject ? '✔' : '✘';
  const decisive = d.rules.findIndex((r) => r.rule === d.decidedBy);
  const verdict = d.alreadyInjected ? 'already injected: left unchanged' : d.inject ? 'would be injected' : 'would NOT be injected';
  return [
    `${workload} in namespace ${namespace || '(none)'} (namespace labels: ${labels})`,
    '',
    ...table([['WEBHOOK', 'REVISION', 'INJECTED', 'REASON'], [WEBHOOK_NAME, revision, injected, headline(d)]]),
    '',
    // Rules after the deciding one still say what they would decide, in parentheses: they were not reached.
    ...table([['  RULE', 'VERDICT', 'REASON'], ...d.rules.map((r, i) => [
      `${r.rule === d.decidedBy ? '*' : ' '} ${r.rule}`,
      i > decisive && r.verdict !== 'pass' ? `(${MARK[r.verdict]})` : MARK[r.verdict],
      r.reason,
    ])]),
    `=> ${verdict} (decided by ${d.decidedBy})`,
    '',
  ].join('\n');
}
