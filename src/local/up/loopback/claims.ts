/**
 * Loopback mode shares 127.0.0.0/8 with everything else on the machine, and
 * with other `trellis up` runs: each run claims whole second octets
 * (127.N.0.0/16) through lock files in a directory every user can write,
 * holding the owner's pid. A claim of a process that is gone is taken over.
 * 127.0–19 are never used (127.0.0.1 and the addresses tests pick).
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { TrellisError } from '../../../errors.js';
import { pidAlive } from '../run-dir.js';

export const CLAIM_DIR = '/tmp/trellis-loopback-claims';
const FIRST = 20;
const LAST = 250;

function claimFile(octet: number): string {
  return join(CLAIM_DIR, `127.${octet}`);
}

function ensureDir(): void {
  mkdirSync(CLAIM_DIR, { recursive: true });
  // Sticky and world-writable like /tmp, so runs of other users can claim too but not steal.
  try {
    chmodSync(CLAIM_DIR, 0o1777);
  } catch {
    // another user's directory: its mode is already right
  }
}

function owner(octet: number): number | undefined {
  try {
    return Number(readFileSync(claimFile(octet), 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

/** Claims one free octet (starting the search at `hint`), or throws IO when all are taken. */
export function claimOctet(runId: string, hint: number): number {
  ensureDir();
  const span = LAST - FIRST + 1;
  for (let i = 0; i < span; i++) {
    const octet = FIRST + ((hint - FIRST + i + span) % span);
    const file = claimFile(octet);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx', 0o644);
        writeSync(fd, `${process.pid} ${runId}\n`);
        closeSync(fd);
        return octet;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new TrellisError('IO', `cannot claim 127.${octet}.0.0/16 in ${CLAIM_DIR}`, { cause: err });
        const pid = owner(octet);
        if (pid !== undefined && pidAlive(pid)) break;
        rmSync(file, { force: true });
      }
    }
  }
  throw new TrellisError('IO', `no free 127.N.0.0/16 left for loopback mode (${span} claimed in ${CLAIM_DIR})`);
}

export function releaseOctet(octet: number): void {
  if (owner(octet) === process.pid) rmSync(claimFile(octet), { force: true });
}

/** Removes claims whose owner is gone; returns the octets freed. */
export function sweepClaims(): number[] {
  const freed: number[] = [];
  for (let o = FIRST; o <= LAST; o++) {
    const pid = owner(o);
    if (pid !== undefined && !pidAlive(pid)) {
      rmSync(claimFile(o), { force: true });
      freed.push(o);
    }
  }
  return freed;
}
