/**
 * Finding and removing what a crashed run left: namespaces named
 * trellis-<run>-*, whose run's owner process (recorded in a marker file) is gone.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { logger } from '../../log.js';
import { NETNS_PREFIX, runIdOf } from './names.js';
import { sh, shQuiet } from './sh.js';

const log = logger('netns');

/** Marker files: one per live run, holding the owner's pid. */
export const RUN_DIR = '/run/trellis-netns';

export function writeRunMarker(runId: string): void {
  mkdirSync(RUN_DIR, { recursive: true });
  writeFileSync(`${RUN_DIR}/${runId}.pid`, String(process.pid));
}

export function removeRunMarker(runId: string): void {
  rmSync(`${RUN_DIR}/${runId}.pid`, { force: true });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the run's owner process still lives. */
export function runAlive(runId: string): boolean {
  const marker = `${RUN_DIR}/${runId}.pid`;
  if (!existsSync(marker)) return false;
  const pid = Number(readFileSync(marker, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && pidAlive(pid);
}

/** Names of our namespaces that exist now (`ip netns list`). */
export async function listOurNamespaces(): Promise<string[]> {
  const out = await sh('ip', 'netns', 'list');
  return out.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((n) => n.startsWith(NETNS_PREFIX) && runIdOf(n) !== undefined);
}

/**
 * Deletes one namespace of ours: its processes first (they were started in
 * it by us; otherwise the namespace outlives `ip netns del`), then its
 * /etc/netns files.
 */
export async function deleteNamespace(ns: string): Promise<void> {
  const pids = await sh('ip', 'netns', 'pids', ns).catch(() => '');
  for (const pid of pids.split('\n').map((p) => Number(p.trim())).filter((p) => p > 0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await shQuiet('ip', 'netns', 'del', ns);
  rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
}

/** Removes namespaces (and markers) of runs whose owner is gone; returns the namespaces removed. */
export async function removeStale(): Promise<string[]> {
  const removed: string[] = [];
  for (const ns of await listOurNamespaces()) {
    const runId = runIdOf(ns) as string;
    if (runAlive(runId)) continue;
    await deleteNamespace(ns);
    removed.push(ns);
  }
  if (existsSync('/etc/netns')) {
    for (const ns of readdirSync('/etc/netns').filter((n) => runIdOf(n) !== undefined)) {
      if (!runAlive(runIdOf(ns) as string) && !removed.includes(ns)) rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
  }
  if (existsSync(RUN_DIR)) {
    for (const f of readdirSync(RUN_DIR)) {
      const runId = f.replace(/\.pid$/, '');
      if (!runAlive(runId)) rmSync(`${RUN_DIR}/${f}`, { force: true });
    }
  }
  if (removed.length > 0) log.info('removed stale namespaces', { namespaces: removed });
  return removed;
}
