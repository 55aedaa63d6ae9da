/**
 * A small running mesh for the debugging CLI's tests: the real `trellis
 * controlplane` on test/fixtures/debug-mesh (optionally with its CA), real
 * `trellis proxy` sidecars connected to it, and the CLI run as a separate
 * process. Proxies run with the native addon disabled: their capture
 * listeners (15001, 15006) are then refused — an LDS NACK the tests rely on —
 * instead of binding ports that other tests on this machine may hold.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProxy, type RunningProxy } from '../proxy/harness.js';
import { jsonLine, trellisBin, TrellisProcess } from '../../helpers/trellis-process.js';

export const fixtureDir = fileURLToPath(new URL('../../../../test/fixtures/debug-mesh/', import.meta.url));

export const CONTROL_PLANE_NAME = 'trellis-debug-test';

export interface ControlPlane {
  proc: TrellisProcess;
  dir: string;
  xds: string;
  debug: string;
  ca?: string;
}

export async function startControlPlane(withCa = false): Promise<ControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-debug-cli-'));
  await cp(fixtureDir, join(dir, 'config'), { recursive: true });
  const args = ['controlplane', '--config-dir', join(dir, 'config'), '--xds-port', '0', '--debug-port', '0'];
  if (withCa) args.push('--ca-dir', join(dir, 'ca'), '--ca-port', '0');
  const proc = new TrellisProcess(args, { POD_NAME: CONTROL_PLANE_NAME, TRELLIS_LOG: 'warn' });
  const ready = jsonLine<{ xds: string; debug: string; ca?: string }>(await proc.waitForLine((l) => jsonLine(l)?.xds !== undefined, 20_000))!;
  return { proc, dir, xds: ready.xds, debug: ready.debug, ...(ready.ca ? { ca: ready.ca } : {}) };
}

export function nodeId(pod: string, ip: string, ns = 'default'): string {
  return `sidecar~${ip}~${pod}.${ns}~${ns}.svc.cluster.local`;
}

/** A sidecar for one of the fixture's pods; with `identity`, its certificate agent gets a token for the pod's service account. */
export async function startSidecar(cpl: ControlPlane, pod: string, ip: string, identity?: { serviceAccount: string }): Promise<RunningProxy> {
  const port = Number(cpl.xds.slice(cpl.xds.lastIndexOf(':') + 1));
  const extra = ['--node-id', nodeId(pod, ip)];
  if (identity && cpl.ca) {
    const token = await run(['token', 'create', '--ca-dir', join(cpl.dir, 'ca'), '--namespace', 'default', '--service-account', identity.serviceAccount]);
    const tokenFile = join(cpl.dir, `${pod}.token`);
    await writeFile(tokenFile, token.stdout.trim());
    extra.push('--ca-address', cpl.ca, '--root-cert', join(cpl.dir, 'ca', 'root-cert.pem'), '--token-file', tokenFile);
  }
  return startProxy(port, extra, { TRELLIS_NATIVE_DISABLE: '1', ISTIO_META_WORKLOAD_NAME: pod });
}

export async function stopAll(cpl: ControlPlane | undefined, ...procs: ({ stop(): Promise<void> } | undefined)[]): Promise<void> {
  await Promise.all(procs.map((p) => p?.stop()));
  await cpl?.proc.stop();
  if (cpl) await rm(cpl.dir, { recursive: true, force: true });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a user runs it, in its own process; never on a terminal, so never coloured. */
export function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [trellisBin, ...args], { env: { ...process.env, TRELLIS_STATE_FILE: '/nonexistent/trellis-test/mesh.json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The table in `text` whose header has exactly these columns, as records.
 * Cells are cut at the header's column offsets (every row of a tabwriter
 * table shares them), so empty cells stay in place.
 */
export function table(text: string, columns: readonly string[]): Record<string, string>[] {
  const lines = text.split('\n');
  const headerLine = columns.join('');
  const start = lines.findIndex((l) => l.replace(/ +/g, '') === headerLine.replace(/ +/g, ''));
  if (start < 0) throw new Error(`no table with columns ${columns.join(', ')} in:\n${text}`);
  const header = lines[start]!;
  const offsets: number[] = [];
  for (const c of columns) offsets.push(header.indexOf(c, offsets.length ? offsets.at(-1)! + 1 : 0));
  const out: Record<string, string>[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break;
    out.push(Object.fromEntries(columns.map((c, i) => [c, line.slice(offsets[i], i + 1 < columns.length ? offsets[i + 1] : undefined).trim()])));
  }
  return out;
}
