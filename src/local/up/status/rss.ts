/** Resident memory of processes, from /proc (Linux); 0 for a process that is gone. */
import { readFileSync } from 'node:fs';

export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
