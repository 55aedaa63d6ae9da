import { TrellisError } from '../errors.js';

/** A TCP port flag (0 = any free port); a usage error names the flag. */
export function parsePort(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new TrellisError('CLI_USAGE', `${flag}: not a port number: ${v}`);
  return n;
}

/** A number flag that must be >= 0 (durations, counts). */
export function nonNegative(flag: string, v: string): number {
  const n = Number(v);
  if (!(n >= 0)) throw new TrellisError('CLI_USAGE', `${flag}: not a non-negative number: ${v}`);
  return n;
}
