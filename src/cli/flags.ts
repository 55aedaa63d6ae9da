import { errorMessage, TrellisError } from '../errors.js';

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

/**
 * A listen failure explained for the command line: which port, why, and the
 * flag that changes it ("port 15010 is in use (EADDRINUSE): choose another
 * with --xds-port"). Other errors are returned unchanged.
 */
export function withPortHint(err: unknown, ports: Readonly<Record<string, number>>): unknown {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    const { code, port } = e as NodeJS.ErrnoException & { port?: number };
    const flag = Object.entries(ports).find(([, p]) => p === port)?.[0];
    if (code === 'EADDRINUSE' && port !== undefined) {
      return new TrellisError('IO', `${errorMessage(err)}: port ${port} is in use (EADDRINUSE)${flag ? `: choose another with ${flag}` : ''}`, { cause: err });
    }
    if (code === 'EACCES' && port !== undefined) {
      return new TrellisError('IO', `${errorMessage(err)}: no permission to listen on port ${port} (EACCES)${flag ? `: choose a port above 1023 with ${flag}` : ''}`, { cause: err });
    }
    if (code === 'EADDRNOTAVAIL') return new TrellisError('IO', `${errorMessage(err)}: the address is not on this machine (EADDRNOTAVAIL)`, { cause: err });
    e = e.cause;
  }
  return err;
}
