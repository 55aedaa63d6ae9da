/** An Explanation as text: one numbered line per step, why and source indented under it. */
import type { Explanation, Outcome } from './types.js';

export function renderExplanation(e: Explanation): string {
  const lines: string[] = [];
  lines.push(`${e.request.method} ${e.request.url} from ${e.from}${e.to ? ` to ${e.to}` : ''} (x-request-id ${e.request.requestId})`);
  let side = '';
  e.steps.forEach((s, i) => {
    if (s.side !== side) {
      side = s.side;
      lines.push('', side === 'outbound' ? `the source sidecar (${e.from}), outbound:` : `the destination sidecar (${e.to ?? '?'}), inbound:`);
    }
    lines.push(`${String(i + 1).padStart(3)}. ${s.kind.padEnd(14)}${s.summary}`);
    for (const w of s.why) lines.push(`${' '.repeat(20)}${w}`);
    if (s.source) lines.push(`${' '.repeat(20)}source: ${s.source}`);
  });
  lines.push('', `expected at the source:      ${outcomeText(e.expected.client)}`);
  if (e.expected.server) lines.push(`expected at the destination: ${outcomeText(e.expected.server)}`);
  for (const n of e.notes) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
}

function outcomeText(o: Outcome): string {
  const status = o.fromApp ? "the app's status" : o.status === 0 ? 'no response' : String(o.status);
  return `${status}, flags ${o.responseFlags}, details ${o.responseCodeDetails}, upstream cluster ${o.upstreamCluster}`;
}
