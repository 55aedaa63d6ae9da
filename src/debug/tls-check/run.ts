/**
 * `trellis tls-check [POD] [HOST]`: the table, CONFLICT rows in red on a
 * terminal, then why each conflict is one. Resolves with the exit code: 1
 * when there is a CONFLICT.
 */
import { formatTable } from '../format/table.js';
import { findConfigPod } from '../describe/describe.js';
import type { MeshConfig } from '../mesh-config.js';
import { paint, type Write } from '../output.js';
import { TLS_CHECK_HEADER, tlsCheck } from './tls-check.js';

export interface TlsCheckOptions {
  pod?: string;
  host?: string;
  namespace?: string;
  color: boolean;
}

export function runTlsCheck(cfg: MeshConfig, o: TlsCheckOptions, write: Write): number {
  const client = o.pod === undefined ? undefined : findConfigPod(cfg, o.pod, o.namespace);
  const rows = tlsCheck(cfg, client, o.host);
  if (rows.length === 0) {
    write(`no destinations${o.host ? ` matching ${o.host}` : ''} in the ${cfg.source}\n`);
    return 0;
  }
  const lines = formatTable([TLS_CHECK_HEADER, ...rows.map((r) => [r.destination, r.status, r.server, r.client, r.authnPolicy, r.destinationRule])], 5).split('\n');
  write(lines.map((l, i) => (i > 0 && rows[i - 1]?.status === 'CONFLICT' ? paint(l, 'red', o.color) : l)).join('\n'));
  const conflicts = rows.filter((r) => r.status === 'CONFLICT');
  if (conflicts.length > 0) write(`\n${conflicts.map((r) => `CONFLICT ${r.destination}: ${r.reasons.join('; ')}`).join('\n')}\n`);
  return conflicts.length > 0 ? 1 : 0;
}
