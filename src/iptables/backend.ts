/**
 * Which iptables back end to drive: the system's `iptables` (whatever the
 * alternatives point to), or an explicit nft / legacy variant.
 */
import { TrellisError } from '../errors.js';
import { run } from './exec.js';
import type { Family } from './rules.js';

export type BackendKind = 'nft' | 'legacy';

export interface Backend {
  kind: BackendKind;
  /** e.g. "iptables v1.8.9 (nf_tables)". */
  version: string;
  /** Binaries per family. */
  save(family: Family): string;
  restore(family: Family): string;
}

/** Parses `iptables --version`: "(nf_tables)" is nft, "(legacy)" or no suffix (before 1.8) is legacy. */
export function parseBackendKind(versionLine: string): BackendKind {
  return /nf_tables/.test(versionLine) ? 'nft' : 'legacy';
}

/**
 * Detects the back end. With `prefer`, the `iptables-nft-*` / `iptables-legacy-*`
 * binaries are used; otherwise the plain names, which follow the system's choice.
 */
export async function detectBackend(prefer?: BackendKind, runner: typeof run = run): Promise<Backend> {
  const probe = prefer ? `iptables-${prefer}` : 'iptables';
  const r = await runner(probe, ['--version']);
  if (r.code !== 0) throw new TrellisError('IO', `${probe} --version failed (exit ${r.code}): ${r.stderr.trim()}`);
  const version = r.stdout.trim();
  const kind = prefer ?? parseBackendKind(version);
  const base = (f: Family) => (f === 'v4' ? 'iptables' : 'ip6tables');
  const infix = prefer ? `-${prefer}` : '';
  return {
    kind,
    version,
    save: (f) => `${base(f)}${infix}-save`,
    restore: (f) => `${base(f)}${infix}-restore`,
  };
}
