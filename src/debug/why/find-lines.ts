/**
 * Where `trellis why` looks for a request's access-log lines: every
 * sidecar's log of the running mesh (`trellis up` keeps each container's
 * output in RUN/pods/NS/POD/istio-proxy.log), or one file (`--log FILE`, `-`
 * for stdin) of any Envoy-format access log. Files are read line by line and
 * only lines containing the id are parsed.
 */
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { TrellisError } from '../../errors.js';
import { findRunningMesh } from '../../local/up/running-mesh.js';
import { runFiles } from '../../local/up/run-dir.js';
import type { MeshStatePod } from '../../local/state-file.js';
import type { AccessLogEntry, LineParser } from './access-log-line.js';

export interface FoundLine {
  line: string;
  entry: AccessLogEntry;
  /** The pod whose sidecar wrote it (absent for --log). */
  pod?: MeshStatePod;
  /** Where it was read: the file, or "stdin". */
  source: string;
}

async function scan(input: Readable, source: string, requestId: string, parse: LineParser, pod: MeshStatePod | undefined): Promise<FoundLine[]> {
  const out: FoundLine[] = [];
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.includes(requestId)) continue;
    const entry = parse(line);
    if (entry?.requestId === requestId) out.push({ line, entry, source, ...(pod ? { pod } : {}) });
  }
  return out;
}

/** The lines of one file, or of stdin for "-". */
export async function linesInFile(file: string, requestId: string, parse: LineParser): Promise<FoundLine[]> {
  if (file === '-') return scan(process.stdin, 'stdin', requestId, parse, undefined);
  const input = createReadStream(file);
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', (err) => reject(new TrellisError('IO', `cannot read the access log ${file}: ${err.message}`, { cause: err })));
  });
  await opened;
  return scan(input, file, requestId, parse, undefined);
}

/** The lines of every sidecar of the running mesh (trellis up), with the pod that wrote each. */
export async function linesInMesh(requestId: string, parse: LineParser): Promise<FoundLine[]> {
  const mesh = findRunningMesh();
  const found: FoundLine[] = [];
  for (const pod of mesh.state.pods) {
    if (pod.admin === undefined) continue;
    const file = runFiles.containerLog(mesh.run, pod.namespace, pod.name, 'istio-proxy');
    if (!existsSync(file)) continue;
    found.push(...(await scan(createReadStream(file), file, requestId, parse, pod)));
  }
  return found;
}
