/**
 * What the debugging commands (proxy-status, proxy-config, describe,
 * tls-check, analyze) share on the command line: exit codes scripts can rely
 * on — 0 ok, 1 findings or errors, 2 usage — one line on stderr for an
 * error, and the flags that say which mesh to talk to.
 */
import type { Command } from 'commander';
import { describeError, TrellisError } from '../errors.js';
import { isAddress } from '../local/state-file.js';

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

/** Commander's own usage errors (unknown option, missing argument) exit 2 here, --help 0. */
export function usageExits(cmd: Command): Command {
  return cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT_OK : EXIT_USAGE));
}

/** Runs a command body: its result is the exit code; a CLI_USAGE error exits 2, any other error 1. */
export async function runDebug(body: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (err) {
    process.stderr.write(`trellis: ${describeError(err)}\n`);
    process.exitCode = err instanceof TrellisError && err.code === 'CLI_USAGE' ? EXIT_USAGE : EXIT_FINDINGS;
  }
}

/** A HOST:PORT flag value, or a usage error naming the flag. */
export function addressFlag(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!isAddress(v)) throw new TrellisError('CLI_USAGE', `${flag}: not HOST:PORT: ${v}`);
  return v;
}

/** One of the allowed values, or a usage error naming the flag. */
export function choiceFlag<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new TrellisError('CLI_USAGE', `${flag} must be one of ${allowed.join(', ')}, not ${v}`);
  return v as T;
}

export const CONTROL_PLANE_HELP = "the control plane's debug address (its --debug-port, 15014 by default); default: the running mesh's (trellis up)";
