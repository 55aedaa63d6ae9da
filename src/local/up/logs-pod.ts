/**
 * `trellis logs`: a container's output as `trellis up` keeps it (one file
 * per container, stdout and stderr together, restarts appended), whole or
 * its last lines; with -f, what is appended next, read every 200 ms until
 * Ctrl-C or the pod (its file) is gone.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { TrellisError, errorMessage } from '../../errors.js';
import { findRunningMesh, logFile, resolvePod } from './running-mesh.js';

const CHUNK = 64 * 1024;

export interface LogsOptions {
  namespace?: string;
  container?: string;
  follow: boolean;
  tail: number;
}

function readFrom(fd: number, position: number, end: number, write: (b: Buffer) => void): number {
  const buf = Buffer.alloc(CHUNK);
  let pos = position;
  while (pos < end) {
    const n = readSync(fd, buf, 0, Math.min(CHUNK, end - pos), pos);
    if (n <= 0) break;
    write(buf.subarray(0, n));
    pos += n;
  }
  return pos;
}

/** Where the last `lines` lines start (reads backwards in chunks; bounded by the file). */
function tailStart(fd: number, size: number, lines: number): number {
  if (lines < 0) return 0;
  let seen = 0;
  let pos = size;
  const buf = Buffer.alloc(CHUNK);
  while (pos > 0) {
    const start = Math.max(0, pos - CHUNK);
    const n = readSync(fd, buf, 0, pos - start, start);
    for (let i = n - 1; i >= 0; i--) {
      // The file's own final newline ends the last line; it does not start one.
      if (buf[i] === 10 && start + i !== size - 1 && ++seen > lines - 1) return start + i + 1;
    }
    pos = start;
  }
  return 0;
}

export async function printLogs(podRef: string, o: LogsOptions): Promise<void> {
  const mesh = findRunningMesh();
  const pod = resolvePod(mesh, podRef, o.namespace);
  const { file, container } = logFile(mesh, pod, o.container);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new TrellisError('CLI_USAGE', `no log for container ${container} of pod ${pod.namespace}/${pod.name} yet (${errorMessage(err)})`);
  }
  const write = (b: Buffer) => process.stdout.write(b);
  try {
    const size = statSync(file).size;
    let pos = readFrom(fd, o.tail === 0 ? size : tailStart(fd, size, o.tail), size, write);
    if (!o.follow) return;
    let stop = false;
    process.once('SIGINT', () => (stop = true));
    // One read every 200 ms until Ctrl-C or the file is gone (its pod was removed or the mesh stopped).
    while (!stop) {
      await new Promise((r) => setTimeout(r, 200));
      const st = statSync(file, { throwIfNoEntry: false });
      if (!st) break;
      if (st.size < pos) pos = 0;
      pos = readFrom(fd, pos, st.size, write);
    }
  } finally {
    closeSync(fd);
  }
}
