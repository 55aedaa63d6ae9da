/**
 * What the push benchmarks share: the real `trellis controlplane` on a
 * config directory, N simulated sidecars in their own process all
 * connecting at once, each pinned to a core of its own when `taskset` is
 * there, and the control plane's own log of its pushes.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ClientsProcess } from './clients-process.js';
import { jsonLine, TrellisProcess } from '../../test/helpers/trellis-process.js';

export const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
export const wall = () => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PushMesh {
  cp: TrellisProcess;
  clients: ClientsProcess;
  debug: string;
  /** All N SYNCED: ms from the clients' start; otherwise why not, and nothing else should be measured. */
  connect: { ms: number } | { note: string };
  stop(): Promise<void>;
}

export interface PushMeshOptions {
  dir: string;
  proxies: number;
  mode: 'sotw' | 'delta';
  namespaces: number;
  waitMs: number;
  /** The clusters whose endpoints the proxies keep (push-clients.ts' HOLD). */
  hold?: string;
  /** Extra environment of the control plane (NODE_OPTIONS for a profile). */
  env?: NodeJS.ProcessEnv;
}

/** Starts the control plane and the clients and waits for the connect storm to end; on failure stops what it started. */
export async function startPushMesh(o: PushMeshOptions): Promise<PushMesh> {
  const cp = new TrellisProcess(['controlplane', '--config-dir', o.dir, '--xds-port', '0', '--debug-port', '0'], { TRELLIS_LOG: 'info', ...o.env });
  let clients: ClientsProcess | undefined;
  const stop = async () => {
    clients?.stop();
    await cp.stop();
  };
  try {
    const ready = jsonLine<{ xds: string; debug: string }>(await cp.waitForLine((l) => jsonLine(l)?.xds !== undefined, o.waitMs))!;
    if (hasTaskset && cp.child.pid) spawnSync('taskset', ['-pc', '0', String(cp.child.pid)]);
    const script = fileURLToPath(new URL('../push-clients.js', import.meta.url));
    const args = [ready.xds, String(o.proxies), o.mode, String(o.namespaces), ...(o.hold ? [o.hold] : [])];
    clients = new ClientsProcess(script, args, hasTaskset ? '1' : undefined);
    const started = await clients.waitLine((j) => j.started !== undefined, o.waitMs, 'start');
    const synced = await clients.waitLine((j) => j.synced === o.proxies, o.waitMs, `${o.proxies} proxies synced`).catch(() => undefined);
    // A storm that did not finish: say how far it got rather than nothing.
    const got = () => clients!.last((j) => j.progress !== undefined)?.progress ?? 0;
    const connect = synced ? { ms: Math.round((synced.at as number) - (started.started as number)) } : { note: `> ${o.waitMs / 1000} s: ${got()} of ${o.proxies} SYNCED` };
    return { cp, clients, debug: ready.debug, connect, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The control plane's peak RSS so far (VmHWM), MiB. */
export async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024);
}

/** One "pushed" line of the control plane's log: when it ended (epoch ms), its ms (model + translation + responses queued), responses, and trigger (endpoint: the endpoint-only path; config: a full push). */
export interface PushLine {
  at: number;
  ms: number;
  /** Model (or its endpoint update) and translation for every connected proxy, with the snapshot check: buildMs + translateMs + checkMs. */
  translationMs: number;
  responses: number;
  trigger: string;
}

/** The control plane's pushes logged after stderr line `from`. */
export function pushesSince(cp: TrellisProcess, from: number): PushLine[] {
  return cp.stderr.slice(from).flatMap((l) => {
    if (!/ pushed /.test(l)) return [];
    const field = (name: string) => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(l)?.[1] ?? NaN);
    return [{ at: Date.parse(l.slice(0, l.indexOf(' '))), ms: field('ms'), translationMs: field('buildMs') + field('translateMs') + field('checkMs'), responses: Number(/\bresponses=(\d+)/.exec(l)?.[1] ?? NaN), trigger: /\btrigger="(\w+)"/.exec(l)?.[1] ?? '' }];
  });
}

/** When (epoch ms, from each line's ISO time) the config source delivered a state after stderr line `from` (its "config state" lines). */
export function statesSince(cp: TrellisProcess, from: number): number[] {
  return cp.stderr.slice(from).flatMap((l) => (/ config state /.test(l) ? [Date.parse(l.slice(0, l.indexOf(' ')))] : []));
}
