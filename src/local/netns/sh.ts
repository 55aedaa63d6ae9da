/** Running `ip` and friends for the netns module, failing with the command in the message. */
import { TrellisError } from '../../errors.js';
import { run } from '../../iptables/exec.js';

export async function sh(cmd: string, ...args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) {
    throw new TrellisError('IO', `${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  }
  return r.stdout;
}

/** Like sh, but failures are ignored (teardown of what may already be gone). */
export async function shQuiet(cmd: string, ...args: string[]): Promise<void> {
  try {
    await run(cmd, args);
  } catch {
    /* binary missing: nothing to undo */
  }
}
